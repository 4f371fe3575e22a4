//! The Redis store against a real `redis-server` on 127.0.0.1: its contract, TTLs, and several
//! OS processes sharing one server.

mod store_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_clients_core::secrecy::ExposeSecret;
use oauth_clients_core::store::RedisStore;
use oauth_clients_core::{StoreErrorKind, Token, TokenStore};
use std::sync::Arc;
use store_support::{
    RedisServer, RotatingEndpoint, TestCertificates, check_store_contract, run_workers, token_url,
};
use wiremock::MockServer;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[tokio::test]
async fn redis_store_keeps_the_store_contract() {
    let server = RedisServer::start();
    let store = RedisStore::open(&server.url()).unwrap();
    check_store_contract(&store).await;
}

#[tokio::test]
async fn rediss_speaks_tls_to_a_server_with_a_private_ca() {
    let certificates = TestCertificates::new();
    let server = RedisServer::start_tls(&certificates);
    assert!(server.url().starts_with("rediss://"), "{}", server.url());
    let store = RedisStore::open(&server.url())
        .unwrap()
        .with_root_certificate(certificates.ca_pem.as_bytes())
        .unwrap();
    check_store_contract(&store).await;

    // A server whose certificate the client does not trust is refused, with a clear error.
    let untrusting = RedisStore::open(&server.url())
        .unwrap()
        .with_root_certificate(TestCertificates::new().ca_pem.as_bytes())
        .unwrap()
        .timeout(Duration::from_secs(2));
    let err = untrusting.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    let text = err.to_string();
    assert!(
        text.contains("certificate") || text.contains("Certificate") || text.contains("TLS"),
        "{text}"
    );
}

#[tokio::test]
async fn tokens_expire_with_their_access_token_unless_they_can_be_refreshed() {
    let server = RedisServer::start();
    let store = RedisStore::open(&server.url())
        .unwrap()
        .namespace("ttl-test");
    let short = Token::new(
        oauth_clients_core::AccessToken::new("short"),
        now(),
        Some(now() + 1),
    );
    let refreshable = Token::new(
        oauth_clients_core::AccessToken::new("long"),
        now(),
        Some(now() + 1),
    )
    .with_refresh_token(Some(oauth_clients_core::RefreshToken::new("r")));
    store.put("short", &short).await.unwrap();
    store.put("refreshable", &refreshable).await.unwrap();
    assert!(store.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        store.get("short").await.unwrap().is_none(),
        "TTL of the access token"
    );
    let kept = store.get("refreshable").await.unwrap().unwrap();
    assert_eq!(kept.refresh_token().unwrap().expose_secret(), "r");
}

#[tokio::test]
async fn namespaces_separate_applications() {
    let server = RedisServer::start();
    let a = RedisStore::open(&server.url()).unwrap().namespace("app-a");
    let b = RedisStore::open(&server.url()).unwrap().namespace("app-b");
    let token = Token::new(
        oauth_clients_core::AccessToken::new("t"),
        now(),
        Some(now() + 60),
    );
    a.put("k", &token).await.unwrap();
    assert!(a.get("k").await.unwrap().is_some());
    assert!(b.get("k").await.unwrap().is_none());
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_without_secrets() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = RedisStore::open(&format!("redis://:hunter2@127.0.0.1:{port}/")).unwrap();
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    let text = err.to_string();
    assert!(text.contains("redis store"), "{text}");
    assert!(!text.contains("hunter2"), "no password in errors: {text}");
    assert!(!format!("{store:?}").contains("hunter2"));
}

#[test]
fn eight_processes_share_one_token_request_through_redis() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(200));
    runtime.block_on(endpoint.mount(&server));
    let url = token_url(&server);

    let reports = run_workers(8, &redis.url(), &url, 100, 0);
    let requests = runtime
        .block_on(server.received_requests())
        .unwrap_or_default();
    assert_eq!(requests.len(), 1, "exactly one token request in total");
    let first = &reports[0].token;
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
        assert_eq!(report.distinct, 1, "{reports:?}");
        assert_eq!(&report.token, first);
    }

    // A restart reuses the token stored in Redis.
    let again = run_workers(1, &redis.url(), &url, 10, 0);
    assert_eq!(&again[0].token, first);
    assert_eq!(again[0].fetches, 0);
}

#[test]
fn rotating_refresh_tokens_across_four_processes_never_hit_invalid_grant_with_redis() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(5));
    runtime.block_on(endpoint.mount(&server));

    let reports = run_workers(4, &redis.url(), &token_url(&server), 5, 50);
    let stats = endpoint.stats();
    assert_eq!(stats.invalid_grants, 0, "{stats:?} {reports:?}");
    assert_eq!(stats.client_credentials, 1, "{stats:?}");
    assert!(stats.refreshes >= 50, "{stats:?}");
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tasks_on_an_expired_token_make_one_token_request_with_redis() {
    let _watchdog = store_support::Watchdog::start(
        "ten_thousand_tasks_on_an_expired_token_make_one_token_request_with_redis",
        Duration::from_secs(120),
    );
    let redis = RedisServer::start();
    let store = Arc::new(RedisStore::open(&redis.url()).unwrap());
    store_support::tasks_on_an_expired_token_make_one_request(
        store,
        10_000,
        Duration::from_millis(50),
    )
    .await;
}
