//! The file store: its contract, atomic private files, corrupt files, and several OS processes
//! sharing one file.

mod store_support;

use std::sync::Arc;
use std::time::Duration;

use oauth_clients_core::secrecy::ExposeSecret;
use oauth_clients_core::store::FileStore;
use oauth_clients_core::{StoreErrorKind, Token, TokenStore};
use store_support::{RotatingEndpoint, check_store_contract, run_workers, token_url};
use wiremock::MockServer;

#[tokio::test]
async fn file_store_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("nested/dir/tokens.json"));
    check_store_contract(&store).await;
}

#[tokio::test]
async fn memory_store_keeps_the_store_contract() {
    check_store_contract(&oauth_clients_core::store::MemoryStore::new()).await;
}

#[cfg(unix)]
#[tokio::test]
async fn file_is_private_and_replaced_atomically() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    let token = Token::new(oauth_clients_core::AccessToken::new("t"), 1, Some(2));
    for i in 0..5 {
        store.put(&format!("k{i}"), &token).await.unwrap();
    }
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "token file mode");
    let lock_mode = std::fs::metadata(dir.path().join("tokens.json.lock"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(lock_mode, 0o600, "lock file mode");
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    // All five keys survived the concurrent-safe read-modify-write.
    for i in 0..5 {
        assert!(store.get(&format!("k{i}")).await.unwrap().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_in_one_process_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("tokens.json")));
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let token = Token::new(
                    oauth_clients_core::AccessToken::new(format!("t{i}")),
                    1,
                    Some(2),
                );
                store.put(&format!("key{i}"), &token).await
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
    for i in 0..40 {
        let token = store.get(&format!("key{i}")).await.unwrap().unwrap();
        assert_eq!(token.access_token().expose_secret(), &format!("t{i}"));
    }
}

#[tokio::test]
async fn corrupt_file_is_reported_moved_aside_and_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(
        &path,
        "{\"format\": \"oauth-clients-token-store\", \"tokens\": {tru",
    )
    .unwrap();
    let store = FileStore::new(&path);
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    let text = err.to_string();
    assert!(text.contains("moved aside"), "{text}");
    assert!(text.contains(".corrupt-"), "{text}");
    assert!(
        !text.contains("tokens\": {tru"),
        "no content in errors: {text}"
    );
    // The corrupt content is kept, byte for byte, beside the store.
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "{\"format\": \"oauth-clients-token-store\", \"tokens\": {tru"
    );
    // The store goes on with a new file.
    let token = Token::new(oauth_clients_core::AccessToken::new("t"), 1, Some(2));
    store.put("k", &token).await.unwrap();
    assert!(store.get("k").await.unwrap().is_some());
    // A file of another format is not taken over either.
    std::fs::write(&path, "{\"format\": \"something-else\", \"version\": 1}").unwrap();
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
}

#[tokio::test]
async fn a_file_from_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let newer =
        r#"{"format": "oauth-clients-token-store", "version": 2, "tokens": {"k": {"v2": true}}}"#;
    std::fs::write(&path, newer).unwrap();
    let store = FileStore::new(&path);
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NewerFormat);
    assert!(
        err.to_string().contains("written by a newer oauth-clients"),
        "{err}"
    );
    let token = Token::new(oauth_clients_core::AccessToken::new("t"), 1, Some(2));
    let err = store.put("k", &token).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NewerFormat);
    // Neither replaced nor moved aside: the newer tool's tokens are all there.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".lock"))
        .collect();
    assert_eq!(names, ["tokens.json"]);
}

#[test]
fn four_processes_share_one_token_request_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("tokens.json").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(200));
    runtime.block_on(endpoint.mount(&server));
    let url = token_url(&server);

    let reports = run_workers(4, &store, &url, 100, 0);
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
    let requests = runtime
        .block_on(server.received_requests())
        .unwrap_or_default();
    assert_eq!(requests.len(), 1, "no new token request after a restart");
}

#[test]
fn rotating_refresh_tokens_across_four_processes_never_hit_invalid_grant() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("tokens.json").display());
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
