//! Retries of token requests: connection failures, 5xx and 429 (honouring `Retry-After`) are
//! retried with backoff; OAuth errors never; a code exchange only when it was never sent.

mod wire_support;

use std::time::{Duration, Instant};

use oauth_clients_core::secrecy::SecretString;
use oauth_clients_core::{Client, ClientConfig, ClientOptions, Error};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OK: &str = r#"{"access_token":"at","token_type":"bearer","expires_in":5400}"#;

fn config() -> ClientConfig {
    ClientConfig::new("id").secret(SecretString::from("secret"))
}

fn procore(server: &MockServer) -> Client {
    client("procore", config(), server, &["login.procore.com"])
}

async fn mount_failures(server: &MockServer, status: u16, times: u64, retry_after: Option<&str>) {
    let mut response = ResponseTemplate::new(status).set_body_string("temporarily unavailable");
    if let Some(seconds) = retry_after {
        response = response.insert_header("Retry-After", seconds);
    }
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(response)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OK, "application/json"))
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    mount_failures(&server, 503, 2, None).await;
    procore(&server).client_credentials().await.unwrap();
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn too_many_server_errors_give_the_last_status() {
    let server = MockServer::start().await;
    mount_failures(&server, 502, 10, None).await;
    let err = procore(&server).client_credentials().await.unwrap_err();
    assert_eq!(requests(&server).await.len(), 3, "default: 3 attempts");
    assert_eq!(err.status(), Some(502));
    assert!(err.is_transient());
    assert!(err.to_string().contains("temporarily unavailable"), "{err}");
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let server = MockServer::start().await;
    mount_failures(&server, 429, 1, Some("1")).await;
    let started = Instant::now();
    procore(&server).client_credentials().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let server = MockServer::start().await;
    mount_failures(&server, 429, 1, Some("3600")).await;
    let started = Instant::now();
    let err = procore(&server).client_credentials().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.status(), Some(429));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn oauth_errors_are_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let err = procore(&server)
        .refresh(&oauth_clients_core::RefreshToken::new("revoked"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    assert!(!err.is_transient());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_code_exchange_is_not_retried_once_sent() {
    let server = MockServer::start().await;
    mount_failures(&server, 503, 5, None).await;
    let err = procore(&server)
        .exchange_code_oob(
            &oauth_clients_core::AuthorizationCode::new("single-use"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(requests(&server).await.len(), 1, "the code is sent once");
}

/// A server whose token endpoint answers successfully, after `delay`.
async fn slow_token_endpoint(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(OK, "application/json")
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_code_exchange_is_not_retried_after_a_timeout() {
    let server = slow_token_endpoint(Duration::from_secs(2)).await;
    let mut options = options_for(&server, &["login.procore.com"]);
    options = options.request_timeout(Duration::from_millis(200));
    let client = Client::with_options(provider("procore"), config(), options).unwrap();
    let err = client
        .exchange_code_oob(
            &oauth_clients_core::AuthorizationCode::new("single-use"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err}");
    // Client credentials may be retried after a timeout.
    let err = client.client_credentials().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 3, .. }), "{err}");
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn the_operation_deadline_ends_the_retries() {
    let server = slow_token_endpoint(Duration::from_secs(5)).await;
    // Each attempt may take 10 s, the whole operation 1 s: the first attempt meets the
    // deadline, and no second attempt is made although three are allowed.
    let options = options_for(&server, &["login.procore.com"])
        .request_timeout(Duration::from_secs(10))
        .deadline(Duration::from_secs(1))
        .max_attempts(3);
    let client = Client::with_options(provider("procore"), config(), options).unwrap();
    let err = client.client_credentials().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let server = MockServer::start().await;
    mount_failures(&server, 500, 1, None).await;
    let mut options = options_for(&server, &["login.procore.com"]);
    options = options.max_attempts(1);
    let client = Client::with_options(provider("procore"), config(), options).unwrap();
    let err = client.client_credentials().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(requests(&server).await.len(), 1);
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn connection_failures_are_retried_even_for_a_code_exchange() {
    let port = closed_port();
    let options = ClientOptions::default()
        .initial_backoff(Duration::from_millis(5))
        .rewrite(
            "https://login.procore.com",
            format!("http://127.0.0.1:{port}"),
        );
    let client = Client::with_options(provider("procore"), config(), options).unwrap();
    let err = client.client_credentials().await.unwrap_err();
    assert!(matches!(err, Error::Transport { attempts: 3, .. }), "{err}");
    let err = client
        .exchange_code_oob(
            &oauth_clients_core::AuthorizationCode::new("never-sent"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { attempts: 3, .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{port}/oauth/token")),
        "{text}"
    );
    assert!(
        !text.contains("never-sent") && !text.contains("secret"),
        "{text}"
    );
}

/// A vendor on the mock whose refresh tokens rotate (or not).
fn refreshing_vendor(server: &MockServer, rotates: bool) -> Client {
    let yaml = format!(
        "id: rotating\nname: Rotating\nendpoints:\n  token: {}/oauth/token\n\
         grants:\n  client_credentials: {{}}\n  refresh_token:\n    rotates: {rotates}\n\
         client_auth: client_secret_post\n",
        server.uri()
    );
    let provider = oauth_clients_core::Provider::from_yaml_str(&yaml, "rotating.yaml").unwrap();
    let options = ClientOptions::default().initial_backoff(Duration::from_millis(1));
    Client::with_options(provider, config(), options).unwrap()
}

#[tokio::test]
async fn a_rotating_refresh_token_is_not_resent_after_a_server_error() {
    let server = MockServer::start().await;
    mount_failures(&server, 503, 5, None).await;
    let err = refreshing_vendor(&server, true)
        .refresh(&oauth_clients_core::RefreshToken::new("single-use-refresh"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        requests(&server).await.len(),
        1,
        "a used refresh token is dead"
    );
}

#[tokio::test]
async fn a_reusable_refresh_token_is_retried_after_a_server_error() {
    let server = MockServer::start().await;
    mount_failures(&server, 503, 1, None).await;
    refreshing_vendor(&server, false)
        .refresh(&oauth_clients_core::RefreshToken::new("reusable-refresh"))
        .await
        .unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn too_many_requests_honours_retry_after_as_an_http_date() {
    let server = MockServer::start().await;
    // HTTP dates have whole seconds: two seconds ahead is at least one second of waiting.
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    mount_failures(&server, 429, 1, Some(&date)).await;
    let started = Instant::now();
    procore(&server).client_credentials().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_date_in_the_past_retries_at_once() {
    let server = MockServer::start().await;
    mount_failures(&server, 503, 1, Some("Wed, 21 Oct 2015 07:28:00 GMT")).await;
    procore(&server).client_credentials().await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}
