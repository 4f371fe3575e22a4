//! Real TLS on 127.0.0.1: a token endpoint behind HTTPS with a certificate authority made at
//! test time. A client trusts it through `ClientOptions::root_certificate` or `SSL_CERT_FILE`
//! (in a child process: the environment is the process's), refuses it otherwise with a message
//! that says why, and reaches it through a `CONNECT` proxy from the options or `HTTPS_PROXY`.

mod tls_support;
mod wire_support;

use std::process::Command;
use std::time::Duration;

use oauth_clients_core::secrecy::SecretString;
use oauth_clients_core::{Client, ClientConfig, ClientOptions, Error};
use tls_support::{ConnectProxy, Pki, TlsFront};
use wire_support::inline_provider;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The helper process that gets a token with the environment's TLS settings.
const ENV_TOKEN: &str = env!("CARGO_BIN_EXE_env_token");

/// A token endpoint (a mock) behind HTTPS with `pki`'s certificate.
async fn https_token_endpoint(pki: &Pki) -> (MockServer, TlsFront) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "tls-access", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    let front = TlsFront::start(pki, *server.address()).expect("TLS front");
    (server, front)
}

fn token_url(front: &TlsFront) -> String {
    format!("{}/token", front.origin())
}

/// A client of a vendor whose token endpoint is `url`; one attempt, short timeouts.
fn client(url: &str, options: ClientOptions) -> Client {
    let provider = inline_provider(&format!(
        "id: tls_vendor\nname: TLS vendor\nendpoints:\n  token: {url}\ngrants:\n  \
         client_credentials: {{}}\nclient_auth: client_secret_post\n"
    ));
    let config = ClientConfig::new("tls-client").secret(SecretString::from("tls-secret"));
    let options = options
        .max_attempts(1)
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(10));
    Client::with_options(provider, config, options).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `env_token URL` with only the TLS and proxy variables given here.
fn env_token(url: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(ENV_TOKEN);
    command.arg(url);
    for name in [
        "SSL_CERT_FILE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    let output = command.output().expect("env_token runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.success(), format!("{stdout}{stderr}"))
}

#[tokio::test]
async fn a_client_trusting_the_ca_gets_a_token_over_https() {
    let pki = Pki::new("oauth-clients test CA");
    let (server, front) = https_token_endpoint(&pki).await;
    let options = ClientOptions::default().root_certificate(&pki.ca_pem);
    let token = client(&token_url(&front), options)
        .client_credentials()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        oauth_clients_core::secrecy::ExposeSecret::expose_secret(token.access_token()),
        "tls-access"
    );
    assert_eq!(front.handshakes(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_transport_error_that_says_so() {
    let pki = Pki::new("trusted by nobody");
    let (server, front) = https_token_endpoint(&pki).await;
    // Nothing extra trusted; then another authority than the server's (its own stack).
    let other = Pki::new("another CA");
    for options in [
        ClientOptions::default(),
        ClientOptions::default().root_certificates_pem(other.ca_pem.as_bytes()),
    ] {
        let err = client(&token_url(&front), options)
            .client_credentials()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("the server's TLS certificate is not trusted"),
            "{message}"
        );
        assert!(message.contains("UnknownIssuer"), "{message}");
        assert!(
            message.contains("ClientOptions::root_certificate / --ca-cert"),
            "{message}"
        );
    }
    assert_eq!(front.handshakes(), 0);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn clients_with_different_cas_do_not_share_trust() {
    let (a, b) = (Pki::new("CA a"), Pki::new("CA b"));
    let (_server_a, front_a) = https_token_endpoint(&a).await;
    let (_server_b, front_b) = https_token_endpoint(&b).await;
    let trusts_a = || ClientOptions::default().root_certificate(&a.ca_pem);
    let trusts_b = || ClientOptions::default().root_certificate(&b.ca_pem);
    client(&token_url(&front_a), trusts_a())
        .client_credentials()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client(&token_url(&front_b), trusts_b())
        .client_credentials()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = client(&token_url(&front_b), trusts_a())
        .client_credentials()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not trusted"), "{err}");
}

#[test]
fn ssl_cert_file_is_trusted_when_the_client_is_built() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pki = Pki::new("SSL_CERT_FILE CA");
    let (_server, front) = runtime.block_on(https_token_endpoint(&pki));
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ca.pem");
    std::fs::write(&bundle, &pki.ca_pem).unwrap();
    let bundle = bundle.to_str().unwrap();

    let (ok, output) = env_token(&token_url(&front), &[("SSL_CERT_FILE", bundle)]);
    assert!(ok, "{output}");
    assert_eq!(output.trim(), "ok");

    // Without it, the same process refuses the server, and says why.
    // A refused certificate is not retried (the helper keeps the default of 3 attempts).
    let (ok, output) = env_token(&token_url(&front), &[]);
    assert!(!ok, "{output}");
    assert!(
        output.contains("TLS certificate is not trusted"),
        "{output}"
    );
    assert!(output.contains("(after 1 attempt)"), "{output}");

    // A variable that names no readable bundle is a configuration error, said as such.
    let missing = dir.path().join("missing.pem");
    let (ok, output) = env_token(
        &token_url(&front),
        &[("SSL_CERT_FILE", missing.to_str().unwrap())],
    );
    assert!(!ok, "{output}");
    assert!(output.contains("SSL_CERT_FILE"), "{output}");
    assert!(output.contains("cannot read it"), "{output}");
    assert_eq!(front.handshakes(), 1);
}

#[tokio::test]
async fn a_proxy_from_the_options_carries_the_token_request() {
    let pki = Pki::new("proxied CA");
    let (server, front) = https_token_endpoint(&pki).await;
    let proxy = ConnectProxy::start().unwrap();
    let options = ClientOptions::default()
        .root_certificate(&pki.ca_pem)
        .proxy(proxy.url());
    client(&token_url(&front), options)
        .client_credentials()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(proxy.connects(), 1);
    assert_eq!(front.handshakes(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn https_proxy_from_the_environment_carries_the_token_request() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pki = Pki::new("HTTPS_PROXY CA");
    let (_server, front) = runtime.block_on(https_token_endpoint(&pki));
    let proxy = ConnectProxy::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ca.pem");
    std::fs::write(&bundle, &pki.ca_pem).unwrap();
    let (ok, output) = env_token(
        &token_url(&front),
        &[
            ("SSL_CERT_FILE", bundle.to_str().unwrap()),
            ("HTTPS_PROXY", &proxy.url()),
        ],
    );
    assert!(ok, "{output}");
    assert_eq!(proxy.connects(), 1);
    assert_eq!(front.handshakes(), 1);
}
