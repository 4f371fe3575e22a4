//! The standard flows against two real, independently written authorization servers on
//! loopback: oidc-provider (a certified OpenID provider) and Authlib's server classes. Each
//! test starts its own server from `tests/servers/` and stops it when done.
//!
//! | flow | oidc-provider | Authlib |
//! |---|---|---|
//! | discovery (OpenID / RFC 8414 metadata) | yes | yes |
//! | code + PKCE + `iss` (RFC 9207) | yes | yes |
//! | OpenID Connect: nonce, ID token (JWKS signature, iss, aud, exp) | yes | no OpenID |
//! | refresh with rotation, replay refused | yes | yes |
//! | refused consent | yes | yes |
//! | device authorization (RFC 8628) | yes | yes |
//! | revocation (RFC 7009), introspection (RFC 7662) | yes | yes |
//! | client_secret_basic with `@:/+&=%` in the secret | yes | yes |
//! | client_secret_post, client_secret_jwt, private_key_jwt (ES256) | yes | yes |
//! | JWT-bearer grant (RFC 7523) | not offered | yes |

mod real_support;

use std::io::Write as _;

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, EncodingKey};
use oauth_clients_core::descriptor::{ClientAuth, JwtBearerGrant};
use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{
    Callback, Client, ClientConfig, ClientOptions, Error, Provider, SigningKey, discover,
};
use real_support::{Kind, REDIRECT_URI, RealServer, approve_device, authorize};

const BASIC_SECRET: &str = "s3cr3t@:/+&=%x";
const POST_SECRET: &str = "post-s3cr3t@:/+&=%x";
const SECRET_JWT_SECRET: &str = "secret-jwt-client-0123456789abcdefghijklmnopqrstuv";

async fn provider(server: &RealServer) -> Provider {
    discover(&server.issuer, Some("real"), ClientOptions::default())
        .await
        .expect("discovery")
        .provider
}

fn client(provider: Provider, config: ClientConfig) -> Client {
    Client::new(provider, config).expect("a client")
}

fn public_client() -> ClientConfig {
    ClientConfig::new("public-client")
        .client_auth(ClientAuth::None)
        .redirect_uri(REDIRECT_URI)
}

fn basic_client() -> ClientConfig {
    ClientConfig::new("basic-client")
        .secret(SecretString::from(BASIC_SECRET))
        .client_auth(ClientAuth::ClientSecretBasic)
        .redirect_uri(REDIRECT_URI)
}

/// A P-256 key for `jwt-client`, and the JWKS file with its public half (kid `ec-1`).
fn ec_key() -> (SigningKey, tempfile::NamedTempFile, String) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let pem = pair.serialize_pem();
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("ec-1".into());
    jwk.common.key_algorithm = Some(KeyAlgorithm::ES256);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let set = JwkSet { keys: vec![jwk] };
    file.write_all(serde_json::to_string(&set).unwrap().as_bytes())
        .unwrap();
    let key = SigningKey::es256_pem(&SecretString::from(pem))
        .unwrap()
        .with_key_id("ec-1");
    (key, file, pair.public_key_pem())
}

/// The code flow of a public client with PKCE through the server's own pages, then a
/// rotating refresh whose old token is refused afterwards.
async fn code_flow_with_rotation(server: &RealServer, scopes: &[&str]) -> Client {
    let provider = provider(server).await;
    let grant = provider.descriptor().grants.authorization_code.as_ref();
    assert!(grant.is_some(), "discovery found the code grant");
    let client = client(provider, public_client().scopes(scopes.iter().copied()));
    let request = client.authorize_url().unwrap();
    assert!(
        request.pkce_verifier.is_some(),
        "PKCE is used where offered"
    );
    let query = authorize(server, request.url.as_str(), true).await;
    let callback = Callback::from_query(&query);
    assert_eq!(
        callback.iss.as_deref(),
        Some(server.issuer.as_str()),
        "the server sends iss"
    );
    let token = client.exchange_code(&request, &callback).await.unwrap();
    let first_refresh = token.refresh_token().expect("a refresh token").clone();
    let refreshed = client.refresh(&first_refresh).await.unwrap();
    let second_refresh = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(
        second_refresh.expose_secret(),
        first_refresh.expose_secret(),
        "rotated"
    );
    let replay = client.refresh(&first_refresh).await.unwrap_err();
    assert!(replay.is_invalid_grant(), "{replay}");
    client
}

#[tokio::test]
async fn oidc_provider_code_flow_with_nonce_id_token_and_rotation() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    let provider = provider(&server).await;
    let d = provider.descriptor();
    assert_eq!(d.issuer.as_deref(), Some(server.issuer.as_str()));
    assert!(d.authorization_response_iss);
    assert!(d.endpoints.jwks.is_some() && d.endpoints.revocation.is_some());
    code_flow_with_rotation(&server, &["openid", "profile"]).await;

    let client = client(provider, public_client().scopes(["openid", "profile"]));
    let request = client.authorize_url().unwrap();
    assert!(request.nonce.is_some(), "a nonce with openid");
    let query = authorize(&server, request.url.as_str(), true).await;
    let token = client
        .exchange_code(&request, &Callback::from_query(&query))
        .await
        .unwrap();
    assert!(token.id_token().is_some());
    let claims = token.id_token_claims().expect("checked claims");
    assert_eq!(claims["sub"], real_support::USER);
    assert_eq!(claims["aud"], "public-client");
    let user = client.userinfo(&token).await.unwrap();
    assert_eq!(user["sub"], real_support::USER);
}

#[tokio::test]
async fn oidc_provider_id_token_with_another_nonce_is_refused() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    let client = client(provider(&server).await, public_client().scopes(["openid"]));
    let mut request = client.authorize_url().unwrap();
    let query = authorize(&server, request.url.as_str(), true).await;
    // The ID token answers another authorization request: as if it had been injected.
    request.nonce = Some(oauth_clients_core::Nonce::new("another-nonce"));
    let err = client
        .exchange_code(&request, &Callback::from_query(&query))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidIdToken { .. }), "{err}");
    assert!(err.to_string().contains("nonce"), "{err}");
}

#[tokio::test]
async fn oidc_provider_refused_consent() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    let client = client(provider(&server).await, public_client());
    let request = client.authorize_url().unwrap();
    let query = authorize(&server, request.url.as_str(), false).await;
    let err = client
        .exchange_code(&request, &Callback::from_query(&query))
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("access_denied"), "{err}");
}

#[tokio::test]
async fn authlib_metadata_code_flow_pkce_iss_and_rotation() {
    let server = RealServer::start(Kind::Authlib, &[]);
    let found = discover(&server.issuer, None, ClientOptions::default())
        .await
        .unwrap();
    assert!(
        found
            .metadata_url
            .path()
            .starts_with("/.well-known/oauth-authorization-server"),
        "{}",
        found.metadata_url
    );
    code_flow_with_rotation(&server, &["profile"]).await;
}

#[tokio::test]
async fn authlib_refused_consent() {
    let server = RealServer::start(Kind::Authlib, &[]);
    let client = client(provider(&server).await, public_client());
    let request = client.authorize_url().unwrap();
    let query = authorize(&server, request.url.as_str(), false).await;
    let err = client
        .exchange_code(&request, &Callback::from_query(&query))
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("access_denied"), "{err}");
}

/// client_credentials with the encoded Basic secret, introspection, revocation, and
/// introspection again.
async fn revoke_and_introspect(server: &RealServer, config: ClientConfig) {
    let client = client(provider(server).await, config.scopes(["api:read"]));
    let token = client.client_credentials().await.unwrap();
    let before = client.introspect(token.access_token()).await.unwrap();
    assert!(before.active, "{before:?}");
    assert!(before.exp.is_some());
    client.revoke(token.access_token()).await.unwrap();
    let after = client.introspect(token.access_token()).await.unwrap();
    assert!(!after.active, "{after:?}");
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    let unknown = oauth_clients_core::AccessToken::new("not-a-token-of-this-server");
    client.revoke(&unknown).await.unwrap();
}

#[tokio::test]
async fn oidc_provider_revocation_and_introspection_with_basic() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    revoke_and_introspect(&server, basic_client()).await;
}

#[tokio::test]
async fn authlib_revocation_and_introspection_with_post() {
    let server = RealServer::start(Kind::Authlib, &[]);
    let config = ClientConfig::new("post-client")
        .secret(SecretString::from(POST_SECRET))
        .client_auth(ClientAuth::ClientSecretPost);
    revoke_and_introspect(&server, config).await;
}

async fn device_flow(server: &RealServer) {
    let config = ClientConfig::new("device-client")
        .client_auth(ClientAuth::None)
        .scopes(["openid"]);
    let client = client(provider(server).await, config);
    let authorization = client.start_device_authorization().await.unwrap();
    assert!(authorization.verification_uri.starts_with(&server.issuer));
    let pending = client.poll_device_token_once(&authorization).await.unwrap();
    assert!(
        matches!(pending, oauth_clients_core::DevicePoll::Pending),
        "{pending:?}"
    );
    approve_device(server, &authorization.user_code).await;
    let token = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client.poll_device_token(&authorization),
    )
    .await
    .expect("approved within 30 s")
    .unwrap();
    assert!(!token.access_token().expose_secret().is_empty());
}

#[tokio::test]
async fn oidc_provider_device_flow() {
    let server = RealServer::start(Kind::OidcProvider, &[("DEVICE_INTERVAL", "1")]);
    device_flow(&server).await;
}

#[tokio::test]
async fn authlib_device_flow() {
    let server = RealServer::start(Kind::Authlib, &[("DEVICE_INTERVAL", "1")]);
    device_flow(&server).await;
}

async fn jwt_client_auth(server: &RealServer, key: SigningKey) {
    let provider = provider(server).await;
    let private = ClientConfig::new("jwt-client")
        .client_auth(ClientAuth::PrivateKeyJwt)
        .signing_key(key);
    let token = client(provider.clone(), private)
        .client_credentials()
        .await
        .unwrap();
    assert!(!token.access_token().expose_secret().is_empty());
    let hmac = ClientConfig::new("secret-jwt-client")
        .secret(SecretString::from(SECRET_JWT_SECRET))
        .client_auth(ClientAuth::ClientSecretJwt);
    client(provider.clone(), hmac)
        .client_credentials()
        .await
        .unwrap();
    let wrong = ClientConfig::new("secret-jwt-client")
        .secret(SecretString::from(
            "secret-jwt-client-but-not-the-right-one-at-all",
        ))
        .client_auth(ClientAuth::ClientSecretJwt);
    let err = client(provider, wrong)
        .client_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error_code(), Some("invalid_client"), "{err}");
    assert!(!err.to_string().contains("not-the-right-one"), "{err}");
}

#[tokio::test]
async fn oidc_provider_private_key_jwt_and_client_secret_jwt() {
    let (key, jwks, _) = ec_key();
    let path = jwks.path().to_str().unwrap().to_owned();
    let server = RealServer::start(Kind::OidcProvider, &[("JWT_CLIENT_JWKS", &path)]);
    jwt_client_auth(&server, key).await;
}

#[tokio::test]
async fn authlib_private_key_jwt_and_client_secret_jwt() {
    let (key, jwks, _) = ec_key();
    let path = jwks.path().to_str().unwrap().to_owned();
    let server = RealServer::start(Kind::Authlib, &[("JWT_CLIENT_JWKS", &path)]);
    jwt_client_auth(&server, key).await;
}

#[tokio::test]
async fn authlib_jwt_bearer_grant() {
    let (key, _, public_pem) = ec_key();
    let mut public = tempfile::NamedTempFile::new().unwrap();
    public.write_all(public_pem.as_bytes()).unwrap();
    let path = public.path().to_str().unwrap().to_owned();
    let server = RealServer::start(Kind::Authlib, &[("JWT_BEARER_PUBLIC_KEY_FILE", &path)]);
    let found = discover(&server.issuer, Some("authlib"), ClientOptions::default())
        .await
        .unwrap();
    // The metadata lists the grant; its claims are the vendor's to document, so they are
    // declared here as a descriptor would.
    let mut descriptor = found.provider.descriptor().clone();
    let mut grant = JwtBearerGrant::default();
    grant.algorithm = oauth_clients_core::descriptor::JwtAlgorithm::ES256;
    grant.claims = [
        ("iss", "{client_id}"),
        ("sub", "{subject}"),
        ("aud", "{token_endpoint}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    // The assertion is the credential: no client authentication besides it.
    grant.client_auth = Some(ClientAuth::None.into());
    descriptor.grants.jwt_bearer = Some(grant);
    let provider = Provider::from_descriptor(descriptor, "test").unwrap();
    let config = ClientConfig::new("jwt-bearer-client").signing_key(key);
    let token = client(provider, config)
        .jwt_bearer(Some("bob"))
        .await
        .unwrap();
    assert!(!token.access_token().expose_secret().is_empty());
}

#[tokio::test]
async fn discovery_refuses_metadata_for_another_issuer() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    // The same server under another name: its metadata names the real issuer.
    let alias = server.issuer.replace("127.0.0.1", "localhost");
    let err = discover(&alias, None, ClientOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err}");
}
