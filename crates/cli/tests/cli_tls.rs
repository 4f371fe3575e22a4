//! The built `oauth-clients` binary over real TLS on 127.0.0.1: the sandbox behind an HTTPS
//! front whose certificate authority is made at test time, trusted with `--ca-cert` or
//! `SSL_CERT_FILE`, reached directly or through a `CONNECT` proxy named by `HTTPS_PROXY`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use oauth_clients_sandbox::{Sandbox, SandboxConfig, Vendor};
use serde_json::Value;

// The TLS front, the CONNECT proxy and the certificate authority of the engine's TLS tests.
#[path = "../../../tests/tests/tls_support/mod.rs"]
mod tls_support;
use tls_support::{ConnectProxy, Pki, TlsFront};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

/// The sandbox behind HTTPS.
struct HttpsSandbox {
    sandbox: Sandbox,
    front: TlsFront,
    dir: std::path::PathBuf,
}

impl HttpsSandbox {
    fn start(name: &str) -> Result<HttpsSandbox, Box<dyn std::error::Error>> {
        let sandbox = Sandbox::start(SandboxConfig::default())?;
        let pki = Pki::new("oauth-clients CLI test CA");
        let front = TlsFront::start(&pki, sandbox.addr())?;
        let dir = std::env::temp_dir().join(format!(
            "oauth-clients-cli-tls-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("ca.pem"), &pki.ca_pem)?;
        Ok(HttpsSandbox {
            sandbox,
            front,
            dir,
        })
    }

    fn ca_file(&self) -> std::path::PathBuf {
        self.dir.join("ca.pem")
    }

    /// `oauth-clients token procurify` against the sandbox over HTTPS, with a clean
    /// environment: no inherited TLS, proxy or OAUTH_* variables.
    fn token(&self) -> Command {
        let mut command = Command::new(BIN);
        for name in [
            "OAUTH_CLIENT_ID",
            "OAUTH_CLIENT_SECRET",
            "SSL_CERT_FILE",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "RUST_LOG",
        ] {
            command.env_remove(name);
        }
        command
            .env("OAUTH_CLIENT_ID", &self.sandbox.config().client_id)
            .env("OAUTH_CLIENT_SECRET", &self.sandbox.config().client_secret)
            .stdin(Stdio::null())
            .args(["token", "procurify", "--var", "domain=acme"]);
        let plain = self.sandbox.base_url();
        for (from, to) in self.sandbox.rewrites() {
            let to = to.replacen(&plain, &self.front.origin(), 1);
            command.arg("--rewrite-url").arg(format!("{from}={to}"));
        }
        command
    }
}

impl Drop for HttpsSandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_token(output: &Output) -> TestResult {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert!(
        token["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    Ok(())
}

#[test]
fn ca_cert_makes_the_vendor_trusted() -> TestResult {
    let https = HttpsSandbox::start("ca-cert")?;
    let output = https
        .token()
        .arg("--ca-cert")
        .arg(https.ca_file())
        .output()?;
    assert_token(&output)?;
    assert_eq!(https.sandbox.token_requests(Vendor::Procurify), 1);
    assert_eq!(https.front.handshakes(), 1);

    // Without it, the certificate is refused, and the message says what to do.
    let output = https.token().output()?;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("the server's TLS certificate is not trusted"),
        "{stderr}"
    );
    assert!(stderr.contains("--ca-cert"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(https.sandbox.token_requests(Vendor::Procurify), 1);
    Ok(())
}

#[test]
fn ssl_cert_file_and_https_proxy_come_from_the_environment() -> TestResult {
    let https = HttpsSandbox::start("env")?;
    let proxy = ConnectProxy::start()?;
    let output = https
        .token()
        .env("SSL_CERT_FILE", https.ca_file())
        .env("HTTPS_PROXY", proxy.url())
        .output()?;
    assert_token(&output)?;
    assert_eq!(proxy.connects(), 1);
    assert_eq!(https.front.handshakes(), 1);
    assert_eq!(https.sandbox.token_requests(Vendor::Procurify), 1);
    Ok(())
}

#[test]
fn a_ca_cert_file_without_a_certificate_is_a_usage_error() -> TestResult {
    let https = HttpsSandbox::start("bad-ca")?;
    let bad = https.dir.join("empty.pem");
    std::fs::write(&bad, "not a certificate\n")?;
    for path in [bad.as_path(), Path::new("/nonexistent/ca.pem")] {
        let output = https.token().arg("--ca-cert").arg(path).output()?;
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("--ca-cert"), "{stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    }
    assert_eq!(https.front.handshakes(), 0);
    Ok(())
}
