//! The quirks of real vendors, each a descriptor field the engine executes, on the wire: the
//! `quirks` and `query_token` fixtures of `xtask/fixtures/good` against wiremock.

mod wire_support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use oauth_clients_core::descriptor::{ClientAuth, JwtAlgorithm};
use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{
    AccessToken, ApiRequest, Callback, Client, ClientConfig, DevicePoll, Error, Provider,
    RefreshToken, SigningKey,
};
use wire_support::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOSTS: [&str; 2] = ["eu.quirks.example", "acme.quirks.example"];

fn fixture(id: &str) -> Provider {
    let path = format!(
        "{}/../xtask/fixtures/good/{id}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let yaml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Provider::from_yaml_str(&yaml, &path).unwrap_or_else(|e| panic!("{e}"))
}

fn quirks(server: &MockServer, config: ClientConfig) -> Client {
    Client::with_options(fixture("quirks"), config, options_for(server, &HOSTS))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn config() -> ClientConfig {
    ClientConfig::new("the id")
        .secret(SecretString::from("s3cr3t+/&"))
        .redirect_uri("http://127.0.0.1:9/cb")
}

fn json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[tokio::test]
async fn captured_values_shape_the_api_url_and_callbacks_rename_the_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(query_param("format", "json"))
        .respond_with(json(serde_json::json!({
            "ok": true,
            "access_token": "bot-token",
            "token_type": "bot",
            "expires": 3_600_000,
            "api_domain": "https://acme.quirks.example/",
            "x_refresh_token_expires_in": 8_640_000,
            "refresh_token": "r1",
            "authed_user": {"access_token": "user-token", "token_type": "user"},
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/42/me"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    let request = client.authorize_url().unwrap();
    let state = request.state.expose_secret().to_owned();
    // The vendor's callback calls the code `quirks_code` and adds the company id.
    let callback =
        Callback::from_query(&format!("quirks_code=the-code&state={state}&companyId=42"));
    let token = client.exchange_code(&request, &callback).await.unwrap();

    let reqs = requests(&server).await;
    let body = form(&reqs[0]);
    assert_eq!(body.get("code").map(String::as_str), Some("the-code"));
    // Basic without form-encoding, and the client id (renamed) in the body as well.
    let basic = header(&reqs[0], "authorization").unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(basic.trim_start_matches("Basic "))
        .unwrap();
    assert_eq!(raw, b"the id:s3cr3t+/&");
    assert_eq!(body.get("client_key").map(String::as_str), Some("the id"));
    assert!(!body.contains_key("client_id"));

    // Milliseconds, a second token, the captured origin (its `/` trimmed) and company.
    let lifetime = token.expires_at_unix().unwrap() - token.issued_at_unix();
    assert_eq!(lifetime, 3600);
    assert!(token.refresh_token_expires_at_unix().is_some());
    assert_eq!(
        token
            .additional("user")
            .unwrap()
            .access_token()
            .expose_secret(),
        "user-token"
    );
    assert_eq!(
        token.variables().get("api_origin").map(String::as_str),
        Some("https://acme.quirks.example")
    );
    assert_eq!(
        token.variables().get("company").map(String::as_str),
        Some("42")
    );
    let response = client
        .send_api(&token, &ApiRequest::get("me"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reqs = requests(&server).await;
    let api = reqs.last().unwrap();
    assert_eq!(api.url.path(), "/v1/42/me");
    // The token in the vendor's own header, without a scheme.
    assert_eq!(header(api, "x-quirks-token").as_deref(), Some("bot-token"));
    assert!(header(api, "authorization").is_none());
}

#[tokio::test]
async fn a_captured_value_outside_its_pattern_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(json(serde_json::json!({
            "access_token": "t",
            "api_domain": "https://evil.example",
        })))
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    let request = client.authorize_url().unwrap();
    let state = request.state.expose_secret().to_owned();
    let callback = Callback::from_query(&format!("quirks_code=c&state={state}"));
    let err = client.exchange_code(&request, &callback).await.unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err}");
    assert!(err.to_string().contains("api_origin"), "{err}");
}

#[tokio::test]
async fn client_credentials_is_a_get_with_query_parameters_and_its_own_auth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/token"))
        .respond_with(json(
            serde_json::json!({"access_token": "t", "expires": 60_000}),
        ))
        .mount(&server)
        .await;
    let client = quirks(&server, config().scopes(["a", "b"]));
    client.client_credentials().await.unwrap();
    let reqs = requests(&server).await;
    let q = query(&reqs[0]);
    assert_eq!(
        q.get("grant_type").map(String::as_str),
        Some("client_credentials")
    );
    // `scope` renamed by this grant, `client_id` by the descriptor; the grant's own
    // client_secret_post.
    assert_eq!(q.get("scopes").map(String::as_str), Some("a b"));
    assert_eq!(q.get("client_key").map(String::as_str), Some("the id"));
    assert_eq!(
        q.get("client_secret").map(String::as_str),
        Some("s3cr3t+/&")
    );
    assert_eq!(q.get("format").map(String::as_str), Some("json"));
    assert!(reqs[0].body.is_empty());
    assert!(header(&reqs[0], "authorization").is_none());
}

#[tokio::test]
async fn refresh_goes_to_its_own_endpoint_without_grant_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/refresh/v2"))
        .respond_with(json(serde_json::json!({"access_token": "t2"})))
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    client.refresh(&RefreshToken::new("r1")).await.unwrap();
    let body = form(&requests(&server).await[0]);
    assert!(!body.contains_key("grant_type"), "{body:?}");
    assert_eq!(body.get("refresh_token").map(String::as_str), Some("r1"));
}

#[tokio::test]
async fn absolute_expiry_and_errors_inside_a_200() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/token"))
        .respond_with(json(serde_json::json!({
            "access_token": "t",
            "expires_at": "2030-01-01T00:00:00Z",
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    let token = client.client_credentials().await.unwrap();
    let expected = now_secs() + 365 * 24 * 3600;
    let at = token.expires_at_unix().unwrap();
    // RFC 3339, capped at a year from now.
    assert!(
        at <= expected && at >= 1_893_456_000.min(expected) - 5,
        "{at}"
    );

    Mock::given(method("GET"))
        .and(path("/oauth/token"))
        .respond_with(json(
            serde_json::json!({"ok": false, "message": "bad client"}),
        ))
        .mount(&server)
        .await;
    let err = client.client_credentials().await.unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("request_failed"));
    assert!(err.to_string().contains("bad client"), "{err}");
}

#[tokio::test]
async fn device_flow_polls_until_approved() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/device"))
        .respond_with(json(serde_json::json!({
            "device_code": "dev-code",
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://eu.quirks.example/device",
            "verification_uri_complete": "https://eu.quirks.example/device?code=ABCD-EFGH",
            "expires_in": 600,
            "interval": 1,
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"error": "authorization_pending"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(json(serde_json::json!({"access_token": "device-token"})))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    let authorization = client.start_device_authorization().await.unwrap();
    assert_eq!(authorization.user_code, "ABCD-EFGH");
    assert!(!format!("{authorization:?}").contains("dev-code"));
    let token = client.poll_device_token(&authorization).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "device-token");
    let reqs = requests(&server).await;
    let polls: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .collect();
    assert_eq!(polls.len(), 2, "one pending answer, then the token");
    let body = form(polls[0]);
    assert_eq!(
        body.get("grant_type").map(String::as_str),
        Some("urn:ietf:params:oauth:grant-type:device_code")
    );
    assert_eq!(
        body.get("device_code").map(String::as_str),
        Some("dev-code")
    );
}

#[tokio::test]
async fn device_flow_answers_slow_down_and_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/device"))
        .respond_with(json(serde_json::json!({
            "device_code": "d", "user_code": "U", "verification_uri": "https://eu.quirks.example/d",
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "slow_down"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "access_denied"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    let authorization = client.start_device_authorization().await.unwrap();
    // No interval from the vendor: 5 s (RFC 8628 §3.2).
    assert_eq!(authorization.interval.as_secs(), 5);
    assert!(matches!(
        client.poll_device_token_once(&authorization).await.unwrap(),
        DevicePoll::SlowDown
    ));
    let err = client
        .poll_device_token_once(&authorization)
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("access_denied"));
}

#[tokio::test]
async fn jwt_bearer_signs_the_descriptors_claims() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(json(serde_json::json!({"access_token": "service-token"})))
        .mount(&server)
        .await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let pem = SecretString::from(key.serialize_pem());
    let signing = SigningKey::from_pem(JwtAlgorithm::ES256, &pem)
        .unwrap()
        .with_key_id("key-1");
    let client = quirks(&server, config().signing_key(signing));
    let token = client.jwt_bearer(Some("robot@example")).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "service-token");
    let body = form(&requests(&server).await[0]);
    assert_eq!(
        body.get("grant_type").map(String::as_str),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let assertion = body.get("assertion").unwrap();
    let parts: Vec<&str> = assertion.split('.').collect();
    let decode = |part: &str| -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let header = decode(parts[0]);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "key-1");
    let claims = decode(parts[1]);
    assert_eq!(claims["iss"], "the id");
    assert_eq!(claims["sub"], "robot@example");
    assert_eq!(claims["aud"], "https://eu.quirks.example/oauth/token");
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 120);
    // The descriptor wants ES256: an RSA key is refused before any request.
    let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256);
    if let Ok(rsa) = rsa {
        let key = SigningKey::rs256_pem(&SecretString::from(rsa.serialize_pem())).unwrap();
        let client = quirks(&server, config().signing_key(key));
        assert!(client.jwt_bearer(Some("x")).await.is_err());
    }
}

#[tokio::test]
async fn token_exchange_sends_the_token_under_the_vendors_name() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(json(serde_json::json!({"access_token": "long-lived"})))
        .mount(&server)
        .await;
    let client = quirks(&server, config());
    let token = client
        .exchange_token(&AccessToken::new("short-lived"))
        .await
        .unwrap();
    assert_eq!(token.access_token().expose_secret(), "long-lived");
    let body = form(&requests(&server).await[0]);
    assert_eq!(
        body.get("grant_type").map(String::as_str),
        Some("quirks_exchange")
    );
    assert_eq!(
        body.get("short_lived_token").map(String::as_str),
        Some("short-lived")
    );
    assert!(!body.contains_key("subject_token_type"));
}

#[tokio::test]
async fn client_auth_is_chosen_among_the_vendors_methods() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/refresh/v2"))
        .respond_with(json(serde_json::json!({"access_token": "t"})))
        .mount(&server)
        .await;
    let client = quirks(&server, config().client_auth(ClientAuth::ClientSecretPost));
    client.refresh(&RefreshToken::new("r")).await.unwrap();
    let req = &requests(&server).await[0];
    assert!(header(req, "authorization").is_none());
    assert_eq!(
        form(req).get("client_secret").map(String::as_str),
        Some("s3cr3t+/&")
    );
    let err = quirks(&server, config().client_auth(ClientAuth::PrivateKeyJwt))
        .refresh(&RefreshToken::new("r"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not accept"), "{err}");
}

#[tokio::test]
async fn a_variable_default_and_a_captured_variable_the_user_cannot_set() {
    let server = MockServer::start().await;
    let client = quirks(&server, config());
    // `region` defaults to `eu`.
    assert!(
        client
            .authorize_url()
            .unwrap()
            .url
            .as_str()
            .starts_with(&server.uri())
    );
    let err = Client::new(
        fixture("quirks"),
        config().variable("api_origin", "https://x"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("captured"), "{err}");
}

#[tokio::test]
async fn the_token_as_a_query_parameter_and_tokens_that_never_expire() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(json(
            serde_json::json!({"access_token": "forever", "expires_in": 60}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(query_param("access_token", "forever"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = Client::with_options(
        fixture("query_token"),
        config(),
        options_for(&server, &["auth.query.example", "api.query.example"]),
    )
    .unwrap();
    let token = client
        .exchange_code_oob(&oauth_clients_core::AuthorizationCode::new("c"), None)
        .await
        .unwrap();
    assert_eq!(token.expires_at_unix(), None, "never_expires");
    let response = client
        .send_api(&token, &ApiRequest::get("me"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reqs = requests(&server).await;
    assert!(header(reqs.last().unwrap(), "authorization").is_none());
}
