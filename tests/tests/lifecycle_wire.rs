//! Token manager and authorized client end to end: the real engine against mock vendors on
//! 127.0.0.1.

mod store_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::store::MemoryStore;
use oauth_clients_core::{
    ApiRequest, AuthorizedClient, Client, ClientConfig, ClientOptions, Error, ManagerOptions,
    Provider, Token, TokenKey, TokenManager, TokenStore,
};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn no_retries() -> ClientOptions {
    ClientOptions::default().max_attempts(1)
}

fn token_json(access: &str, expires_in: u64) -> serde_json::Value {
    serde_json::json!({"access_token": access, "token_type": "bearer", "expires_in": expires_in})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tasks_on_an_expired_manager_make_one_token_request() {
    let _watchdog = store_support::Watchdog::start("ten_thousand_tasks", Duration::from_secs(120));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(100))
                .set_body_json(token_json("fresh-token", 3600)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = store_support::client(&store_support::token_url(&server));
    let store = Arc::new(MemoryStore::new());
    let expired = Token::new(
        oauth_clients_core::AccessToken::new("expired"),
        now() - 7200,
        Some(now() - 3600),
    );
    store
        .put(&TokenKey::for_client(&client).storage_key(), &expired)
        .await
        .unwrap();
    let manager = TokenManager::builder(client).store(store).build();
    let handles: Vec<_> = (0..10_000)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move { m.access_token().await })
        })
        .collect();
    for handle in handles {
        let token = handle.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "fresh-token");
    }
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_failure_while_the_old_token_is_valid_keeps_callers_working() {
    let _watchdog = store_support::Watchdog::start("endpoint_failure", Duration::from_secs(120));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .mount(&server)
        .await;
    let client = Client::with_options(
        store_support::provider(&store_support::token_url(&server)),
        ClientConfig::new("worker-client").secret(SecretString::from("s")),
        no_retries(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    // 2 minutes left of an hour: due for renewal, still valid.
    let old = Token::new(
        oauth_clients_core::AccessToken::new("old-but-valid"),
        now() - 3480,
        Some(now() + 120),
    )
    .with_refresh_token(Some(oauth_clients_core::RefreshToken::new("refresh-0")));
    store
        .put(&TokenKey::for_client(&client).storage_key(), &old)
        .await
        .unwrap();
    let manager = TokenManager::builder(client).store(store).build();
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move { m.access_token().await })
        })
        .collect();
    for handle in handles {
        assert_eq!(
            handle.await.unwrap().unwrap().expose_secret(),
            "old-but-valid"
        );
    }
    for _ in 0..20 {
        assert_eq!(
            manager.access_token().await.unwrap().expose_secret(),
            "old-but-valid"
        );
    }
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(
        requests.len(),
        1,
        "one failed attempt, then the old token is served"
    );
}

#[tokio::test]
async fn invalid_grant_on_refresh_clears_the_token_and_requires_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            serde_json::json!({"error": "invalid_grant", "error_description": "revoked"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let yaml = format!(
        "id: code_vendor\nname: Code vendor\nendpoints:\n  authorization: {uri}/authorize\n  \
         token: {uri}/oauth/token\ngrants:\n  authorization_code: {{}}\n  refresh_token: {{}}\n",
        uri = server.uri()
    );
    let provider = Provider::from_yaml_str(&yaml, "test").unwrap();
    let client = Client::with_options(
        provider,
        ClientConfig::new("c").secret(SecretString::from("s")),
        no_retries(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let manager = TokenManager::builder(client)
        .store(store.clone())
        .subject("user-42")
        .build();
    let expired = Token::new(
        oauth_clients_core::AccessToken::new("expired"),
        now() - 7200,
        Some(now() - 3600),
    )
    .with_refresh_token(Some(oauth_clients_core::RefreshToken::new(
        "revoked-refresh",
    )));
    manager.set_token(expired).await.unwrap();
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationRequired { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("code_vendor: authorization required"),
        "{text}"
    );
    assert!(
        !text.contains("revoked-refresh"),
        "no secret in errors: {text}"
    );
    assert!(store.get(manager.storage_key()).await.unwrap().is_none());
    // Nothing stored any more: asking again does not hit the vendor.
    let again = manager.access_token().await.unwrap_err();
    assert!(
        matches!(again, Error::AuthorizationRequired { .. }),
        "{again}"
    );
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_of_the_same_key_built_apart_share_one_token_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(100))
                .set_body_json(token_json("shared-token", 3600)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = store_support::client(&store_support::token_url(&server));
    // Two API clients made in different parts of a program, each with its own manager.
    let first = AuthorizedClient::new(client.clone());
    let second = AuthorizedClient::new(client);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let manager = if i % 2 == 0 {
            first.manager().clone()
        } else {
            second.manager().clone()
        };
        tasks.push(tokio::spawn(async move { manager.access_token().await }));
    }
    for task in tasks {
        let token = task.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "shared-token");
    }
    server.verify().await;
}

#[tokio::test]
async fn a_users_revoked_refresh_token_is_never_replaced_by_an_application_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            serde_json::json!({"error": "invalid_grant", "error_description": "revoked"}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("app-token", 3600)))
        .expect(1)
        .mount(&server)
        .await;
    // Like Procore: both a user grant and client credentials.
    let yaml = format!(
        "id: both_vendor\nname: Both vendor\nendpoints:\n  authorization: {uri}/authorize\n  \
         token: {uri}/oauth/token\ngrants:\n  authorization_code: {{}}\n  \
         client_credentials: {{}}\n  refresh_token: {{}}\nclient_auth: client_secret_post\n",
        uri = server.uri()
    );
    let provider = Provider::from_yaml_str(&yaml, "test").unwrap();
    let client = Client::with_options(
        provider,
        ClientConfig::new("c").secret(SecretString::from("s")),
        no_retries(),
    )
    .unwrap();
    let expired = || {
        Token::new(
            oauth_clients_core::AccessToken::new("expired"),
            now() - 7200,
            Some(now() - 3600),
        )
        .with_refresh_token(Some(oauth_clients_core::RefreshToken::new(
            "revoked-refresh",
        )))
    };

    let user = TokenManager::builder(client.clone())
        .subject("user-42")
        .build();
    user.set_token(expired()).await.unwrap();
    let err = user.access_token().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationRequired { .. }), "{err}");

    // The application's own manager may get a new pair from client credentials.
    let application = TokenManager::builder(client).build();
    application.set_token(expired()).await.unwrap();
    let token = application.access_token().await.unwrap();
    assert_eq!(token.expose_secret(), "app-token");
    server.verify().await;
}

#[tokio::test]
async fn procurify_day_long_token_is_reused_for_its_whole_life() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("new", 86400)))
        .expect(0)
        .mount(&server)
        .await;
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../providers/procurify.yaml"
    ))
    .unwrap();
    let provider = Provider::from_yaml_str(&yaml, "providers/procurify.yaml").unwrap();
    let options = no_retries().rewrite("https://acme.procurify.com", server.uri());
    let client = Client::with_options(
        provider,
        ClientConfig::new("id")
            .secret(SecretString::from("s"))
            .variable("domain", "acme"),
        options,
    )
    .unwrap();
    let manager = TokenManager::new(client);
    // Issued 23 h 57 min ago: with the vendor's 60 s margin it is still the token to use.
    let issued = now() - 86400 + 180;
    manager
        .set_token(Token::new(
            oauth_clients_core::AccessToken::new("day-token"),
            issued,
            Some(issued + 86400),
        ))
        .await
        .unwrap();
    for _ in 0..10 {
        assert_eq!(
            manager.access_token().await.unwrap().expose_secret(),
            "day-token"
        );
    }
    server.verify().await;
}

#[tokio::test]
async fn authorized_client_refreshes_once_on_401_and_surfaces_the_request_id() {
    let server = MockServer::start().await;
    let endpoint = store_support::RotatingEndpoint::new(3600, Duration::ZERO);
    endpoint.mount(&server).await;
    // The first token is refused (revoked early); the second is accepted.
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(401).insert_header("X-Vendor-Request", "req-1"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", "Bearer access-2"))
        .and(header("x-client", "tests"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Vendor-Request", "req-2")
                .set_body_json(serde_json::json!({"id": 7})),
        )
        .mount(&server)
        .await;
    let yaml = format!(
        "id: api_vendor\nname: API vendor\nendpoints:\n  token: {uri}/oauth/token\n  \
         api_base: {uri}/api/\ngrants:\n  client_credentials: {{}}\n  refresh_token: {{}}\n\
         client_auth: client_secret_post\napi:\n  headers:\n    X-Client: tests\n  \
         request_id_header: X-Vendor-Request\n",
        uri = server.uri()
    );
    let client = Client::with_options(
        Provider::from_yaml_str(&yaml, "test").unwrap(),
        ClientConfig::new("c").secret(SecretString::from("s")),
        no_retries(),
    )
    .unwrap();
    let api = AuthorizedClient::new(client);
    let response = api.send(&ApiRequest::get("me")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.request_id(), Some("req-2"));
    let me: serde_json::Value = api.send_json(&ApiRequest::get("me")).await.unwrap();
    assert_eq!(me["id"], 7);
    let stats = endpoint.stats();
    assert_eq!(stats.client_credentials, 1);
    assert_eq!(stats.refreshes, 1, "one refresh after the 401");
    assert_eq!(stats.invalid_grants, 0);
}

#[tokio::test]
async fn authorized_client_reports_a_second_401_with_its_request_id() {
    let server = MockServer::start().await;
    let endpoint = store_support::RotatingEndpoint::new(3600, Duration::ZERO);
    endpoint.mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(401).insert_header("X-Vendor-Request", "req-x"))
        .mount(&server)
        .await;
    let yaml = format!(
        "id: api_vendor\nname: API vendor\nendpoints:\n  token: {uri}/oauth/token\n  \
         api_base: {uri}/api/\ngrants:\n  client_credentials: {{}}\n  refresh_token: {{}}\n\
         client_auth: client_secret_post\napi:\n  request_id_header: X-Vendor-Request\n",
        uri = server.uri()
    );
    let client = Client::with_options(
        Provider::from_yaml_str(&yaml, "test").unwrap(),
        ClientConfig::new("c").secret(SecretString::from("s")),
        no_retries(),
    )
    .unwrap();
    let api = AuthorizedClient::new(client);
    let err = api
        .send_json::<serde_json::Value>(&ApiRequest::get("me"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.request_id(), Some("req-x"));
    // Exactly one retry: two API calls, one refresh.
    let api_calls = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/api/me")
        .count();
    assert_eq!(api_calls, 2);
    assert_eq!(endpoint.stats().refreshes, 1);
}

/// Procountor's legacy flow: run by the manager only when the user opted in with credentials.
async fn procountor(server: &MockServer) -> Client {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../providers/procountor.yaml"
    ))
    .unwrap();
    let provider = Provider::from_yaml_str(&yaml, "providers/procountor.yaml").unwrap();
    let redirect = format!("{}/callback", server.uri());
    Mock::given(method("POST"))
        .and(path("/api/oauth/authz"))
        .respond_with(move |req: &wiremock::Request| {
            let state = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let location = format!("{redirect}?code=the-code&state={state}");
            ResponseTemplate::new(302).insert_header("Location", location.as_str())
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "legacy-access", "refresh_token": "legacy-refresh", "expires_in": 3600
        })))
        .mount(server)
        .await;
    let options = no_retries().rewrite("https://api-test.procountor.com", server.uri());
    let config = ClientConfig::new("client_id")
        .secret(SecretString::from("s"))
        .variable("company", "14159")
        .redirect_uri(format!("{}/callback", server.uri()));
    Client::with_options(provider, config, options).unwrap()
}

#[tokio::test]
async fn legacy_flow_runs_only_when_the_user_opted_in_with_credentials() {
    let server = MockServer::start().await;
    let client = procountor(&server).await;

    let without = TokenManager::new(client.clone());
    let err = without.access_token().await.unwrap_err();
    assert!(matches!(err, Error::AuthorizationRequired { .. }), "{err}");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "no request without the user's consent"
    );

    let with = TokenManager::builder(client)
        .user_credentials(oauth_clients_core::UserCredentials {
            username: "joe".into(),
            password: oauth_clients_core::Password::new("pa55-w0rd"),
        })
        .build();
    assert_ne!(
        with.storage_key(),
        without.storage_key(),
        "the user is part of the key"
    );
    assert_eq!(
        with.access_token().await.unwrap().expose_secret(),
        "legacy-access"
    );
    assert_eq!(
        with.access_token().await.unwrap().expose_secret(),
        "legacy-access"
    );
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(paths, ["/api/oauth/authz", "/api/oauth/token"]);
    assert!(!format!("{with:?}").contains("pa55-w0rd"));
}

#[test]
fn the_store_lock_outlives_the_longest_token_request() {
    let options = ClientOptions::default();
    let client = Client::with_options(
        store_support::provider("http://127.0.0.1:9/oauth/token"),
        ClientConfig::new("c"),
        options.clone(),
    )
    .unwrap();
    let manager = TokenManager::new(client);
    // Every attempt and every wait of a request happens within the deadline.
    let longest_request = options.deadline_value();
    assert!(
        manager.lock_ttl() > longest_request,
        "{:?} <= {longest_request:?}",
        manager.lock_ttl()
    );
}

/// A vendor with both the refresh token and the client credentials grants, on `server`.
fn refreshing_vendor(server: &MockServer) -> Client {
    let yaml = format!(
        "id: both_vendor\nname: Both vendor\nendpoints:\n  token: {uri}/oauth/token\ngrants:\n  \
         client_credentials: {{}}\n  refresh_token: {{}}\n",
        uri = server.uri()
    );
    let provider = Provider::from_yaml_str(&yaml, "test").unwrap();
    Client::with_options(
        provider,
        ClientConfig::new("c").secret(SecretString::from("s")),
        no_retries(),
    )
    .unwrap()
}

/// Mounts the token endpoint's `answer` to `grant_type`, asked exactly `expect` times when given.
async fn answer(
    server: &MockServer,
    grant_type: &str,
    answer: ResponseTemplate,
    expect: Option<u64>,
) {
    let mock = Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains(
            format!("grant_type={grant_type}").as_str(),
        ))
        .respond_with(answer);
    match expect {
        Some(times) => mock.expect(times).mount(server).await,
        None => mock.mount(server).await,
    }
}

/// A manager of [`refreshing_vendor`] with `fetch_timeout`, holding an expired token and its
/// refresh token.
async fn manager_with_an_expired_pair(
    server: &MockServer,
    fetch_timeout: Duration,
) -> TokenManager {
    let manager = TokenManager::builder(refreshing_vendor(server))
        .store(Arc::new(MemoryStore::new()))
        .options(ManagerOptions::default().fetch_timeout(fetch_timeout))
        .build();
    let expired = Token::new(
        oauth_clients_core::AccessToken::new("expired"),
        now() - 7200,
        Some(now() - 3600),
    )
    .with_refresh_token(Some(oauth_clients_core::RefreshToken::new("dead-refresh")));
    manager.set_token(expired).await.unwrap();
    manager
}

fn invalid_grant_after(delay: Duration) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .set_delay(delay)
        .set_body_json(serde_json::json!({"error": "invalid_grant"}))
}

#[tokio::test]
async fn the_fetch_timeout_bounds_a_refused_refresh_and_the_grant_after_it_together() {
    let server = MockServer::start().await;
    // Each request is well within the client's own deadline (15 s); the two together are not
    // within the manager's fetch timeout.
    let refused = invalid_grant_after(Duration::from_millis(100));
    answer(&server, "refresh_token", refused, Some(1)).await;
    let late = ResponseTemplate::new(200)
        .set_delay(Duration::from_secs(3))
        .set_body_json(token_json("late-token", 3600));
    answer(&server, "client_credentials", late, Some(1)).await;
    let manager = manager_with_an_expired_pair(&server, Duration::from_secs(1)).await;
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(manager.fetch_count(), 1);
    server.verify().await;
}

#[tokio::test]
async fn a_fetch_timeout_shorter_than_the_clients_deadline_cuts_the_request_off() {
    let server = MockServer::start().await;
    // The refresh alone takes longer than the fetch timeout (not than the client's deadline):
    // it is cut off, and the grant is not asked.
    let refused = invalid_grant_after(Duration::from_millis(1500));
    answer(&server, "refresh_token", refused, None).await;
    let new = ResponseTemplate::new(200).set_body_json(token_json("new", 3600));
    answer(&server, "client_credentials", new, Some(0)).await;
    let manager = manager_with_an_expired_pair(&server, Duration::from_millis(500)).await;
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    server.verify().await;
}
