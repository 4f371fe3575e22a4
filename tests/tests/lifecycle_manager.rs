//! Token manager behaviour against a fake token source: caching, margins, single flight,
//! shared errors, invalid_grant, failed refreshes, failed stores.

mod store_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use oauth_clients_core::secrecy::ExposeSecret;
use oauth_clients_core::store::{FileStore, MemoryStore, StoreError, StoreErrorKind};
use oauth_clients_core::{
    Error, ManagerOptions, Token, TokenKey, TokenManager, TokenSource, TokenStore,
};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Unavailable,
    InvalidGrant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_joined_a_refresh_get_its_token_when_the_caller_that_started_it_gives_up() {
    let source = FakeSource::new(3600, Duration::from_millis(200));
    let manager = manager(&source, Arc::new(MemoryStore::new()));
    let starter = {
        let manager = manager.clone();
        tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(20), manager.access_token()).await
        })
    };
    // Joined while the starter runs the refresh; the starter gives up before it ends.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let joined: Vec<_> = (0..50)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    assert!(starter.await.unwrap().is_err(), "the starter timed out");
    for caller in joined {
        let token = caller.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "access-1");
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_refreshes_that_their_callers_give_up_on_leave_no_caller_waiting() {
    // Tokens due at once: every call joins a refresh in flight or starts one.
    let source = FakeSource::new(0, Duration::from_millis(3));
    let manager = manager(&source, Arc::new(MemoryStore::new()));
    let mut forced = 0;
    for _round in 0..30 {
        let mut impatient = Vec::new();
        let mut patient = Vec::new();
        for i in 0..20u64 {
            let manager = manager.clone();
            if i % 3 == 0 {
                forced += 1;
                // Forces a refresh and gives up after 0-3 ms: before, during or after it.
                let patience = Duration::from_millis(i % 4);
                impatient.push(tokio::spawn(async move {
                    let _ = tokio::time::timeout(patience, manager.refresh_now()).await;
                }));
            } else {
                patient.push(tokio::spawn(async move {
                    tokio::time::timeout(Duration::from_secs(10), manager.access_token()).await
                }));
            }
        }
        for caller in patient {
            let token = caller.await.unwrap().expect("no caller waits forever");
            assert!(token.unwrap().expose_secret().starts_with("access-"));
        }
        for caller in impatient {
            caller.await.unwrap();
        }
    }
    // At most one fetch per caller: joined callers made none of their own.
    let fetches = source.fetches();
    assert!(
        (1..=30 * 20).contains(&fetches),
        "{fetches} fetches for {forced} forced refreshes and {} other calls",
        30 * 20 - forced
    );
}

/// Issues `access-N` (with `refresh-N`) living `lifetime` seconds, after `delay`.
struct FakeSource {
    fetches: AtomicU64,
    lifetime: u64,
    delay: Duration,
    mode: Mutex<Mode>,
    /// Refresh tokens presented, in order (`None` when a grant ran without one).
    presented: Mutex<Vec<Option<String>>>,
    margin: Option<Duration>,
}

impl FakeSource {
    fn new(lifetime: u64, delay: Duration) -> Arc<FakeSource> {
        Arc::new(FakeSource {
            fetches: AtomicU64::new(0),
            lifetime,
            delay,
            mode: Mutex::new(Mode::Ok),
            presented: Mutex::new(Vec::new()),
            margin: None,
        })
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenSource for FakeSource {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        self.presented.lock().unwrap().push(
            previous
                .and_then(|p| p.refresh_token())
                .map(|r| r.expose_secret().to_owned()),
        );
        tokio::time::sleep(self.delay).await;
        let mode = *self.mode.lock().unwrap();
        match mode {
            Mode::Ok => Ok(
                token(&format!("access-{n}"), now(), self.lifetime).with_refresh_token(Some(
                    oauth_clients_core::RefreshToken::new(format!("refresh-{n}")),
                )),
            ),
            Mode::Unavailable => Err(Error::transport(
                "fake",
                "http://127.0.0.1/token",
                "connection refused",
            )),
            Mode::InvalidGrant => Err(Error::oauth(
                "fake",
                "http://127.0.0.1/token",
                "invalid_grant",
                None,
            )),
        }
    }

    fn max_fetch_duration(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn expiry_margin(&self) -> Option<Duration> {
        self.margin
    }
}

fn token(access: &str, issued_at: u64, lifetime: u64) -> Token {
    Token::new(
        oauth_clients_core::AccessToken::new(access.to_owned()),
        issued_at,
        Some(issued_at + lifetime),
    )
}

fn key() -> TokenKey {
    TokenKey::new("fake", "client-1").variable("domain", "acme")
}

fn manager(source: &Arc<FakeSource>, store: Arc<dyn TokenStore>) -> TokenManager {
    TokenManager::builder_for_source(source.clone(), key())
        .store(store)
        .build()
}

#[tokio::test]
async fn cached_token_is_reused_while_valid() {
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = manager(&source, Arc::new(MemoryStore::new()));
    let first = manager.access_token().await.unwrap();
    for _ in 0..100 {
        let again = manager.access_token().await.unwrap();
        assert_eq!(again.expose_secret(), first.expose_secret());
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_callers_on_an_expired_token_share_one_fetch() {
    let _watchdog = store_support::Watchdog::start(
        "thousand_callers_on_an_expired_token_share_one_fetch",
        Duration::from_secs(120),
    );
    let source = FakeSource::new(3600, Duration::from_millis(50));
    let store = Arc::new(MemoryStore::new());
    // An expired token with a refresh token is stored.
    let expired = token("old", now() - 7200, 3600)
        .with_refresh_token(Some(oauth_clients_core::RefreshToken::new("refresh-0")));
    store.put(&key().storage_key(), &expired).await.unwrap();
    let manager = manager(&source, store);
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move { m.access_token().await })
        })
        .collect();
    for handle in handles {
        let token = handle.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "access-1");
    }
    assert_eq!(source.fetches(), 1);
    assert_eq!(
        *source.presented.lock().unwrap(),
        vec![Some("refresh-0".to_owned())],
        "refreshed with the stored refresh token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_an_error() {
    let _watchdog = store_support::Watchdog::start(
        "concurrent_callers_share_an_error",
        Duration::from_secs(120),
    );
    let source = FakeSource::new(3600, Duration::from_millis(50));
    source.set_mode(Mode::Unavailable);
    let manager = manager(&source, Arc::new(MemoryStore::new()));
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move { m.access_token().await })
        })
        .collect();
    for handle in handles {
        let err = handle.await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{err}");
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn default_margin_is_ten_percent_or_a_minute() {
    let store = Arc::new(MemoryStore::new());
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = manager(&source, store.clone());
    // 1 h token with 5 min left: within the 6 min margin (10 %), so renewed.
    store
        .put(&key().storage_key(), &token("a", now() - 3300, 3600))
        .await
        .unwrap();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    // 1 h token with 7 min left: kept.
    let fresh = TokenManager::builder_for_source(source.clone(), key().subject("other"))
        .store(store.clone())
        .build();
    store
        .put(fresh.storage_key(), &token("b", now() - 3180, 3600))
        .await
        .unwrap();
    assert_eq!(fresh.access_token().await.unwrap().expose_secret(), "b");
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn vendor_margin_keeps_a_day_long_token_for_its_whole_life() {
    // Procurify: 24 h tokens, margin 60 s: a token 23 h 58 min old is still used.
    let store = Arc::new(MemoryStore::new());
    let source = Arc::new(FakeSource {
        margin: Some(Duration::from_secs(60)),
        ..Arc::into_inner(FakeSource::new(86400, Duration::ZERO)).unwrap()
    });
    let manager = manager(&source, store.clone());
    store
        .put(
            &key().storage_key(),
            &token("day", now() - 86400 + 120, 86400),
        )
        .await
        .unwrap();
    assert_eq!(manager.access_token().await.unwrap().expose_secret(), "day");
    assert_eq!(source.fetches(), 0);
}

#[tokio::test]
async fn configured_margin_overrides() {
    let store = Arc::new(MemoryStore::new());
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = TokenManager::builder_for_source(source.clone(), key())
        .store(store.clone())
        .options(ManagerOptions::default().expiry_margin(Duration::from_secs(1200)))
        .build();
    // 15 min left < 20 min margin: renewed.
    store
        .put(&key().storage_key(), &token("a", now() - 2700, 3600))
        .await
        .unwrap();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
}

#[tokio::test]
async fn invalid_grant_clears_the_store_and_requires_authorization() {
    let store = Arc::new(MemoryStore::new());
    let source = FakeSource::new(3600, Duration::ZERO);
    source.set_mode(Mode::InvalidGrant);
    let expired = token("old", now() - 7200, 3600)
        .with_refresh_token(Some(oauth_clients_core::RefreshToken::new("dead")));
    store.put(&key().storage_key(), &expired).await.unwrap();
    let manager = manager(&source, store.clone());
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationRequired { .. }), "{err}");
    assert!(err.to_string().contains("authorization required"), "{err}");
    assert!(store.get(&key().storage_key()).await.unwrap().is_none());
}

#[tokio::test]
async fn failed_refresh_keeps_serving_a_still_valid_token() {
    let store = Arc::new(MemoryStore::new());
    let source = FakeSource::new(3600, Duration::ZERO);
    source.set_mode(Mode::Unavailable);
    // 3 min left: due for renewal (margin 6 min) but valid.
    store
        .put(
            &key().storage_key(),
            &token("still-valid", now() - 3420, 3600),
        )
        .await
        .unwrap();
    let manager = manager(&source, store);
    for _ in 0..50 {
        assert_eq!(
            manager.access_token().await.unwrap().expose_secret(),
            "still-valid"
        );
    }
    // One attempt, then the old token is served without hammering the endpoint.
    assert_eq!(source.fetches(), 1);
    // When the endpoint is back (and the pause is over), a new token comes.
    source.set_mode(Mode::Ok);
    let quick = TokenManager::builder_for_source(source.clone(), key())
        .store(manager.store().clone())
        .options(ManagerOptions::default().retry_after_failure(Duration::ZERO))
        .build();
    assert_eq!(
        quick.access_token().await.unwrap().expose_secret(),
        "access-2"
    );
}

/// A store whose writes fail on demand.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail_puts: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        if self.fail_puts.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "flaky store",
                "disk full",
            ));
        }
        self.inner.put(key, token).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.try_lock(key, owner, ttl).await
    }
    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        self.inner.unlock(key, owner).await
    }
}

#[tokio::test]
async fn a_token_that_cannot_be_stored_is_returned_reported_and_kept_in_memory() {
    let store = Arc::new(FlakyStore::default());
    store.fail_puts.store(true, Ordering::SeqCst);
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = manager(&source, store.clone());
    // The vendor issued it: it is returned, never dropped, and the failure is reported beside.
    let fetched = manager.fetch().await.unwrap();
    assert_eq!(fetched.token.access_token().expose_secret(), "access-1");
    let store_err = fetched.not_stored.expect("the store failure is reported");
    assert_eq!(store_err.kind(), StoreErrorKind::Unavailable);
    let err = store_err.to_string();
    assert!(err.contains("could not be stored"), "{err}");
    assert!(err.contains("kept in memory"), "{err}");
    assert!(!err.contains("access-1"), "no token in errors: {err}");
    assert!(manager.not_stored().is_some());
    // Served from memory afterwards, without a new request.
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(source.fetches(), 1);
    // The next refresh stores the unsaved pair first and refreshes with its refresh token.
    store.fail_puts.store(false, Ordering::SeqCst);
    let t = manager.access_token().await.unwrap();
    manager.refresh_rejected(&t).await.unwrap();
    assert_eq!(
        source
            .presented
            .lock()
            .unwrap()
            .last()
            .cloned()
            .flatten()
            .as_deref(),
        Some("refresh-1")
    );
    let stored = store.get(manager.storage_key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "access-2");
}

#[tokio::test]
async fn rejected_token_is_refreshed_once_for_many_callers() {
    let _watchdog = store_support::Watchdog::start(
        "rejected_token_is_refreshed_once_for_many_callers",
        Duration::from_secs(120),
    );
    let source = FakeSource::new(3600, Duration::from_millis(30));
    let manager = manager(&source, Arc::new(MemoryStore::new()));
    let first = manager.access_token().await.unwrap();
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let m = manager.clone();
            let rejected = first.clone();
            tokio::spawn(async move { m.refresh_rejected(&rejected).await })
        })
        .collect();
    for handle in handles {
        let token = handle.await.unwrap().unwrap();
        assert_eq!(token.access_token().expose_secret(), "access-2");
    }
    assert_eq!(source.fetches(), 2);
}

#[tokio::test]
async fn restart_reuses_the_stored_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let source = FakeSource::new(3600, Duration::ZERO);
    let first = manager(&source, Arc::new(FileStore::new(&path)))
        .access_token()
        .await
        .unwrap();
    // A new manager (as after a restart) over the same file: no new request.
    let again = manager(&source, Arc::new(FileStore::new(&path)))
        .access_token()
        .await
        .unwrap();
    assert_eq!(first.expose_secret(), again.expose_secret());
    assert_eq!(source.fetches(), 1);
}

#[test]
fn keys_hide_variable_values_and_ignore_scope_order() {
    let a = TokenKey::new("v", "c")
        .variable("domain", "secret-tenant")
        .scopes(["b", "a"]);
    let b = TokenKey::new("v", "c")
        .variable("domain", "secret-tenant")
        .scopes(["a", "b", "a"]);
    assert_eq!(a.storage_key(), b.storage_key());
    assert!(!a.storage_key().contains("secret-tenant"));
    assert!(!format!("{a:?}").contains("secret-tenant"));
    assert_ne!(
        a.storage_key(),
        a.clone().subject("user").storage_key(),
        "the subject is part of the key"
    );
    assert_ne!(
        a.storage_key(),
        a.clone().environment("sandbox").storage_key()
    );
}

#[tokio::test]
async fn a_caller_that_gives_up_does_not_cancel_the_refresh() {
    let store = Arc::new(MemoryStore::new());
    let source = FakeSource::new(3600, Duration::from_millis(100));
    let manager = manager(&source, store.clone());
    let gave_up = tokio::time::timeout(Duration::from_millis(10), manager.access_token()).await;
    assert!(gave_up.is_err(), "the caller timed out");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The refresh finished and stored its token anyway.
    let stored = store.get(manager.storage_key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "access-1");
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_corrupt_store_file_is_moved_aside_and_a_new_token_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, "not json at all").unwrap();
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = manager(&source, Arc::new(FileStore::new(&path)));
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "access-1"
    );
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".corrupt-")
        })
        .count();
    assert_eq!(aside, 1, "the corrupt file is kept aside");
}

#[tokio::test]
async fn a_waiting_manager_uses_the_token_another_process_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path().join("t.json")));
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = manager(&source, store.clone());
    // "Another process" holds the refresh lock...
    assert!(
        store
            .try_lock(
                manager.storage_key(),
                "other-process",
                Duration::from_secs(30)
            )
            .await
            .unwrap()
    );
    let waiting = tokio::spawn({
        let manager = manager.clone();
        async move { manager.access_token().await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    // ...and stores the token it got.
    store
        .put(
            manager.storage_key(),
            &token("from-the-winner", now(), 3600),
        )
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiter sees the stored token")
        .unwrap()
        .unwrap();
    assert_eq!(got.expose_secret(), "from-the-winner");
    assert_eq!(source.fetches(), 0);
    assert!(
        store
            .unlock(manager.storage_key(), "other-process")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_lock_of_a_crashed_process_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path().join("t.json")));
    let source = FakeSource::new(3600, Duration::ZERO);
    let manager = manager(&source, store.clone());
    // A process took the lock and died: its lock expires after 300 ms.
    assert!(
        store
            .try_lock(manager.storage_key(), "crashed", Duration::from_millis(300))
            .await
            .unwrap()
    );
    let started = std::time::Instant::now();
    let token = tokio::time::timeout(Duration::from_secs(5), manager.access_token())
        .await
        .expect("bounded wait")
        .unwrap();
    assert_eq!(token.expose_secret(), "access-1");
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn a_token_under_the_key_of_earlier_versions_is_moved_and_used() {
    // The v1 key of `fake` / `client-1` / domain=acme, computed by a separate implementation
    // of the v1 scheme (Python, hashlib): what versions before 0.2 stored under.
    let legacy = "fake:f2fcdd02efa3e25e242d4f27b5cce68325248f0fb683badb435841b5b5456dae";
    let source = FakeSource::new(3600, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("tokens.json")));
    store
        .put(legacy, &token("from-before", now(), 3600))
        .await
        .unwrap();
    let moved = manager(&source, store.clone());
    let access = moved.access_token().await.unwrap();
    assert_eq!(access.expose_secret(), "from-before");
    assert_eq!(source.fetches(), 0);
    assert!(store.get(legacy).await.unwrap().is_none(), "moved");
    assert!(store.get(&key().storage_key()).await.unwrap().is_some());

    // A memory store cannot hold what an earlier version stored: no look there.
    let source = FakeSource::new(3600, Duration::ZERO);
    let memory = Arc::new(MemoryStore::new());
    memory
        .put(legacy, &token("from-before", now(), 3600))
        .await
        .unwrap();
    let access = manager(&source, memory).access_token().await.unwrap();
    assert_eq!(access.expose_secret(), "access-1");
}

/// A source whose token request panics.
#[derive(Debug)]
struct PanickingSource;

#[async_trait::async_trait]
impl TokenSource for PanickingSource {
    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        panic!("a bug in a token source");
    }
}

#[tokio::test]
async fn a_panicking_refresh_is_an_error_for_every_caller_and_the_next_call_tries_again() {
    let manager = TokenManager::builder_for_source(Arc::new(PanickingSource), key())
        .store(Arc::new(MemoryStore::new()))
        .build();
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for caller in callers {
        let err = caller.await.expect("no caller panics").unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
    }
    assert_eq!(
        manager.fetch_count(),
        1,
        "one refresh for the eight callers"
    );
    assert!(manager.access_token().await.is_err());
    assert_eq!(
        manager.fetch_count(),
        2,
        "a later call starts a new refresh"
    );
}

#[tokio::test]
async fn a_panicking_refresh_releases_the_lock_of_a_store_that_waits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("tokens.json")));
    let manager = TokenManager::builder_for_source(Arc::new(PanickingSource), key())
        .store(store)
        .build();
    let err = manager.access_token().await.unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    // Without the release, this call would wait out the lock's lease (70 s) and give up.
    let err = tokio::time::timeout(Duration::from_secs(20), manager.access_token())
        .await
        .expect("the lock is released soon after the panic")
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    assert_eq!(manager.fetch_count(), 2, "the second call asked again");
}
