//! Two real authorization servers on loopback (`tests/servers/`): oidc-provider (Node) and a
//! Flask app on Authlib's server classes (Python), started per test and stopped when dropped;
//! and a "browser" that logs in and consents through their own pages with plain HTTP.
//!
//! `tests/servers/install.sh` (run by `scripts/test`) installs both.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use url::Url;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// panva/oidc-provider: OpenID Connect, PKCE, `iss`, device, revocation, introspection,
    /// private_key_jwt, rotating refresh tokens.
    OidcProvider,
    /// Authlib: OAuth 2.0 (no OpenID), device, revocation, introspection, JWT bearer.
    Authlib,
}

/// The redirect URI the tests register (any port is accepted for loopback: RFC 8252 §7.3).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A running server; killed when dropped.
pub struct RealServer {
    child: Child,
    /// The issuer, `http://127.0.0.1:<port>` (no trailing slash).
    pub issuer: String,
    pub kind: Kind,
}

/// `tests/servers` of the workspace (this file is shared by test crates at several depths).
fn servers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/servers"))
        .find(|dir| dir.join("install.sh").is_file())
        .expect("tests/servers in the workspace")
}

impl RealServer {
    /// Starts a server with extra environment variables; waits (at most 60 s) for its
    /// `listening on …` line.
    pub fn start(kind: Kind, env: &[(&str, &str)]) -> RealServer {
        let dir = servers_dir();
        let mut command = match kind {
            Kind::OidcProvider => {
                let modules = dir.join("oidc-provider/node_modules");
                assert!(
                    modules.is_dir(),
                    "oidc-provider is not installed: run tests/servers/install.sh"
                );
                let mut c = Command::new("node");
                c.arg(dir.join("oidc-provider/server.mjs"));
                c
            }
            Kind::Authlib => {
                let python = dir.join("authlib/.venv/bin/python");
                assert!(
                    python.is_file(),
                    "Authlib is not installed: run tests/servers/install.sh"
                );
                let mut c = Command::new(python);
                c.arg(dir.join("authlib/app.py"));
                c
            }
        };
        command
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = keep_tail(child.stderr.take().expect("piped stderr"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Start-up takes about a second; a loaded machine may take much longer.
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let running = matches!(child.try_wait(), Ok(None));
                let _ = child.kill();
                let _ = child.wait();
                let said = stderr.lock().map(|t| t.clone()).unwrap_or_default();
                panic!(
                    "{kind:?} did not start within 60 s (still running: {running}); its \
                     stderr ends with:\n{said}"
                );
            }
        };
        let Some(issuer) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{kind:?} said {line:?} instead of `listening on …`");
        };
        assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
        RealServer {
            child,
            issuer: issuer.to_owned(),
            kind,
        }
    }

    /// A URL under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Reads `stderr` on a thread of its own (a server that writes much must not block on a full
/// pipe) and keeps its last 4 KiB, to show should the server not start.
fn keep_tail(stderr: std::process::ChildStderr) -> Arc<Mutex<String>> {
    const KEPT: usize = 4096;
    let tail = Arc::new(Mutex::new(String::new()));
    let kept = tail.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let Ok(mut text) = kept.lock() else { break };
            text.push_str(&line);
            text.push('\n');
            if text.len() > KEPT {
                let cut = text.len() - KEPT;
                let cut = (cut..text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                text.drain(..cut);
            }
        }
    });
    tail
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The user the browser logs in as.
pub const USER: &str = "alice";
const AUTHLIB_PASSWORD: &str = "wonderland";

/// A browser: a cookie jar, no automatic redirects, every request bounded.
pub fn browser() -> reqwest::Client {
    oauth_clients_core::http_client_builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a browser")
}

/// Opens `authorize_url`, logs in and consents, and returns the query of the redirect to the
/// callback. `approve: false` refuses consent (Authlib) or aborts (oidc-provider).
pub async fn authorize(server: &RealServer, authorize_url: &str, approve: bool) -> String {
    let browser = browser();
    match server.kind {
        Kind::OidcProvider => drive_oidc(&browser, authorize_url.to_owned(), approve).await,
        Kind::Authlib => {
            let answer = if approve { "yes" } else { "no" };
            let response = browser
                .post(authorize_url)
                .form(&[
                    ("username", USER),
                    ("password", AUTHLIB_PASSWORD),
                    ("confirm", answer),
                ])
                .send()
                .await
                .expect("the authorize page answers");
            callback_query(&response).expect("a redirect to the callback")
        }
    }
}

/// The query of a redirect to [`REDIRECT_URI`], when `response` is one.
fn callback_query(response: &reqwest::Response) -> Option<String> {
    let location = response.headers().get("location")?.to_str().ok()?;
    let target = response.url().join(location).ok()?;
    target
        .as_str()
        .starts_with(REDIRECT_URI)
        .then(|| target.query().unwrap_or_default().to_owned())
}

/// oidc-provider's development login and consent pages, at most 15 hops.
async fn drive_oidc(browser: &reqwest::Client, start: String, approve: bool) -> String {
    let mut next = Url::parse(&start).expect("an absolute URL");
    for _ in 0..15 {
        let response = browser.get(next.clone()).send().await.expect("a page");
        if let Some(query) = callback_query(&response) {
            return query;
        }
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            next = response.url().join(&location).unwrap();
            continue;
        }
        let page_url = response.url().clone();
        let page = response.text().await.expect("a page body");
        let action = form_action(&page)
            .map(|a| page_url.join(&a).unwrap())
            .unwrap_or_else(|| panic!("no form on {page_url}: {page}"));
        if !approve {
            let abort = format!("{}/abort", page_url.as_str().trim_end_matches('/'));
            next = Url::parse(&abort).unwrap();
            continue;
        }
        let fields: Vec<(&str, &str)> = if page.contains(r#"name="prompt" value="login""#) {
            vec![("prompt", "login"), ("login", USER), ("password", "any")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            panic!("an unexpected page at {page_url}: {page}");
        };
        let response = browser
            .post(action)
            .form(&fields)
            .send()
            .await
            .expect("the form answers");
        if let Some(query) = callback_query(&response) {
            return query;
        }
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        next = response.url().join(&location).unwrap();
    }
    panic!("no callback after 15 hops");
}

/// The `action` of the first form of a page.
fn form_action(page: &str) -> Option<String> {
    let at = page.find("<form")?;
    let rest = &page[at..];
    let start = rest.find("action=\"")? + "action=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].replace("&amp;", "&"))
}

/// The value of a hidden input.
fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].to_owned())
}

/// Approves a device authorization as the user would on another device.
pub async fn approve_device(server: &RealServer, user_code: &str) {
    let browser = browser();
    match server.kind {
        Kind::Authlib => {
            let response = browser
                .post(server.url("/device"))
                .form(&[
                    ("user_code", user_code),
                    ("username", USER),
                    ("password", AUTHLIB_PASSWORD),
                    ("confirm", "yes"),
                ])
                .send()
                .await
                .expect("the device page answers");
            assert!(response.status().is_success(), "{}", response.status());
        }
        Kind::OidcProvider => {
            let page = browser
                .get(server.url("/device"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let xsrf = hidden(&page, "xsrf").expect("an xsrf field");
            let confirm = browser
                .post(server.url("/device"))
                .form(&[("xsrf", xsrf.as_str()), ("user_code", user_code)])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let xsrf = hidden(&confirm, "xsrf").expect("an xsrf field on the confirm page");
            let response = browser
                .post(server.url("/device"))
                .form(&[
                    ("xsrf", xsrf.as_str()),
                    ("user_code", user_code),
                    ("confirm", "yes"),
                ])
                .send()
                .await
                .unwrap();
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let start = response.url().join(&location).unwrap();
            finish_device_login(&browser, start).await;
        }
    }
}

/// Login and consent after a device confirmation, up to the success page.
async fn finish_device_login(browser: &reqwest::Client, start: Url) {
    let mut next = start;
    for _ in 0..15 {
        let response = browser.get(next.clone()).send().await.unwrap();
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            next = response.url().join(&location).unwrap();
            continue;
        }
        let page_url = response.url().clone();
        let page = response.text().await.unwrap();
        let fields: Vec<(&str, &str)> = if page.contains(r#"name="prompt" value="login""#) {
            vec![("prompt", "login"), ("login", USER), ("password", "any")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            assert!(page.contains("Sign-in Success"), "unexpected page: {page}");
            return;
        };
        let action = page_url.join(&form_action(&page).unwrap()).unwrap();
        let response = browser.post(action).form(&fields).send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        next = response.url().join(&location).unwrap();
    }
    panic!("the device login did not finish in 15 hops");
}
