//! The hostile vendor's modes: what it answers at `/mode/<name>/<endpoint>`.
//!
//! Most modes echo "the victim": the secret the client sent to that endpoint (the client
//! secret at `token`, the refresh token at `refresh`, the password at `authz`, the access token
//! under `api/`), so one mode can be aimed at every flow.

use std::time::Duration;

use serde_json::{Value, json};

use super::harness::{b64_std, b64_url_nopad, form_encode, html_escape, json_inner};
use super::{Request, State};

/// What the server does with a connection once it has read the request.
pub enum Action {
    /// Writes these bytes (a whole response, however malformed) and closes.
    Send(Vec<u8>),
    /// Writes the head, then the body one byte at a time, `every` apart.
    Trickle {
        head: Vec<u8>,
        body: Vec<u8>,
        every: Duration,
    },
    /// Writes the head, then the same bytes (e.g. a framed chunk of a chunked body) forever
    /// (bounded by [`super::MAX_HOLD`] and the server's life).
    Endless {
        head: Vec<u8>,
        chunk: Vec<u8>,
        every: Duration,
    },
    /// Answers nothing and keeps the connection open.
    Stall,
    /// Resets the connection (RST).
    Reset,
    /// Closes the connection without an answer.
    Close,
}

/// Every mode: name → what it sends.
pub const MODES: &[(&str, &str)] = &[
    (
        "ok",
        "a well-behaved vendor: a bearer token (access and refresh), the 302 of the legacy \
         flow, the authorize redirect with the right `iss`, `{\"ok\":true}` from the API",
    ),
    (
        "iss_attacker",
        "authorize: 302 back to the redirect URI with a code, the right state and \
         iss=https://attacker.example (RFC 9207 mix-up)",
    ),
    (
        "callback_error_secret",
        "authorize: 302 back with the right state and iss, error=access_denied and an \
         error_description naming the client secret",
    ),
    (
        "iss_secret",
        "authorize: 302 back with a code, the right state and the client secret as `iss`",
    ),
    (
        "html_200",
        "200 text/html login page showing the victim raw and HTML-escaped",
    ),
    (
        "error_in_200",
        "200 application/json {\"error\":\"invalid_client\",...}",
    ),
    (
        "desc_raw",
        "401 invalid_client whose error_description holds the victim (as JSON must escape it)",
    ),
    (
        "desc_json_slash",
        "401 error_description with the victim JSON-escaped the Go way (\\/, \\u0026, \\u003c)",
    ),
    (
        "desc_html",
        "401 error_description with the victim HTML-escaped (&amp; &lt; &quot; &#x2F;)",
    ),
    (
        "desc_percent",
        "401 error_description with the victim form-encoded (+) and percent-encoded (%20)",
    ),
    (
        "desc_base64",
        "401 error_description with the victim in base64 (standard and URL-safe, unpadded)",
    ),
    (
        "desc_basic_echo",
        "401 echoing the received Authorization header (Basic base64(id:secret)) in \
         error_description and WWW-Authenticate",
    ),
    (
        "echo_request_body",
        "400 text/plain: the request body verbatim",
    ),
    (
        "echo_request_json",
        "400 invalid_request whose error_description is the request body verbatim",
    ),
    (
        "echo_request_in_500",
        "500 application/json {\"message\": \"cannot parse request: <request body>\"} \
         (a JSON request body ends up escaped twice)",
    ),
    (
        "go_html_500",
        "500 application/json whose message holds the victim HTML-escaped, then JSON-escaped \
         the Go way (\\u0026amp;)",
    ),
    (
        "error_uri_nested",
        "400 invalid_client whose error_uri carries a nested URL, the victim percent-encoded \
         twice (%252F)",
    ),
    (
        "request_id_b64_body",
        "400 invalid_request with X-Request-Id: base64 of the request body",
    ),
    (
        "spaces_1592",
        "400 text/plain: 1,592 spaces, then the victim",
    ),
    (
        "desc_spaces_1592",
        "400 invalid_client: error_description of 1,592 spaces, then the victim",
    ),
    (
        "cut_secret",
        "400 text/plain: 195 visible characters, then the victim, so that a 200-character \
         excerpt would end inside it",
    ),
    (
        "cut_secret_desc",
        "400 invalid_client: error_description of 495 characters, then the victim (the \
         500-character cap ends inside it)",
    ),
    (
        "huge_body",
        "200 application/json with Content-Length 2 MiB (> the 1 MiB cap), the victim first",
    ),
    (
        "huge_chunked",
        "200 chunked body of 2 MiB without a length, the victim in the first chunk",
    ),
    (
        "scan_boundary",
        "400 text/plain: 64 KiB - 4 spaces, the victim across the 64 KiB scan limit, filler",
    ),
    (
        "endless",
        "200 chunked body that never ends (a 1 KiB chunk every 20 ms)",
    ),
    (
        "slow_body",
        "200 with Content-Length 4096, one byte every 200 ms",
    ),
    ("stall", "reads the request and never answers"),
    (
        "endless_100_continue",
        "an endless stream of `HTTP/1.1 100 Continue` interim responses",
    ),
    (
        "endless_headers",
        "200 status line, then 1 KiB header lines forever",
    ),
    (
        "slow_headers",
        "200 status line, then a header trickling one byte every 200 ms",
    ),
    (
        "deep_json",
        "200 application/json: {\"a\": followed by 100,000 `[`",
    ),
    (
        "status_999",
        "status 999 with ESC ] 0;PWNED BEL as its reason phrase",
    ),
    (
        "retry_after_25",
        "429 with Retry-After: 25 (under the 30 s cap, beyond a 5 s --timeout)",
    ),
    ("reset", "reads the request and resets the connection (RST)"),
    (
        "close_no_answer",
        "reads the request and closes the connection without an answer",
    ),
    (
        "non_utf8",
        "400 text/plain with invalid UTF-8, raw C1 bytes (0x9b) and the victim",
    ),
    (
        "bogus_length",
        "200 with Content-Length 500 but 20 bytes, then close",
    ),
    (
        "conflicting_length",
        "200 with two different Content-Length headers",
    ),
    ("negative_length", "200 with Content-Length: -1"),
    (
        "escape_keys",
        "200 JSON without access_token whose keys are \\u001b]0;PWNED\\u0007, \\u001b[2J, \
         U+202E and U+009B sequences",
    ),
    (
        "secret_as_field",
        "200 text/plain form body whose first field name is the victim",
    ),
    (
        "secret_as_json_key",
        "200 JSON without access_token whose first key is the victim",
    ),
    ("expires_inf", "200 token with expires_in \"inf\""),
    ("expires_1e12", "200 token with expires_in 1e12"),
    ("expires_negative", "200 token with expires_in -1"),
    ("expires_zzz", "200 token with expires_in \"zzz\""),
    ("expires_null", "200 token with expires_in null"),
    ("expires_zero", "200 token with expires_in 0"),
    (
        "expires_huge_string",
        "200 token with expires_in \"99999999999999999999999999999\"",
    ),
    (
        "token_type_mac",
        "200 token with token_type mac (and a mac_key)",
    ),
    (
        "missing_access_token",
        "200 JSON with token_type, expires_in, refresh_token and id_token but no access_token",
    ),
    ("empty_body", "200 application/json with an empty body"),
    (
        "redirect_302",
        "302 to another host (a recorder), the victim percent-encoded in the Location",
    ),
    (
        "redirect_307",
        "307 to another host (a recorder), the victim percent-encoded in the Location",
    ),
    (
        "unauthorized_www_auth",
        "401 invalid_token with WWW-Authenticate: Bearer ... error_description=\"<victim>\"",
    ),
    (
        "retry_after_huge",
        "429 with Retry-After: 1000000000 and the victim in the body",
    ),
    (
        "retry_after_date",
        "429 with Retry-After: Fri, 31 Dec 9999 23:59:59 GMT",
    ),
    (
        "flaky_503",
        "503 echoing the victim the first three times, then a token",
    ),
    (
        "request_id_secret",
        "400 invalid_request with X-Request-Id: req-<victim raw>",
    ),
    (
        "request_id_control",
        "400 invalid_request with X-Request-Id holding ESC ] 0;PWNED BEL and ESC [2J",
    ),
    (
        "request_id_c1",
        "400 invalid_request with X-Request-Id holding UTF-8 C1 CSI (U+009B), U+202E and the \
         victim",
    ),
    (
        "content_type_control",
        "400 JSON error with Content-Type: application/json ESC [2J BEL",
    ),
    (
        "content_type_secret",
        "400 text/html with Content-Type: text/html; charset=\"<victim>\"",
    ),
    (
        "content_type_bidi",
        "400 JSON error with Content-Type holding U+202E (RIGHT-TO-LEFT OVERRIDE)",
    ),
    (
        "error_code_escape",
        "400 whose error code and description hold ESC, BEL, C1 CSI and U+202E",
    ),
    (
        "error_uri_secret",
        "400 invalid_client whose error_uri carries the victim percent-encoded in its query",
    ),
    (
        "html_403",
        "403 text/html page with the victim raw and HTML-escaped",
    ),
    (
        "api_echo_body",
        "API: 200 JSON echoing the Authorization header and the bearer token in every encoding",
    ),
    (
        "api_echo_error",
        "API: 500 JSON echoing the bearer token in every encoding",
    ),
    (
        "api_echo_headers",
        "API: 200 {\"ok\":true} with X-Request-Id, Set-Cookie, WWW-Authenticate and \
         X-Debug-Authorization echoing the bearer token",
    ),
    (
        "password_echo",
        "legacy authz: 400 access_denied whose error_description echoes the password raw, \
         HTML-escaped, percent-encoded and in base64",
    ),
    (
        "password_location",
        "legacy authz: 302 whose Location carries error=access_denied and the password in \
         error_description",
    ),
    (
        "password_html",
        "legacy authz: 200 HTML page echoing the posted username and password",
    ),
    (
        "refresh_echo",
        "refresh: 400 invalid_grant echoing the refresh token raw, JSON-escaped, HTML-escaped, \
         percent-encoded and in base64",
    ),
    (
        "refresh_html",
        "refresh: 200 HTML page echoing the refresh token",
    ),
];

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// A response head: status line, the headers as given (raw bytes), `Connection: close`.
pub fn head(status: u16, headers: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// A whole response with a correct `Content-Length`.
pub fn response(status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let length = body.len().to_string();
    let mut all: Vec<(&str, &[u8])> = headers.to_vec();
    all.push(("Content-Length", length.as_bytes()));
    let mut out = head(status, &all);
    out.extend_from_slice(body);
    out
}

fn send(status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> Action {
    Action::Send(response(status, headers, body))
}

fn json_response(status: u16, extra: &[(&str, &[u8])], value: &Value) -> Action {
    let mut headers: Vec<(&str, &[u8])> = vec![("Content-Type", b"application/json")];
    headers.extend_from_slice(extra);
    send(status, &headers, value.to_string().as_bytes())
}

/// A JSON body written by hand (for escapes serde_json would not produce).
fn raw_json(status: u16, extra: &[(&str, &[u8])], body: &str) -> Action {
    let mut headers: Vec<(&str, &[u8])> = vec![("Content-Type", b"application/json")];
    headers.extend_from_slice(extra);
    send(status, &headers, body.as_bytes())
}

fn text(status: u16, content_type: &str, body: &[u8]) -> Action {
    send(status, &[("Content-Type", content_type.as_bytes())], body)
}

fn oauth_error(status: u16, code: &str, description: &str) -> Action {
    json_response(
        status,
        &[],
        &json!({"error": code, "error_description": description}),
    )
}

/// The secret the client sent to this endpoint.
fn victim<'a>(state: &'a State, endpoint: &str) -> &'a str {
    let s = &state.secrets;
    if endpoint == "refresh" {
        &s.refresh_token
    } else if endpoint == "authz" {
        &s.password
    } else if endpoint.starts_with("api") {
        &s.access_token
    } else {
        &s.client_secret
    }
}

fn token(state: &State, expires_in: Value) -> Action {
    json_response(
        200,
        &[],
        &json!({
            "access_token": state.secrets.access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }),
    )
}

/// One chunk of a chunked body.
fn framed(chunk: &[u8]) -> Vec<u8> {
    [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat()
}

/// Percent-encoding of every byte but unreserved characters (`%20` for a space).
fn percent_encode(text: &str) -> String {
    form_encode(text).replace('+', "%20")
}

/// Go's JSON string escaping of `text`, without quotes: `/` as `\/`, `&` and `<` as `\u00XX`.
fn go_json(text: &str) -> String {
    json_inner(text)
        .replace('/', "\\/")
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

/// The redirect back to the client (`Location: <redirect_uri>?code=..&state=..[&extra]`).
fn redirect_back(redirect_uri: &str, params: &[(&str, &str)]) -> Action {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{sep}{}", query.finish());
    send(
        302,
        &[
            ("Location", location.as_bytes()),
            ("Content-Type", b"text/html"),
        ],
        b"<p>Redirecting</p>",
    )
}

/// The well-behaved vendor.
fn ok(state: &State, request: &Request, endpoint: &str) -> Action {
    let s = &state.secrets;
    match endpoint {
        "token" | "refresh" => json_response(
            200,
            &[],
            &json!({
                "access_token": s.access_token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": s.refresh_token,
            }),
        ),
        "authz" => {
            let redirect = request.form_param("redirect_uri").unwrap_or_default();
            let state_param = request.query_param("state").unwrap_or_default();
            redirect_back(&redirect, &[("code", &s.code), ("state", &state_param)])
        }
        "authorize" => {
            let redirect = request.query_param("redirect_uri").unwrap_or_default();
            let state_param = request.query_param("state").unwrap_or_default();
            let issuer = format!("http://127.0.0.1:{}", state.port);
            redirect_back(
                &redirect,
                &[("code", &s.code), ("state", &state_param), ("iss", &issuer)],
            )
        }
        _ => json_response(200, &[], &json!({"ok": true})),
    }
}

/// The server's answer to `request`.
pub fn respond(state: &State, request: &Request) -> Action {
    let Some((mode, endpoint)) = request.mode() else {
        return json_response(200, &[], &json!({"ok": true, "path": request.path}));
    };
    let s = &state.secrets;
    let v = victim(state, endpoint);
    match mode {
        "ok" => ok(state, request, endpoint),
        "iss_attacker" if endpoint == "authorize" => {
            let redirect = request.query_param("redirect_uri").unwrap_or_default();
            let state_param = request.query_param("state").unwrap_or_default();
            redirect_back(
                &redirect,
                &[
                    ("code", &s.code),
                    ("state", &state_param),
                    ("iss", "https://attacker.example"),
                ],
            )
        }
        "iss_attacker" | "callback_error_secret" | "iss_secret" if endpoint != "authorize" => {
            ok(state, request, endpoint)
        }
        "callback_error_secret" => {
            let redirect = request.query_param("redirect_uri").unwrap_or_default();
            let state_param = request.query_param("state").unwrap_or_default();
            let issuer = format!("http://127.0.0.1:{}", state.port);
            redirect_back(
                &redirect,
                &[
                    ("error", "access_denied"),
                    (
                        "error_description",
                        &format!("client {} may not use this scope", s.client_secret),
                    ),
                    ("state", &state_param),
                    ("iss", &issuer),
                ],
            )
        }
        "iss_secret" => {
            let redirect = request.query_param("redirect_uri").unwrap_or_default();
            let state_param = request.query_param("state").unwrap_or_default();
            redirect_back(
                &redirect,
                &[
                    ("code", &s.code),
                    ("state", &state_param),
                    ("iss", &s.client_secret),
                ],
            )
        }
        "html_200" => text(
            200,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html><html><head><title>Sign in</title></head><body>\
                 <h1>Welcome back</h1><form><input name=\"secret\" value=\"{}\">\
                 <p>Your secret: {v}</p></form></body></html>",
                html_escape(v)
            )
            .as_bytes(),
        ),
        "error_in_200" => json_response(
            200,
            &[],
            &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ),
        "desc_raw" => oauth_error(
            401,
            "invalid_client",
            &format!("the secret {v} is not valid for this client"),
        ),
        "desc_json_slash" => raw_json(
            401,
            &[],
            &format!(
                "{{\"error\":\"invalid_client\",\"error_description\":\"the secret {} is \
                 wrong\"}}",
                go_json(v)
            ),
        ),
        "desc_html" => oauth_error(
            401,
            "invalid_client",
            &format!(
                "the secret {} (also {}) is wrong",
                html_escape(v),
                html_escape(v).replace('/', "&#x2F;")
            ),
        ),
        "desc_percent" => oauth_error(
            401,
            "invalid_client",
            &format!(
                "got client_secret {} aka {} which is wrong",
                form_encode(v),
                form_encode(v).replace('+', "%20")
            ),
        ),
        "desc_base64" => oauth_error(
            401,
            "invalid_client",
            &format!(
                "secret digest {} / {} mismatch",
                b64_std(v.as_bytes()),
                b64_url_nopad(v.as_bytes())
            ),
        ),
        "desc_basic_echo" => {
            let auth = request.header("authorization").unwrap_or("none").to_owned();
            let www = format!("Basic realm=\"{auth}\"");
            json_response(
                401,
                &[("WWW-Authenticate", www.as_bytes())],
                &json!({
                    "error": "invalid_client",
                    "error_description": format!("we got Authorization: {auth} and refused it"),
                    "received": auth,
                }),
            )
        }
        "echo_request_body" => text(400, "text/plain", &request.body),
        "echo_request_json" => oauth_error(
            400,
            "invalid_request",
            &String::from_utf8_lossy(&request.body),
        ),
        "echo_request_in_500" => json_response(
            500,
            &[],
            &json!({
                "message": format!(
                    "cannot parse request: {}",
                    String::from_utf8_lossy(&request.body)
                ),
            }),
        ),
        "go_html_500" => raw_json(
            500,
            &[],
            &format!(
                "{{\"message\":\"<p>no client {}</p>\"}}",
                go_json(&html_escape(v))
            ),
        ),
        "error_uri_nested" => {
            let inner = format!("https://app.example/cb?secret={}", percent_encode(v));
            json_response(
                400,
                &[],
                &json!({
                    "error": "invalid_client",
                    "error_uri": format!(
                        "https://vendor.example/login?next={}",
                        percent_encode(&inner)
                    ),
                }),
            )
        }
        "request_id_b64_body" => {
            let id = b64_std(&request.body);
            json_response(
                400,
                &[("X-Request-Id", id.as_bytes())],
                &json!({"error": "invalid_request"}),
            )
        }
        "spaces_1592" => text(
            400,
            "text/plain",
            format!("{}{v}", " ".repeat(1592)).as_bytes(),
        ),
        "desc_spaces_1592" => {
            oauth_error(400, "invalid_client", &format!("{}{v}", " ".repeat(1592)))
        }
        "cut_secret" => text(
            400,
            "text/plain",
            format!("{}{v} end", "word ".repeat(39)).as_bytes(),
        ),
        "cut_secret_desc" => oauth_error(
            400,
            "invalid_client",
            &format!("{}{v} end", "word ".repeat(99)),
        ),
        "huge_body" => {
            let mut body = format!("{{\"error_description\":\"{}", json_inner(v)).into_bytes();
            body.resize(2 << 20, b'x');
            text(200, "application/json", &body)
        }
        "huge_chunked" => {
            let mut out = head(
                200,
                &[
                    ("Content-Type", b"application/json"),
                    ("Transfer-Encoding", b"chunked"),
                ],
            );
            let mut first = format!("{{\"pad\":\"{} ", json_inner(v)).into_bytes();
            first.resize(64 * 1024, b'x');
            let rest = vec![b'x'; 64 * 1024];
            for i in 0..32 {
                let chunk = if i == 0 { &first } else { &rest };
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            Action::Send(out)
        }
        "scan_boundary" => {
            let body = format!("{}{v}{}", " ".repeat(64 * 1024 - 4), "x".repeat(100));
            text(400, "text/plain", body.as_bytes())
        }
        "endless" => Action::Endless {
            head: head(
                200,
                &[
                    ("Content-Type", b"application/json"),
                    ("Transfer-Encoding", b"chunked"),
                ],
            ),
            chunk: framed(format!("{:<1024}", format!("{{\"pad\":\"{}", json_inner(v))).as_bytes()),
            every: Duration::from_millis(20),
        },
        "endless_100_continue" => Action::Endless {
            head: Vec::new(),
            chunk: b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(),
            every: Duration::from_millis(20),
        },
        "endless_headers" => Action::Endless {
            head: b"HTTP/1.1 200 OK\r\n".to_vec(),
            chunk: format!("X-Pad: {}\r\n", "a".repeat(1000)).into_bytes(),
            every: Duration::from_millis(5),
        },
        "slow_headers" => Action::Trickle {
            head: b"HTTP/1.1 200 OK\r\n".to_vec(),
            body: format!("X-Slow: {}\r\n\r\n", "z".repeat(100)).into_bytes(),
            every: Duration::from_millis(200),
        },
        "deep_json" => {
            let body = format!("{{\"a\":{}", "[".repeat(100_000));
            text(200, "application/json", body.as_bytes())
        }
        "status_999" => {
            let mut out =
                b"HTTP/1.1 999 \x1b]0;PWNED\x07\r\nContent-Type: application/json\r\n".to_vec();
            out.extend_from_slice(b"Content-Length: 2\r\nConnection: close\r\n\r\n{}");
            Action::Send(out)
        }
        "retry_after_25" => json_response(
            429,
            &[("Retry-After", b"25")],
            &json!({"message": "come back in 25 s"}),
        ),
        "slow_body" => {
            let mut body = format!("{{\"error\":\"x\",\"echo\":\"{}\"", json_inner(v)).into_bytes();
            body.resize(4096, b' ');
            Action::Trickle {
                head: head(
                    200,
                    &[
                        ("Content-Type", b"application/json"),
                        ("Content-Length", b"4096"),
                    ],
                ),
                body,
                every: Duration::from_millis(200),
            }
        }
        "stall" => Action::Stall,
        "reset" => Action::Reset,
        "close_no_answer" => Action::Close,
        "non_utf8" => {
            let mut body = b"\xff\xfe\xfd bad \xc3\x28 \x9b31m \x1b[2J ".to_vec();
            body.extend_from_slice(v.as_bytes());
            body.extend_from_slice(b" \xe9t\xe9 \x80\x81\x9b");
            text(400, "text/plain; charset=iso-8859-1", &body)
        }
        "bogus_length" => {
            let mut out = head(
                200,
                &[
                    ("Content-Type", b"application/json"),
                    ("Content-Length", b"500"),
                ],
            );
            out.extend_from_slice(b"{\"access_token\":\"ab");
            Action::Send(out)
        }
        "conflicting_length" => {
            let mut out = head(
                200,
                &[
                    ("Content-Type", b"application/json"),
                    ("Content-Length", b"10"),
                    ("Content-Length", b"20"),
                ],
            );
            out.extend_from_slice(b"{\"error\":\"x\",\"a\":\"b\"}");
            Action::Send(out)
        }
        "negative_length" => {
            let mut out = head(
                200,
                &[
                    ("Content-Type", b"application/json"),
                    ("Content-Length", b"-1"),
                ],
            );
            out.extend_from_slice(b"{\"error\":\"x\"}");
            Action::Send(out)
        }
        "escape_keys" => raw_json(
            200,
            &[],
            "{\"\\u001b]0;PWNED\\u0007\":\"x\",\"\\u001b[2J\":\"y\",\
             \"\\u202eevil\\u202c\":1,\"\\u009b31mred\":2,\"token_type\":\"bearer\"}",
        ),
        "secret_as_field" => text(
            200,
            "text/plain",
            format!("{}=1&token_type=bearer", form_encode(v)).as_bytes(),
        ),
        "secret_as_json_key" => {
            let mut object = serde_json::Map::new();
            object.insert(v.to_owned(), json!(1));
            object.insert("token_type".to_owned(), json!("bearer"));
            json_response(200, &[], &Value::Object(object))
        }
        "expires_inf" => token(state, json!("inf")),
        "expires_1e12" => raw_json(
            200,
            &[],
            &format!(
                "{{\"access_token\":\"{}\",\"token_type\":\"Bearer\",\"expires_in\":1e12}}",
                json_inner(&s.access_token)
            ),
        ),
        "expires_negative" => token(state, json!(-1)),
        "expires_zzz" => token(state, json!("zzz")),
        "expires_null" => token(state, Value::Null),
        "expires_zero" => token(state, json!(0)),
        "expires_huge_string" => token(state, json!("99999999999999999999999999999")),
        "token_type_mac" => json_response(
            200,
            &[],
            &json!({
                "access_token": s.access_token,
                "token_type": "mac",
                "mac_key": v,
                "mac_algorithm": "hmac-sha-256",
            }),
        ),
        "missing_access_token" => json_response(
            200,
            &[],
            &json!({
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": s.refresh_token,
                "id_token": s.access_token,
            }),
        ),
        "empty_body" => text(200, "application/json", b""),
        "redirect_302" | "redirect_307" => {
            let status = if mode == "redirect_302" { 302 } else { 307 };
            let location = format!("{}?client_secret={}", state.attacker_url(), form_encode(v));
            send(
                status,
                &[
                    ("Location", location.as_bytes()),
                    ("Content-Type", b"text/html"),
                ],
                format!("<a href=\"{}\">moved</a>", html_escape(&location)).as_bytes(),
            )
        }
        "unauthorized_www_auth" => {
            let www = format!(
                "Bearer realm=\"vendor\", error=\"invalid_token\", error_description=\"token \
                 {v} expired\""
            );
            json_response(
                401,
                &[("WWW-Authenticate", www.as_bytes())],
                &json!({"error": "invalid_token", "error_description": "see WWW-Authenticate"}),
            )
        }
        "retry_after_huge" => json_response(
            429,
            &[("Retry-After", b"1000000000")],
            &json!({"message": format!("slow down, {v}")}),
        ),
        "retry_after_date" => json_response(
            429,
            &[("Retry-After", b"Fri, 31 Dec 9999 23:59:59 GMT")],
            &json!({"message": "come back at the end of time"}),
        ),
        "flaky_503" => {
            if state.hit(mode) <= 3 {
                text(
                    503,
                    "text/plain",
                    format!("overloaded; your secret {v} is safe with us").as_bytes(),
                )
            } else {
                ok(state, request, endpoint)
            }
        }
        "request_id_secret" => {
            let id = format!("req-{v}");
            json_response(
                400,
                &[("X-Request-Id", id.as_bytes())],
                &json!({"error": "invalid_request"}),
            )
        }
        "request_id_control" => json_response(
            400,
            &[("X-Request-Id", b"req-\x1b]0;PWNED\x07-\x1b[2J")],
            &json!({"error": "invalid_request"}),
        ),
        "request_id_c1" => {
            let mut id = b"req-\xc2\x9b31m-\xe2\x80\xae-".to_vec();
            id.extend_from_slice(v.as_bytes());
            json_response(
                400,
                &[("X-Request-Id", &id)],
                &json!({"error": "invalid_request"}),
            )
        }
        "content_type_control" => send(
            400,
            &[("Content-Type", b"application/json\x1b[2J\x07")],
            b"{\"error\":\"invalid_request\"}",
        ),
        "content_type_secret" => {
            let ct = format!("text/html; charset=\"{v}\"");
            send(
                400,
                &[("Content-Type", ct.as_bytes())],
                b"<p>bad request</p>",
            )
        }
        "content_type_bidi" => send(
            400,
            &[("Content-Type", b"application/\xe2\x80\xaejson")],
            b"{\"error\":\"invalid_request\"}",
        ),
        "error_code_escape" => raw_json(
            400,
            &[],
            "{\"error\":\"\\u001b]0;PWNED\\u0007invalid_client\\u001b[2J\",\
             \"error_description\":\"\\u001b[31mred\\u001b[0m \\u0007 \\u009b2J \\u202eevil\"}",
        ),
        "error_uri_secret" => json_response(
            400,
            &[],
            &json!({
                "error": "invalid_client",
                "error_uri": format!(
                    "https://attacker.example/help?client_secret={}&echo={}",
                    form_encode(v),
                    form_encode(v).replace('+', "%20")
                ),
            }),
        ),
        "html_403" => text(
            403,
            "text/html",
            format!(
                "<html><body><h1>Forbidden</h1><p>{v}</p><p>{}</p></body></html>",
                html_escape(v)
            )
            .as_bytes(),
        ),
        "api_echo_body" => {
            let auth = request.header("authorization").unwrap_or("none");
            json_response(
                200,
                &[],
                &json!({
                    "you_sent": auth,
                    "echo": v,
                    "echo_html": html_escape(v),
                    "echo_form": form_encode(v),
                    "echo_b64": b64_std(v.as_bytes()),
                }),
            )
        }
        "api_echo_error" => raw_json(
            500,
            &[],
            &format!(
                "{{\"message\":\"internal error for {}\",\"html\":\"{}\",\"pct\":\"{}\",\
                 \"b64\":\"{}\"}}",
                go_json(v),
                html_escape(v),
                form_encode(v).replace('+', "%20"),
                b64_std(v.as_bytes())
            ),
        ),
        "api_echo_headers" => {
            let auth = request.header("authorization").unwrap_or("none").to_owned();
            let id = format!("req-{v}");
            let cookie = format!("sid={}; Path=/", form_encode(v));
            let www = format!("Bearer token=\"{v}\"");
            json_response(
                200,
                &[
                    ("X-Request-Id", id.as_bytes()),
                    ("Set-Cookie", cookie.as_bytes()),
                    ("WWW-Authenticate", www.as_bytes()),
                    ("X-Debug-Authorization", auth.as_bytes()),
                ],
                &json!({"ok": true}),
            )
        }
        "password_echo" => oauth_error(
            400,
            "access_denied",
            &format!(
                "user {} with password {v} ({}, {}, {}) is locked",
                s.username,
                html_escape(v),
                form_encode(v),
                b64_std(v.as_bytes())
            ),
        ),
        "password_location" => {
            let redirect = request.form_param("redirect_uri").unwrap_or_default();
            let state_param = request.query_param("state").unwrap_or_default();
            redirect_back(
                &redirect,
                &[
                    ("error", "access_denied"),
                    (
                        "error_description",
                        &format!("wrong password {v} for {}", s.username),
                    ),
                    ("state", &state_param),
                ],
            )
        }
        "password_html" => text(
            200,
            "text/html",
            format!(
                "<html><body><form><input name=\"username\" value=\"{}\">\
                 <input name=\"password\" value=\"{}\"><p>You typed {v}</p>\
                 <pre>{}</pre></form></body></html>",
                s.username,
                html_escape(v),
                String::from_utf8_lossy(&request.body)
            )
            .as_bytes(),
        ),
        "refresh_echo" => raw_json(
            400,
            &[],
            &format!(
                "{{\"error\":\"invalid_grant\",\"error_description\":\"refresh token {} \
                 ({}; {}; {}) was revoked\"}}",
                go_json(v),
                html_escape(v),
                form_encode(v),
                b64_std(v.as_bytes())
            ),
        ),
        "refresh_html" => text(
            200,
            "text/html",
            format!(
                "<html><body><p>Your refresh token {v} ({}) was used</p></body></html>",
                html_escape(v)
            )
            .as_bytes(),
        ),
        _ => json_response(404, &[], &json!({"error": "no_such_mode", "mode": mode})),
    }
}
