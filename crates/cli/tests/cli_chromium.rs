//! A real headless Chromium drives `oauth-clients login` against the sandbox: it loads the
//! authorize URL, is redirected to the loopback receiver, and the test reads the success page.
//!
//! Needs Debian's `chromium` (`/usr/bin/chromium`, or the `CHROMIUM` variable). Where it is
//! missing the test is skipped with a note, except under CI (`CI` set), where it fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use oauth_clients_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

mod support;
use support::finish_login;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[tokio::test]
async fn chromium_login_lands_on_the_success_page() -> TestResult {
    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            return Err("chromium is not installed; CI must install Debian's `chromium`".into());
        }
        eprintln!(
            "SKIPPED, NOT PASSED: chromium is not installed, so the browser login test did not \
             run (set CI=true to make this a failure; apt-get install chromium)"
        );
        return Ok(());
    };
    let sandbox = Sandbox::start(SandboxConfig::default())?;
    let mut login = tokio::process::Command::new(env!("CARGO_BIN_EXE_oauth-clients"));
    login
        .args([
            "login",
            "procurios",
            "--no-browser",
            "--var",
            "domain=api.craftbrouwers.nl",
            "--scope",
            "profile",
        ])
        .env("OAUTH_CLIENT_ID", &sandbox.config().client_id)
        .env("OAUTH_CLIENT_SECRET", &sandbox.config().client_secret)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (from, to) in sandbox.rewrites() {
        login.arg("--rewrite-url").arg(format!("{from}={to}"));
    }
    let mut child = login.spawn()?;
    let mut stderr = BufReader::new(child.stderr.take().ok_or("no stderr")?);
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        let n =
            tokio::time::timeout(Duration::from_secs(20), stderr.read_line(&mut line)).await??;
        if n == 0 {
            return Err(format!("login ended before printing a URL: {seen}").into());
        }
        seen.push_str(&line);
        if line.trim().starts_with("http") {
            break line.trim().to_owned();
        }
    };

    let profile =
        std::env::temp_dir().join(format!("oauth-clients-chromium-{}", std::process::id()));
    let dump = tokio::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let dump = tokio::time::timeout(Duration::from_secs(90), dump).await;
    let _ = std::fs::remove_dir_all(&profile);
    let dump = dump??;
    let dom = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dom.contains("Login successful") && dom.contains("Logged in to procurios"),
        "chromium showed: {dom}\nchromium stderr: {}",
        String::from_utf8_lossy(&dump.stderr)
    );

    let output = finish_login(child, stderr, seen).await?;
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(token["access_token"].is_string());
    Ok(())
}
