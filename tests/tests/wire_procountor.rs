//! Procountor's deprecated legacy flow, on the wire, as its "Legacy Authentication" documentation
//! shows it (written from the document, not the descriptor).

mod wire_support;

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{ClientConfig, Error, UserCredentials};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const HOST: &str = "api-test.procountor.com";
const ACCESS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2FwaS10ZXN0LnByb2NvdW50b3IuY29tIiwiYXVkIjoiY2xpZW50X2lkIiwic3ViIjoyNjUzNSwiY2lkIjoxNDE1OSwianRpIjoiN2Q0NDQ4NDAtOWRjMC0xMWQxLWIyNDUtNWZmZGNlNzRmYWQyIiwiYXV0aF90aW1lIjoxNjA3OTYyNDc5LCJpYXQiOjE2MDc5NjI0ODAsImV4cCI6MTYwNzk2NjA4MH0.GFBGknrx39Jm2UbUOrtV6X0R3pzaldmXa-AQhYVQ5JE";
const REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2FwaS10ZXN0LnByb2NvdW50b3IuY29tIiwiYXVkIjoiY2xpZW50X2lkIiwic3ViIjoyNjUzNSwiY2lkIjoxNDE1OSwianRpIjoiN2Q0NDQ4NDAtOWRjMC0xMWQxLWIyNDUtNWZmZGNlNzRmYWQyIiwiYXV0aF90aW1lIjoxNjA3OTYyNDc5LCJpYXQiOjE2MDc5NjI0ODAsImV4cCI6MTYyMzY4NzI4MH0.DCaErPNgefZDa1hZF4t1L8pp4Dw_RiH-TUCkbUVqIRA";

fn config(server: &MockServer) -> ClientConfig {
    ClientConfig::new("client_id")
        .secret(SecretString::from("integration-secret"))
        .variable("company", "14159")
        // The redirect URI points at the mock so that following the 302 would be seen.
        .redirect_uri(format!("{}/callback", server.uri()))
}

fn user() -> UserCredentials {
    UserCredentials {
        username: "joe".into(),
        password: oauth_clients_core::Password::new("pa55-w0rd!&="),
    }
}

/// Step 1 answers `302 Found` with `Location: <redirect_uri>?code=<code>&state=<state>`.
async fn mount(server: &MockServer, state_override: Option<&'static str>) {
    let redirect = format!("{}/callback", server.uri());
    Mock::given(method("POST"))
        .and(path("/api/oauth/authz"))
        .respond_with(move |req: &Request| {
            let state = state_override.map(str::to_owned).unwrap_or_else(|| {
                req.url
                    .query_pairs()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            });
            let mut location = url::Url::parse(&redirect).unwrap();
            location
                .query_pairs_mut()
                .append_pair("code", "the-authorization-code")
                .append_pair("state", &state);
            ResponseTemplate::new(302).insert_header("Location", location.as_str())
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}", "expires_in": 3600}}"#),
            "application/json",
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/callback"))
        .respond_with(ResponseTemplate::new(200))
        .mount(server)
        .await;
}

#[tokio::test]
async fn legacy_flow_posts_credentials_reads_location_and_exchanges_code() {
    let server = MockServer::start().await;
    mount(&server, None).await;
    let client = client("procountor", config(&server), &server, &[HOST]);
    let before = now();
    #[allow(deprecated)]
    let token = client.legacy_credentials(&user()).await.unwrap();

    let reqs = requests(&server).await;
    let paths: Vec<&str> = reqs.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        ["/api/oauth/authz", "/api/oauth/token"],
        "the 302 is not followed"
    );
    let redirect = format!("{}/callback", server.uri());

    // POST /api/oauth/authz?response_type=code&client_id=<client_id>&state=<state>
    let authz = &reqs[0];
    assert_eq!(authz.method.as_str(), "POST");
    let q = query(authz);
    let state = q.get("state").cloned().unwrap_or_default();
    assert!(state.len() >= 32);
    assert_eq!(
        q,
        fields(&[
            ("response_type", "code"),
            ("client_id", "client_id"),
            ("state", &state),
        ])
    );
    // Content-Type: application/x-www-form-urlencoded; username, password, company, redirect_uri
    assert_eq!(
        form(authz),
        fields(&[
            ("username", "joe"),
            ("password", "pa55-w0rd!&="),
            ("company", "14159"),
            ("redirect_uri", &redirect),
        ])
    );

    // POST /api/oauth/token, form: grant_type, client_id, client_secret, redirect_uri, code
    let exchange = &reqs[1];
    assert_eq!(exchange.method.as_str(), "POST");
    assert_eq!(exchange.url.query(), None);
    assert_eq!(
        form(exchange),
        fields(&[
            ("grant_type", "authorization_code"),
            ("client_id", "client_id"),
            ("client_secret", "integration-secret"),
            ("redirect_uri", &redirect),
            ("code", "the-authorization-code"),
        ])
    );

    assert_eq!(token.access_token().expose_secret(), ACCESS);
    assert_eq!(token.refresh_token().unwrap().expose_secret(), REFRESH);
    assert_eq!(token.token_type(), None, "the vendor sends no token_type");
    let expires = token.expires_at_unix().unwrap();
    assert!(expires >= before + 3600 && expires <= now() + 3600);
}

#[tokio::test]
async fn legacy_flow_with_wrong_state_does_not_exchange() {
    let server = MockServer::start().await;
    mount(&server, Some("someone-elses-state")).await;
    let client = client("procountor", config(&server), &server, &[HOST]);
    let err = client.legacy_credentials(&user()).await.unwrap_err();
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1, "no code exchange after a state mismatch");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("pa55") && !text.contains("the-authorization-code"));
}

#[tokio::test]
async fn legacy_flow_refused_credentials_are_an_oauth_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/authz"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"error":"access_denied","error_description":"bad username or password"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procountor", config(&server), &server, &[HOST]);
    let err = client.legacy_credentials(&user()).await.unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("access_denied"));
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn refresh_keeps_the_old_refresh_token_when_none_comes_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"access_token": "{ACCESS}"}}"#),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procountor", config(&server), &server, &[HOST]);
    let token = client
        .refresh(&oauth_clients_core::RefreshToken::new(REFRESH))
        .await
        .unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), REFRESH);
    // No expires_in: the access token's JWT `exp` claim.
    assert_eq!(token.expires_at_unix(), Some(1_607_966_080));
    let reqs = requests(&server).await;
    assert_eq!(
        form(&reqs[0]),
        fields(&[
            ("grant_type", "refresh_token"),
            ("client_id", "client_id"),
            ("client_secret", "integration-secret"),
            ("refresh_token", REFRESH),
        ])
    );
}

#[tokio::test]
async fn api_sessioninfo_with_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/sessioninfo"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"companyId":14159}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procountor", config(&server), &server, &[HOST]);
    let token =
        oauth_clients_core::Token::new(oauth_clients_core::AccessToken::new(ACCESS), now(), None);
    let info: serde_json::Value = client
        .send_api(&token, &oauth_clients_core::ApiRequest::get("sessioninfo"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["companyId"], 14159);
    let reqs = requests(&server).await;
    assert_eq!(
        header(&reqs[0], "authorization"),
        Some(format!("Bearer {ACCESS}"))
    );
    // The production environment of the same descriptor.
    let production = oauth_clients_core::Client::new(
        provider("procountor"),
        config(&server).environment("production"),
    )
    .unwrap();
    assert_eq!(
        production.api_url("sessioninfo").unwrap().as_str(),
        "https://api.procountor.com/api/sessioninfo"
    );
}
