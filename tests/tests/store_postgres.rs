//! The PostgreSQL store against a real server (Debian's `postgresql`, a new cluster in a
//! temporary directory on 127.0.0.1, see `store_support/postgres.rs`): its contract, TLS,
//! restarts, many tasks and several OS processes sharing one database.
//!
//! Without PostgreSQL these tests say so and pass, unless `CI` is set: then they fail.

mod store_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_clients_core::secrecy::ExposeSecret;
use oauth_clients_core::store::PostgresStore;
use oauth_clients_core::{StoreErrorKind, Token, TokenStore};
use store_support::postgres::{PostgresOptions, PostgresServer, postgres_available};
use store_support::{
    RotatingEndpoint, TestCertificates, check_store_contract, run_workers, token_url,
};
use wiremock::MockServer;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn token(access: &str, expires_at: u64) -> Token {
    Token::new(
        oauth_clients_core::AccessToken::new(access),
        now(),
        Some(expires_at),
    )
}

#[tokio::test]
async fn postgres_store_keeps_the_store_contract() {
    let Some(server) = PostgresServer::start("postgres_store_keeps_the_store_contract") else {
        return;
    };
    let store = PostgresStore::open(&server.url()).unwrap();
    check_store_contract(&store).await;

    // The rows are where the documentation says: the schema's two tables.
    store
        .put("k", &token("in-a-row", now() + 60))
        .await
        .unwrap();
    let rows = server.psql("SELECT key, value->>'access_token' FROM oauth_clients.tokens");
    assert_eq!(rows.trim(), "k|in-a-row");
    assert!(
        store
            .try_lock("k", "owner-1", Duration::from_secs(30))
            .await
            .unwrap()
    );
    let locks = server.psql("SELECT key, owner, expires_at > now() FROM oauth_clients.locks");
    assert_eq!(locks.trim(), "k|owner-1|t");
}

#[tokio::test]
async fn tokens_survive_a_new_store_and_schemas_separate_applications() {
    let Some(server) = PostgresServer::start("tokens_survive_a_new_store") else {
        return;
    };
    let first = PostgresStore::open(&server.url()).unwrap();
    first.put("k", &token("kept", now() + 60)).await.unwrap();
    drop(first);
    let second = PostgresStore::open(&server.url()).unwrap();
    let back = second.get("k").await.unwrap().expect("the token survived");
    assert_eq!(back.access_token().expose_secret(), "kept");

    let other = PostgresStore::open(&server.url())
        .unwrap()
        .schema("app_b")
        .unwrap();
    assert!(other.get("k").await.unwrap().is_none());
    other.put("k", &token("b", now() + 60)).await.unwrap();
    let back = second.get("k").await.unwrap().unwrap();
    assert_eq!(back.access_token().expose_secret(), "kept");
}

#[tokio::test]
async fn sslmode_require_speaks_tls_to_a_server_with_a_private_ca() {
    if !postgres_available("sslmode_require_speaks_tls") {
        return;
    }
    let certificates = TestCertificates::new();
    let server = PostgresServer::start_with(PostgresOptions {
        tls: Some(&certificates),
        ..PostgresOptions::default()
    });
    let url = server.url_with("?sslmode=require");
    let store = PostgresStore::open(&url)
        .unwrap()
        .with_root_certificate(certificates.ca_pem.as_bytes())
        .unwrap();
    check_store_contract(&store).await;

    // A server whose certificate the client does not trust is refused, with a clear error.
    let untrusting = PostgresStore::open(&url)
        .unwrap()
        .with_root_certificate(TestCertificates::new().ca_pem.as_bytes())
        .unwrap()
        .timeout(Duration::from_secs(2));
    let err = untrusting.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    let text = err.to_string();
    assert!(
        text.contains("certificate") || text.contains("TLS"),
        "{text}"
    );
    assert!(!text.contains(server.password()), "{text}");

    // The server takes TLS only (`hostssl`): without it, it refuses.
    let plain = PostgresStore::open(&server.url_with("?sslmode=disable")).unwrap();
    let err = plain.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    assert!(!err.to_string().contains(server.password()), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_or_a_wrong_password_is_a_clear_error_without_secrets() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = PostgresStore::open(&format!("postgres://app:hunter2@127.0.0.1:{port}/db"))
        .unwrap()
        .timeout(Duration::from_secs(2));
    let err = store.get("k").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    let text = err.to_string();
    assert!(text.contains("postgres store"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("hunter2"), "no password in errors: {text}");
    assert!(!format!("{store:?}").contains("hunter2"));

    let Some(server) = PostgresServer::start("a_wrong_password_is_a_clear_error") else {
        return;
    };
    let wrong = server.url().replace(server.password(), "hunter2");
    let err = PostgresStore::open(&wrong)
        .unwrap()
        .get("k")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains(server.password()),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_on_an_expired_token_make_one_token_request() {
    let _watchdog = store_support::Watchdog::start(
        "a_thousand_tasks_on_an_expired_token_make_one_token_request",
        Duration::from_secs(120),
    );
    let Some(server) = PostgresServer::start("a_thousand_tasks_on_an_expired_token") else {
        return;
    };
    let store = Arc::new(PostgresStore::open(&server.url()).unwrap());
    store_support::tasks_on_an_expired_token_make_one_request(
        store,
        1000,
        Duration::from_millis(100),
    )
    .await;
}

#[test]
fn four_processes_share_one_token_request_through_postgres() {
    let Some(server) = PostgresServer::start("four_processes_share_one_token_request") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(200));
    runtime.block_on(endpoint.mount(&mock));
    let url = token_url(&mock);

    let reports = run_workers(4, &server.url(), &url, 100, 0);
    let requests = runtime
        .block_on(mock.received_requests())
        .unwrap_or_default();
    assert_eq!(requests.len(), 1, "exactly one token request in total");
    let first = &reports[0].token;
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
        assert_eq!(report.distinct, 1, "{reports:?}");
        assert_eq!(&report.token, first);
    }

    // A restart reuses the token stored in PostgreSQL.
    let again = run_workers(1, &server.url(), &url, 10, 0);
    assert_eq!(&again[0].token, first);
    assert_eq!(again[0].fetches, 0);
}

#[test]
fn rotating_refresh_tokens_across_four_processes_never_hit_invalid_grant_with_postgres() {
    let Some(server) = PostgresServer::start("rotating_refresh_tokens_with_postgres") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(5));
    runtime.block_on(endpoint.mount(&mock));

    let reports = run_workers(4, &server.url(), &token_url(&mock), 5, 50);
    let stats = endpoint.stats();
    assert_eq!(stats.invalid_grants, 0, "{stats:?} {reports:?}");
    assert_eq!(stats.client_credentials, 1, "{stats:?}");
    assert!(stats.refreshes >= 50, "{stats:?}");
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
    }
}
