//! Procore, on the wire, as its "Making Your First Call to the Procore API" documentation shows it
//! (written from the document, not the descriptor): token requests are `multipart/form-data` (curl
//! `-F`).

mod wire_support;

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{ApiRequest, ClientConfig, Token};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "db0d63cfa7ac3ceed7166081542216ec51e36941234e5e879105e36bd76dbf63";
const CLIENT_SECRET: &str = "0b57e8d87e35370307ba5f98ad135bd155cabacea56d12344afe083e2eb04b54";
const CODE: &str = "8957b84a67f6ae55ab79c9767836a0af30b7fb7e4c36b27412343728cce71ec7";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const RESPONSE: &str = r#"{
  "access_token":"dbaf9757982a9e738f05d249b7b5b4a266b3a139049317c4909f2f263572c781",
  "token_type":"bearer",
  "expires_in":5400,
  "refresh_token":"76ba4c5c75c96f6087f58a4de10be6c00b29ea1ddc3b2022ee2016d1363e3a7c",
  "created_at":1508271900
}"#;

fn config() -> ClientConfig {
    ClientConfig::new(CLIENT_ID).secret(SecretString::from(CLIENT_SECRET))
}

async fn token_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(RESPONSE, "application/json"))
        .mount(&server)
        .await;
    server
}

fn assert_token_request(req: &wiremock::Request) {
    // -X POST https://login.procore.com/oauth/token
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/oauth/token");
    assert_eq!(req.url.query(), None);
    assert_eq!(header(req, "accept").as_deref(), Some("application/json"));
    assert_eq!(header(req, "authorization"), None);
}

fn assert_documented_token(token: &Token) {
    assert_eq!(
        token.access_token().expose_secret(),
        "dbaf9757982a9e738f05d249b7b5b4a266b3a139049317c4909f2f263572c781"
    );
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        "76ba4c5c75c96f6087f58a4de10be6c00b29ea1ddc3b2022ee2016d1363e3a7c"
    );
    assert_eq!(token.token_type(), Some("bearer"));
    // created_at + expires_in
    assert_eq!(token.issued_at_unix(), 1_508_271_900);
    assert_eq!(token.expires_at_unix(), Some(1_508_271_900 + 5400));
}

#[tokio::test]
async fn client_credentials_multipart() {
    let server = token_server().await;
    let client = client("procore", config(), &server, &["login.procore.com"]);
    let token = client.client_credentials().await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_token_request(&reqs[0]);
    // curl -F grant_type=client_credentials -F client_id -F client_secret -F redirect_uri=urn:...:oob
    assert_eq!(
        multipart(&reqs[0]),
        fields(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", OOB),
        ])
    );
    assert_documented_token(&token);
}

#[tokio::test]
async fn authorization_code_url_and_multipart_exchange() {
    let server = token_server().await;
    let client = client("procore", config(), &server, &["login.procore.com"]);

    // https://login.procore.com/oauth/authorize?response_type=code&client_id=<CLIENT_ID>&redirect_uri=<REDIRECT_URI>
    let request = client.authorize_url().unwrap();
    assert_eq!(request.url.path(), "/oauth/authorize");
    let state = request.state.expose_secret().to_owned();
    let q: std::collections::BTreeMap<String, String> =
        request.url.query_pairs().into_owned().collect();
    assert_eq!(
        q,
        fields(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", OOB),
            ("state", &state),
        ])
    );
    assert_eq!(request.redirect_uri.as_deref(), Some(OOB));

    // The out-of-band code is pasted by the user.
    let token = client
        .exchange_code_oob(&oauth_clients_core::AuthorizationCode::new(CODE), None)
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_token_request(&reqs[0]);
    // curl -F grant_type=authorization_code -F client_id -F client_secret -F code -F redirect_uri
    assert_eq!(
        multipart(&reqs[0]),
        fields(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", CODE),
            ("redirect_uri", OOB),
        ])
    );
    assert_documented_token(&token);
}

#[tokio::test]
async fn refresh_multipart_takes_rotated_token() {
    let server = token_server().await;
    let client = client("procore", config(), &server, &["login.procore.com"]);
    let token = client
        .refresh(&oauth_clients_core::RefreshToken::new("old-refresh"))
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_token_request(&reqs[0]);
    // RFC 6749 §6 with the document's client authentication and encoding.
    assert_eq!(
        multipart(&reqs[0]),
        fields(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", "old-refresh"),
        ])
    );
    // The answer carries a new refresh token: it replaces the old one.
    assert_documented_token(&token);
}

#[tokio::test]
async fn sandbox_environment_and_api_me() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(RESPONSE, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/v1.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"id": 1234567, "login": "joe.builder@acme.com", "name": "Joe Builder"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(
        "procore",
        config().environment("sandbox"),
        &server,
        &["login-sandbox.procore.com", "sandbox.procore.com"],
    );
    let token = client.client_credentials().await.unwrap();
    // curl -H "Authorization: Bearer <access token>" -X GET https://api.procore.com/rest/v1.0/me
    let me: serde_json::Value = client
        .send_api(&token, &ApiRequest::get("me"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["login"], "joe.builder@acme.com");
    let reqs = requests(&server).await;
    let api = reqs
        .iter()
        .find(|r| r.url.path() == "/rest/v1.0/me")
        .unwrap();
    assert_eq!(api.method.as_str(), "GET");
    assert_eq!(
        header(api, "authorization").as_deref(),
        Some("Bearer dbaf9757982a9e738f05d249b7b5b4a266b3a139049317c4909f2f263572c781")
    );
    assert_eq!(
        client.api_url("me").unwrap().as_str(),
        "https://sandbox.procore.com/rest/v1.0/me"
    );
}
