//! Procurify, on the wire, as its "Getting access to Procurify API" documentation shows it (written
//! from the document, not the descriptor).

mod wire_support;

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{ApiRequest, ClientConfig, Token};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOST: &str = "acme.procurify.com";

fn config() -> ClientConfig {
    ClientConfig::new("~your_client_id~")
        .secret(SecretString::from("~your_client_secret~"))
        .variable("domain", "acme")
}

#[tokio::test]
async fn client_credentials_is_a_json_request_with_audience() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token": "~your-access-token~",
"scope": "urn:procurify-api:domain:acme urn:procurify-api:email:me@acme.com",
"expires_in": 86400,
"token_type": "Bearer"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client("procurify", config(), &server, &[HOST]);
    let before = now();
    let token = client.client_credentials().await.unwrap();

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    // curl -H "content-type: application/json" -X POST -d '{...}' https://<domain>.procurify.com/oauth/token
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/oauth/token");
    assert_eq!(req.url.query(), None);
    assert_eq!(header(req, "accept").as_deref(), Some("application/json"));
    assert_eq!(header(req, "authorization"), None);
    assert_eq!(
        json(req),
        fields(&[
            ("client_id", "~your_client_id~"),
            ("client_secret", "~your_client_secret~"),
            ("audience", "https://api.procurify.com/"),
            ("grant_type", "client_credentials"),
        ])
    );

    assert_eq!(token.access_token().expose_secret(), "~your-access-token~");
    assert_eq!(token.token_type(), Some("Bearer"));
    assert_eq!(
        token.scope(),
        Some("urn:procurify-api:domain:acme urn:procurify-api:email:me@acme.com")
    );
    let expires = token.expires_at_unix().unwrap();
    assert!(expires >= before + 86400 && expires <= now() + 86400);
}

#[tokio::test]
async fn api_request_sends_bearer_and_client_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/vendors/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"data":[{"id":1,"name":"OTHER","active":true,"addressLineOne":"OTHER"}]}"#,
            "application/json",
        ))
        .expect(2)
        .mount(&server)
        .await;
    let client = client("procurify", config(), &server, &[HOST]);
    let token = Token::new(
        oauth_clients_core::AccessToken::new("~access_token~"),
        now(),
        None,
    );
    // Relative to the API base, and the document's absolute path: the same URL.
    for path in ["vendors/", "/api/v3/vendors/"] {
        let response = client
            .send_api(&token, &ApiRequest::get(path))
            .await
            .unwrap();
        let body: serde_json::Value = response.error_for_status().unwrap().json().unwrap();
        assert_eq!(body["data"][0]["name"], "OTHER");
    }
    for req in requests(&server).await {
        assert_eq!(req.method.as_str(), "GET");
        assert_eq!(
            header(&req, "authorization").as_deref(),
            Some("Bearer ~access_token~")
        );
        assert_eq!(header(&req, "x-procurify-client").as_deref(), Some("api"));
    }
    assert_eq!(
        client.api_url("vendors/").unwrap().as_str(),
        "https://acme.procurify.com/api/v3/vendors/"
    );
    // Absolute URLs: the API's own host only; the token never goes elsewhere.
    assert_eq!(
        client
            .api_url("https://acme.procurify.com/api/v3/vendors/?page=2")
            .unwrap()
            .as_str(),
        "https://acme.procurify.com/api/v3/vendors/?page=2"
    );
    let err = client
        .send_api(
            &token,
            &ApiRequest::get("https://evil.example/api/v3/vendors/"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, oauth_clients_core::Error::Refused { .. }),
        "{err}"
    );
    // Nor do paths that a URL parser reads as another host.
    for sneaky in [
        "//evil.example/x",
        "///evil.example/x",
        "\\\\evil.example/x",
        "/\\evil.example/x",
        "\\/evil.example/x",
        "mailto:someone@evil.example",
    ] {
        match client.api_url(sneaky) {
            Err(err) => assert!(
                matches!(err, oauth_clients_core::Error::Refused { .. }),
                "{sneaky}: {err}"
            ),
            Ok(url) => assert_eq!(
                url.host_str(),
                Some("acme.procurify.com"),
                "{sneaky} must stay on the API host"
            ),
        }
    }
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_domain_that_would_change_the_host_is_rejected() {
    let server = MockServer::start().await;
    let bad = ClientConfig::new("id")
        .secret(SecretString::from("s"))
        .variable("domain", "evil.com/x?");
    let err = oauth_clients_core::Client::with_options(
        provider("procurify"),
        bad,
        options_for(&server, &[HOST]),
    )
    .unwrap_err();
    assert!(
        matches!(err, oauth_clients_core::Error::InvalidVariable { .. }),
        "{err}"
    );
    let missing = ClientConfig::new("id").secret(SecretString::from("s"));
    let client = oauth_clients_core::Client::with_options(
        provider("procurify"),
        missing,
        options_for(&server, &[HOST]),
    )
    .unwrap();
    let err = client.client_credentials().await.unwrap_err();
    assert!(
        matches!(err, oauth_clients_core::Error::MissingVariable { ref variable, .. } if &**variable == "domain"),
        "{err}"
    );
}
