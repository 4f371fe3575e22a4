//! Tokens encrypted at rest (`EncryptedStore`) over the file, Redis and PostgreSQL stores: what
//! each store holds, read with the store's own tools, shows no token in clear; values round-trip,
//! follow key rotation, and fail as corrupt when changed or moved.

mod store_support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_clients_core::secrecy::ExposeSecret;
use oauth_clients_core::store::{
    EncryptedStore, EncryptionKey, EncryptionKeys, FileStore, PostgresStore, RawTokenStore,
    RedisStore, TokenLifetime,
};
use oauth_clients_core::{AccessToken, RefreshToken, StoreErrorKind, Token, TokenStore};
use store_support::postgres::PostgresServer;
use store_support::{
    RedisServer, RotatingEndpoint, check_store_contract, run_workers_with_env, token_url,
};
use wiremock::MockServer;

const ACCESS: &str = "clear-access-token-4711";
const REFRESH: &str = "clear-refresh-token-0815";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn token() -> Token {
    Token::new(AccessToken::new(ACCESS), now(), Some(now() + 3600))
        .with_refresh_token(Some(RefreshToken::new(REFRESH)))
}

fn keys(current: (&str, &EncryptionKey), older: &[(&str, &EncryptionKey)]) -> EncryptionKeys {
    EncryptionKeys::new(
        (current.0, current.1.clone()),
        older
            .iter()
            .map(|(id, key)| ((*id).to_owned(), (*key).clone()))
            .collect(),
    )
    .unwrap()
}

/// Puts the token, reads it back, and checks that `dump` (what the store holds, read with the
/// store's own tools) shows neither token value.
async fn round_trip_without_clear_text<S: RawTokenStore>(
    store: &EncryptedStore<S>,
    dump: impl Fn() -> String,
) {
    store.put("app:key", &token()).await.unwrap();
    let back = store.get("app:key").await.unwrap().expect("stored");
    assert_eq!(back.access_token().expose_secret(), ACCESS);
    assert_eq!(back.refresh_token().unwrap().expose_secret(), REFRESH);
    let dumped = dump();
    assert!(dumped.contains("oauth-clients-encrypted-token"), "{dumped}");
    assert!(!dumped.contains(ACCESS), "access token in clear: {dumped}");
    assert!(
        !dumped.contains(REFRESH),
        "refresh token in clear: {dumped}"
    );
    assert!(!dumped.contains("clear-"), "{dumped}");
}

/// A value moved to another key, or changed, is corrupt; old keys still read and new writes
/// use the current key.
async fn tampering_and_rotation<S: RawTokenStore + ?Sized>(inner: Arc<S>) {
    let (old, new) = (EncryptionKey::generate(), EncryptionKey::generate());
    let before = EncryptedStore::new(inner.clone(), keys(("old", &old), &[]));
    before.put("a", &token()).await.unwrap();
    let raw = inner.get_raw("a").await.unwrap().unwrap();
    let lifetime = TokenLifetime::of(&token());
    inner.put_raw("moved", &raw, lifetime).await.unwrap();
    let err = before.get("moved").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unreadable, "{err}");
    let tampered = raw.replacen("\"ciphertext\":\"", "\"ciphertext\":\"AAAA", 1);
    assert_ne!(tampered, raw);
    inner
        .put_raw("tampered", &tampered, lifetime)
        .await
        .unwrap();
    let err = before.get("tampered").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unreadable, "{err}");
    assert!(!err.to_string().contains(ACCESS), "{err}");

    let after = EncryptedStore::new(inner.clone(), keys(("new", &new), &[("old", &old)]));
    let back = after.get("a").await.unwrap().unwrap();
    assert_eq!(back.access_token().expose_secret(), ACCESS);
    after.put("a", &back).await.unwrap();
    let rewritten = inner.get_raw("a").await.unwrap().unwrap();
    assert!(rewritten.contains(r#""kid":"new""#), "{rewritten}");
    // Once rewritten, the old key alone cannot read it.
    let err = before.get("a").await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unreadable);
    assert!(err.to_string().contains("key id `new`"), "{err}");
}

#[tokio::test]
async fn file_store_file_holds_no_token_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let file = FileStore::new(&path);
    let store = EncryptedStore::new(file.clone(), keys(("k1", &EncryptionKey::generate()), &[]));
    check_store_contract(&store).await;
    round_trip_without_clear_text(&store, || std::fs::read_to_string(&path).unwrap()).await;
    tampering_and_rotation(Arc::new(file)).await;
}

#[tokio::test]
async fn redis_values_hold_no_token_in_clear() {
    let server = RedisServer::start();
    let redis = RedisStore::open(&server.url()).unwrap();
    let store = EncryptedStore::new(redis, keys(("k1", &EncryptionKey::generate()), &[]));
    check_store_contract(&store).await;
    let dump = || {
        // redis-cli (Debian's redis-tools, installed with redis-server): every key and value.
        let port = server
            .url()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        let cli = |args: &[&str]| {
            let out = Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &port, "--raw"])
                .args(args)
                .output()
                .expect("redis-cli runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let keys = cli(&["KEYS", "*"]);
        let mut dump = keys.clone();
        for key in keys.lines().filter(|k| !k.is_empty()) {
            dump.push_str(&cli(&["GET", key]));
        }
        dump
    };
    round_trip_without_clear_text(&store, dump).await;
    let rotation = RedisStore::open(&server.url())
        .unwrap()
        .namespace("rotation");
    tampering_and_rotation(Arc::new(rotation)).await;
}

#[tokio::test]
async fn postgres_rows_hold_no_token_in_clear() {
    let Some(server) = PostgresServer::start("postgres_rows_hold_no_token_in_clear") else {
        return;
    };
    let postgres = PostgresStore::open(&server.url()).unwrap();
    let store = EncryptedStore::new(postgres, keys(("k1", &EncryptionKey::generate()), &[]));
    check_store_contract(&store).await;
    let dump = || server.psql("SELECT key, value, updated_at FROM oauth_clients.tokens");
    round_trip_without_clear_text(&store, dump).await;
    let rotation = PostgresStore::open(&server.url())
        .unwrap()
        .schema("rotation")
        .unwrap();
    tampering_and_rotation(Arc::new(rotation)).await;
}

#[test]
fn rotating_refresh_tokens_across_four_processes_through_an_encrypted_postgres_store() {
    let Some(server) = PostgresServer::start("rotating_refresh_tokens_encrypted") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockServer::start());
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(5));
    runtime.block_on(endpoint.mount(&mock));
    let key = EncryptionKey::generate();
    let spec = format!("k1:{}", key.to_base64().expose_secret());

    let env = [("OAUTH_CLIENTS_STORE_KEY", spec.as_str())];
    let reports = run_workers_with_env(4, &server.url(), &token_url(&mock), 5, 20, &env);
    let stats = endpoint.stats();
    assert_eq!(stats.invalid_grants, 0, "{stats:?} {reports:?}");
    assert_eq!(stats.client_credentials, 1, "{stats:?}");
    assert!(stats.refreshes >= 20, "{stats:?}");
    for report in &reports {
        assert_eq!(report.errors, 0, "{reports:?}");
    }
    let rows = server.psql("SELECT value FROM oauth_clients.tokens");
    assert!(rows.contains("\"kid\":\"k1\""), "{rows}");
    assert!(
        !rows.contains("access-") && !rows.contains("refresh-"),
        "{rows}"
    );
}
