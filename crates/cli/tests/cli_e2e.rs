//! End-to-end tests of the built `oauth-clients` binary against the sandbox on 127.0.0.1.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use oauth_clients_sandbox::{Sandbox, SandboxConfig, Vendor};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

mod support;
use support::{finish_login, http_get, wait_and_drain};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

/// The binary with a clean environment: the sandbox's client, its rewrites, no inherited
/// OAUTH_* variables.
fn oauth_clients(sandbox: Option<&Sandbox>) -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "OAUTH_CLIENT_ID",
        "OAUTH_CLIENT_SECRET",
        "OAUTH_USERNAME",
        "OAUTH_PASSWORD",
        "OAUTH_CLIENTS_STORE_KEY",
    ] {
        command.env_remove(name);
    }
    if let Some(sandbox) = sandbox {
        command.env("OAUTH_CLIENT_ID", &sandbox.config().client_id);
        command.env("OAUTH_CLIENT_SECRET", &sandbox.config().client_secret);
    }
    command.stdin(Stdio::null());
    command
}

fn rewrite_args(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .rewrites()
        .into_iter()
        .flat_map(|(from, to)| ["--rewrite-url".to_owned(), format!("{from}={to}")])
        .collect()
}

fn run(command: &mut Command) -> Result<Output, std::io::Error> {
    command.output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "oauth-clients-cli-test-{}-{name}",
        std::process::id()
    ))
}

/// Removes a file store and the lock file beside it.
fn remove_store(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let _ = std::fs::remove_file(lock);
}

#[test]
fn providers_lists_every_seed_vendor_as_json() -> TestResult {
    let output = run(oauth_clients(None).args(["providers", "--json"]))?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let list: Value = serde_json::from_slice(&output.stdout)?;
    let ids: Vec<&str> = list
        .as_array()
        .ok_or("not an array")?
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    for id in ["procore", "procountor", "procurify", "procurios"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let procountor = list
        .as_array()
        .and_then(|l| l.iter().find(|p| p["id"] == "procountor"))
        .ok_or("no procountor")?;
    assert!(
        procountor["grants"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g == "legacy_credentials"))
    );
    assert_eq!(procountor["variables"][0], "company");
    Ok(())
}

#[test]
fn describe_json_shows_the_descriptor_and_no_secret() -> TestResult {
    let output = run(oauth_clients(None)
        .args(["describe", "procurify", "--json"])
        .env("OAUTH_CLIENT_SECRET", "do-not-print-me"))?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let described: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(
        described["endpoints"]["token"],
        "https://{domain}.procurify.com/oauth/token"
    );
    assert_eq!(
        described["grants"]["client_credentials"]["extra_params"]["audience"],
        "https://api.procurify.com/"
    );
    assert!(!text(&output.stdout).contains("do-not-print-me"));
    assert!(!text(&output.stderr).contains("do-not-print-me"));
    Ok(())
}

#[test]
fn unknown_vendor_is_a_usage_error() -> TestResult {
    let output = run(oauth_clients(None).args(["token", "nosuchvendor", "--client-id", "x"]))?;
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("unknown vendor `nosuchvendor`"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("procurify"), "stderr: {stderr}");
    Ok(())
}

#[test]
fn malformed_descriptor_is_a_usage_error_with_its_location() -> TestResult {
    let path = temp_path("broken.yaml");
    std::fs::write(
        &path,
        "id: broken\nname: Broken\nendpoints:\n  token: [not, a, string]\ngrants: {}\n",
    )?;
    let output = run(oauth_clients(None).args([
        "token",
        "--descriptor",
        &path.display().to_string(),
        "--client-id",
        "x",
    ]));
    let _ = std::fs::remove_file(&path);
    let output = output?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid descriptor"), "stderr: {stderr}");
    assert!(stderr.contains("broken.yaml:"), "stderr: {stderr}");
    Ok(())
}

#[test]
fn token_from_the_sandbox_goes_to_stdout_as_json() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let output = run(oauth_clients(Some(&sandbox))
        .args(["token", "procurify", "--var", "domain=acme"])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(
        token["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(token["vendor"], "procurify");
    assert!(!text(&output.stderr).contains("sandbox-secret"));
    assert_eq!(sandbox.token_requests(Vendor::Procurify), 1);
    Ok(())
}

#[test]
fn verbose_output_shows_the_token_request_span_and_no_secret() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    for verbose in ["-vv", "-vvv"] {
        let output = run(oauth_clients(Some(&sandbox))
            .env_remove("RUST_LOG")
            .args([verbose, "token", "procurify", "--var", "domain=acme"])
            .args(rewrite_args(&sandbox)))?;
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let token: Value = serde_json::from_slice(&output.stdout)?;
        let access = token["access_token"].as_str().ok_or("no access token")?;
        let stderr = text(&output.stderr);
        for field in [
            "oauth.token_request{",
            "vendor=procurify",
            "grant=client_credentials",
            "endpoint=http://127.0.0.1:",
            "status=200",
            "duration_ms=",
        ] {
            assert!(
                stderr.contains(field),
                "{verbose}: no `{field}` in: {stderr}"
            );
        }
        for secret in [access, sandbox.config().client_secret.as_str()] {
            assert!(
                !stderr.contains(secret),
                "{verbose} shows a secret: {stderr}"
            );
        }
    }
    Ok(())
}

#[test]
fn wrong_secret_exits_1_with_the_oauth_error() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let output = run(oauth_clients(Some(&sandbox))
        .env("OAUTH_CLIENT_SECRET", "wrong-secret")
        .args(["token", "procurify", "--var", "domain=acme"])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid_client"), "stderr: {stderr}");
    assert!(stderr.contains("401"), "stderr: {stderr}");
    assert!(!stderr.contains("wrong-secret"), "stderr: {stderr}");
    Ok(())
}

#[test]
fn oauth_errors_show_the_vendor_request_id() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let output = run(oauth_clients(Some(&sandbox))
        .env("OAUTH_CLIENT_SECRET", "wrong-secret")
        .args([
            "token",
            "procurios",
            "--var",
            "domain=api.craftbrouwers.nl",
            "--scope",
            "profile",
        ])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("request id: sandbox-"), "stderr: {stderr}");
    Ok(())
}

#[test]
fn missing_variable_is_a_usage_error() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let output = run(oauth_clients(Some(&sandbox))
        .args(["token", "procurify"])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("variable `domain`"), "stderr: {stderr}");
    assert!(stderr.contains("--var domain=VALUE"), "stderr: {stderr}");
    assert_eq!(sandbox.total_token_requests(), 0);
    Ok(())
}

#[test]
fn call_prints_the_body_and_the_request_id() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let output = run(oauth_clients(Some(&sandbox))
        .args([
            "call",
            "procurify",
            "GET",
            "vendors/",
            "--var",
            "domain=acme",
        ])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let body: Value = serde_json::from_slice(&output.stdout)?;
    assert!(body["data"].as_array().is_some_and(|d| !d.is_empty()));

    let output = run(oauth_clients(Some(&sandbox))
        .args([
            "call",
            "procurios",
            "POST",
            "some_api/endpoint",
            "--data",
            r#"{"key":"value"}"#,
            "--var",
            "domain=api.craftbrouwers.nl",
            "--scope",
            "profile",
        ])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let body: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(body["saved"]["key"], "value");
    assert!(text(&output.stderr).contains("request id: sandbox-"));
    Ok(())
}

#[test]
fn legacy_credentials_warns_with_the_vendors_deprecation_note() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let output = run(oauth_clients(Some(&sandbox))
        .env("OAUTH_USERNAME", &sandbox.config().username)
        .env("OAUTH_PASSWORD", &sandbox.config().password)
        .args([
            "token",
            "procountor",
            "--grant",
            "legacy_credentials",
            "--var",
            "company=14159",
            "--redirect-uri",
            "https://integration.example/callback",
        ])
        .args(rewrite_args(&sandbox)))?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("deprecated"), "stderr: {stderr}");
    assert!(stderr.contains("April 2021"), "stderr: {stderr}");
    assert!(!stderr.contains(&sandbox.config().password));
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(
        token["access_token"].as_str().map(|t| t.split('.').count()),
        Some(3)
    );
    assert!(token["refresh_token"].is_string());

    // Without the user's credentials the flow cannot run.
    let output = run(oauth_clients(Some(&sandbox))
        .args([
            "token",
            "procountor",
            "--grant",
            "legacy_credentials",
            "--var",
            "company=14159",
        ])
        .args(rewrite_args(&sandbox)))?;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("OAUTH_USERNAME"));
    Ok(())
}

#[test]
fn two_processes_sharing_a_file_store_make_one_token_request() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let store = temp_path("tokens.json");
    remove_store(&store);
    let spec = format!("file:{}", store.display());
    let spawn = || {
        oauth_clients(Some(&sandbox))
            .args([
                "token",
                "procurify",
                "--var",
                "domain=acme",
                "--store",
                &spec,
            ])
            .args(rewrite_args(&sandbox))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    let first = spawn()?;
    let second = spawn()?;
    let first = first.wait_with_output()?;
    let second = second.wait_with_output()?;
    let third = run(oauth_clients(Some(&sandbox))
        .args([
            "token",
            "procurify",
            "--var",
            "domain=acme",
            "--store",
            &spec,
        ])
        .args(rewrite_args(&sandbox)));
    remove_store(&store);
    let third = third?;
    for output in [&first, &second, &third] {
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let token =
        |o: &Output| -> Result<Value, serde_json::Error> { serde_json::from_slice(&o.stdout) };
    assert_eq!(
        token(&first)?["access_token"],
        token(&second)?["access_token"]
    );
    assert_eq!(
        token(&first)?["access_token"],
        token(&third)?["access_token"]
    );
    assert_eq!(sandbox.token_requests(Vendor::Procurify), 1);
    Ok(())
}

#[test]
fn a_store_key_keeps_tokens_encrypted_in_the_file() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let store = temp_path("encrypted-tokens.json");
    remove_store(&store);
    let spec = format!("file:{}", store.display());
    let key = format!("k1:{}", "QUJD".repeat(10) + "QUI=");
    let token = |key: Option<&str>| {
        let mut command = oauth_clients(Some(&sandbox));
        command
            .args([
                "token",
                "procurify",
                "--var",
                "domain=acme",
                "--store",
                &spec,
            ])
            .args(rewrite_args(&sandbox));
        if let Some(key) = key {
            command.env("OAUTH_CLIENTS_STORE_KEY", key);
        }
        run(&mut command)
    };
    let first = token(Some(&key))?;
    let dump = std::fs::read_to_string(&store).unwrap_or_default();
    let second = token(Some(&key))?;
    let requests = sandbox.token_requests(Vendor::Procurify);
    let other_key = token(Some(&format!("k1:{}", "A".repeat(43))))?;
    let after = token(Some(&key))?;
    let requests_after = sandbox.token_requests(Vendor::Procurify);
    remove_store(&store);
    for output in [&first, &second] {
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let access = serde_json::from_slice::<Value>(&first.stdout)?["access_token"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(!access.is_empty());
    assert!(
        !dump.contains(&access),
        "the file holds no token in clear: {dump}"
    );
    assert!(dump.contains("oauth-clients-encrypted-token"), "{dump}");
    let again = serde_json::from_slice::<Value>(&second.stdout)?;
    assert_eq!(
        again["access_token"],
        access.as_str(),
        "read back with the key"
    );
    assert_eq!(requests, 1);
    // Another key under the same id cannot read it and says so, without key material; the
    // token is left as it is (not replaced by a new one), and the right key still reads it.
    assert_eq!(
        other_key.status.code(),
        Some(1),
        "{}",
        text(&other_key.stderr)
    );
    let stderr = text(&other_key.stderr);
    assert!(
        stderr.contains("failed authentication with key `k1`"),
        "{stderr}"
    );
    assert!(!stderr.contains(&"A".repeat(43)), "{stderr}");
    let kept = serde_json::from_slice::<Value>(&after.stdout)?;
    assert_eq!(
        kept["access_token"],
        access.as_str(),
        "{}",
        text(&after.stderr)
    );
    assert_eq!(requests_after, 1, "no token was fetched to replace it");
    Ok(())
}

/// Reads stderr lines of a running `login` until the authorize URL appears.
async fn authorize_url_from(
    stderr: &mut BufReader<tokio::process::ChildStderr>,
    seen: &mut String,
) -> Result<String, Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout_at(deadline, stderr.read_line(&mut line)).await??;
        if n == 0 {
            return Err(format!("login ended before printing a URL: {seen}").into());
        }
        seen.push_str(&line);
        let line = line.trim();
        if line.starts_with("http://") || line.starts_with("https://") {
            return Ok(line.to_owned());
        }
    }
}

fn login_command(sandbox: &Sandbox, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::from(oauth_clients(Some(sandbox)));
    command
        .arg("login")
        .args(args)
        .args(rewrite_args(sandbox))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A spawned `login` that has printed its authorize URL.
struct Login {
    child: tokio::process::Child,
    stderr: BufReader<tokio::process::ChildStderr>,
    /// What it printed on stderr up to and with the URL.
    seen: String,
    url: String,
}

/// Spawns `command` (a [`login_command`]) and reads its stderr until the authorize URL.
async fn spawn_login(
    mut command: tokio::process::Command,
) -> Result<Login, Box<dyn std::error::Error>> {
    let mut child = command.spawn()?;
    let mut stderr = BufReader::new(child.stderr.take().ok_or("no stderr")?);
    let mut seen = String::new();
    let url = authorize_url_from(&mut stderr, &mut seen).await?;
    Ok(Login {
        child,
        stderr,
        seen,
        url,
    })
}

/// `login procurios --no-browser` with `extra`, for the tenant the sandbox serves.
fn procurios_login(sandbox: &Sandbox, extra: &[&str]) -> tokio::process::Command {
    let mut args = vec!["procurios", "--no-browser"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--var", "domain=api.craftbrouwers.nl", "--scope", "profile"]);
    login_command(sandbox, &args)
}

#[tokio::test]
async fn login_no_browser_completes_when_the_browser_follows_the_url() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let Login {
        child,
        stderr,
        seen,
        url,
    } = spawn_login(procurios_login(&sandbox, &[])).await?;
    assert!(url.starts_with(&sandbox.base_url()), "url: {url}");
    assert!(url.contains("state="), "url: {url}");

    // The test is the browser: the sandbox redirects to the loopback receiver.
    let page = http_get(&url).await?;
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let html = page.text().await?;
    assert!(html.contains("Login successful"), "page: {html}");

    let output = finish_login(child, stderr, seen).await?;
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string());
    Ok(())
}

#[tokio::test]
async fn login_oob_reads_the_pasted_code_from_stdin() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let store = temp_path("oob-tokens.json");
    remove_store(&store);
    let spec = format!("file:{}", store.display());
    let (url, output) = login_oob_with_url(&sandbox, &["procore", "--store", &spec]).await?;
    assert!(
        url.contains("urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"),
        "url: {url}"
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["refresh_token"].is_string());

    // The stored refresh token now serves `token --grant refresh_token`.
    let output = run(oauth_clients(Some(&sandbox))
        .args([
            "token",
            "procore",
            "--grant",
            "refresh_token",
            "--store",
            &spec,
        ])
        .args(rewrite_args(&sandbox)));
    remove_store(&store);
    let output = output?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let refreshed: Value = serde_json::from_slice(&output.stdout)?;
    assert_ne!(refreshed["access_token"], token["access_token"]);
    assert_eq!(sandbox.token_requests(Vendor::Procore), 2);
    Ok(())
}

#[test]
fn demo_runs_every_seed_vendor_against_the_in_process_sandbox() -> TestResult {
    let output = run(oauth_clients(None).arg("demo"))?;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        text(&output.stderr)
    );
    for vendor in ["procurios", "procurify", "procore", "procountor"] {
        assert!(stdout.contains(vendor), "{vendor} missing: {stdout}");
    }
    assert!(stdout.contains("legacy_credentials"));
    assert!(!stdout.contains("FAILED"));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("deprecated") && stderr.contains("April 2021"),
        "stderr: {stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn login_times_out_on_the_chosen_port_when_no_browser_comes_back() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let port_text = port.to_string();
    let Login {
        mut child,
        mut stderr,
        seen,
        url,
    } = spawn_login(procurios_login(
        &sandbox,
        &["--port", &port_text, "--wait", "1"],
    ))
    .await?;
    let redirect = format!("http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback");
    assert!(url.contains(&redirect), "url: {url}");
    let (status, rest) = wait_and_drain(&mut child, &mut stderr).await?;
    assert_eq!(status.code(), Some(1), "stderr: {seen}{rest}");
    assert!(
        rest.contains("no answer from the browser within 1 s"),
        "stderr: {seen}{rest}"
    );
    // The receiver is gone with the process.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    Ok(())
}

#[tokio::test]
async fn sandbox_command_prints_rewrites_and_stops_on_interrupt() -> TestResult {
    let mut child = tokio::process::Command::from(oauth_clients(None))
        .args(["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(20), stdout.read_line(&mut line)).await??;
    let rewrite = line
        .trim()
        .strip_prefix("--rewrite-url ")
        .ok_or(line.clone())?;
    let (_, to) = rewrite.split_once('=').ok_or("no FROM=TO")?;
    assert!(to.starts_with("http://127.0.0.1:"), "line: {line}");

    // The sandbox answers like the vendor: Procurify refuses a form body.
    let base = to.trim_end_matches('/');
    let base = &base[..base.rfind('/').ok_or("no vendor prefix")?];
    let response = oauth_clients_core::http_client_builder()
        .build()?
        .post(format!("{base}/procurify/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);

    let pid = child.id().ok_or("no pid")?;
    let interrupted = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    assert!(interrupted.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait()).await??;
    assert_eq!(status.code(), Some(0));
    Ok(())
}

#[tokio::test]
async fn login_with_a_run_time_descriptor_uses_pkce_that_the_sandbox_checks() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let seed = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../providers/procore.yaml"),
    )?;
    let with_pkce = seed.replace(
        "    out_of_band: true\n",
        "    out_of_band: true\n    pkce: supported\n",
    );
    assert_ne!(seed, with_pkce, "procore.yaml changed shape");
    let path = temp_path("procore-pkce.yaml");
    std::fs::write(&path, with_pkce)?;
    let descriptor = path.display().to_string();
    let result = async {
        let Login {
            mut child,
            mut stderr,
            seen,
            url,
        } = spawn_login(login_command(
            &sandbox,
            &["--descriptor", &descriptor, "--no-browser"],
        ))
        .await?;
        assert!(url.contains("code_challenge="), "url: {url}");
        assert!(url.contains("code_challenge_method=S256"), "url: {url}");
        let html = http_get(&url).await?.text().await?;
        assert!(html.contains("Login successful"), "page: {html}");
        let (status, rest) = wait_and_drain(&mut child, &mut stderr).await?;
        assert_eq!(status.code(), Some(0), "stderr: {seen}{rest}");
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = std::fs::remove_file(&path);
    result
}

/// A `redis-server` on a free loopback port, killed on drop.
struct Redis {
    child: std::process::Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_redis() -> Result<Option<Redis>, Box<dyn std::error::Error>> {
    let Ok(server) = which("redis-server") else {
        if std::env::var_os("CI").is_some() {
            return Err("redis-server is not installed; CI must install it".into());
        }
        eprintln!(
            "SKIPPED, NOT PASSED: redis-server is not installed, so the Redis store test did \
             not run (set CI=true to make this a failure; apt-get install redis-server)"
        );
        return Ok(None);
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(server)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let redis = Redis { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Some(redis));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("redis-server did not start".into())
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}

#[test]
fn two_processes_sharing_a_redis_store_make_one_token_request() -> TestResult {
    let Some(redis) = start_redis()? else {
        return Ok(());
    };
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let spec = format!("redis://127.0.0.1:{}/0", redis.port);
    let reuse = || {
        oauth_clients(Some(&sandbox))
            .args(["token", "procore", "--store", &spec])
            .args(rewrite_args(&sandbox))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    let first = reuse()?;
    let second = reuse()?;
    let first = first.wait_with_output()?;
    let second = second.wait_with_output()?;
    let third = reuse()?.wait_with_output()?;
    for output in [&first, &second, &third] {
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let access = |o: &Output| -> Result<Value, serde_json::Error> {
        serde_json::from_slice::<Value>(&o.stdout).map(|v| v["access_token"].clone())
    };
    assert_eq!(access(&first)?, access(&second)?);
    assert_eq!(access(&first)?, access(&third)?);
    assert_eq!(sandbox.token_requests(Vendor::Procore), 1);
    Ok(())
}

/// Runs `login <vendor> --oob --no-browser` with `args`, plays the browser, pastes the code,
/// and returns the process output.
async fn login_oob(sandbox: &Sandbox, args: &[&str]) -> Result<Output, Box<dyn std::error::Error>> {
    Ok(login_oob_with_url(sandbox, args).await?.1)
}

/// [`login_oob`], which also returns the authorize URL that `login` printed.
async fn login_oob_with_url(
    sandbox: &Sandbox,
    args: &[&str],
) -> Result<(String, Output), Box<dyn std::error::Error>> {
    let mut all = vec!["--oob", "--no-browser"];
    all.extend_from_slice(args);
    let mut command = login_command(sandbox, &all);
    command.stdin(Stdio::piped());
    let Login {
        mut child,
        stderr,
        seen,
        url,
    } = spawn_login(command).await?;
    let html = http_get(&url).await?.text().await?;
    let code = html
        .split("<code id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .ok_or("no code on the page")?
        .to_owned();
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin.write_all(format!("{code}\n").as_bytes()).await?;
    drop(stdin);
    let output = finish_login(child, stderr, seen).await?;
    Ok((url, output))
}

#[tokio::test]
async fn login_tokens_and_client_tokens_are_kept_apart_in_one_store() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let store = temp_path("apart-tokens.json");
    remove_store(&store);
    let spec = format!("file:{}", store.display());
    let result = async {
        let login = login_oob(&sandbox, &["procore", "--store", &spec]).await?;
        assert_eq!(login.status.code(), Some(0), "{}", text(&login.stderr));
        let user: Value = serde_json::from_slice(&login.stdout)?;
        assert_eq!(sandbox.token_requests(Vendor::Procore), 1);

        let token = |extra: &[&str]| {
            run(oauth_clients(Some(&sandbox))
                .args(["token", "procore", "--store", &spec])
                .args(extra)
                .args(rewrite_args(&sandbox)))
        };
        // The client's own token: a client credentials request, not the user's token.
        let client = token(&[])?;
        assert_eq!(client.status.code(), Some(0), "{}", text(&client.stderr));
        let client: Value = serde_json::from_slice(&client.stdout)?;
        assert_ne!(client["access_token"], user["access_token"]);
        assert_eq!(sandbox.token_requests(Vendor::Procore), 2);

        // --user: the user's token, reused from the store.
        let as_user = token(&["--user"])?;
        assert_eq!(as_user.status.code(), Some(0), "{}", text(&as_user.stderr));
        let as_user: Value = serde_json::from_slice(&as_user.stdout)?;
        assert_eq!(as_user["access_token"], user["access_token"]);

        // And the client's token did not replace it, nor it the client's.
        let again: Value = serde_json::from_slice(&token(&[])?.stdout)?;
        assert_eq!(again["access_token"], client["access_token"]);
        assert_eq!(sandbox.token_requests(Vendor::Procore), 2);

        // Another named user has no login yet.
        let other = token(&["--user=alice"])?;
        assert_eq!(other.status.code(), Some(1), "{}", text(&other.stderr));
        assert!(
            text(&other.stderr).contains("login"),
            "{}",
            text(&other.stderr)
        );

        // `call --user` uses the user's token.
        let call = run(oauth_clients(Some(&sandbox))
            .args(["call", "procore", "GET", "me", "--store", &spec, "--user"])
            .args(rewrite_args(&sandbox)))?;
        assert_eq!(call.status.code(), Some(0), "{}", text(&call.stderr));
        assert_eq!(sandbox.token_requests(Vendor::Procore), 2);

        // --user contradicts the client credentials grant.
        let both = token(&["--user", "--grant", "client_credentials"])?;
        assert_eq!(both.status.code(), Some(2));
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    remove_store(&store);
    result
}

#[tokio::test]
async fn two_processes_refreshing_the_login_token_make_one_refresh() -> TestResult {
    // A slow vendor, so that the two processes' refreshes overlap however late the second
    // one starts on a loaded machine: the second then waits for the first's lock and takes
    // its token instead of refreshing again.
    let sandbox =
        Sandbox::start(SandboxConfig::default().token_delay(Duration::from_millis(1500)))?;
    let store = temp_path("refresh-race.json");
    remove_store(&store);
    let spec = format!("file:{}", store.display());
    let result = async {
        let login = login_oob(&sandbox, &["procore", "--store", &spec]).await?;
        assert_eq!(login.status.code(), Some(0), "{}", text(&login.stderr));
        let refresh = || {
            tokio::process::Command::from(oauth_clients(Some(&sandbox)))
                .args([
                    "token",
                    "procore",
                    "--grant",
                    "refresh_token",
                    "--store",
                    &spec,
                ])
                .args(rewrite_args(&sandbox))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .output()
        };
        let (first, second) = tokio::join!(refresh(), refresh());
        let (first, second) = (first?, second?);
        for output in [&first, &second] {
            assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        }
        let first: Value = serde_json::from_slice(&first.stdout)?;
        let second: Value = serde_json::from_slice(&second.stdout)?;
        assert_eq!(first["access_token"], second["access_token"]);
        // One authorization code exchange and one refresh between the two processes.
        assert_eq!(sandbox.token_requests(Vendor::Procore), 2);
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    remove_store(&store);
    result
}

#[tokio::test]
async fn login_prints_the_token_even_when_the_store_fails() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    // A store whose directory cannot exist: its parent is a regular file.
    let blocker = temp_path("not-a-dir");
    std::fs::write(&blocker, "")?;
    let spec = format!("file:{}", blocker.join("tokens.json").display());
    let output = login_oob(&sandbox, &["procore", "--store", &spec]).await;
    let _ = std::fs::remove_file(&blocker);
    let output = output?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["refresh_token"].is_string(), "stdout: {token}");
    assert!(stderr.contains("could not be stored"), "stderr: {stderr}");
    Ok(())
}

#[test]
fn a_corrupt_store_file_is_reported_on_stderr_and_the_command_still_works() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let dir = temp_path("corrupt");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let store = dir.join("tokens.json");
    std::fs::write(&store, "{ this is not json")?;
    let spec = format!("file:{}", store.display());
    let output = run(oauth_clients(Some(&sandbox))
        .args([
            "token",
            "procurify",
            "--var",
            "domain=acme",
            "--store",
            &spec,
        ])
        .args(rewrite_args(&sandbox)));
    let _ = std::fs::remove_dir_all(&dir);
    let output = output?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("WARN") && stderr.contains("corrupt"),
        "stderr: {stderr}"
    );
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string());
    assert!(!stderr.contains(token["access_token"].as_str().unwrap_or("-")));
    assert!(!stderr.contains("sandbox-secret"));
    Ok(())
}

#[test]
fn usage_errors_do_not_echo_values() -> TestResult {
    let output = run(oauth_clients(None)
        .env("OAUTH_CLIENT_SECRET", "s")
        .args(["token", "procurify", "--client-id", "x"])
        .args(["--var", "hunter2-value"]))?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--var"), "stderr: {stderr}");
    assert!(!stderr.contains("hunter2"), "stderr: {stderr}");

    let output = run(oauth_clients(None)
        .env("OAUTH_CLIENT_SECRET", "s")
        .args([
            "token",
            "procurify",
            "--client-id",
            "x",
            "--var",
            "domain=acme",
        ])
        .args(["--rewrite-url", "https://user:hunter2@example.com/path"]))?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--rewrite-url"), "stderr: {stderr}");
    assert!(stderr.contains("example.com"), "stderr: {stderr}");
    assert!(!stderr.contains("hunter2"), "stderr: {stderr}");
    Ok(())
}

#[tokio::test]
async fn login_ignores_stray_requests_and_wrong_state() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let Login {
        mut child,
        stderr,
        seen,
        url,
    } = spawn_login(procurios_login(&sandbox, &[])).await?;
    let redirect = url::Url::parse(&url)?
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .map(|(_, value)| value.into_owned())
        .ok_or("no redirect_uri")?;
    let base = redirect.trim_end_matches("/callback");

    let favicon = http_get(format!("{base}/favicon.ico")).await?;
    assert_eq!(favicon.status(), reqwest::StatusCode::NOT_FOUND);
    let wrong = http_get(format!("{redirect}?code=stolen&state=not-this-one")).await?;
    assert_eq!(wrong.status(), reqwest::StatusCode::BAD_REQUEST);
    let forged = http_get(format!("{redirect}?error=access_denied&state=nope")).await?;
    assert_eq!(forged.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(child.try_wait()?.is_none(), "login ended early: {seen}");

    let html = http_get(&url).await?.text().await?;
    assert!(html.contains("Login successful"), "page: {html}");
    let output = finish_login(child, stderr, seen).await?;
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string());
    Ok(())
}

/// A process's pid as an argument of `kill`.
fn signal(pid: u32, signal: &str) -> Result<(), Box<dyn std::error::Error>> {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill {signal} {pid} failed").into())
    }
}

#[tokio::test]
async fn a_token_issued_while_redis_stalls_is_printed_and_reported() -> TestResult {
    let Some(redis) = start_redis()? else {
        return Ok(());
    };
    // The vendor takes a while to answer; Redis stops answering meanwhile (SIGSTOP), so the
    // new token cannot be stored. The vendor issued it: it must not be lost.
    let sandbox =
        Sandbox::start(SandboxConfig::default().token_delay(Duration::from_millis(1500)))?;
    let spec = format!("redis://127.0.0.1:{}/0", redis.port);
    let child = tokio::process::Command::from(oauth_clients(Some(&sandbox)))
        .args(["token", "procore", "--store", &spec, "--timeout", "20"])
        .args(rewrite_args(&sandbox))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut waited = 0;
    while sandbox.token_requests(Vendor::Procore) == 0 {
        waited += 1;
        assert!(waited < 400, "the token request never came");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    signal(redis.child.id(), "-STOP")?;
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await;
    signal(redis.child.id(), "-CONT")?;
    let output = output??;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string(), "stdout: {token}");
    assert!(stderr.contains("could not be stored"), "stderr: {stderr}");
    assert!(
        !stderr.contains(token["access_token"].as_str().unwrap_or("-")),
        "{stderr}"
    );
    assert_eq!(sandbox.token_requests(Vendor::Procore), 1);
    Ok(())
}

#[test]
fn a_crashed_processs_lock_is_waited_for_with_a_note_and_lapses() -> TestResult {
    use oauth_clients_core::secrecy::SecretString;
    use oauth_clients_core::{Client, ClientConfig, TokenKey};

    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let dir = temp_path("dead-lock");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let store = dir.join("tokens.json");
    // The key `token procurify --var domain=acme` uses, and a lock on it left by a process
    // that died mid-refresh: it lapses in 3 s.
    let provider = oauth_clients::registry::by_id("procurify").ok_or("procurify")?;
    let client = Client::new(
        provider,
        ClientConfig::new(sandbox.config().client_id.clone())
            .secret(SecretString::from(sandbox.config().client_secret.clone()))
            .variable("domain", "acme"),
    )?;
    let key = TokenKey::for_client(&client).storage_key();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let document = serde_json::json!({
        "format": "oauth-clients-token-store",
        "version": 1,
        "tokens": {},
        "locks": { key: { "owner": "a-dead-process", "expires_at_ms": now_ms + 3000 } },
    });
    std::fs::write(&store, document.to_string())?;
    let spec = format!("file:{}", store.display());
    let output = run(oauth_clients(Some(&sandbox))
        .args([
            "token",
            "procurify",
            "--var",
            "domain=acme",
            "--store",
            &spec,
        ])
        .args(rewrite_args(&sandbox)));
    let _ = std::fs::remove_dir_all(&dir);
    let output = output?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("another process is getting this token; waiting"),
        "stderr: {stderr}"
    );
    assert_eq!(sandbox.token_requests(Vendor::Procurify), 1);
    Ok(())
}
