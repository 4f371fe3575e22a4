//! What each kind of token-endpoint answer must give: a table of cases run against a real HTTP
//! server on loopback, through the whole engine (transport, size cap, parsing, errors).

mod wire_support;

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{Callback, Client, ClientConfig, Error, Token};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// JWT whose payload is `{"sub":"x","exp":2000000000}` (2033: more than a year ahead).
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoyMDAwMDAwMDAwfQ.c2ln";

/// The longest lifetime the engine accepts; longer ones are capped, with a warning.
const YEAR: u64 = 365 * 24 * 3600;

/// An unsigned JWT whose `exp` is `exp`.
fn jwt_expiring_at(exp: u64) -> String {
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"sub":"x","exp":{exp}}}"#));
    format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")
}

#[derive(Clone, Copy, Debug)]
enum Expiry {
    /// `now + seconds`.
    In(u64),
    /// An absolute Unix time.
    At(u64),
    Unknown,
}

enum Expect {
    Token(Expiry, fn(&Token)),
    OAuth(&'static str, u16),
    Invalid(&'static str),
}

struct Case {
    name: &'static str,
    status: u16,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    /// `token_response:` block of the descriptor.
    quirks: &'static str,
    expect: Expect,
}

fn case(
    name: &'static str,
    status: u16,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    expect: Expect,
) -> Case {
    Case {
        name,
        status,
        content_type,
        body: body.into(),
        quirks: "{}",
        expect,
    }
}

const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

fn nothing(_: &Token) {}

fn cases() -> Vec<Case> {
    vec![
        case(
            "standard JSON",
            200,
            JSON,
            r#"{"access_token":"a1","token_type":"Bearer","expires_in":3600,"refresh_token":"r1","scope":"x y"}"#,
            Expect::Token(Expiry::In(3600), |t| {
                assert_eq!(t.access_token().expose_secret(), "a1");
                assert_eq!(t.refresh_token().unwrap().expose_secret(), "r1");
                assert_eq!(t.token_type(), Some("Bearer"));
                assert_eq!(t.scope(), Some("x y"));
            }),
        ),
        case(
            "expires_in as a string",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":"3600"}"#,
            Expect::Token(Expiry::In(3600), nothing),
        ),
        case(
            "expires_in with a fraction",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":3600.7}"#,
            Expect::Token(Expiry::In(3600), nothing),
        ),
        case(
            "token_type missing",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":60}"#,
            Expect::Token(Expiry::In(60), |t| assert_eq!(t.token_type(), None)),
        ),
        case(
            "token_type in another case is kept as sent",
            200,
            JSON,
            r#"{"access_token":"a","token_type":"BEARER"}"#,
            Expect::Token(Expiry::Unknown, |t| {
                assert_eq!(t.token_type(), Some("BEARER"))
            }),
        ),
        case(
            "scope is the string null",
            200,
            JSON,
            r#"{"access_token":"a","scope":"null"}"#,
            Expect::Token(Expiry::Unknown, |t| assert_eq!(t.scope(), None)),
        ),
        case(
            "scope as a JSON array",
            200,
            JSON,
            r#"{"access_token":"a","scope":["read","write"]}"#,
            Expect::Token(Expiry::Unknown, |t| {
                assert_eq!(t.scope(), Some("read write"))
            }),
        ),
        case(
            "form-encoded body",
            200,
            FORM,
            "access_token=f1&token_type=bearer&expires_in=120&scope=a+b",
            Expect::Token(Expiry::In(120), |t| {
                assert_eq!(t.access_token().expose_secret(), "f1");
                assert_eq!(t.scope(), Some("a b"));
            }),
        ),
        case(
            "form-encoded body as text/plain",
            200,
            Some("text/plain; charset=utf-8"),
            "access_token=f2&expires_in=30",
            Expect::Token(Expiry::In(30), |t| {
                assert_eq!(t.access_token().expose_secret(), "f2")
            }),
        ),
        case(
            "JSON without a content type",
            200,
            None,
            r#"{"access_token":"a","expires_in":10}"#,
            Expect::Token(Expiry::In(10), nothing),
        ),
        case(
            "any 2xx status",
            201,
            JSON,
            r#"{"access_token":"a","expires_in":10}"#,
            Expect::Token(Expiry::In(10), nothing),
        ),
        case(
            "an error field inside a 200 answer",
            200,
            JSON,
            r#"{"error":"invalid_scope","error_description":"scope x is unknown"}"#,
            Expect::OAuth("invalid_scope", 200),
        ),
        case(
            "an empty error field is no error",
            200,
            JSON,
            r#"{"access_token":"a","error":""}"#,
            Expect::Token(Expiry::Unknown, nothing),
        ),
        case(
            "RFC 6749 error answer",
            400,
            JSON,
            r#"{"error":"invalid_grant","error_description":"expired","error_uri":"https://docs.example/errors"}"#,
            Expect::OAuth("invalid_grant", 400),
        ),
        case(
            "form-encoded error answer",
            401,
            FORM,
            "error=invalid_client&error_description=unknown+client",
            Expect::OAuth("invalid_client", 401),
        ),
        case(
            "missing expires_in: the JWT exp claim",
            200,
            JSON,
            format!(r#"{{"access_token":"{}"}}"#, jwt_expiring_at(now() + 7200)),
            Expect::Token(Expiry::At(now() + 7200), nothing),
        ),
        case(
            "a JWT exp more than a year ahead is capped at a year",
            200,
            JSON,
            format!(r#"{{"access_token":"{JWT}"}}"#),
            Expect::Token(Expiry::In(YEAR), nothing),
        ),
        Case {
            quirks: "{ jwt_expiry: false }",
            ..case(
                "missing expires_in, JWT expiry off",
                200,
                JSON,
                format!(r#"{{"access_token":"{JWT}"}}"#),
                Expect::Token(Expiry::Unknown, nothing),
            )
        },
        Case {
            quirks: "{ default_expires_in: 900 }",
            ..case(
                "missing expires_in: the descriptor's default",
                200,
                JSON,
                r#"{"access_token":"opaque"}"#,
                Expect::Token(Expiry::In(900), nothing),
            )
        },
        case(
            "missing expires_in and nothing else: unknown",
            200,
            JSON,
            r#"{"access_token":"opaque","expires_in":null}"#,
            Expect::Token(Expiry::Unknown, nothing),
        ),
        case(
            "created_at plus expires_in",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":5400,"created_at":1508271900}"#,
            Expect::Token(Expiry::At(1_508_271_900 + 5400), |t| {
                assert_eq!(t.issued_at_unix(), 1_508_271_900)
            }),
        ),
        Case {
            quirks: "{ created_at: false }",
            ..case(
                "created_at ignored when the descriptor says so",
                200,
                JSON,
                r#"{"access_token":"a","expires_in":5400,"created_at":1508271900}"#,
                Expect::Token(Expiry::In(5400), nothing),
            )
        },
        case(
            "extra fields are kept",
            200,
            JSON,
            r#"{"access_token":"a","session_key":"secret-session-key","user":{"id":7},"created_at":"x"}"#,
            // An `id_token` is no extra: it has a field of its own and is checked (see
            // wire_standard_flows.rs).
            Expect::Token(Expiry::Unknown, |t| {
                assert_eq!(t.extra()["user"]["id"], 7);
                assert!(t.extra().contains_key("session_key"));
                assert!(!format!("{t:?}").contains("secret-session-key"));
            }),
        ),
        Case {
            quirks: "{ token_path: [data, token] }",
            ..case(
                "nested token path",
                200,
                JSON,
                r#"{"data":{"token":{"access_token":"nested","expires_in":50}}}"#,
                Expect::Token(Expiry::In(50), |t| {
                    assert_eq!(t.access_token().expose_secret(), "nested")
                }),
            )
        },
        Case {
            quirks: "{ token_path: [data] }",
            ..case(
                "nested token path missing",
                200,
                JSON,
                r#"{"access_token":"flat"}"#,
                Expect::Invalid("token path"),
            )
        },
        case(
            "malformed JSON",
            200,
            JSON,
            r#"{"access_token": "a", "#,
            Expect::Invalid("neither a JSON object"),
        ),
        case(
            "a JSON array",
            200,
            JSON,
            r#"[{"access_token":"a"}]"#,
            Expect::Invalid("neither a JSON object"),
        ),
        case(
            "an HTML error page",
            502,
            Some("text/html"),
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            Expect::Invalid("HTTP 502 without an OAuth error"),
        ),
        case(
            "an HTML page with status 200",
            200,
            Some("text/html; charset=utf-8"),
            "<!DOCTYPE html><html><body>Please log in</body></html>",
            Expect::Invalid("neither a JSON object"),
        ),
        case(
            "an empty body",
            200,
            JSON,
            "",
            Expect::Invalid("empty body"),
        ),
        case(
            "a body over 1 MiB",
            200,
            JSON,
            format!(
                r#"{{"access_token":"a","padding":"{}"}}"#,
                "x".repeat(1024 * 1024)
            ),
            Expect::Invalid("larger than 1024 KiB"),
        ),
        case(
            "expires_in negative",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":-3600}"#,
            Expect::Invalid("`expires_in` is negative"),
        ),
        case(
            "expires_in huge is capped at a year",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":1e30}"#,
            Expect::Token(Expiry::In(YEAR), nothing),
        ),
        case(
            "expires_in huge integer string is capped at a year",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":"99999999999999999999999"}"#,
            Expect::Token(Expiry::In(YEAR), nothing),
        ),
        case(
            "expires_in inf is capped at a year",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":"inf"}"#,
            Expect::Token(Expiry::In(YEAR), nothing),
        ),
        case(
            "a token type the engine cannot send is refused",
            200,
            JSON,
            r#"{"access_token":"a","token_type":"mac"}"#,
            Expect::Invalid("token type `mac` is not supported"),
        ),
        Case {
            quirks: "{ token_types: [bot] }",
            ..case(
                "a token type the descriptor accepts",
                200,
                JSON,
                r#"{"access_token":"a","token_type":"Bot","expires_in":60}"#,
                Expect::Token(Expiry::In(60), nothing),
            )
        },
        case(
            "token type bearer in any case",
            200,
            JSON,
            r#"{"access_token":"a","token_type":"BEARER","expires_in":60}"#,
            Expect::Token(Expiry::In(60), nothing),
        ),
        case(
            "expires_in not a number",
            200,
            JSON,
            r#"{"access_token":"a","expires_in":"zzz"}"#,
            Expect::Invalid("`expires_in` is not a number"),
        ),
        case(
            "access_token missing",
            200,
            JSON,
            r#"{"token_type":"bearer","expires_in":3600}"#,
            Expect::Invalid("no `access_token`"),
        ),
        case(
            "access_token empty",
            200,
            JSON,
            r#"{"access_token":"","expires_in":3600}"#,
            Expect::Invalid("no `access_token`"),
        ),
        case(
            "access_token not a string",
            200,
            JSON,
            r#"{"access_token":12345}"#,
            Expect::Invalid("no `access_token`"),
        ),
    ]
}

fn descriptor(quirks: &str) -> String {
    format!(
        r#"
id: table
name: Table
endpoints:
  token: https://auth.example.com/token
grants:
  client_credentials: {{}}
client_auth: client_secret_post
token_response: {quirks}
"#
    )
}

#[tokio::test]
async fn token_response_table() {
    let cases = cases();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for case in cases {
        let server = MockServer::start().await;
        let mut response = ResponseTemplate::new(case.status);
        response = match case.content_type {
            Some(ct) => response.set_body_raw(case.body.clone(), ct),
            None => response.set_body_bytes(case.body.clone()),
        };
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(response)
            .mount(&server)
            .await;
        let mut options = options_for(&server, &["auth.example.com"]);
        options = options.max_attempts(1);
        let client = Client::with_options(
            inline_provider(&descriptor(case.quirks)),
            ClientConfig::new("id").secret(SecretString::from("client-secret-value")),
            options,
        )
        .unwrap();
        let before = now();
        let result = client.client_credentials().await;
        let after = now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(&case, result, before, after)
        }));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "failed cases:\n{}",
        failures.join("\n")
    );
}

fn check(case: &Case, result: Result<Token, Error>, before: u64, after: u64) {
    match (&case.expect, result) {
        (Expect::Token(expiry, more), Ok(token)) => {
            let got = token.expires_at_unix();
            match *expiry {
                Expiry::In(secs) => {
                    let got = got.expect("an expiry");
                    assert!(
                        got >= before + secs && got <= after + secs,
                        "expiry {got}, expected now + {secs}"
                    );
                }
                Expiry::At(at) => assert_eq!(got, Some(at)),
                Expiry::Unknown => assert_eq!(got, None),
            }
            more(&token);
        }
        (Expect::OAuth(code, status), Err(err)) => {
            assert_eq!(err.oauth_error_code(), Some(*code), "{err}");
            assert_eq!(err.status(), Some(*status), "{err}");
            assert!(err.to_string().contains(code), "{err}");
        }
        (Expect::Invalid(reason), Err(err)) => {
            assert!(
                matches!(err, Error::InvalidResponse { .. }),
                "expected an invalid response, got {err}"
            );
            assert!(err.to_string().contains(reason), "`{reason}` not in: {err}");
            assert!(!err.to_string().contains("client-secret-value"));
            assert!(err.to_string().chars().count() < 600, "short: {err}");
        }
        (_, Ok(token)) => panic!("expected an error, got {token:?}"),
        (_, Err(err)) => panic!("unexpected error: {err}"),
    }
}

#[tokio::test]
async fn oauth_error_fields_are_all_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":"invalid_grant","error_description":"expired","error_uri":"https://docs.example/errors"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = Client::with_options(
        inline_provider(&descriptor("{}")),
        ClientConfig::new("id").secret(SecretString::from("s")),
        options_for(&server, &["auth.example.com"]),
    )
    .unwrap();
    let err = client.client_credentials().await.unwrap_err();
    match &err {
        Error::OAuth {
            error,
            error_description,
            error_uri,
            status,
            ..
        } => {
            assert_eq!(&**error, "invalid_grant");
            assert_eq!(error_description.as_deref(), Some("expired"));
            assert_eq!(error_uri.as_deref(), Some("https://docs.example/errors"));
            assert_eq!(*status, Some(400));
        }
        other => panic!("{other}"),
    }
    assert!(err.is_invalid_grant());
}

#[tokio::test]
async fn wrong_state_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let client = client(
        "procore",
        ClientConfig::new("id").secret(SecretString::from("s")),
        &server,
        &["login.procore.com"],
    );
    let request = client.authorize_url().unwrap();
    let callback = Callback::with_code(
        oauth_clients_core::AuthorizationCode::new("code"),
        Some(format!("{}x", request.state.expose_secret())),
    );
    let err = client.exchange_code(&request, &callback).await.unwrap_err();
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    assert!(requests(&server).await.is_empty());
}

/// A server that answers with an endless chunked body (no `Content-Length`): the engine must
/// stop reading at 1 MiB instead of buffering it all.
#[tokio::test]
async fn a_chunked_body_over_1_mib_is_cut_off_while_streaming() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || -> usize {
        let Ok((mut stream, _)) = listener.accept() else {
            return 0;
        };
        let _ = stream.set_write_timeout(Some(std::time::Duration::from_secs(5)));
        let mut buf = [0u8; 16 * 1024];
        let _ = stream.read(&mut buf);
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() {
            return 0;
        }
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        // At most 64 MiB, far more than the engine may read; stops when the client hangs up.
        for _ in 0..1024 {
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk.clone(),
                b"\r\n".to_vec(),
            ]
            .concat();
            if stream.write_all(&framed).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let yaml = descriptor("{}");
    let options = oauth_clients_core::ClientOptions::default()
        .max_attempts(1)
        .rewrite(
            "https://auth.example.com",
            format!("http://127.0.0.1:{port}"),
        );
    let client = Client::with_options(
        inline_provider(&yaml),
        ClientConfig::new("id").secret(SecretString::from("s")),
        options,
    )
    .unwrap();
    let err = client.client_credentials().await.unwrap_err();
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    drop(client);
    let sent = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert!(sent < 64 * 1024 * 1024, "the engine stopped reading early");
}
