//! Procurios, on the wire, as its "Get started" pages show it. Expectations are written from the
//! vendor's documents, not from `providers/procurios.yaml`.

mod wire_support;

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{ApiRequest, Callback, ClientConfig, Error};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOST: &str = "api.craftbrouwers.nl";

fn config() -> ClientConfig {
    ClientConfig::new("abc123")
        .secret(SecretString::from("dfe456"))
        .variable("domain", HOST)
        .scopes(["profile", "email"])
        .redirect_uri("https://example.com/callback")
}

#[tokio::test]
async fn client_credentials_request_and_response() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token": "procurios-access", "token_type": "bearer", "expires_in": 3600, "scope": "null"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procurios", config(), &server, &[HOST]);
    let before = now();
    let token = client.client_credentials().await.unwrap();

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    // 000: POST https://api.craftbrouwers.nl/l/oauth2/token
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/l/oauth2/token");
    assert_eq!(req.url.query(), None);
    assert_eq!(header(req, "accept").as_deref(), Some("application/json"));
    assert_eq!(header(req, "authorization"), None);
    // grant_type=client_credentials&client_id={clientId}&client_secret={clientSecret}&scope={space separated}
    assert_eq!(
        form(req),
        fields(&[
            ("grant_type", "client_credentials"),
            ("client_id", "abc123"),
            ("client_secret", "dfe456"),
            ("scope", "profile email"),
        ])
    );

    assert_eq!(token.access_token().expose_secret(), "procurios-access");
    assert_eq!(token.token_type(), Some("bearer"));
    assert_eq!(token.scope(), None, "the string \"null\" is no scope");
    let expires = token.expires_at_unix().unwrap();
    assert!(expires >= before + 3600 && expires <= now() + 3600);
}

#[tokio::test]
async fn authorization_code_url_and_exchange() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        // 000/001 document the answer as the access token alone.
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"access_token": "user-access"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procurios", config(), &server, &[HOST]);

    // 000: {authorize}?response_type=code&scope={scopes}&client_id={clientId}&redirect_uri={redirectUrl}
    let request = client.authorize_url().unwrap();
    let url = &request.url;
    assert_eq!(url.path(), "/l/oauth2/authorize");
    let q = query_of(url);
    let state = request.state.expose_secret().to_owned();
    assert!(state.len() >= 32, "state is long and random");
    assert_eq!(
        q,
        fields(&[
            ("response_type", "code"),
            ("scope", "profile email"),
            ("client_id", "abc123"),
            ("redirect_uri", "https://example.com/callback"),
            ("state", &state),
        ])
    );
    assert_ne!(client.authorize_url().unwrap().state.expose_secret(), state);

    // 001: {redirectUrl}?code={code}, then
    // grant_type=code&client_id={clientId}&code={code}&client_secret={clientSecret}
    let callback = Callback::with_code(
        oauth_clients_core::AuthorizationCode::new("X"),
        Some(state.clone()),
    );
    let token = client.exchange_code(&request, &callback).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "user-access");

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/l/oauth2/token");
    assert_eq!(req.url.query(), None);
    assert_eq!(header(req, "accept").as_deref(), Some("application/json"));
    assert_eq!(
        form(req),
        fields(&[
            ("grant_type", "code"),
            ("client_id", "abc123"),
            ("code", "X"),
            ("client_secret", "dfe456"),
        ])
    );
}

#[tokio::test]
async fn user_can_override_the_documented_grant_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"access_token": "user-access"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    // An installation that wants RFC 6749's value instead of 001's `code`.
    let config = config().grant_type(
        oauth_clients_core::GrantKind::AuthorizationCode,
        "authorization_code",
    );
    let client = client("procurios", config, &server, &[HOST]);
    let request = client.authorize_url().unwrap();
    let callback = Callback::with_code(
        oauth_clients_core::AuthorizationCode::new("X"),
        Some(request.state.expose_secret().to_owned()),
    );
    client.exchange_code(&request, &callback).await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(
        form(&reqs[0]).get("grant_type").map(String::as_str),
        Some("authorization_code")
    );
}

#[tokio::test]
async fn wrong_or_missing_state_sends_nothing() {
    let server = MockServer::start().await;
    let client = client("procurios", config(), &server, &[HOST]);
    let request = client.authorize_url().unwrap();
    for state in [Some("forged".to_owned()), None] {
        let callback = Callback::with_code(oauth_clients_core::AuthorizationCode::new("X"), state);
        let err = client.exchange_code(&request, &callback).await.unwrap_err();
        assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    }
    let callback = Callback::from_query("error=access_denied&error_description=The+user+said+no");
    let err = client.exchange_code(&request, &callback).await.unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("access_denied"));
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn api_request_has_vendor_accept_and_surfaces_probase_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/l/some_api/endpoint"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ProbaseRequestId", "req-4711")
                .set_body_raw(r#"{"ok":true}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/l/some_api/missing"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("ProbaseRequestId", "req-4712")
                .set_body_string("not here"),
        )
        .mount(&server)
        .await;
    let client = client("procurios", config(), &server, &[HOST]);
    let token = oauth_clients_core::Token::new(
        oauth_clients_core::AccessToken::new("accessToken"),
        now(),
        None,
    );

    let request = ApiRequest::post("some_api/endpoint")
        .header("Accept-Language", "en-US,en;q=0.5")
        .json(serde_json::json!({"key": "value", "otherKey": 2}));
    let response = client.send_api(&token, &request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.request_id(), Some("req-4711"));
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["ok"], true);

    let reqs = requests(&server).await;
    let req = &reqs[0];
    assert_eq!(req.url.path(), "/l/some_api/endpoint");
    assert_eq!(
        header(req, "accept").as_deref(),
        Some("application/vnd.procurios.application+json; version=1")
    );
    assert_eq!(
        header(req, "authorization").as_deref(),
        Some("Bearer accessToken")
    );
    assert_eq!(
        header(req, "accept-language").as_deref(),
        Some("en-US,en;q=0.5")
    );
    let sent: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(sent, serde_json::json!({"key": "value", "otherKey": 2}));

    let err = client
        .send_api(&token, &ApiRequest::get("/l/some_api/missing"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.request_id(), Some("req-4712"));
    assert!(err.to_string().contains("req-4712"), "{err}");
}

#[tokio::test]
async fn oauth_error_names_vendor_endpoint_status_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("ProbaseRequestId", "req-1")
                .set_body_raw(
                    r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
                    "application/json",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procurios", config(), &server, &[HOST]);
    let err = client.client_credentials().await.unwrap_err();
    let text = err.to_string();
    for part in [
        "procurios",
        "/l/oauth2/token",
        "HTTP 400",
        "invalid_client",
        "Client authentication failed",
        "req-1",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
    assert!(!text.contains("dfe456"));
}

fn query_of(url: &url::Url) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in url.query_pairs() {
        assert!(
            map.insert(k.to_string(), v.to_string()).is_none(),
            "{k} twice"
        );
    }
    map
}
