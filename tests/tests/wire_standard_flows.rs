//! Revocation, introspection, OpenID Connect ID tokens and sign-out against a mock server:
//! the error branches a real server rarely shows.

mod wire_support;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{
    AccessToken, Callback, Client, ClientConfig, Error, RefreshToken, SignedOut, Token,
    TokenManager,
};
use serde_json::{Value, json};
use wire_support::{form, inline_provider, now, options_for, requests};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DESCRIPTOR: &str = "
id: standard
name: Standard
issuer: https://id.standard.example
endpoints:
  authorization: https://id.standard.example/authorize
  token: https://id.standard.example/token
  revocation: https://id.standard.example/revoke
  introspection: https://id.standard.example/introspect
  jwks: https://id.standard.example/jwks
grants:
  authorization_code: {}
  refresh_token: {}
  client_credentials: {}
client_auth: client_secret_basic
";

const SECRET: &str = "s3cret+/=";

fn client(server: &MockServer, yaml: &str) -> Client {
    let config = ClientConfig::new("the-client")
        .secret(SecretString::from(SECRET))
        .redirect_uri("http://127.0.0.1:9/callback")
        .scopes(["openid", "email"]);
    Client::with_options(
        inline_provider(yaml),
        config,
        options_for(server, &["id.standard.example"]),
    )
    .unwrap()
}

async fn answer(server: &MockServer, at: &str, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn revocation_sends_the_token_with_its_hint_and_client_authentication() {
    let server = MockServer::start().await;
    answer(&server, "/revoke", 200, json!({})).await;
    let client = client(&server, DESCRIPTOR);
    client
        .revoke(&RefreshToken::new("refresh-123"))
        .await
        .unwrap();
    let request = &requests(&server).await[0];
    let body = form(request);
    assert_eq!(body["token"], "refresh-123");
    assert_eq!(body["token_type_hint"], "refresh_token");
    assert!(!body.contains_key("client_secret"));
    let auth = request.headers["authorization"].to_str().unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");
}

#[tokio::test]
async fn a_refused_revocation_is_an_oauth_error_without_the_token() {
    let server = MockServer::start().await;
    answer(
        &server,
        "/revoke",
        400,
        json!({"error": "unsupported_token_type", "error_description": "cannot revoke access-987"}),
    )
    .await;
    let err = client(&server, DESCRIPTOR)
        .revoke(&AccessToken::new("access-987"))
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("unsupported_token_type"));
    assert!(!err.to_string().contains("access-987"), "{err}");
}

#[tokio::test]
async fn without_a_revocation_endpoint_nothing_is_sent() {
    let server = MockServer::start().await;
    let yaml = DESCRIPTOR.replace("  revocation: https://id.standard.example/revoke\n", "");
    let client = client(&server, &yaml);
    let err = client.revoke(&AccessToken::new("a")).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let token = Token::new(AccessToken::new("a"), now(), None);
    assert!(!client.revoke_token(&token).await.unwrap());
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn introspection_reads_the_answer_and_hides_an_echoed_token() {
    let server = MockServer::start().await;
    answer(
        &server,
        "/introspect",
        200,
        json!({"active": true, "scope": "email", "exp": 4_000_000_000u64, "aud": "api",
               "sub": "alice", "echo": "the token was access-555"}),
    )
    .await;
    let seen = client(&server, DESCRIPTOR)
        .introspect(&AccessToken::new("access-555"))
        .await
        .unwrap();
    assert!(seen.active);
    assert_eq!(seen.scope.as_deref(), Some("email"));
    assert_eq!(seen.aud, ["api"]);
    assert_eq!(seen.sub.as_deref(), Some("alice"));
    assert!(!format!("{seen:?}").contains("access-555"), "{seen:?}");
    let body = form(&requests(&server).await[0]);
    assert_eq!(body["token_type_hint"], "access_token");
}

#[tokio::test]
async fn an_introspection_answer_without_active_is_refused() {
    let server = MockServer::start().await;
    answer(&server, "/introspect", 200, json!({"scope": "email"})).await;
    let err = client(&server, DESCRIPTOR)
        .introspect(&AccessToken::new("t"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("active"), "{err}");
}

/// An ES256 key, its JWKS (kid `k1`), and a signer of ID tokens.
struct Issuer {
    key: EncodingKey,
    jwks: Value,
    kid: String,
}

impl Issuer {
    fn new() -> Issuer {
        Issuer::with_kid("k1")
    }

    fn with_kid(kid: &str) -> Issuer {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.into());
        let jwks = serde_json::to_value(JwkSet { keys: vec![jwk] }).unwrap();
        Issuer {
            key,
            jwks,
            kid: kid.into(),
        }
    }

    fn sign(&self, claims: Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

/// Makes the `id_token` of an answer from the request's nonce (`None`: no ID token).
type MakeIdToken<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

fn claims(nonce: &str) -> Value {
    json!({"iss": "https://id.standard.example", "aud": "the-client", "sub": "alice",
           "exp": now() + 300, "iat": now(), "nonce": nonce})
}

/// Runs the code flow with `id_token` made from the request's nonce; returns the outcome.
async fn code_flow(
    issuer: &Issuer,
    make: impl Fn(&str) -> Option<String>,
    yaml: &str,
) -> (Result<Token, Error>, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(issuer.jwks.clone()))
        .mount(&server)
        .await;
    let client = client(&server, yaml);
    let request = client.authorize_url().unwrap();
    let nonce = request.nonce.as_ref().expect("a nonce with openid");
    let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "nonce" && v == nonce.expose_secret())
    );
    let mut body = json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60});
    if let Some(id_token) = make(nonce.expose_secret()) {
        body["id_token"] = Value::String(id_token);
    }
    answer(&server, "/token", 200, body).await;
    let state = request.state.expose_secret().to_owned();
    let callback = Callback::from_query(&format!("code=c&state={state}"));
    (client.exchange_code(&request, &callback).await, server)
}

#[tokio::test]
async fn a_good_id_token_is_kept_with_its_claims_and_never_shown() {
    let issuer = Issuer::new();
    let (result, _server) = code_flow(&issuer, |n| Some(issuer.sign(claims(n))), DESCRIPTOR).await;
    let token = result.unwrap();
    let id_token = token.id_token().expect("kept");
    assert_eq!(token.id_token_claims().unwrap()["sub"], "alice");
    assert!(!format!("{token:?}").contains(id_token.expose_secret()));
    assert!(!token.extra().contains_key("id_token"));
    let stored = Token::from_storage_json(&token.to_storage_json()).unwrap();
    assert_eq!(
        stored.id_token().unwrap().expose_secret(),
        id_token.expose_secret()
    );
}

#[tokio::test]
async fn id_tokens_failing_a_check_are_refused() {
    let issuer = Issuer::new();
    let stranger = Issuer::new();
    let cases: Vec<(&str, MakeIdToken)> = vec![
        ("nonce", Box::new(|_| Some(issuer.sign(claims("other"))))),
        ("no `id_token`", Box::new(|_| None)),
        ("signature", Box::new(|n| Some(stranger.sign(claims(n))))),
        (
            "`iss`",
            Box::new(|n| {
                let mut c = claims(n);
                c["iss"] = "https://evil.example".into();
                Some(issuer.sign(c))
            }),
        ),
        (
            "`aud`",
            Box::new(|n| {
                let mut c = claims(n);
                c["aud"] = "another-client".into();
                Some(issuer.sign(c))
            }),
        ),
        (
            "`azp`",
            Box::new(|n| {
                let mut c = claims(n);
                c["aud"] = json!(["the-client", "another-client"]);
                c["azp"] = "another-client".into();
                Some(issuer.sign(c))
            }),
        ),
        (
            "expired",
            Box::new(|n| {
                let mut c = claims(n);
                c["exp"] = (now() - 3600).into();
                Some(issuer.sign(c))
            }),
        ),
        (
            "not a signed JWT",
            Box::new(|n| {
                // alg none: header {"alg":"none"}, claims, empty signature.
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let header = b64.encode(br#"{"alg":"none"}"#);
                let body = b64.encode(claims(n).to_string());
                Some(format!("{header}.{body}."))
            }),
        ),
    ];
    for (what, make) in cases {
        let (result, _server) = code_flow(&issuer, make, DESCRIPTOR).await;
        let err = result.expect_err(what);
        assert!(matches!(err, Error::InvalidIdToken { .. }), "{what}: {err}");
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_an_unknown_one_is_not_hammered() {
    let before = Issuer::with_kid("k1");
    let after = Issuer::with_kid("k2");
    let server = MockServer::start().await;
    // The key set before the rotation, then after it.
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(before.jwks.clone()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(after.jwks.clone()))
        .mount(&server)
        .await;
    let client = client(&server, DESCRIPTOR);
    // (signer, kid in the header, key set fetches after the login, accepted)
    let logins = [
        (&before, "k1", 1, true),
        (&after, "k2", 2, true),
        (&after, "nobody", 3, false),
        (&after, "nobody", 3, false),
    ];
    for (signer, kid, fetches, accepted) in logins {
        let request = client.authorize_url().unwrap();
        let nonce = request.nonce.as_ref().unwrap().expose_secret().to_owned();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        let id_token = jsonwebtoken::encode(&header, &claims(&nonce), &signer.key).unwrap();
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "at", "id_token": id_token})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let state = request.state.expose_secret().to_owned();
        let callback = Callback::from_query(&format!("code=c&state={state}"));
        let result = client.exchange_code(&request, &callback).await;
        assert_eq!(result.is_ok(), accepted, "{kid}: {result:?}");
        let seen = requests(&server)
            .await
            .iter()
            .filter(|r| r.url.path() == "/jwks")
            .count();
        assert_eq!(seen, fetches, "key set fetches after {kid}");
    }
}

#[tokio::test]
async fn an_hmac_id_token_is_checked_with_the_client_secret() {
    let issuer = Issuer::new();
    let hs = |nonce: &str, secret: &str| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(nonce),
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let (good, _s1) = code_flow(&issuer, |n| Some(hs(n, SECRET)), DESCRIPTOR).await;
    good.unwrap();
    let (bad, _s2) = code_flow(&issuer, |n| Some(hs(n, "guessed")), DESCRIPTOR).await;
    assert!(matches!(bad, Err(Error::InvalidIdToken { .. })));
}

#[tokio::test]
async fn an_id_token_that_is_not_a_jwt_is_refused_even_unasked() {
    let server = MockServer::start().await;
    answer(
        &server,
        "/token",
        200,
        json!({"access_token": "at", "id_token": "secret-id-token"}),
    )
    .await;
    let err = client(&server, DESCRIPTOR)
        .client_credentials()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidIdToken { .. }), "{err}");
    assert!(!err.to_string().contains("secret-id-token"), "{err}");
}

#[tokio::test]
async fn sign_out_revokes_both_tokens_then_forgets_them() {
    let server = MockServer::start().await;
    answer(&server, "/revoke", 200, json!({})).await;
    let manager = TokenManager::new(client(&server, DESCRIPTOR));
    let token = Token::new(AccessToken::new("at-1"), now(), Some(now() + 600))
        .with_refresh_token(Some(RefreshToken::new("rt-1")));
    manager.set_token(token).await.unwrap();
    assert_eq!(manager.sign_out().await.unwrap(), SignedOut::Revoked);
    let sent: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| form(r)["token"].clone())
        .collect();
    assert_eq!(sent, ["rt-1", "at-1"]);
    assert!(manager.stored_token().await.unwrap().is_none());
    assert_eq!(manager.sign_out().await.unwrap(), SignedOut::NothingStored);
}

#[tokio::test]
async fn a_failed_sign_out_keeps_the_token() {
    let server = MockServer::start().await;
    answer(&server, "/revoke", 400, json!({"error": "invalid_client"})).await;
    let manager = TokenManager::new(client(&server, DESCRIPTOR));
    manager
        .set_token(Token::new(AccessToken::new("at-2"), now(), None))
        .await
        .unwrap();
    let err = manager.sign_out().await.unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("invalid_client"));
    assert!(manager.stored_token().await.unwrap().is_some());
}
