//! The token manager: a cached token, one refresh at a time, in one process and across many.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use super::key::TokenKey;
use super::source::{Actor, ClientForUser, TokenSource, fetch_with_client};
use crate::client::Client;
use crate::config::UserCredentials;
use crate::error::Error;
use crate::secret::AccessToken;
use crate::store::{
    MemoryStore, StoreError, StoreErrorKind, TokenStore, coarse_now_unix_ms, now_unix_ms,
};
use crate::token::Token;
use crate::transport::within_deadline;

/// Settings of a [`TokenManager`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ManagerOptions {
    /// How long before expiry a token is renewed. When `None`: the vendor's advice
    /// (descriptor `lifecycle.expiry_margin_seconds`), else the larger of 60 s and 10 % of the
    /// token's lifetime. Never more than half the lifetime, so a short-lived token is still used.
    pub expiry_margin: Option<Duration>,
    /// The longest one token request may take; `None`: what the source says
    /// ([`TokenSource::max_fetch_duration`], the client's deadline). The store lock is held
    /// for this plus 10 s at most, so a crashed holder's lock lapses soon.
    pub fetch_timeout: Option<Duration>,
    /// After a failed refresh while the old token is still valid, how long the old token is
    /// served before the next attempt.
    pub retry_after_failure: Duration,
    /// First pause between looks at the store while another process holds the lock (it grows
    /// to 250 ms).
    pub lock_poll_interval: Duration,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            expiry_margin: None,
            fetch_timeout: None,
            retry_after_failure: Duration::from_secs(5),
            lock_poll_interval: Duration::from_millis(10),
        }
    }
}

impl ManagerOptions {
    /// Sets how long before expiry a token is renewed.
    pub fn expiry_margin(mut self, margin: Duration) -> ManagerOptions {
        self.expiry_margin = Some(margin);
        self
    }

    /// Sets the longest one token request may take.
    pub fn fetch_timeout(mut self, timeout: Duration) -> ManagerOptions {
        self.fetch_timeout = Some(timeout);
        self
    }

    /// Sets how long the old token is served after a failed refresh.
    pub fn retry_after_failure(mut self, pause: Duration) -> ManagerOptions {
        self.retry_after_failure = pause;
        self
    }

    /// Sets the first pause between looks at a locked store.
    pub fn lock_poll_interval(mut self, pause: Duration) -> ManagerOptions {
        self.lock_poll_interval = pause;
        self
    }
}

/// Builds a [`TokenManager`].
pub struct TokenManagerBuilder {
    source: BuilderSource,
    key: TokenKey,
    store: Option<Arc<dyn TokenStore>>,
    options: ManagerOptions,
}

enum BuilderSource {
    Client(Client, Option<UserCredentials>),
    Custom(Arc<dyn TokenSource>),
}

impl TokenManagerBuilder {
    /// Where tokens are kept; when not set, this process's shared memory store, which
    /// managers of the same key share.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> TokenManagerBuilder {
        self.store = Some(store);
        self
    }

    /// Settings.
    pub fn options(mut self, options: ManagerOptions) -> TokenManagerBuilder {
        self.options = options;
        self
    }

    /// The user or subject the tokens act for (part of the key). A manager with a subject holds
    /// a user's tokens: it refreshes them, but never replaces them with an application token
    /// from the client credentials grant; when the user's refresh token is refused it returns
    /// [`Error::AuthorizationRequired`]. Give tokens from the authorization code flow to such a
    /// manager with [`TokenManager::set_token`].
    pub fn subject(mut self, subject: impl Into<String>) -> TokenManagerBuilder {
        self.key = self.key.subject(subject);
        self
    }

    /// Opts in to running the legacy credentials flow with the user's own credentials when
    /// there is no refresh token. The user name becomes the key's subject unless
    /// one was set. Has no effect on a custom source.
    pub fn user_credentials(mut self, user: UserCredentials) -> TokenManagerBuilder {
        if let BuilderSource::Client(_, slot) = &mut self.source {
            if self.key.subject.is_none() {
                self.key.subject = Some(user.username.clone());
            }
            *slot = Some(user);
        }
        self
    }

    /// The manager.
    pub fn build(self) -> TokenManager {
        let source = match self.source {
            BuilderSource::Client(client, user) if self.key.subject.is_some() || user.is_some() => {
                Source::User(ClientForUser { client, user })
            }
            BuilderSource::Client(client, _) => Source::Client(client),
            BuilderSource::Custom(source) => Source::Other(source),
        };
        let fetch_timeout = self
            .options
            .fetch_timeout
            .unwrap_or_else(|| source.get().max_fetch_duration());
        let margin = self
            .options
            .expiry_margin
            .or_else(|| source.get().expiry_margin());
        let store = self.store.unwrap_or_else(|| MemoryStore::process());
        let legacy_looked_up = AtomicBool::new(!store.may_hold_older_keys());
        TokenManager {
            inner: Arc::new(Inner {
                storage_key: self.key.storage_key().into(),
                key: self.key,
                source,
                store,
                margin,
                fetch_timeout,
                retry_after_failure: self.options.retry_after_failure,
                lock_poll_interval: self.options.lock_poll_interval,
                current: ArcSwapOption::empty(),
                flight: Mutex::new(None),
                unsaved: Mutex::new(None),
                has_unsaved: AtomicBool::new(false),
                legacy_looked_up,
                retry_after_ms: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
            }),
        }
    }
}

/// Hands out valid access tokens for one key, asking the vendor as rarely as possible.
///
/// - A cached token is returned while it is valid, renewed a margin before it expires (see
///   [`ManagerOptions::expiry_margin`]); a vendor's advice (such as "cache the 24 h token until
///   it expires") comes from the descriptor's `lifecycle`.
/// - However many tasks ask at once, one token request is in flight per manager; all of them
///   get its result, success or error. The request runs in the future of the caller that
///   started it (so keep polling a token future you hold, or drop it); a caller that gives up
///   hands it to a task, so it is not cancelled and a rotated refresh token is always stored.
/// - Across processes, the store's lock makes one process refresh while the others wait and
///   then read the token it stored (see [`TokenStore`]). The lock's lease is the longest a token
///   request may take plus 10 s, so a crashed holder holds the others up no longer than that.
/// - A refresh uses the refresh token when there is one, else runs the grant again. A refused
///   refresh token (`invalid_grant`) clears the stored token and gives
///   [`Error::AuthorizationRequired`]. A failed refresh while the old token is still valid
///   keeps serving the old token.
/// - A token the vendor issued is never dropped. It is stored before any caller receives it;
///   when storing fails, callers get the token all the same, it is kept and served from memory,
///   storing is retried in the background and before the next refresh, and
///   [`TokenManager::not_stored`] (or [`Fetched::not_stored`]) says so.
///
/// Cheap to clone; clones share everything.
///
/// ```no_run
/// # async fn run(client: oauth_clients_core::Client) -> Result<(), oauth_clients_core::Error> {
/// use std::sync::Arc;
///
/// use oauth_clients_core::TokenManager;
/// use oauth_clients_core::store::FileStore;
///
/// let manager = TokenManager::builder(client)
///     .store(Arc::new(FileStore::new("/var/lib/my-app/tokens.json")))
///     .build();
/// // Cached until shortly before it expires; one refresh however many tasks ask.
/// let access_token = manager.access_token().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    key: TokenKey,
    /// Shared with a memory store, which keeps it as the token's key.
    storage_key: Arc<str>,
    source: Source,
    store: Arc<dyn TokenStore>,
    margin: Option<Duration>,
    fetch_timeout: Duration,
    retry_after_failure: Duration,
    lock_poll_interval: Duration,
    /// The token in use. The hot path of `access_token` only loads it: no lock, and no
    /// reference count touched.
    current: ArcSwapOption<Token>,
    /// The refresh in flight, which callers join.
    flight: Mutex<Option<Arc<Flight>>>,
    /// Why the current token is not stored, when it is not: it is then the newest, whatever
    /// the store says.
    unsaved: Mutex<Option<Box<StoreError>>>,
    /// Whether `unsaved` holds an error: read on every refresh without taking its lock.
    has_unsaved: AtomicBool,
    /// Whether the key of versions before 0.2 was looked up (once per manager is enough: only
    /// an old process writes there).
    legacy_looked_up: AtomicBool,
    /// After a failed refresh, no new attempt before this (Unix ms).
    retry_after_ms: AtomicU64,
    /// Token requests made (for tests and benchmarks).
    fetches: AtomicU64,
}

/// Where a manager's tokens come from: a client acting for the application (most managers)
/// or for a user, or any source.
enum Source {
    Client(Client),
    User(ClientForUser),
    Other(Arc<dyn TokenSource>),
}

impl Source {
    fn get(&self) -> &dyn TokenSource {
        match self {
            Source::Client(client) => client,
            Source::User(user) => user,
            Source::Other(source) => &**source,
        }
    }
}

/// When a token is due for renewal and when it is unusable, computed from the token and the
/// margin (a few integer operations: cheaper than keeping them beside every cached token).
struct Deadlines {
    /// Renew from this Unix ms on; `None`: never (no known expiry).
    refresh_at_ms: Option<u64>,
    /// Unusable from this Unix ms on; `None`: never known to expire.
    expires_at_ms: Option<u64>,
}

impl Deadlines {
    fn is_fresh(&self, now_ms: u64) -> bool {
        self.refresh_at_ms.is_none_or(|at| now_ms < at)
    }

    fn is_valid(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|at| now_ms < at)
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("key", &self.inner.key)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

/// Why a refresh is wanted.
#[derive(Clone)]
enum Want {
    /// Any fresh token.
    Fresh,
    /// A fresh token other than this access token (the vendor refused it, or a refresh is
    /// forced).
    Replacing(Arc<AccessToken>),
}

/// A token, and whether it could be stored.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fetched {
    /// The token.
    pub token: Arc<Token>,
    /// Why it is not in the store, when it is not (it is kept in memory and served from there,
    /// and storing is retried).
    pub not_stored: Option<StoreError>,
}

/// What [`TokenManager::sign_out`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedOut {
    /// The vendor revoked the token, and it is forgotten here.
    Revoked,
    /// The vendor has no revocation endpoint: the token is forgotten here, and stays valid at
    /// the vendor until it expires.
    ForgottenOnly,
    /// No token was stored.
    NothingStored,
}

impl TokenManager {
    /// A manager for a client's tokens, kept in memory, with default settings.
    pub fn new(client: Client) -> TokenManager {
        TokenManager::builder(client).build()
    }

    /// A builder for a client's tokens (key from [`TokenKey::for_client`]).
    pub fn builder(client: Client) -> TokenManagerBuilder {
        TokenManagerBuilder {
            key: TokenKey::for_client(&client),
            source: BuilderSource::Client(client, None),
            store: None,
            options: ManagerOptions::default(),
        }
    }

    /// A builder over any token source, e.g. a fake in tests.
    pub fn builder_for_source(source: Arc<dyn TokenSource>, key: TokenKey) -> TokenManagerBuilder {
        TokenManagerBuilder {
            key: key.normalized(),
            source: BuilderSource::Custom(source),
            store: None,
            options: ManagerOptions::default(),
        }
    }

    /// The key.
    pub fn key(&self) -> &TokenKey {
        &self.inner.key
    }

    /// The client this manager's tokens come from, unless they come from another source.
    pub(crate) fn client(&self) -> Option<&Client> {
        match &self.inner.source {
            Source::Client(client) => Some(client),
            Source::User(user) => Some(&user.client),
            Source::Other(_) => None,
        }
    }

    /// The key as the store sees it.
    #[doc(hidden)]
    pub fn storage_key(&self) -> &str {
        &self.inner.storage_key
    }

    /// The store.
    #[doc(hidden)]
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// How long the store lock is held at most during a refresh: the longest a token request
    /// may take plus 10 s, after which the request is cut off, so the lock never lapses while
    /// its owner is still asking.
    #[doc(hidden)]
    pub fn lock_ttl(&self) -> Duration {
        self.inner.lock_ttl()
    }

    /// How many token requests this manager has made (each [`TokenSource::fetch`] call).
    #[doc(hidden)]
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// A valid access token: the cached one, or a new one when it is due for renewal.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        if let Some(access) = self.with_cached_token(|token| token.access_token().clone()) {
            return Ok(access);
        }
        Ok(self.token().await?.access_token().clone())
    }

    /// Calls `read` with the cached token when it can be served without a refresh, and
    /// returns what it returns; `None` when a refresh is due (then await
    /// [`TokenManager::token`]). The fastest read: no lock, no allocation, no reference count
    /// (an [`ArcSwapOption`] load), e.g. to write the token into a request you are building.
    pub fn with_cached_token<R>(&self, read: impl FnOnce(&Token) -> R) -> Option<R> {
        let current = self.inner.current.load();
        let token = current.as_deref()?;
        let servable = self.servable(token, coarse_now_unix_ms());
        if servable {
            crate::observe::cache_hit(self.inner.key.vendor());
        }
        servable.then(|| read(token))
    }

    /// A valid token with everything the vendor said about it. A new token that could not be
    /// stored is returned all the same (see [`TokenManager::not_stored`]).
    pub async fn token(&self) -> Result<Arc<Token>, Error> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        self.run(Want::Fresh).await
    }

    /// [`TokenManager::token`], with whether the token is stored.
    pub async fn fetch(&self) -> Result<Fetched, Error> {
        let token = self.token().await?;
        Ok(self.fetched(token))
    }

    /// A new token now, whatever the cached one's expiry: refreshes under the store's lock,
    /// unless another process replaced the token meanwhile (then that one is returned).
    pub async fn refresh_now(&self) -> Result<Fetched, Error> {
        let newest = self.inner.newest(self.inner.read_store().await?);
        let want = match newest {
            Some(token) => Want::Replacing(Arc::new(token.access_token().clone())),
            None => Want::Fresh,
        };
        let token = self.run(want).await?;
        Ok(self.fetched(token))
    }

    /// The newest token known (in memory when it could not be stored, else in the store),
    /// whatever its expiry; `None` when there is none. An unreadable stored token counts as
    /// none (the store reports and moves it aside).
    pub async fn stored_token(&self) -> Result<Option<Arc<Token>>, Error> {
        let stored = self.inner.read_store().await?;
        Ok(self.inner.newest(stored))
    }

    /// Why the current token is not in the store, when it is not.
    pub fn not_stored(&self) -> Option<StoreError> {
        self.inner.unsaved_error()
    }

    /// Call when the vendor refused `rejected` (HTTP 401): returns a different valid token,
    /// refreshing once however many callers report the same token.
    pub async fn refresh_rejected(&self, rejected: &AccessToken) -> Result<Arc<Token>, Error> {
        let now = now_unix_ms();
        if let Some(token) = self.inner.current()
            && self.inner.deadlines(&token).is_fresh(now)
            && token.access_token().expose_secret() != rejected.expose_secret()
        {
            return Ok(token);
        }
        let rejected = Arc::new(rejected.clone());
        // A refresh already under way may give the same token back (another process stored it);
        // then one more, bounded.
        for _ in 0..2 {
            let token = self.run(Want::Replacing(rejected.clone())).await?;
            if token.access_token().expose_secret() != rejected.expose_secret() {
                return Ok(token);
            }
        }
        Err(Error::authorization_required(
            self.inner.key.vendor(),
            "the vendor refused the access token and no different one could be obtained",
        ))
    }

    /// Stores a token obtained elsewhere (e.g. from the authorization code flow) and uses it.
    /// When storing fails the token is used all the same, and the error is returned.
    pub async fn set_token(&self, token: Token) -> Result<(), Error> {
        let token = Arc::new(token);
        self.inner.set_current(token.clone());
        match self.inner.persist(&token).await {
            Ok(()) => Ok(()),
            Err(err) => {
                self.inner.clone().retry_saving(token);
                Err(Error::Store(err))
            }
        }
    }

    /// The tokens stored for this vendor, tenant, client and subject under other scope sets,
    /// each with the scopes it was granted when the vendor said, for telling a user why no
    /// stored token matched. Empty when the store cannot list its keys.
    pub async fn tokens_for_other_scopes(&self) -> Result<Vec<Option<String>>, Error> {
        let keys = self
            .inner
            .store
            .keys_with_prefix(&self.inner.key.family_prefix())
            .await?;
        let mut scopes = Vec::new();
        for key in keys
            .iter()
            .filter(|k| k.as_str() != &*self.inner.storage_key)
        {
            if let Ok(Some(token)) = self.inner.store.get(key).await {
                scopes.push(token.scope().map(str::to_owned));
            }
        }
        Ok(scopes)
    }

    /// Signs out: revokes the newest token at the vendor (RFC 7009), then forgets it in memory
    /// and in the store.
    ///
    /// When revocation fails, nothing is forgotten and the error is returned: the token is
    /// still valid at the vendor, and signing out again retries. [`TokenManager::clear`]
    /// forgets without revoking.
    pub async fn sign_out(&self) -> Result<SignedOut, Error> {
        let outcome = match self.stored_token().await? {
            Some(token) if self.inner.source.get().revoke(&token).await? => SignedOut::Revoked,
            Some(_) => SignedOut::ForgottenOnly,
            None => SignedOut::NothingStored,
        };
        self.clear().await?;
        Ok(outcome)
    }

    /// Forgets the token, in memory and in the store, without telling the vendor.
    pub async fn clear(&self) -> Result<(), Error> {
        self.inner.clear_current();
        self.inner.store.delete(&self.inner.storage_key).await?;
        Ok(())
    }

    fn fetched(&self, token: Arc<Token>) -> Fetched {
        Fetched {
            token,
            not_stored: self.inner.unsaved_error(),
        }
    }

    /// The cached token when it can be served without a refresh.
    fn cached(&self) -> Option<Arc<Token>> {
        let token = self.inner.current()?;
        let servable = self.servable(&token, coarse_now_unix_ms());
        if servable {
            crate::observe::cache_hit(self.inner.key.vendor());
        }
        servable.then_some(token)
    }

    /// Fresh, or still valid while a failed refresh pauses further attempts.
    fn servable(&self, token: &Token, now: u64) -> bool {
        let deadlines = self.inner.deadlines(token);
        deadlines.is_fresh(now)
            || (deadlines.is_valid(now) && now < self.inner.retry_after_ms.load(Ordering::Relaxed))
    }

    /// Joins the refresh in flight, or starts one.
    async fn run(&self, want: Want) -> Result<Arc<Token>, Error> {
        let (flight, leads) = {
            let mut slot = self.inner.flight.lock().map_err(|_| {
                Error::internal(self.inner.key.vendor(), "state poisoned by a panic")
            })?;
            // Re-check under the lock: a flight that just ended has set the token.
            if let (Want::Fresh, Some(token)) = (&want, self.cached()) {
                return Ok(token);
            }
            match &*slot {
                Some(flight) => (flight.clone(), false),
                None => {
                    let flight = Arc::new(Flight::default());
                    *slot = Some(flight.clone());
                    (flight, true)
                }
            }
        };
        if !leads {
            return flight.outcome().await;
        }
        Lead {
            refresh: Some(Box::pin(self.inner.clone().refresh(want))),
            inner: self.inner.clone(),
            flight,
            hands_over: true,
        }
        .await
    }
}

/// A refresh's future, boxed so that a caller that gives up can hand it to a task.
type Refresh = Pin<Box<dyn Future<Output = Result<Arc<Token>, Error>> + Send>>;

/// A refresh in flight, as the callers that joined it see it: its result, once there is one.
#[derive(Default)]
struct Flight {
    result: OnceLock<Result<Arc<Token>, Error>>,
    ended: Notify,
}

impl Flight {
    /// Keeps the result and wakes the callers waiting for it.
    fn end(&self, result: &Result<Arc<Token>, Error>) {
        let _ = self.result.set(result.clone());
        self.ended.notify_waiters();
    }

    async fn outcome(&self) -> Result<Arc<Token>, Error> {
        loop {
            // Registered before the result is looked at, so that no end goes unseen.
            let mut ended = pin!(self.ended.notified());
            ended.as_mut().enable();
            if let Some(result) = self.result.get() {
                return result.clone();
            }
            ended.await;
        }
    }
}

/// The caller that started a refresh, running it in its own future: no task to spawn, no
/// waker to relay (as `tokio::sync::OnceCell` runs an initialisation). The others wait for its
/// [`Flight`] to end. Dropped before the end (a timeout, a closed connection), it hands the
/// refresh to a task, so a rotated refresh token is always stored and the others get the
/// result. A panic in the refresh becomes an error for every caller.
struct Lead {
    inner: Arc<Inner>,
    flight: Arc<Flight>,
    /// `None` once ended.
    refresh: Option<Refresh>,
    /// Whether a drop before the end hands the refresh to a task: the caller's does, the
    /// task's does not (a runtime shutting down drops it; then the refresh ends as cancelled).
    hands_over: bool,
}

impl Lead {
    fn end(&mut self, result: &Result<Arc<Token>, Error>) {
        self.refresh = None;
        if let Ok(mut slot) = self.inner.flight.lock()
            && slot
                .as_ref()
                .is_some_and(|flight| Arc::ptr_eq(flight, &self.flight))
        {
            *slot = None;
        }
        self.flight.end(result);
    }
}

impl Future for Lead {
    type Output = Result<Arc<Token>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(refresh) = self.refresh.as_mut() else {
            return Poll::Ready(Err(Error::internal(
                self.inner.key.vendor(),
                "a token refresh was polled after its end",
            )));
        };
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| refresh.as_mut().poll(cx)));
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            // The panic hook has printed the message; the callers get an error.
            Err(_) => Err(Error::internal(
                self.inner.key.vendor(),
                "the token refresh panicked",
            )),
        };
        self.end(&result);
        Poll::Ready(result)
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        let Some(refresh) = self.refresh.take() else {
            return;
        };
        if self.hands_over
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            drop(runtime.spawn(Lead {
                inner: self.inner.clone(),
                flight: self.flight.clone(),
                refresh: Some(refresh),
                hands_over: false,
            }));
        } else {
            // Dropping the refresh releases its store lock (see `LockOwner`).
            drop(refresh);
            let cancelled = Err(Error::internal(
                self.inner.key.vendor(),
                "the token refresh was cancelled (its runtime is shutting down)",
            ));
            self.end(&cancelled);
        }
    }
}

/// The owner of a refresh's store lock (32 hex digits). While `held`, dropping it (a panic, or
/// a refresh dropped before its end) releases the lock: at once for a store that answers
/// without waiting, else in a task.
struct LockOwner<'a> {
    inner: &'a Arc<Inner>,
    owner: [u8; 32],
    held: bool,
}

impl LockOwner<'_> {
    fn owner(&self) -> &str {
        // Hex digits only, written by `refresh`.
        std::str::from_utf8(&self.owner).unwrap_or_default()
    }
}

impl Drop for LockOwner<'_> {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let inner = self.inner;
        if let Some(store) = inner.store.immediate() {
            let _ = store.unlock_now(&inner.storage_key, self.owner());
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = inner.store.clone();
            let key = inner.storage_key.clone();
            let owner = self.owner().to_owned();
            drop(runtime.spawn(async move { store.unlock(&key, &owner).await }));
        }
    }
}

impl Inner {
    /// The store lock's lease: the longest a token request may take plus 10 s.
    fn lock_ttl(&self) -> Duration {
        self.fetch_timeout.saturating_add(Duration::from_secs(10))
    }

    fn deadlines(&self, token: &Token) -> Deadlines {
        let expires_at_ms = token.expires_at_unix().map(|s| s.saturating_mul(1000));
        let refresh_at_ms = token.expires_at_unix().map(|expires| {
            let lifetime = token.lifetime_seconds().unwrap_or(0);
            let margin = match self.margin {
                Some(margin) => margin.as_secs(),
                None => (lifetime / 10).max(60),
            }
            .min(lifetime / 2);
            expires.saturating_sub(margin).saturating_mul(1000)
        });
        Deadlines {
            refresh_at_ms,
            expires_at_ms,
        }
    }

    fn set_current(&self, token: Arc<Token>) {
        self.current.store(Some(token));
        self.retry_after_ms.store(0, Ordering::Relaxed);
    }

    fn clear_current(&self) {
        self.current.store(None);
        self.set_unsaved(None);
    }

    fn current(&self) -> Option<Arc<Token>> {
        self.current.load_full()
    }

    fn unsaved_error(&self) -> Option<StoreError> {
        self.unsaved.lock().ok().and_then(|u| u.as_deref().cloned())
    }

    fn is_unsaved(&self) -> bool {
        self.has_unsaved.load(Ordering::Acquire)
    }

    fn set_unsaved(&self, err: Option<StoreError>) {
        if err.is_none() && !self.is_unsaved() {
            return;
        }
        if let Ok(mut unsaved) = self.unsaved.lock() {
            self.has_unsaved.store(err.is_some(), Ordering::Release);
            *unsaved = err.map(Box::new);
        }
    }

    /// Whether `token` satisfies `want` now.
    fn satisfies(&self, token: &Arc<Token>, want: &Want) -> bool {
        self.deadlines(token).is_fresh(now_unix_ms())
            && match want {
                Want::Fresh => true,
                Want::Replacing(old) => token.access_token().expose_secret() != old.expose_secret(),
            }
    }

    /// Stores `token`; on failure, remembers that the current token is not stored.
    async fn persist(&self, token: &Arc<Token>) -> Result<(), StoreError> {
        let stored = match self.store.immediate() {
            Some(store) => store.put_now(&self.storage_key, token),
            None => self.store.put_shared(&self.storage_key, token).await,
        };
        match stored {
            Ok(()) => {
                self.set_unsaved(None);
                Ok(())
            }
            Err(err) => Err(self.not_stored(err)),
        }
    }

    /// A new token could not be stored: says so, and remembers it (the token is served from
    /// memory). Cold, as the other failures on a refresh's way: out of the code every refresh
    /// runs.
    #[cold]
    #[inline(never)]
    fn not_stored(&self, err: StoreError) -> StoreError {
        let err = err.with_message_prefix(
            "a new token was obtained but could not be stored; it is kept in memory and served \
             from there, and storing is retried",
        );
        tracing::warn!(vendor = %self.key.vendor(), error = %err, "token not stored");
        self.set_unsaved(Some(err.clone()));
        err
    }

    /// Retries storing `token` in the background while it is still the current one, a few
    /// times with growing pauses (bounded: about a minute in all).
    fn retry_saving(self: Arc<Self>, token: Arc<Token>) {
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(500);
            for _ in 0..7 {
                tokio::time::sleep(pause).await;
                pause *= 2;
                let still_current = self.current().is_some_and(|c| Arc::ptr_eq(&c, &token));
                if !still_current || !self.is_unsaved() {
                    return;
                }
                if self.persist(&token).await.is_ok() {
                    tracing::info!(vendor = %self.key.vendor(), "the token that could not be stored is now stored");
                    return;
                }
            }
        });
    }

    /// Reads the store; a corrupt entry (already reported and moved aside) counts as none.
    async fn read_store(&self) -> Result<Option<Arc<Token>>, Error> {
        let stored = match self.store.immediate() {
            Some(store) => store.get_now(&self.storage_key),
            None => self.store.get_shared(&self.storage_key).await,
        };
        match stored {
            Ok(None) if !self.legacy_looked_up.swap(true, Ordering::Relaxed) => {
                // Boxed, as the other rare paths: their state would otherwise make every
                // refresh's future (one allocation per first token) larger.
                Box::pin(self.migrate_legacy()).await
            }
            Ok(token) => Ok(token),
            Err(err) if err.kind() == StoreErrorKind::Corrupt => {
                self.unreadable(&err);
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }

    #[cold]
    #[inline(never)]
    fn unreadable(&self, err: &StoreError) {
        tracing::warn!(vendor = %self.key.vendor(), error = %err, "stored token unreadable");
    }

    /// A token stored by a version before 0.2 under its old key, moved to the new one. A
    /// failure to move it leaves it where it was (and is only logged): it is used all the same.
    async fn migrate_legacy(&self) -> Result<Option<Arc<Token>>, Error> {
        let legacy = self.key.legacy_storage_key();
        let Ok(Some(token)) = self.store.get(&legacy).await else {
            return Ok(None);
        };
        match self.store.put(&self.storage_key, &token).await {
            Ok(()) => {
                if let Err(err) = self.store.delete(&legacy).await {
                    tracing::warn!(vendor = %self.key.vendor(), error = %err, "old token key not removed");
                }
            }
            Err(err) => {
                tracing::warn!(vendor = %self.key.vendor(), error = %err, "token not moved to its new key");
            }
        }
        Ok(Some(Arc::new(token)))
    }

    /// The newest token known: memory when it could not be stored, else the store's.
    fn newest(&self, stored: Option<Arc<Token>>) -> Option<Arc<Token>> {
        let memory = self.current();
        if self.is_unsaved() && memory.is_some() {
            memory
        } else {
            stored.or(memory)
        }
    }

    async fn refresh(self: Arc<Self>, want: Want) -> Result<Arc<Token>, Error> {
        // A random owner, written out on the stack (no allocation, no formatting machinery).
        let mut lock = LockOwner {
            inner: &self,
            owner: [0u8; 32],
            held: false,
        };
        base16ct::lower::encode_str(&rand::random::<u128>().to_be_bytes(), &mut lock.owner)
            .map_err(|_| Error::internal(self.key.vendor(), "the lock owner did not fit"))?;
        if let Some(token) = self.wait_for_lock(&want, lock.owner()).await? {
            return Ok(token);
        }
        // Holding the lock: re-read, fetch only if still needed, store, release. A refresh that
        // panics or is dropped releases it too (`LockOwner::drop`), so that other processes do
        // not wait out the lease.
        lock.held = true;
        let result = self.refresh_locked(&want).await;
        lock.held = false;
        let unlocked = match self.store.immediate() {
            Some(store) => store.unlock_now(&self.storage_key, lock.owner()),
            None => self.store.unlock(&self.storage_key, lock.owner()).await,
        };
        if let Err(err) = unlocked {
            self.not_unlocked(&err);
        }
        result
    }

    #[cold]
    #[inline(never)]
    fn not_unlocked(&self, err: &StoreError) {
        tracing::warn!(vendor = %self.key.vendor(), error = %err, "could not release the refresh lock");
    }

    /// Waits for the store lock; `Some(token)` when another process stored a satisfying token
    /// meanwhile (the lock is then not taken).
    async fn wait_for_lock(&self, want: &Want, owner: &str) -> Result<Option<Arc<Token>>, Error> {
        let started = now_unix_ms();
        let mut pause = self.lock_poll_interval.max(Duration::from_millis(1));
        let mut announced = false;
        let immediate = self.store.immediate();
        loop {
            // A store that answers at once is tried for the lock first: when it is free (the
            // usual case), the token is read once, under it. Another store is read first, as
            // its lock is a round trip that a token stored meanwhile makes needless.
            if let Some(store) = immediate
                && store.try_lock_now(&self.storage_key, owner, self.lock_ttl())?
            {
                return Ok(None);
            }
            if !self.is_unsaved()
                && let Some(stored) = self.read_store().await?
                && self.satisfies(&stored, want)
            {
                self.set_current(stored.clone());
                return Ok(Some(stored));
            }
            if immediate.is_none()
                && self
                    .store
                    .try_lock(&self.storage_key, owner, self.lock_ttl())
                    .await?
            {
                return Ok(None);
            }
            let wait = self.lock_wait(started, &mut pause, &mut announced)?;
            tokio::time::sleep(wait).await;
        }
    }

    /// How long to wait before asking for the lock again (growing, with jitter), or an error
    /// when the lock has been held for longer than a lease allows (a crashed holder's lock
    /// lapses after its lease: waiting longer means trouble).
    #[cold]
    #[inline(never)]
    fn lock_wait(
        &self,
        started: u64,
        pause: &mut Duration,
        announced: &mut bool,
    ) -> Result<Duration, Error> {
        let lease_ms = u64::try_from(self.lock_ttl().as_millis()).unwrap_or(u64::MAX / 4);
        let waited = now_unix_ms().saturating_sub(started);
        if waited > lease_ms.saturating_mul(2) {
            return Err(Error::Store(StoreError::new(
                StoreErrorKind::LockTimeout,
                "token manager",
                format!(
                    "{}: gave up waiting for the refresh lock after {waited} ms",
                    self.key.vendor()
                ),
            )));
        }
        if !*announced && waited >= 1000 {
            *announced = true;
            tracing::warn!(
                vendor = %self.key.vendor(),
                "another process is getting this token; waiting for it (at most {} s, the lease \
                 of its lock)",
                lease_ms / 1000
            );
        }
        let jitter = rand::random::<u64>() % (pause.as_millis() as u64 / 2 + 1);
        let wait = *pause + Duration::from_millis(jitter);
        *pause = (*pause * 3 / 2).min(Duration::from_millis(250));
        Ok(wait)
    }

    async fn refresh_locked(self: &Arc<Self>, want: &Want) -> Result<Arc<Token>, Error> {
        let stored = self.read_store().await?;
        if !self.is_unsaved()
            && let Some(stored) = &stored
            && self.satisfies(stored, want)
        {
            self.set_current(stored.clone());
            return Ok(stored.clone());
        }
        let base = self.newest(stored);
        if self.is_unsaved()
            && let Some(base) = &base
        {
            // Store the pair that could not be stored before, before using it up.
            let _ = self.persist(base).await;
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let previous = base.as_deref();
        let (client, actor) = match &self.source {
            Source::Client(client) => (client, Actor::Application),
            Source::User(user) => (&user.client, Actor::User(user.user.as_ref())),
            Source::Other(source) => {
                let fetched = tokio::time::timeout(self.fetch_timeout, source.fetch(previous));
                let fetched = self.in_time(fetched.await);
                return self.fetched_token(base, want, fetched).await;
            }
        };
        // The engine's fetch, awaited in place (no boxed future per token) and cut off by the
        // timers its requests have anyway rather than one more (see `within_deadline`).
        let deadline = tokio::time::Instant::now() + self.fetch_timeout;
        let fetched = within_deadline(deadline, fetch_with_client(client, actor, previous)).await;
        self.fetched_token(base, want, fetched).await
    }

    /// Stores and returns a token just fetched; after a failure, the old token while it is still
    /// valid, or the error (the token cleared when authorization was lost).
    async fn fetched_token(
        self: &Arc<Self>,
        base: Option<Arc<Token>>,
        want: &Want,
        fetched: Result<Token, Error>,
    ) -> Result<Arc<Token>, Error> {
        match fetched {
            Ok(token) => {
                let token = Arc::new(token);
                // Stored before any caller (even one on the fast path) can receive it; kept in
                // memory and returned either way: a token the vendor issued is never dropped.
                let stored = self.persist(&token).await;
                self.set_current(token.clone());
                if stored.is_err() {
                    self.clone().retry_saving(token.clone());
                }
                Ok(token)
            }
            Err(err)
                if err.is_invalid_grant() || matches!(err, Error::AuthorizationRequired { .. }) =>
            {
                Box::pin(self.authorization_lost(base, err)).await
            }
            Err(err) => self.keep_old_token(base, want, err),
        }
    }

    /// A fetch's result, or a timeout error when it ran past `fetch_timeout`.
    fn in_time(
        &self,
        fetched: Result<Result<Token, Error>, tokio::time::error::Elapsed>,
    ) -> Result<Token, Error> {
        fetched.unwrap_or_else(|_| {
            Err(Error::Timeout {
                vendor: self.key.vendor().into(),
                endpoint: "token endpoint".into(),
                attempts: 1,
            })
        })
    }

    /// After a failed refresh: the old token while it is still valid, else the error.
    fn keep_old_token(
        &self,
        base: Option<Arc<Token>>,
        want: &Want,
        err: Error,
    ) -> Result<Arc<Token>, Error> {
        let now = now_unix_ms();
        match base {
            Some(old) if self.deadlines(&old).is_valid(now) && matches!(want, Want::Fresh) => {
                let wait = self.retry_after_failure.as_millis() as u64;
                tracing::warn!(
                    vendor = %self.key.vendor(), error = %err,
                    "token refresh failed; the current token is still valid and kept"
                );
                self.set_current(old.clone());
                self.retry_after_ms.store(now + wait, Ordering::Relaxed);
                Ok(old)
            }
            _ => Err(err),
        }
    }

    async fn authorization_lost(
        &self,
        base: Option<Arc<Token>>,
        err: Error,
    ) -> Result<Arc<Token>, Error> {
        // If another process stored a different pair meanwhile, that one is good: use it.
        if let Some(stored) = self.read_store().await? {
            let used = base
                .as_ref()
                .and_then(|b| b.refresh_token())
                .map(|r| r.expose_secret().to_owned());
            let theirs = stored.refresh_token().map(|r| r.expose_secret().to_owned());
            if theirs.is_some() && theirs != used && self.satisfies(&stored, &Want::Fresh) {
                self.set_current(stored.clone());
                return Ok(stored);
            }
        }
        self.clear_current();
        if let Err(store_err) = self.store.delete(&self.storage_key).await {
            tracing::warn!(vendor = %self.key.vendor(), error = %store_err, "could not clear the stored token");
        }
        Err(match err {
            Error::AuthorizationRequired { .. } => err,
            other => Error::authorization_required(
                self.key.vendor(),
                &format!("the stored token was cleared and the user must authorize again: {other}"),
            ),
        })
    }
}
