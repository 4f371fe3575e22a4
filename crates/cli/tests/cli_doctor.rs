//! `oauth-clients doctor`, `completions`, `man` and `--output`.

use std::process::{Command, Output, Stdio};

use oauth_clients_sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

fn oauth_clients(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("OAUTH_CLIENT_SECRET", "sandbox-secret")
        .env_remove("OAUTH_CLIENT_ID")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn rewrites(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .rewrites()
        .into_iter()
        .flat_map(|(from, to)| ["--rewrite-url".to_owned(), format!("{from}={to}")])
        .collect()
}

#[test]
fn doctor_passes_against_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let mut args = vec![
        "doctor",
        "procurify",
        "--client-id",
        "sandbox-client",
        "--var",
        "domain=acme",
    ];
    let rewrites = rewrites(&sandbox);
    args.extend(rewrites.iter().map(String::as_str));
    let output = oauth_clients(&args);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("endpoint token"), "{stdout}");
    assert!(stdout.contains("clock"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(!stdout.contains("sandbox-secret"));
}

#[test]
fn doctor_reports_an_unreachable_endpoint_and_a_missing_variable() {
    // Port 9 on loopback: nothing listens there (discard), so the connection is refused.
    let output = oauth_clients(&[
        "doctor",
        "procurify",
        "--client-id",
        "someone",
        "--var",
        "domain=acme",
        "--rewrite-url",
        "https://acme.procurify.com/=http://127.0.0.1:9/",
        "--timeout",
        "5",
        "--retries",
        "0",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(text(&output.stderr).contains("check(s) failed"));
    let missing = oauth_clients(&["doctor", "procurify", "--client-id", "someone"]);
    let stdout = text(&missing.stdout);
    assert_eq!(missing.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("domain"),
        "names the missing variable: {stdout}"
    );
}

#[test]
fn completions_and_manual_come_from_the_command_line_definition() {
    let bash = oauth_clients(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = text(&bash.stdout);
    assert!(script.contains("oauth-clients") && script.contains("doctor"));
    let man = oauth_clients(&["man"]);
    assert!(man.status.success());
    let page = text(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH oauth-clients"),
        "{page}"
    );
}

#[test]
fn providers_output_json_equals_the_json_flag() {
    let new = oauth_clients(&["providers", "--output", "json"]);
    let old = oauth_clients(&["providers", "--json"]);
    assert!(new.status.success() && old.status.success());
    assert_eq!(new.stdout, old.stdout);
    let list: serde_json::Value = serde_json::from_slice(&new.stdout).unwrap();
    assert!(list.as_array().is_some_and(|l| l.len() >= 150));
}
