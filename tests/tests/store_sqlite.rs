//! The SQLite store: its contract, private files, schema versions, many callers on one expired
//! token, and several OS processes sharing one database file.

mod store_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_clients_core::store::SqliteStore;
use oauth_clients_core::{StoreErrorKind, Token, TokenStore};
use store_support::{RotatingEndpoint, check_store_contract, run_workers, token_url};
use wiremock::MockServer;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn token(access: &str) -> Token {
    Token::new(
        oauth_clients_core::AccessToken::new(access.to_owned()),
        now(),
        Some(now() + 3600),
    )
}

/// A plain connection to `path`, to play another version or another program.
fn open_raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test]
async fn sqlite_store_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::new(dir.path().join("nested/dir/tokens.db"));
    check_store_contract(&store).await;
}

#[tokio::test]
async fn like_wildcards_in_a_prefix_are_taken_literally() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::new(dir.path().join("tokens.db"));
    for key in ["a%b:1", "a_b:2", "axb:3", "a\\b:4", "é:5", "éx:6"] {
        store.put(key, &token("t")).await.unwrap();
    }
    assert_eq!(store.keys_with_prefix("a%").await.unwrap(), ["a%b:1"]);
    assert_eq!(store.keys_with_prefix("a_").await.unwrap(), ["a_b:2"]);
    assert_eq!(store.keys_with_prefix("a\\").await.unwrap(), ["a\\b:4"]);
    assert_eq!(store.keys_with_prefix("é").await.unwrap(), ["é:5", "éx:6"]);
    assert_eq!(store.keys_with_prefix("").await.unwrap().len(), 6);
    // Bounded, however many keys match.
    for i in 0..150 {
        store
            .put(&format!("many:{i:03}"), &token("t"))
            .await
            .unwrap();
    }
    let listed = store.keys_with_prefix("many:").await.unwrap();
    assert_eq!(listed.len(), oauth_clients_core::store::MAX_LISTED_KEYS);
    assert_eq!(listed[0], "many:000");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.db");
    let store = SqliteStore::new(&path);
    store.put("k", &token("t")).await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "mode of {file}");
    }
    // A sidecar made readable by others is tightened when the store opens the file again.
    let wal = format!("{}-wal", path.display());
    std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = SqliteStore::new(&path);
    assert!(again.get("k").await.unwrap().is_some());
    let mode = std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "tightened -wal");
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.db");
    let store = SqliteStore::new(&path);
    store.put("k", &token("t")).await.unwrap();
    drop(store);
    {
        let conn = open_raw(&path);
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let store = SqliteStore::new(&path);
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NewerFormat);
    assert!(err.to_string().contains("newer oauth-clients"), "{err}");
    let err = store.put("k", &token("t2")).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NewerFormat);
    let conn = open_raw(&path);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 2, "left as it is");
}

#[tokio::test]
async fn a_file_that_is_not_a_token_store_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.db");
    let garbage = "this is not a database, and it holds secret-ish text ".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let store = SqliteStore::new(&path);
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    assert!(!err.to_string().contains("secret-ish"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage);

    // Another program's database is not taken over either.
    let other = dir.path().join("other.db");
    open_raw(&other)
        .execute_batch("CREATE TABLE notes (body TEXT)")
        .unwrap();
    let err = SqliteStore::new(&other)
        .put("k", &token("t"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    assert!(err.to_string().contains("another program"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tasks_on_an_expired_token_make_one_token_request() {
    let _watchdog = store_support::Watchdog::start(
        "ten_thousand_tasks_on_an_expired_token_make_one_token_request",
        Duration::from_secs(120),
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::new(dir.path().join("tokens.db")));
    store_support::tasks_on_an_expired_token_make_one_request(
        store,
        10_000,
        Duration::from_millis(50),
    )
    .await;
}

#[test]
fn eight_processes_share_one_token_request_through_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("tokens.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(200));
    runtime.block_on(endpoint.mount(&server));
    let url = token_url(&server);

    let reports = run_workers(8, &store, &url, 100, 0);
    let requests = runtime
        .block_on(server.received_requests())
        .unwrap_or_default();
    assert_eq!(requests.len(), 1, "exactly one token request in total");
    let first = &reports[0].token;
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
        assert_eq!(report.distinct, 1, "{reports:?}");
        assert_eq!(&report.token, first, "every process got the same token");
    }
    assert_eq!(reports.iter().map(|r| r.fetches).sum::<u64>(), 1);

    // A restart (a new process over the same file) reuses the stored token.
    let again = run_workers(1, &store, &url, 10, 0);
    assert_eq!(&again[0].token, first);
    assert_eq!(again[0].fetches, 0);
}

#[test]
fn rotating_refresh_tokens_across_four_processes_never_hit_invalid_grant_with_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("tokens.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(5));
    runtime.block_on(endpoint.mount(&server));

    let reports = run_workers(4, &store, &token_url(&server), 5, 50);
    let stats = endpoint.stats();
    assert_eq!(stats.invalid_grants, 0, "{stats:?} {reports:?}");
    assert_eq!(stats.client_credentials, 1, "{stats:?}");
    assert!(stats.refreshes >= 50, "{stats:?}");
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
        assert_eq!(report.auth_required, 0, "{reports:?}");
    }
}
