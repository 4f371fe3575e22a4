//! `oauth-clients sandbox --vendor … --descriptor …` fakes vendors from their descriptors; the
//! arguments it prints make `login` work against it, in the browser and the device flow.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::time::{Instant, timeout, timeout_at};

mod support;
use support::{finish_login, http_get};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

/// The binary with the sandbox's client and no inherited OAUTH_* variables.
fn oauth_clients() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "OAUTH_CLIENT_ID",
        "OAUTH_CLIENT_SECRET",
        "OAUTH_USERNAME",
        "OAUTH_PASSWORD",
    ] {
        command.env_remove(name);
    }
    command
        .env("OAUTH_CLIENT_ID", "sandbox-client")
        .env("OAUTH_CLIENT_SECRET", "sandbox-secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Reads stderr until a line containing `marker`, at most 20 s; what was read.
async fn stderr_until(
    stderr: &mut BufReader<ChildStderr>,
    marker: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if timeout_at(deadline, stderr.read_line(&mut line)).await?? == 0 {
            return Err(format!("stderr ended before `{marker}`: {seen}").into());
        }
        seen.push_str(&line);
        if line.contains(marker) {
            return Ok(seen);
        }
    }
}

/// The lines already written to stdout (the sandbox writes them before its last note).
async fn written_lines(stdout: &mut BufReader<ChildStdout>) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..200 {
        let mut line = String::new();
        match timeout(Duration::from_millis(500), stdout.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => lines.push(line.trim_end().to_owned()),
            _ => break,
        }
    }
    lines
}

/// The arguments of one vendor's section (`# <id>` … up to the next section).
fn section(lines: &[String], id: &str) -> Vec<String> {
    lines
        .iter()
        .skip_while(|line| **line != format!("# {id}"))
        .skip(1)
        .take_while(|line| !line.starts_with('#'))
        .flat_map(|line| {
            let (flag, value) = line.split_once(' ').unwrap_or((line, ""));
            [flag.to_owned(), value.to_owned()]
        })
        .collect()
}

/// Stops a running sandbox with Ctrl-C; its exit status must be 0.
async fn interrupt(mut child: Child) -> TestResult {
    let pid = child.id().ok_or("no pid")?;
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    assert!(status.success());
    let status = timeout(Duration::from_secs(20), child.wait()).await??;
    assert_eq!(status.code(), Some(0));
    Ok(())
}

#[tokio::test]
async fn sandbox_of_descriptors_serves_login_and_the_device_flow() -> TestResult {
    let zendesk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../providers/zendesk.yaml");
    let mut sandbox = oauth_clients()
        .args([
            "sandbox",
            "--port",
            "0",
            "--vendor",
            "github",
            "--descriptor",
        ])
        .arg(&zendesk)
        .spawn()?;
    let mut stderr = BufReader::new(sandbox.stderr.take().ok_or("no stderr")?);
    let mut stdout = BufReader::new(sandbox.stdout.take().ok_or("no stdout")?);
    let noted = stderr_until(&mut stderr, "press Ctrl-C").await?;
    assert!(noted.contains("sandbox of github, zendesk"), "{noted}");
    let lines = written_lines(&mut stdout).await;
    assert!(
        lines.iter().any(|l| l == "--var subdomain=acme"),
        "{lines:?}"
    );
    let github = section(&lines, "github");
    assert!(
        github
            .iter()
            .any(|a| a.starts_with("https://github.com/=http://127.0.0.1:")),
        "{github:?}"
    );
    assert!(
        !github.iter().any(|a| a.contains("subdomain")),
        "{github:?}"
    );
    let rewrites = github;

    // The browser login: the test is the browser, the fake redirects to the receiver.
    let mut login = oauth_clients()
        .args(["login", "github", "--no-browser"])
        .args(&rewrites)
        .spawn()?;
    let mut login_stderr = BufReader::new(login.stderr.take().ok_or("no stderr")?);
    let seen = stderr_until(&mut login_stderr, "http://127.0.0.1:").await?;
    let url = seen
        .lines()
        .find(|l| l.trim().starts_with("http://"))
        .ok_or("no URL")?
        .trim()
        .to_owned();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let page = http_get(&url).await?;
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let output = finish_login(login, login_stderr, seen).await?;
    let stderr_text = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr_text}");
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string(), "{token}");
    assert!(token["refresh_token"].is_string(), "{token}");
    assert!(!stderr_text.contains("sandbox-secret"));

    // The device flow: one `authorization_pending`, then the token.
    let device = oauth_clients()
        .args(["login", "github", "--device", "--no-browser"])
        .args(&rewrites)
        .output();
    let output = timeout(Duration::from_secs(30), device).await??;
    let stderr_text = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr_text}");
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string(), "{token}");

    interrupt(sandbox).await
}

#[tokio::test]
async fn sandbox_of_an_unknown_vendor_is_a_usage_error() -> TestResult {
    let output = oauth_clients()
        .args(["sandbox", "--vendor", "nosuchvendor"])
        .output()
        .await?;
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown vendor `nosuchvendor`"), "{stderr}");
    Ok(())
}
