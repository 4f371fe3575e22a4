//! Tokens through other HTTP stacks: `BearerMiddleware` in a reqwest-middleware client and
//! `BearerLayer` around a hyper client, against a vendor on loopback. The token goes only to
//! the API's origin, and a `401` gets a new token.
//!
//! Run with `cargo nextest run -p oauth-clients-core --features reqwest-middleware,tower --test middleware`.

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use oauth_clients_core::middleware::{BearerLayer, BearerMiddleware};
use oauth_clients_core::{AuthorizedClient, Client, ClientConfig, Provider};
use secrecy::SecretString;
use tower::{Service as _, ServiceBuilder, ServiceExt as _};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A vendor whose token endpoint hands out `t1`, then `t2`, and whose API at `/v1/me` refuses
/// `t1` (as if revoked) and accepts `t2`.
async fn vendor() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "t1", "token_type": "Bearer", "expires_in": 3600
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "t2", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/me"))
        .and(header("authorization", "Bearer t1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/me"))
        .and(header("authorization", "Bearer t2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("me"))
        .mount(&server)
        .await;
    server
}

fn api(server: &MockServer) -> AuthorizedClient {
    let yaml = format!(
        "id: mw\nname: Middleware vendor\nendpoints:\n  token: {uri}/token\n  api_base: {uri}/v1/\n\
         grants:\n  client_credentials: {{}}\nclient_auth: client_secret_post\n",
        uri = server.uri()
    );
    let provider = Provider::from_yaml_str(&yaml, "mw.yaml").unwrap();
    let config = ClientConfig::new("id").secret(SecretString::from("client-secret-value"));
    AuthorizedClient::new(Client::new(provider, config).unwrap())
}

/// What the server saw: (path, authorization header) of every request.
async fn seen(server: &MockServer) -> Vec<(String, Option<String>)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let auth = r
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (r.url.path().to_owned(), auth)
        })
        .collect()
}

/// The `Authorization` header of every request the server saw at `at`, in order.
async fn authorizations_at(server: &MockServer, at: &str) -> Vec<Option<String>> {
    seen(server)
        .await
        .into_iter()
        .filter(|(path, _)| path == at)
        .map(|(_, auth)| auth)
        .collect()
}

fn middleware_client(api: AuthorizedClient) -> reqwest_middleware::ClientWithMiddleware {
    let http = oauth_clients_core::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    reqwest_middleware::ClientBuilder::new(http)
        .with(BearerMiddleware::new(api))
        .build()
}

#[tokio::test]
async fn the_middleware_adds_the_token_and_retries_once_with_a_new_one_after_a_401() -> TestResult {
    let server = vendor().await;
    let http = middleware_client(api(&server));
    let response = http.get(format!("{}/v1/me", server.uri())).send().await?;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await?, "me");
    let me = authorizations_at(&server, "/v1/me").await;
    assert_eq!(
        me,
        [Some("Bearer t1".to_owned()), Some("Bearer t2".to_owned())]
    );
    // Two token requests in all: the first token and the one after the 401; the next call
    // uses the cached second token.
    let response = http.get(format!("{}/v1/me", server.uri())).send().await?;
    assert_eq!(response.status(), 200);
    let token_requests = seen(&server)
        .await
        .iter()
        .filter(|(p, _)| p == "/token")
        .count();
    assert_eq!(token_requests, 2);
    Ok(())
}

#[tokio::test]
async fn the_middleware_sends_no_token_to_another_origin() -> TestResult {
    let server = vendor().await;
    let elsewhere = MockServer::start().await;
    let http = middleware_client(api(&server));
    let err = http
        .get(format!("{}/v1/me", elsewhere.uri()))
        .send()
        .await
        .expect_err("another origin is refused");
    let text = err.to_string();
    assert!(text.contains("only to the API's own origin"), "{text}");
    assert!(!text.contains("t1") && !text.contains("client-secret-value"));
    assert!(seen(&elsewhere).await.is_empty(), "nothing reached it");
    Ok(())
}

fn hyper_service(
    api: AuthorizedClient,
) -> impl tower::Service<
    http::Request<Full<Bytes>>,
    Response = http::Response<hyper::body::Incoming>,
    Error = Box<dyn std::error::Error + Send + Sync>,
> + Clone {
    let hyper = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    ServiceBuilder::new()
        .layer(BearerLayer::new(api))
        .service(hyper)
}

fn get(url: String) -> http::Request<Full<Bytes>> {
    http::Request::get(url).body(Full::default()).unwrap()
}

#[tokio::test]
async fn the_tower_layer_adds_the_token_and_a_401_gets_the_next_request_a_new_one() -> TestResult {
    let server = vendor().await;
    let mut service = hyper_service(api(&server));
    let url = format!("{}/v1/me", server.uri());
    let first = service.ready().await?.call(get(url.clone())).await?;
    assert_eq!(first.status(), 401, "the layer does not replay a request");
    let second = service.ready().await?.call(get(url)).await?;
    assert_eq!(second.status(), 200);
    let body = second.into_body().collect().await?.to_bytes();
    assert_eq!(&body[..], b"me");
    let me = authorizations_at(&server, "/v1/me").await;
    assert_eq!(
        me,
        [Some("Bearer t1".to_owned()), Some("Bearer t2".to_owned())]
    );
    Ok(())
}

#[tokio::test]
async fn the_tower_layer_sends_no_token_to_another_origin() -> TestResult {
    let server = vendor().await;
    let elsewhere = MockServer::start().await;
    let mut service = hyper_service(api(&server));
    let err = service
        .ready()
        .await?
        .call(get(format!("{}/v1/me", elsewhere.uri())))
        .await
        .expect_err("another origin is refused");
    assert!(
        err.to_string().contains("only to the API's own origin"),
        "{err}"
    );
    assert!(seen(&elsewhere).await.is_empty(), "nothing reached it");
    Ok(())
}
