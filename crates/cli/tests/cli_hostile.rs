//! The `oauth-clients` binary against a hostile vendor (`tests/hostile/`): a server on 127.0.0.1
//! that knows the test's secrets and answers in dozens of hostile ways (echoed secrets in every
//! encoding, escape sequences, huge, endless and slow bodies, resets, absurd retry hints,
//! redirects to other hosts, an authorization callback from another issuer).
//!
//! Every run has `RUST_LOG=trace` and is checked for: its exit status (0 success, 1 vendor or
//! network failure, 2 usage or descriptor error), a specific part of its message, no known
//! secret on stdout or stderr in any encoding (raw, JSON-, HTML-, percent- and form-encoded,
//! base64, the Basic credentials), and no control character on stderr but `\n`. The one
//! exception: the token a successful `token` prints may be on its stdout.

mod hostile;

use std::time::Duration;

use hostile::harness::{
    CHILD_LIMIT, Descriptor, Outcome, Running, TempDir, Verdict, http_get, oauth_clients, run,
    through_sh,
};
use hostile::{ConnectionRecorder, HostileServer, MODES, Secrets};
use serde_json::Value;

/// `--timeout` of ordinary runs (a safety net: they should end at once).
const TIMEOUT: &str = "5";
/// `--timeout` of runs against a vendor that never finishes answering.
const SHORT_TIMEOUT: u64 = 3;
/// How much longer than its `--timeout` a run may take (process start, slow machine).
const SLACK: Duration = Duration::from_secs(4);

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// The arguments of `token --grant client_credentials` against `mode` at the token endpoint.
fn token_args(
    server: &HostileServer,
    dir: &TempDir,
    mode: &str,
    auth: &'static str,
) -> Vec<String> {
    let mut descriptor = Descriptor::client_credentials(&server.base(), mode, "ok");
    descriptor.client_auth = auth;
    let path = descriptor.write(dir);
    strings(&[
        "token",
        "--descriptor",
        &path,
        "--grant",
        "client_credentials",
    ])
}

/// Runs `token --grant client_credentials` against `mode`.
fn token_run(server: &HostileServer, mode: &str, auth: &'static str, extra: &[&str]) -> Outcome {
    let dir = TempDir::new(mode);
    let args = token_args(server, &dir, mode, auth);
    let mut command = oauth_clients(server.secrets());
    command.args(&args).args(extra);
    if !extra.contains(&"--timeout") {
        command.args(["--timeout", TIMEOUT]);
    }
    run(&format!("token against {mode}"), &mut command)
}

/// The checks every failed run must pass.
fn failed<'a>(outcome: &'a Outcome, server: &HostileServer, code: i32) -> Verdict<'a> {
    Verdict::new(outcome)
        .exit(code)
        .stdout_empty()
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
}

/// `token` against `mode` must fail with exit 1, saying each of `needles`, leaking nothing.
fn token_refused(mode: &str, auth: &'static str, needles: &[&str]) {
    let server = HostileServer::start(Secrets::standard());
    let outcome = token_run(&server, mode, auth, &[]);
    let mut verdict = failed(&outcome, &server, 1);
    for needle in needles {
        verdict = verdict.stderr_has(needle);
    }
    verdict.finish();
}

/// `token` against `mode` must succeed; the token JSON it printed.
fn token_accepted(mode: &str) -> (Value, String) {
    let server = HostileServer::start(Secrets::standard());
    let outcome = token_run(&server, mode, "client_secret_post", &[]);
    let access = server.secrets().access_token.clone();
    Verdict::new(&outcome)
        .exit(0)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[&access])
        .finish();
    let token: Value = serde_json::from_slice(&outcome.stdout).expect("token JSON on stdout");
    assert_eq!(token["access_token"], access.as_str(), "{}", outcome.dump());
    (token, outcome.stderr_text())
}

/// `token` against a vendor that never finishes: exit 1 within `--timeout`.
fn token_gives_up(mode: &str) {
    let server = HostileServer::start(Secrets::standard());
    let timeout = SHORT_TIMEOUT.to_string();
    let outcome = token_run(
        &server,
        mode,
        "client_secret_post",
        &["--timeout", &timeout],
    );
    failed(&outcome, &server, 1)
        .stderr_has("did not answer in time")
        .stderr_has("hint: --timeout SECS")
        .within(Duration::from_secs(SHORT_TIMEOUT) + SLACK)
        .finish();
}

const LIFETIME_CAP: u64 = 365 * 24 * 3600;

fn lifetime(token: &Value) -> Option<u64> {
    Some(token["expires_at"].as_u64()? - token["issued_at"].as_u64()?)
}

// ---------------------------------------------------------------------------------------------
// The token endpoint: what the vendor says.

#[test]
fn html_200() {
    token_refused(
        "html_200",
        "client_secret_post",
        &[
            "the body is neither a JSON object nor form-encoded fields",
            "(HTTP 200)",
            "content type: text/html",
        ],
    );
}

#[test]
fn error_in_200() {
    token_refused(
        "error_in_200",
        "client_secret_post",
        &[
            "refused the client credentials (HTTP 200): invalid_client",
            "oauth error: invalid_client",
            "hint: check --client-id",
        ],
    );
}

#[test]
fn desc_raw() {
    token_refused(
        "desc_raw",
        "client_secret_post",
        &["invalid_client", "[redacted]"],
    );
}

#[test]
fn desc_json_slash() {
    token_refused(
        "desc_json_slash",
        "client_secret_post",
        &["invalid_client", "[redacted]"],
    );
}

#[test]
fn desc_html() {
    token_refused(
        "desc_html",
        "client_secret_post",
        &["invalid_client", "[redacted]"],
    );
}

#[test]
fn desc_percent() {
    token_refused(
        "desc_percent",
        "client_secret_post",
        &["invalid_client", "[redacted]"],
    );
}

#[test]
fn desc_base64() {
    token_refused(
        "desc_base64",
        "client_secret_post",
        &["invalid_client", "[redacted]"],
    );
}

#[test]
fn desc_basic_echo() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = token_run(&server, "desc_basic_echo", "client_secret_basic", &[]);
    let sent = server.requests_to("desc_basic_echo");
    assert!(
        sent.iter().all(|r| r
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))),
        "the client did not authenticate with Basic: {:?}",
        sent.iter()
            .map(|r| r.header("authorization"))
            .collect::<Vec<_>>()
    );
    failed(&outcome, &server, 1)
        .stderr_has("invalid_client")
        .stderr_has("[redacted]")
        .finish();
}

#[test]
fn echo_request_body() {
    token_refused(
        "echo_request_body",
        "client_secret_post",
        &["HTTP 400 without an OAuth error", "body starts:"],
    );
}

#[test]
fn echo_request_json() {
    token_refused(
        "echo_request_json",
        "client_secret_post",
        &["invalid_request", "oauth error: invalid_request"],
    );
}

#[test]
fn spaces_1592() {
    token_refused(
        "spaces_1592",
        "client_secret_post",
        &["HTTP 400 without an OAuth error", "body starts: [redacted]"],
    );
}

#[test]
fn desc_spaces_1592() {
    token_refused(
        "desc_spaces_1592",
        "client_secret_post",
        &["invalid_client", "[redacted]"],
    );
}

#[test]
fn cut_secret() {
    token_refused(
        "cut_secret",
        "client_secret_post",
        &["HTTP 400 without an OAuth error", "body starts: word word"],
    );
}

#[test]
fn cut_secret_desc() {
    token_refused(
        "cut_secret_desc",
        "client_secret_post",
        &["invalid_client", "(word word"],
    );
}

#[test]
fn scan_boundary() {
    token_refused(
        "scan_boundary",
        "client_secret_post",
        &["HTTP 400 without an OAuth error"],
    );
}

#[test]
fn non_utf8() {
    token_refused(
        "non_utf8",
        "client_secret_post",
        &["HTTP 400 without an OAuth error", "body starts:"],
    );
}

#[test]
fn escape_keys() {
    token_refused(
        "escape_keys",
        "client_secret_post",
        &[
            "no `access_token` string in the answer (fields:",
            "token_type",
            "PWNED",
        ],
    );
}

#[test]
fn secret_as_field() {
    token_refused(
        "secret_as_field",
        "client_secret_post",
        &[
            "no `access_token` string in the answer (fields:",
            "token_type",
        ],
    );
}

#[test]
fn secret_as_json_key() {
    token_refused(
        "secret_as_json_key",
        "client_secret_post",
        &[
            "no `access_token` string in the answer (fields:",
            "token_type",
        ],
    );
}

#[test]
fn token_type_mac() {
    token_refused(
        "token_type_mac",
        "client_secret_post",
        &["token type `mac` is not supported"],
    );
}

#[test]
fn missing_access_token() {
    token_refused(
        "missing_access_token",
        "client_secret_post",
        &[
            "no `access_token` string in the answer (fields:",
            "refresh_token",
        ],
    );
}

#[test]
fn empty_body() {
    token_refused(
        "empty_body",
        "client_secret_post",
        &["empty body where a token was expected", "(HTTP 200)"],
    );
}

#[test]
fn unauthorized_www_auth() {
    token_refused(
        "unauthorized_www_auth",
        "client_secret_basic",
        &["(HTTP 401): invalid_token", "http status: 401"],
    );
}

#[test]
fn request_id_secret() {
    token_refused(
        "request_id_secret",
        "client_secret_post",
        &["invalid_request", "request id: req-[redacted]"],
    );
}

#[test]
fn request_id_control() {
    // httparse refuses ESC and BEL in a header value: the answer is unreadable.
    token_refused(
        "request_id_control",
        "client_secret_post",
        &["could not reach", "/mode/request_id_control/token"],
    );
}

#[test]
fn request_id_c1() {
    token_refused("request_id_c1", "client_secret_post", &["invalid_request"]);
}

#[test]
fn content_type_control() {
    token_refused(
        "content_type_control",
        "client_secret_post",
        &["could not reach", "/mode/content_type_control/token"],
    );
}

#[test]
fn content_type_secret() {
    token_refused(
        "content_type_secret",
        "client_secret_post",
        &["HTTP 400 without an OAuth error", "content type: text/html"],
    );
}

#[test]
fn content_type_bidi() {
    token_refused(
        "content_type_bidi",
        "client_secret_post",
        &["invalid_request"],
    );
}

#[test]
fn error_code_escape() {
    token_refused(
        "error_code_escape",
        "client_secret_post",
        &["\\u{1b}]0;PWNED\\u{7}invalid_client"],
    );
}

#[test]
fn error_uri_secret() {
    token_refused(
        "error_uri_secret",
        "client_secret_post",
        &[
            "invalid_client",
            "see https://attacker.example/help?client_secret=[redacted]",
        ],
    );
}

#[test]
fn go_html_500() {
    token_refused(
        "go_html_500",
        "client_secret_post",
        &["HTTP 500 without an OAuth error", "http status: 500"],
    );
}

#[test]
fn echo_request_in_500() {
    token_refused(
        "echo_request_in_500",
        "client_secret_post",
        &["HTTP 500 without an OAuth error", "cannot parse request"],
    );
}

/// The request body is JSON, so the echo in a JSON message escapes the secret twice.
#[test]
fn echo_request_in_500_of_a_json_request() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("echo_request_in_500-json");
    let mut descriptor =
        Descriptor::client_credentials(&server.base(), "echo_request_in_500", "ok");
    descriptor.encoding = "json";
    let path = descriptor.write(&dir);
    let outcome = run(
        "JSON token request against echo_request_in_500",
        oauth_clients(server.secrets()).args([
            "token",
            "--descriptor",
            &path,
            "--grant",
            "client_credentials",
            "--timeout",
            TIMEOUT,
        ]),
    );
    failed(&outcome, &server, 1)
        .stderr_has("HTTP 500 without an OAuth error")
        .stderr_has("cannot parse request")
        .finish();
}

#[test]
fn error_uri_nested() {
    token_refused(
        "error_uri_nested",
        "client_secret_post",
        &["invalid_client", "see https://vendor.example/login?next="],
    );
}

#[test]
fn request_id_b64_body() {
    token_refused(
        "request_id_b64_body",
        "client_secret_post",
        &["invalid_request", "request id: "],
    );
}

#[test]
fn html_403() {
    token_refused(
        "html_403",
        "client_secret_post",
        &["HTTP 403 without an OAuth error", "content type: text/html"],
    );
}

// ---------------------------------------------------------------------------------------------
// The token endpoint: odd expiries.

#[test]
fn expires_inf() {
    let (token, stderr) = token_accepted("expires_inf");
    assert_eq!(lifetime(&token), Some(LIFETIME_CAP), "{token}");
    assert!(stderr.contains("capped at a year"), "stderr: {stderr}");
}

#[test]
fn expires_1e12() {
    let (token, stderr) = token_accepted("expires_1e12");
    assert_eq!(lifetime(&token), Some(LIFETIME_CAP), "{token}");
    assert!(stderr.contains("capped at a year"), "stderr: {stderr}");
}

#[test]
fn expires_huge_string() {
    let (token, stderr) = token_accepted("expires_huge_string");
    assert_eq!(lifetime(&token), Some(LIFETIME_CAP), "{token}");
    assert!(stderr.contains("capped at a year"), "stderr: {stderr}");
}

#[test]
fn expires_null() {
    let (token, _) = token_accepted("expires_null");
    assert!(token.get("expires_at").is_none(), "{token}");
}

#[test]
fn expires_zero() {
    let (token, _) = token_accepted("expires_zero");
    assert!(token.get("expires_at").is_none(), "{token}");
}

#[test]
fn expires_negative() {
    token_refused(
        "expires_negative",
        "client_secret_post",
        &["`expires_in` is negative"],
    );
}

#[test]
fn expires_zzz() {
    token_refused(
        "expires_zzz",
        "client_secret_post",
        &["`expires_in` is not a number"],
    );
}

// ---------------------------------------------------------------------------------------------
// The token endpoint: how the vendor answers.

#[test]
fn huge_body() {
    token_refused(
        "huge_body",
        "client_secret_post",
        &["the body is larger than 1024 KiB and was not read"],
    );
}

#[test]
fn huge_chunked() {
    token_refused(
        "huge_chunked",
        "client_secret_post",
        &["the body is larger than 1024 KiB and was not read"],
    );
}

#[test]
fn endless() {
    token_gives_up("endless");
}

#[test]
fn slow_body() {
    token_gives_up("slow_body");
}

#[test]
fn stall() {
    token_gives_up("stall");
}

#[test]
fn endless_100_continue() {
    token_gives_up("endless_100_continue");
}

#[test]
fn slow_headers() {
    token_gives_up("slow_headers");
}

/// hyper refuses a head past its limit, or the deadline ends the wait: exit 1 in time, either way.
#[test]
fn endless_headers() {
    let server = HostileServer::start(Secrets::standard());
    let timeout = SHORT_TIMEOUT.to_string();
    let outcome = token_run(
        &server,
        "endless_headers",
        "client_secret_post",
        &["--timeout", &timeout],
    );
    failed(&outcome, &server, 1)
        .stderr_has("/mode/endless_headers/token")
        .within(Duration::from_secs(SHORT_TIMEOUT) + SLACK)
        .finish();
}

#[test]
fn deep_json() {
    token_refused(
        "deep_json",
        "client_secret_post",
        &["the body is neither a JSON object nor form-encoded fields"],
    );
}

#[test]
fn status_999() {
    token_refused(
        "status_999",
        "client_secret_post",
        &["could not reach", "invalid HTTP status-code"],
    );
}

#[test]
fn retry_after_25() {
    absurd_retry_after("retry_after_25");
}

#[test]
fn reset() {
    token_refused(
        "reset",
        "client_secret_post",
        &["could not reach", "(after 3 attempts)"],
    );
}

#[test]
fn close_no_answer() {
    token_refused(
        "close_no_answer",
        "client_secret_post",
        &["could not reach", "(after 3 attempts)"],
    );
}

#[test]
fn bogus_length() {
    token_refused(
        "bogus_length",
        "client_secret_post",
        &["could not reach", "/mode/bogus_length/token"],
    );
}

#[test]
fn conflicting_length() {
    token_refused(
        "conflicting_length",
        "client_secret_post",
        &["could not reach", "/mode/conflicting_length/token"],
    );
}

#[test]
fn negative_length() {
    token_refused(
        "negative_length",
        "client_secret_post",
        &["could not reach", "/mode/negative_length/token"],
    );
}

fn redirect(mode: &str, status: &str) {
    let server = HostileServer::start(Secrets::standard());
    let attacker = ConnectionRecorder::start();
    server.set_attacker(&format!("http://127.0.0.1:{}/steal", attacker.port()));
    let outcome = token_run(&server, mode, "client_secret_post", &[]);
    let mut verdict = failed(&outcome, &server, 1)
        .stderr_has("the token endpoint answered with a redirect, which is not followed")
        .stderr_has(status);
    if attacker.connections() != 0 {
        verdict.problem(format!(
            "the redirect was followed: the other host got {} connection(s)",
            attacker.connections()
        ));
    }
    verdict.finish();
}

#[test]
fn redirect_302() {
    redirect("redirect_302", "(HTTP 302)");
}

#[test]
fn redirect_307() {
    redirect("redirect_307", "(HTTP 307)");
}

fn absurd_retry_after(mode: &str) {
    let server = HostileServer::start(Secrets::standard());
    let outcome = token_run(&server, mode, "client_secret_post", &[]);
    let mut verdict = failed(&outcome, &server, 1)
        .stderr_has("HTTP 429 without an OAuth error")
        .within(Duration::from_secs(5));
    let attempts = server.requests_to(mode).len();
    if attempts != 1 {
        verdict.problem(format!(
            "{attempts} requests: a Retry-After beyond the deadline must not be waited for or \
             retried"
        ));
    }
    verdict.finish();
}

#[test]
fn retry_after_huge() {
    absurd_retry_after("retry_after_huge");
}

#[test]
fn retry_after_date() {
    absurd_retry_after("retry_after_date");
}

#[test]
fn flaky_503_then_success() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = token_run(
        &server,
        "flaky_503",
        "client_secret_post",
        &["--retries", "3"],
    );
    let s = server.secrets();
    let mut verdict = Verdict::new(&outcome)
        .exit(0)
        .clean_stderr()
        .no_secrets(s, &[], &[&s.access_token, &s.refresh_token])
        .stderr_has("retrying");
    let attempts = server.requests_to("flaky_503").len();
    if attempts != 4 {
        verdict.problem(format!(
            "{attempts} requests, expected 4 (3 × 503, then 200)"
        ));
    }
    if !outcome.stdout_text().contains("\"access_token\"") {
        verdict.problem("no token on stdout".to_owned());
    }
    verdict.finish();
}

#[test]
fn flaky_503_beyond_the_retries() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = token_run(&server, "flaky_503", "client_secret_post", &[]);
    let mut verdict = failed(&outcome, &server, 1)
        .stderr_has("HTTP 503 without an OAuth error")
        .stderr_has("http status: 503");
    let attempts = server.requests_to("flaky_503").len();
    if attempts != 3 {
        verdict.problem(format!(
            "{attempts} requests, expected 3 (--retries 2 by default)"
        ));
    }
    verdict.finish();
}

// ---------------------------------------------------------------------------------------------
// `call`: the API echoes the bearer token.

/// `call GET things` with a token from `/mode/ok/token` and the API at `/mode/<mode>/api/`.
fn call_run(server: &HostileServer, mode: &str, timeout: &str) -> Outcome {
    let dir = TempDir::new(mode);
    let path = Descriptor::client_credentials(&server.base(), "ok", mode).write(&dir);
    run(
        &format!("call against {mode}"),
        oauth_clients(server.secrets()).args([
            "call",
            "--descriptor",
            &path,
            "GET",
            "things",
            "--timeout",
            timeout,
        ]),
    )
}

#[test]
fn api_echo_body() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "api_echo_body", TIMEOUT);
    Verdict::new(&outcome)
        .exit(0)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
        .finish();
}

#[test]
fn api_echo_error() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "api_echo_error", TIMEOUT);
    Verdict::new(&outcome)
        .exit(1)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
        .stderr_has("API request to")
        .stderr_has("failed (HTTP 500)")
        .finish();
}

#[test]
fn api_echo_headers() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "api_echo_headers", TIMEOUT);
    Verdict::new(&outcome)
        .exit(0)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
        .stderr_has("request id: req-[redacted]")
        .finish();
    assert_eq!(outcome.stdout_text().trim(), r#"{"ok":true}"#);
}

#[test]
fn api_unauthorized_www_auth() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "unauthorized_www_auth", TIMEOUT);
    failed(&outcome, &server, 1)
        .stderr_has("authorization required")
        .finish();
}

#[test]
fn api_html_403() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "html_403", TIMEOUT);
    Verdict::new(&outcome)
        .exit(1)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
        .stderr_has("failed (HTTP 403)")
        .finish();
}

#[test]
fn api_request_id_c1() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "request_id_c1", TIMEOUT);
    Verdict::new(&outcome)
        .exit(1)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
        .stderr_has("failed (HTTP 400)")
        .finish();
}

#[test]
fn api_go_html_500() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "go_html_500", TIMEOUT);
    Verdict::new(&outcome)
        .exit(1)
        .clean_stderr()
        .no_secrets(server.secrets(), &[], &[])
        .stderr_has("failed (HTTP 500)")
        .finish();
}

#[test]
fn api_endless() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "endless", &SHORT_TIMEOUT.to_string());
    failed(&outcome, &server, 1)
        .stderr_has("did not answer in time")
        .within(Duration::from_secs(SHORT_TIMEOUT) + SLACK)
        .finish();
}

#[test]
fn api_reset() {
    let server = HostileServer::start(Secrets::standard());
    let outcome = call_run(&server, "reset", TIMEOUT);
    failed(&outcome, &server, 1)
        .stderr_has("could not reach")
        .finish();
}

/// `call --rewrite-url https://api.vendor.example/api/v3/=http://127.0.0.1:A GET
/// @127.0.0.1:B/api/steal`: the request goes to A, B gets nothing.
#[test]
fn call_path_with_an_at_sign_stays_on_the_rewrite_target() {
    let server = HostileServer::start(Secrets::standard());
    let other = ConnectionRecorder::start();
    let dir = TempDir::new("at-sign");
    let mut descriptor = Descriptor::client_credentials(&server.base(), "ok", "ok");
    descriptor.api_base = Some("https://api.vendor.example/api/v3/".to_owned());
    let path = descriptor.write(&dir);
    let steal = format!("@127.0.0.1:{}/api/steal", other.port());
    let outcome = run(
        "call with an @ path",
        oauth_clients(server.secrets())
            .args(["call", "--descriptor", &path, "GET", &steal])
            .arg("--rewrite-url")
            .arg(format!(
                "https://api.vendor.example/api/v3/=http://127.0.0.1:{}",
                server.port()
            ))
            .args(["--timeout", TIMEOUT]),
    );
    let mut verdict =
        Verdict::new(&outcome)
            .exit(0)
            .clean_stderr()
            .no_secrets(server.secrets(), &[], &[]);
    if other.connections() != 0 {
        verdict.problem(format!(
            "127.0.0.1:{} got {} connection(s): the token left the rewrite target",
            other.port(),
            other.connections()
        ));
    }
    let api: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/api/steal"))
        .collect();
    if api.len() != 1 {
        verdict.problem(format!(
            "the rewrite target got {} request(s) for /api/steal, expected 1; it got: {:?}",
            api.len(),
            server
                .requests()
                .iter()
                .map(|r| r.target.clone())
                .collect::<Vec<_>>()
        ));
    }
    verdict.finish();
}

// ---------------------------------------------------------------------------------------------
// The legacy credentials flow: the vendor echoes the password.

/// `token --grant legacy_credentials` with the password in OAUTH_PASSWORD, `authz_mode` at the
/// credentials endpoint; `store` adds `--store file:...`.
fn legacy_run(
    server: &HostileServer,
    dir: &TempDir,
    authz_mode: &str,
    store: Option<&str>,
) -> Outcome {
    let path = Descriptor::legacy(&server.base(), authz_mode, "ok").write(dir);
    let mut command = oauth_clients(server.secrets());
    command.args([
        "token",
        "--descriptor",
        &path,
        "--grant",
        "legacy_credentials",
        "--redirect-uri",
        "https://integration.example/callback",
        "--timeout",
        TIMEOUT,
    ]);
    if let Some(store) = store {
        command.args(["--store", store]);
    }
    run(
        &format!("legacy credentials against {authz_mode}"),
        &mut command,
    )
}

fn password_refused(mode: &str, needles: &[&str]) {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new(mode);
    let outcome = legacy_run(&server, &dir, mode, None);
    let mut verdict = failed(&outcome, &server, 1);
    for needle in needles {
        verdict = verdict.stderr_has(needle);
    }
    verdict.finish();
}

#[test]
fn password_echo() {
    password_refused(
        "password_echo",
        &["access_denied", "/mode/password_echo/authz"],
    );
}

#[test]
fn password_location() {
    password_refused(
        "password_location",
        &["refused the user's credentials", "access_denied"],
    );
}

#[test]
fn password_html() {
    password_refused(
        "password_html",
        &["expected a redirect (302) whose Location carries the authorization code"],
    );
}

/// The echo modes, aimed at the password: each failing mode is reported by name.
#[test]
fn password_echoed_by_every_echo_mode() {
    let mut failures = Vec::new();
    for mode in [
        "desc_raw",
        "desc_json_slash",
        "desc_html",
        "desc_percent",
        "desc_base64",
        "echo_request_body",
        "echo_request_json",
        "spaces_1592",
        "cut_secret",
        "cut_secret_desc",
        "error_uri_secret",
        "request_id_secret",
        "html_200",
    ] {
        let server = HostileServer::start(Secrets::standard());
        let dir = TempDir::new(mode);
        let outcome = legacy_run(&server, &dir, mode, None);
        let verdict = failed(&outcome, &server, 1).stderr_has("/authz");
        if let Err(panic) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verdict.finish()))
        {
            failures.push(format!("mode {mode}: {}", panic_text(&*panic)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Refreshing: the vendor echoes the stored refresh token.

/// Logs in with the legacy flow (storing a refresh token), then refreshes against `mode`.
fn refresh_run(server: &HostileServer, dir: &TempDir, mode: &str) -> Outcome {
    let store = format!("file:{}", dir.path().join("tokens.json").display());
    let first = legacy_run(server, dir, "ok", Some(&store));
    let s = server.secrets();
    Verdict::new(&first)
        .exit(0)
        .clean_stderr()
        .no_secrets(s, &[], &[&s.access_token, &s.refresh_token])
        .finish();
    let path = Descriptor::legacy(&server.base(), "ok", mode).write(dir);
    // Without the user's credentials: a refused refresh token is then final (with them, the
    // engine would run the legacy flow again).
    run(
        &format!("refresh against {mode}"),
        oauth_clients(server.secrets())
            .env_remove("OAUTH_USERNAME")
            .env_remove("OAUTH_PASSWORD")
            .args([
                "token",
                "--descriptor",
                &path,
                "--grant",
                "refresh_token",
                "--store",
                &store,
                "--timeout",
                TIMEOUT,
            ]),
    )
}

#[test]
fn refresh_echo() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("refresh_echo");
    let outcome = refresh_run(&server, &dir, "refresh_echo");
    failed(&outcome, &server, 1)
        .stderr_has("authorization required")
        .stderr_has("refused the refresh token")
        .stderr_has("invalid_grant")
        .finish();
}

#[test]
fn refresh_html() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("refresh_html");
    let outcome = refresh_run(&server, &dir, "refresh_html");
    failed(&outcome, &server, 1)
        .stderr_has("the body is neither a JSON object nor form-encoded fields")
        .finish();
}

/// The echo modes, aimed at the refresh token: each failing mode is reported by name.
#[test]
fn refresh_token_echoed_by_every_echo_mode() {
    let mut failures = Vec::new();
    for mode in [
        "desc_raw",
        "desc_json_slash",
        "desc_html",
        "desc_percent",
        "desc_base64",
        "echo_request_body",
        "echo_request_json",
        "spaces_1592",
        "desc_spaces_1592",
        "cut_secret",
        "missing_access_token",
        "secret_as_field",
        "secret_as_json_key",
        "request_id_secret",
    ] {
        let server = HostileServer::start(Secrets::standard());
        let dir = TempDir::new(mode);
        let outcome = refresh_run(&server, &dir, mode);
        let verdict = failed(&outcome, &server, 1).stderr_has("/refresh");
        if let Err(panic) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verdict.finish()))
        {
            failures.push(format!("mode {mode}: {}", panic_text(&*panic)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The echo modes, aimed at the client secret sent as Basic credentials.
#[test]
fn basic_credentials_echoed_by_every_echo_mode() {
    let mut failures = Vec::new();
    for mode in [
        "desc_raw",
        "desc_json_slash",
        "desc_html",
        "desc_percent",
        "desc_base64",
        "echo_request_json",
        "spaces_1592",
        "cut_secret",
        "secret_as_field",
        "content_type_secret",
        "error_uri_secret",
    ] {
        let server = HostileServer::start(Secrets::standard());
        let outcome = token_run(&server, mode, "client_secret_basic", &[]);
        let verdict = failed(&outcome, &server, 1).stderr_has(mode);
        if let Err(panic) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verdict.finish()))
        {
            failures.push(format!("mode {mode}: {}", panic_text(&*panic)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The echo modes with a JSON token request (the secret sent JSON-encoded).
#[test]
fn json_token_request_echoed_by_every_echo_mode() {
    let mut failures = Vec::new();
    for mode in ["echo_request_body", "echo_request_json", "desc_json_slash"] {
        let server = HostileServer::start(Secrets::standard());
        let dir = TempDir::new(mode);
        let mut descriptor = Descriptor::client_credentials(&server.base(), mode, "ok");
        descriptor.encoding = "json";
        let path = descriptor.write(&dir);
        let outcome = run(
            mode,
            oauth_clients(server.secrets()).args([
                "token",
                "--descriptor",
                &path,
                "--grant",
                "client_credentials",
                "--timeout",
                TIMEOUT,
            ]),
        );
        let verdict = failed(&outcome, &server, 1).stderr_has(mode);
        if let Err(panic) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verdict.finish()))
        {
            failures.push(format!("mode {mode}: {}", panic_text(&*panic)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// `login`: the browser is the test.

/// Runs `login --no-browser` against `mode`'s authorize endpoint, follows the vendor's redirect
/// to the loopback receiver, and returns the process outcome and the page the receiver showed.
fn login_run(server: &HostileServer, dir: &TempDir, mode: &str) -> (Outcome, String) {
    let path = Descriptor::login(&server.base(), mode).write(dir);
    let running = Running::spawn(
        &format!("login against {mode}"),
        oauth_clients(server.secrets()).args([
            "login",
            "--descriptor",
            &path,
            "--no-browser",
            "--wait",
            "15",
            "--timeout",
            TIMEOUT,
        ]),
    );
    let url = running.stderr_line(CHILD_LIMIT, |line| line.starts_with("http://"));
    let page = match url {
        None => "login printed no authorize URL".to_owned(),
        Some(url) => match http_get(&url) {
            Ok((302, headers, _)) => {
                let location = headers
                    .iter()
                    .find(|(n, _)| n == "location")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                match http_get(&location) {
                    Ok((status, _, body)) => format!("{status} {body}"),
                    Err(err) => format!("the loopback receiver did not answer: {err}"),
                }
            }
            Ok((status, _, body)) => format!("the vendor answered {status}: {body}"),
            Err(err) => format!("the vendor did not answer: {err}"),
        },
    };
    (running.wait(CHILD_LIMIT), page)
}

#[test]
fn login_with_the_right_issuer_works() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("login-ok");
    let (outcome, page) = login_run(&server, &dir, "ok");
    let s = server.secrets();
    Verdict::new(&outcome)
        .exit(0)
        .clean_stderr()
        .no_secrets(s, &[], &[&s.access_token, &s.refresh_token])
        .finish();
    assert!(page.contains("Login successful"), "page: {page}");
}

#[test]
fn iss_attacker() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("iss_attacker");
    let (outcome, page) = login_run(&server, &dir, "iss_attacker");
    let mut verdict = failed(&outcome, &server, 1)
        .stderr_has("the callback's issuer `https://attacker.example` is not the vendor's issuer")
        .stderr_has("possible mix-up attack");
    let exchanges = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token"))
        .count();
    if exchanges != 0 {
        verdict.problem(format!(
            "{exchanges} token request(s): the code of another issuer was exchanged"
        ));
    }
    if !page.starts_with("400") || !page.contains("Login failed") {
        verdict.problem(format!("the browser was shown: {page}"));
    }
    if page.contains(&server.secrets().code) {
        verdict.problem("the browser page shows the code".to_owned());
    }
    verdict.finish();
}

/// `login` against `mode`: exit 1 with each of `needles`, no token request, nothing leaked (on
/// stdout, stderr or the page the browser is shown).
fn login_refused(mode: &str, needles: &[&str]) {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new(mode);
    let (outcome, page) = login_run(&server, &dir, mode);
    let mut verdict = failed(&outcome, &server, 1);
    for needle in needles {
        verdict = verdict.stderr_has(needle);
    }
    let exchanges = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token"))
        .count();
    if exchanges != 0 {
        verdict.problem(format!(
            "{exchanges} token request(s) after a refused callback"
        ));
    }
    if !page.starts_with("400") || !page.contains("Login failed") {
        verdict.problem(format!("the browser was shown: {page}"));
    }
    for (name, secret) in server.secrets().all() {
        if page.contains(&secret[..8]) {
            verdict.problem(format!(
                "the page shown to the browser holds the {name}: {page}"
            ));
        }
    }
    verdict.finish();
}

#[test]
fn callback_error_secret() {
    login_refused(
        "callback_error_secret",
        &[
            "refused the authorization: access_denied",
            "oauth error: access_denied",
        ],
    );
}

#[test]
fn iss_secret() {
    login_refused(
        "iss_secret",
        &["is not the vendor's issuer", "possible mix-up attack"],
    );
}

// ---------------------------------------------------------------------------------------------
// The command line itself.

/// A descriptor is the vendor's text too: its deprecation note reaches stderr.
#[test]
fn descriptor_deprecation_note_with_escape_sequences() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("deprecated");
    let mut descriptor = Descriptor::client_credentials(&server.base(), "ok", "ok");
    descriptor.grants = "  client_credentials:\n    deprecated: \"use the \\e]0;PWNED\\a new \\e[2J \\u202eflow\"\n"
        .to_owned();
    let path = descriptor.write(&dir);
    let outcome = run(
        "token with a hostile deprecation note",
        oauth_clients(server.secrets()).args([
            "token",
            "--descriptor",
            &path,
            "--grant",
            "client_credentials",
            "--timeout",
            TIMEOUT,
        ]),
    );
    let s = server.secrets();
    Verdict::new(&outcome)
        .exit(0)
        .clean_stderr()
        .no_secrets(s, &[], &[&s.access_token, &s.refresh_token])
        .stderr_has("is deprecated by the vendor")
        .stderr_has("PWNED")
        .finish();
}

#[test]
fn alias_bomb_descriptor_is_refused_quickly() {
    let dir = TempDir::new("bomb");
    let mut yaml = String::from(
        "id: bomb\nname: Bomb\nendpoints:\n  token: https://bomb.example/token\ngrants: {}\n\
         x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..10 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        yaml.push_str(&format!("x{level}: &a{level} [{refs}]\n"));
    }
    let path = dir.write("bomb.yaml", &yaml);
    let outcome = run(
        "describe an alias bomb",
        oauth_clients(&Secrets::standard()).args(["describe", "--descriptor", &path]),
    );
    let mut verdict = Verdict::new(&outcome)
        .exit(2)
        .stdout_empty()
        .clean_stderr()
        .stderr_has("invalid descriptor")
        .within(Duration::from_secs(20));
    let stderr = outcome.stderr_text();
    let located = stderr.split("bomb.yaml:").skip(1).any(|rest| {
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().unwrap_or("");
        let column = parts.next().unwrap_or("");
        !line.is_empty()
            && line.chars().all(|c| c.is_ascii_digit())
            && !column.is_empty()
            && column.chars().all(|c| c.is_ascii_digit())
    });
    if !located {
        verdict.problem("stderr names no bomb.yaml:LINE:COLUMN".to_owned());
    }
    verdict.finish();
}

#[test]
fn token_with_stdout_closed_exits_1_and_does_nothing() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("stdout-closed");
    let args = token_args(&server, &dir, "ok", "client_secret_post");
    let outcome = run(
        "token with stdout closed",
        &mut through_sh(server.secrets(), ">&-", &args),
    );
    let mut verdict = failed(&outcome, &server, 1).stderr_has("stdout is closed");
    let made = server.requests().len();
    if made != 0 {
        verdict.problem(format!(
            "{made} request(s) made although the result would be lost"
        ));
    }
    verdict.finish();
}

#[test]
fn stderr_closed_is_no_panic() {
    let server = HostileServer::start(Secrets::standard());
    for (mode, code) in [
        ("ok", 0),
        ("desc_raw", 1),
        ("error_code_escape", 1),
        ("reset", 1),
    ] {
        let dir = TempDir::new(mode);
        let args = token_args(&server, &dir, mode, "client_secret_post");
        let outcome = run(
            &format!("token against {mode} with stderr closed"),
            &mut through_sh(server.secrets(), "2>&-", &args),
        );
        let s = server.secrets();
        let printed = [s.access_token.as_str(), s.refresh_token.as_str()];
        let allowed: &[&str] = if code == 0 { &printed } else { &[] };
        Verdict::new(&outcome)
            .exit(code)
            .no_secrets(server.secrets(), &[], allowed)
            .finish();
    }
    // A usage error too.
    let outcome = run(
        "token with a bad --var and stderr closed",
        &mut through_sh(
            server.secrets(),
            "2>&-",
            &strings(&["token", "procurify", "--var", "no-equals-sign"]),
        ),
    );
    Verdict::new(&outcome).exit(2).stdout_empty().finish();
}

#[test]
fn undeclared_var_is_a_usage_error_that_does_not_echo_its_value() {
    let server = HostileServer::start(Secrets::standard());
    let dir = TempDir::new("var");
    let mut descriptor = Descriptor::client_credentials(&server.base(), "ok", "ok");
    descriptor.variables =
        "variables:\n  tenant:\n    description: The tenant.\n    pattern: '[a-z]+'\n".to_owned();
    descriptor.grants =
        "  client_credentials:\n    extra_params:\n      tenant: '{tenant}'\n".to_owned();
    let path = descriptor.write(&dir);
    let value = "Vv9kP2sLqW4/Zt7&Xc\"Rb<Nm+6%Hy 1Jd";
    let outcome = run(
        "token with an undeclared --var",
        oauth_clients(server.secrets()).args([
            "token",
            "--descriptor",
            &path,
            "--var",
            &format!("tennant={value}"),
            "--timeout",
            TIMEOUT,
        ]),
    );
    let mut verdict = Verdict::new(&outcome)
        .exit(2)
        .stdout_empty()
        .clean_stderr()
        .no_secrets(server.secrets(), &[value], &[])
        .stderr_has("unknown variable `tennant`")
        .stderr_has("did you mean `tenant`?")
        .stderr_has("hint: fix the name given with --var");
    let made = server.requests().len();
    if made != 0 {
        verdict.problem(format!(
            "{made} request(s) made with an invalid configuration"
        ));
    }
    verdict.finish();
}

/// Every mode of the server is exercised by a test of this file.
#[test]
fn every_mode_has_a_test() {
    let source = include_str!("cli_hostile.rs");
    let missing: Vec<&str> = MODES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !source.contains(&format!("\"{name}\"")))
        .collect();
    assert!(missing.is_empty(), "modes without a test: {missing:?}");
    assert!(MODES.len() >= 40, "{} modes", MODES.len());
}
