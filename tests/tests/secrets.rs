//! No secret, password, code or token ever appears in `Display` or `Debug` of an error, a
//! configuration, a token or a request — even when the vendor echoes it back.

mod wire_support;

use std::collections::BTreeSet;
use std::time::Duration;

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{
    ApiRequest, Callback, Client, ClientConfig, ClientOptions, Error, Token, UserCredentials,
};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CLIENT_SECRET: &str = "S3cr3t-Client-Value";
const PASSWORD: &str = "hunter2pw";
const ACCESS: &str = "Acc3ss-Token-Value";
const REFRESH: &str = "R3fresh-Token-Value";
const CODE: &str = "Auth-C0de-Value";
const USERNAME: &str = "joe.procountor-user";
const SECRETS: [&str; 6] = [CLIENT_SECRET, PASSWORD, ACCESS, REFRESH, CODE, USERNAME];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
    }
}

fn assert_error_clean(err: &Error) {
    assert_clean("Display", &err.to_string());
    assert_clean("Debug", &format!("{err:?}"));
    assert_clean("alternate Debug", &format!("{err:#?}"));
}

fn variant(err: &Error) -> &'static str {
    match err {
        Error::Descriptor(_) => "Descriptor",
        Error::Config { .. } => "Config",
        Error::MissingVariable { .. } => "MissingVariable",
        Error::InvalidVariable { .. } => "InvalidVariable",
        Error::InsecureUrl { .. } => "InsecureUrl",
        Error::Unsupported { .. } => "Unsupported",
        Error::Transport { .. } => "Transport",
        Error::Timeout { .. } => "Timeout",
        Error::InvalidResponse { .. } => "InvalidResponse",
        Error::OAuth { .. } => "OAuth",
        Error::StateMismatch { .. } => "StateMismatch",
        Error::Api { .. } => "Api",
        Error::AuthorizationRequired { .. } => "AuthorizationRequired",
        Error::Store(_) => "Store",
        _ => "other",
    }
}

fn procurios_config() -> ClientConfig {
    ClientConfig::new("abc123")
        .secret(SecretString::from(CLIENT_SECRET))
        .variable("domain", "api.craftbrouwers.nl")
        .scopes(["profile"])
}

fn procountor_config(server: &MockServer) -> ClientConfig {
    ClientConfig::new("client_id")
        .secret(SecretString::from(CLIENT_SECRET))
        .variable("company", "14159")
        .redirect_uri(format!("{}/callback", server.uri()))
}

fn user() -> UserCredentials {
    UserCredentials {
        username: USERNAME.into(),
        password: oauth_clients_core::Password::new(PASSWORD),
    }
}

/// Echoes the request body back inside an HTML page, as a debugging proxy might.
fn echo(status: u16) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync {
    move |req: &Request| {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        ResponseTemplate::new(status).set_body_raw(
            format!("<html><body><h1>Error</h1><pre>{body}</pre></body></html>"),
            "text/html",
        )
    }
}

#[tokio::test]
async fn every_error_is_free_of_secrets() {
    let mut errors: Vec<Error> = Vec::new();
    let server = MockServer::start().await;
    let host = ["api.craftbrouwers.nl"];

    // OAuth error whose description echoes the secret and the code.
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            format!(
                r#"{{"error":"invalid_client","error_description":"secret {CLIENT_SECRET} is wrong","error_uri":"https://x.example/?client_secret={CLIENT_SECRET}"}}"#
            ),
            "application/json",
        ))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let client = client("procurios", procurios_config(), &server, &host);
    errors.push(client.client_credentials().await.unwrap_err());
    errors.push(
        client
            .exchange_code_oob(&oauth_clients_core::AuthorizationCode::new(CODE), None)
            .await
            .unwrap_err(),
    );

    // A 200 with tokens but an unusable expires_in: the excerpt must not show the tokens.
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_in":"zzz"}}"#
            ),
            "application/json",
        ))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    errors.push(client.client_credentials().await.unwrap_err());

    // A 500 page that echoes the whole form body (client secret included).
    Mock::given(method("POST"))
        .and(path("/l/oauth2/token"))
        .respond_with(echo(500))
        .with_priority(3)
        .mount(&server)
        .await;
    errors.push(client.client_credentials().await.unwrap_err());
    errors.push(
        client
            .exchange_code_oob(&oauth_clients_core::AuthorizationCode::new(CODE), None)
            .await
            .unwrap_err(),
    );

    // An API error page that echoes the bearer token.
    Mock::given(method("GET"))
        .and(path("/l/some_api/endpoint"))
        .respond_with(move |req: &Request| {
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(403).set_body_string(format!("forbidden for {auth}"))
        })
        .mount(&server)
        .await;
    let token = Token::new(oauth_clients_core::AccessToken::new(ACCESS), now(), None)
        .with_refresh_token(Some(oauth_clients_core::RefreshToken::new(REFRESH)));
    let response = client
        .send_api(&token, &ApiRequest::get("some_api/endpoint"))
        .await
        .unwrap();
    assert_clean("ApiResponse Debug", &format!("{response:?}"));
    errors.push(response.error_for_status().unwrap_err());

    // The legacy flow: refused credentials echoed back, a wrong state, a refused code.
    let legacy = MockServer::start().await;
    let legacy_host = ["api-test.procountor.com"];
    Mock::given(method("POST"))
        .and(path("/api/oauth/authz"))
        .respond_with(echo(400))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&legacy)
        .await;
    let procountor = wire_support::client(
        "procountor",
        procountor_config(&legacy),
        &legacy,
        &legacy_host,
    );
    errors.push(procountor.legacy_credentials(&user()).await.unwrap_err());
    let redirect = format!("{}/callback", legacy.uri());
    Mock::given(method("POST"))
        .and(path("/api/oauth/authz"))
        .respond_with(move |req: &Request| {
            let state = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            ResponseTemplate::new(302).insert_header(
                "Location",
                format!("{redirect}?code={CODE}&state={state}").as_str(),
            )
        })
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&legacy)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            format!(r#"{{"error":"invalid_grant","error_description":"code {CODE} was used"}}"#),
            "application/json",
        ))
        .mount(&legacy)
        .await;
    errors.push(procountor.legacy_credentials(&user()).await.unwrap_err());
    Mock::given(method("POST"))
        .and(path("/api/oauth/authz"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!("https://elsewhere.example/cb?code={CODE}&state=forged").as_str(),
        ))
        .with_priority(3)
        .mount(&legacy)
        .await;
    errors.push(procountor.legacy_credentials(&user()).await.unwrap_err());
    let request = client.authorize_url().unwrap();
    errors.push(
        client
            .exchange_code(
                &request,
                &Callback::with_code(
                    oauth_clients_core::AuthorizationCode::new(CODE),
                    Some("forged".into()),
                ),
            )
            .await
            .unwrap_err(),
    );

    // Transport failure and timeout (the legacy URL's query holds the state).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let closed = Client::with_options(
        provider("procountor"),
        procountor_config(&legacy),
        ClientOptions::default()
            .initial_backoff(Duration::from_millis(1))
            .rewrite(
                "https://api-test.procountor.com",
                format!("http://127.0.0.1:{port}"),
            ),
    )
    .unwrap();
    errors.push(closed.legacy_credentials(&user()).await.unwrap_err());
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&slow)
        .await;
    let mut options = options_for(&slow, &host);
    options = options.request_timeout(Duration::from_millis(100));
    options = options.max_attempts(1);
    let timeout_client =
        Client::with_options(provider("procurios"), procurios_config(), options).unwrap();
    errors.push(timeout_client.client_credentials().await.unwrap_err());

    // Configuration errors: a secret-looking variable value, a missing variable, no secret,
    // an insecure rewrite with credentials in it, an unsupported grant, a bad descriptor.
    errors.push(
        Client::new(
            provider("procurify"),
            ClientConfig::new("id").variable("domain", format!("{CLIENT_SECRET}/x")),
        )
        .unwrap_err(),
    );
    let no_domain = Client::new(
        provider("procurify"),
        ClientConfig::new("id").secret(SecretString::from(CLIENT_SECRET)),
    )
    .unwrap();
    errors.push(no_domain.client_credentials().await.unwrap_err());
    let no_secret = Client::with_options(
        provider("procurios"),
        ClientConfig::new("id").variable("domain", "api.craftbrouwers.nl"),
        options_for(&server, &host),
    )
    .unwrap();
    errors.push(no_secret.client_credentials().await.unwrap_err());
    // Rewrites are checked when the client is built: user info, and plain HTTP to a host that
    // is not loopback.
    for target in [
        format!("http://user:{PASSWORD}@127.0.0.1:9"),
        "http://proxy.example.com".to_owned(),
    ] {
        let options = ClientOptions::default().rewrite("https://api.craftbrouwers.nl", target);
        assert_clean("ClientOptions Debug", &format!("{options:?}"));
        errors.push(
            Client::with_options(provider("procurios"), procurios_config(), options).unwrap_err(),
        );
    }
    assert_clean("Client Debug", &format!("{client:?}"));
    errors.push(
        client
            .refresh(&oauth_clients_core::RefreshToken::new(REFRESH))
            .await
            .unwrap_err(),
    );
    errors.push(Error::from(
        oauth_clients_core::Provider::from_yaml_str("id: [", "bad.yaml").unwrap_err(),
    ));
    errors.push(Error::authorization_required(
        "procore",
        "run the authorization code flow",
    ));
    errors.push(Error::Store(oauth_clients_core::StoreError::new(
        oauth_clients_core::StoreErrorKind::Unavailable,
        "redis",
        "connection refused",
    )));

    let mut seen = BTreeSet::new();
    for err in &errors {
        assert_error_clean(err);
        seen.insert(variant(err));
    }
    for expected in [
        "Descriptor",
        "Config",
        "MissingVariable",
        "InvalidVariable",
        "InsecureUrl",
        "Unsupported",
        "Transport",
        "Timeout",
        "InvalidResponse",
        "OAuth",
        "StateMismatch",
        "Api",
        "AuthorizationRequired",
        "Store",
    ] {
        assert!(seen.contains(expected), "no {expected} error was checked");
    }
}

#[tokio::test]
async fn configs_tokens_and_requests_are_free_of_secrets() {
    let server = MockServer::start().await;
    let config = procurios_config().redirect_uri("https://example.com/cb");
    let client = client(
        "procurios",
        config.clone(),
        &server,
        &["api.craftbrouwers.nl"],
    );
    // A configuration shows no secret-looking variable either (a client refuses the
    // undeclared name, so only the configuration can be shown with it).
    let config = config.variable("api_key", CLIENT_SECRET);
    let request = client.authorize_url().unwrap();
    let state = request.state.expose_secret().to_owned();
    let callback = Callback::from_query(&format!("code={CODE}&state={state}"));
    assert_eq!(callback.code.as_ref().unwrap().expose_secret(), CODE);
    let token = Token::new(
        oauth_clients_core::AccessToken::new(ACCESS),
        now(),
        Some(now() + 60),
    )
    .with_refresh_token(Some(oauth_clients_core::RefreshToken::new(REFRESH)));
    let api = ApiRequest::post("x")
        .header("X-Api-Key", CLIENT_SECRET)
        .json(serde_json::json!({ "password": PASSWORD }));
    let shown = [
        format!("{config:?}"),
        format!("{:?}", user()),
        format!("{request:?}"),
        format!("{callback:?}"),
        format!("{token:?}"),
        format!("{client:?}"),
        format!("{api:?}"),
    ];
    for text in &shown {
        assert_clean("Debug", text);
        assert!(!text.contains(&state), "state shown: {text}");
    }
}

/// Everything a tracing subscriber writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const OBSERVED: &str = "
id: observed
name: Observed
endpoints:
  authorization: https://id.observed.example/authorize
  token: https://id.observed.example/token
  revocation: https://id.observed.example/revoke
  introspection: https://id.observed.example/introspect
grants:
  authorization_code:
    pkce: required
  refresh_token: {}
  client_credentials: {}
client_auth: client_secret_post
";

/// The observed vendor's token endpoint: tokens for every grant, and an OAuth error that echoes
/// the code for a code sent without a PKCE verifier.
async fn observed_vendor() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(|req: &Request| {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            if body.contains("grant_type=authorization_code") && !body.contains("code_verifier") {
                return ResponseTemplate::new(400).set_body_json(serde_json::json!({
                    "error": "invalid_grant",
                    "error_description": format!("code {CODE} was already used"),
                }));
            }
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req-observed-1")
                .set_body_json(serde_json::json!({
                    "access_token": ACCESS, "refresh_token": REFRESH,
                    "token_type": "Bearer", "expires_in": 3600,
                }))
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/introspect"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"active": true, "client_id": "observer"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// A whole flow under a TRACE subscriber writing to memory: code with PKCE, refresh, client
/// credentials, introspection, revocation and a refused code. Every token request has its
/// span with its fields, and no secret appears anywhere in the output.
#[tokio::test]
async fn tracing_output_at_trace_level_shows_spans_and_no_secret() {
    use tracing_subscriber::fmt::format::FmtSpan;

    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    // This test's runtime polls everything on this thread, so the subscriber sees it all.
    let _default = tracing::subscriber::set_default(subscriber);

    let server = observed_vendor().await;
    let config = ClientConfig::new("observer")
        .secret(SecretString::from(CLIENT_SECRET))
        .redirect_uri("http://127.0.0.1:9/callback");
    let client = Client::with_options(
        inline_provider(OBSERVED),
        config,
        options_for(&server, &["id.observed.example"]),
    )
    .unwrap();
    let request = client.authorize_url().unwrap();
    let verifier = request
        .pkce_verifier
        .as_ref()
        .map(|v| v.expose_secret().to_owned())
        .expect("PKCE");
    let callback = Callback::with_code(
        oauth_clients_core::AuthorizationCode::new(CODE),
        Some(request.state.expose_secret().to_owned()),
    );
    let token = client.exchange_code(&request, &callback).await.unwrap();
    let refreshed = client.refresh_token_of(&token).await.unwrap();
    client.client_credentials().await.unwrap();
    assert!(
        client
            .introspect(refreshed.access_token())
            .await
            .unwrap()
            .active
    );
    assert!(client.revoke_token(&refreshed).await.unwrap());
    let err = client
        .exchange_code_oob(&oauth_clients_core::AuthorizationCode::new(CODE), None)
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");

    let output = captured.text();
    assert_clean("tracing output", &output);
    assert!(
        !output.contains(&verifier),
        "the PKCE verifier is shown: {output}"
    );
    for field in [
        "oauth.token_request{",
        "vendor=observed",
        "grant=authorization_code",
        "grant=refresh_token",
        "grant=client_credentials",
        "grant=introspection",
        "grant=revocation",
        "endpoint=http://127.0.0.1:",
        "status=200",
        "status=400",
        "request_id=req-observed-1",
        "duration_ms=",
        "error=observed: ",
        "token request finished",
        "token request failed",
    ] {
        assert!(
            output.contains(field),
            "no `{field}` in the tracing output:\n{output}"
        );
    }
}
