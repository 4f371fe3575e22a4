//! Several machines sharing one store, simulated with Linux network namespaces: one token
//! request for all of them, and a rotating refresh token never used twice.
//!
//! The test builds its own private network and nothing else: a namespace `…-hub` holds a
//! bridge, and every "machine" is a namespace joined to it by a veth pair, with an address in
//! 10.231.7.0/24 that exists only inside these namespaces (no route, no address and no device is
//! added outside them, so no packet can leave the machine):
//!
//! | namespace | address    | runs |
//! |-----------|------------|------|
//! | `…-db`    | 10.231.7.2 | Redis (plain, a password) or PostgreSQL (TLS only, `sslmode=require`) |
//! | `…-auth`  | 10.231.7.3 | the token endpoint over HTTPS (this test binary, re-run in the role [`token_server_role`]) |
//! | `…-h1…h4` | .11 to .14 | one `token_worker` process each |
//!
//! Certificates come from a CA made for the run. Workers trust it through `--ca-file` (token
//! endpoint) and `SSL_CERT_FILE` (PostgreSQL). Names start with `ocmh-<pid>-<n>-`, unique per
//! run; every namespace is deleted when the test ends, also on panic (`Drop`), and namespaces
//! left by a run that was killed are deleted by the next one.
//!
//! Creating namespaces needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN). Without it the tests say so
//! and pass, unless `CI` is set: then they fail.

mod store_support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use store_support::postgres::{PostgresOptions, PostgresServer, postgres_available};
use store_support::{EndpointStats, RotatingEndpoint, TestCertificates, WorkerReport};

const SUBNET: &str = "10.231.7";
const DB: &str = "10.231.7.2";
const AUTH: &str = "10.231.7.3";
const HOSTS: usize = 4;
const ROLE_ENV: &str = "OAUTH_CLIENTS_MULTI_HOST_ROLE";

#[test]
fn several_hosts_share_one_token_and_rotate_refresh_tokens_through_redis() {
    let Some(net) = Net::create_or_skip("multi_host_redis") else {
        return;
    };
    // A password: Redis accepts other machines only with one (protected mode).
    let password = format!("redis-secret-{}", std::process::id());
    let redis = NsProcess::spawn(
        &net.ns("db"),
        &["redis-server", "--bind", DB, "--port", "6379"],
        &[
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            &password,
        ],
    );
    redis.wait_until("Redis", || {
        let ping = [
            "redis-cli",
            "-h",
            DB,
            "-p",
            "6379",
            "--no-auth-warning",
            "-a",
            &password,
        ];
        net.exec("db", &[&ping[..], &["PING"]].concat())
            .is_some_and(|out| out.contains("PONG"))
    });
    let files = tempfile::tempdir().expect("a temporary directory");
    let certificates = TestCertificates::for_hosts(&[DB, AUTH]);
    let ca = write_file(files.path(), "ca.pem", &certificates.ca_pem);
    let (first, second) = run_scenario(
        &net,
        &certificates,
        files.path(),
        &format!("redis://:{password}@{DB}:6379/"),
        &ca,
    );
    eprintln!("multi-host, Redis: {first}; {second}");
}

#[test]
fn several_hosts_share_one_token_and_rotate_refresh_tokens_through_postgres() {
    if !postgres_available("multi_host_postgres") {
        return;
    }
    let Some(net) = Net::create_or_skip("multi_host_postgres") else {
        return;
    };
    let files = tempfile::tempdir().expect("a temporary directory");
    let certificates = TestCertificates::for_hosts(&[DB, AUTH]);
    let ca = write_file(files.path(), "ca.pem", &certificates.ca_pem);
    let db = net.ns("db");
    let postgres = PostgresServer::start_with(PostgresOptions {
        netns: Some(&db),
        listen: Some(DB),
        port: Some(5432),
        tls: Some(&certificates),
    });
    let url = postgres.url_with("?sslmode=require");
    let (first, second) = run_scenario(&net, &certificates, files.path(), &url, &ca);
    eprintln!("multi-host, PostgreSQL over TLS: {first}; {second}");
}

/// Runs the token endpoint in `…-auth` and the workers on the four hosts against `store`:
/// first 100 tasks per host on no token (one token request in all), then rounds in which every
/// task has its token refused and asks for another (rotating refresh tokens, never reused).
/// Returns what each phase saw, for the log.
fn run_scenario(
    net: &Net,
    certificates: &TestCertificates,
    files: &Path,
    store: &str,
    ca: &str,
) -> (String, String) {
    let mut server = TokenServer::start(net, certificates, files);
    let token_url = format!("https://{AUTH}:8443/oauth/token");
    let launchers: Vec<Vec<String>> = (1..=HOSTS)
        .map(|h| {
            ["ip", "netns", "exec", &net.ns(&format!("h{h}"))]
                .map(String::from)
                .to_vec()
        })
        .collect();
    let env = [("SSL_CERT_FILE", ca)];
    let extra = ["--ca-file", ca];

    let reports =
        store_support::run_workers_in(&launchers, store, &token_url, 100, 0, &env, &extra);
    let stats = server.stats();
    assert_eq!(
        stats.client_credentials, 1,
        "one token request: {stats:?} {reports:?}"
    );
    assert_eq!((stats.refreshes, stats.invalid_grants), (0, 0), "{stats:?}");
    check_reports(&reports);
    let token = &reports[0].token;
    assert!(
        reports.iter().all(|r| &r.token == token && r.distinct == 1),
        "{reports:?}"
    );
    let fetches: u64 = reports.iter().map(|r| r.fetches).sum();
    let first = format!(
        "{} callers on {HOSTS} hosts, {} token request ({fetches} by the workers' count)",
        100 * HOSTS,
        stats.client_credentials
    );

    let reports = store_support::run_workers_in(&launchers, store, &token_url, 5, 20, &env, &extra);
    let after = server.stats();
    check_reports(&reports);
    assert_eq!(
        after.invalid_grants, 0,
        "a rotated refresh token was reused: {after:?}"
    );
    assert_eq!(after.client_credentials, 1, "{after:?}");
    assert!(after.refreshes >= 20, "{after:?} {reports:?}");
    let second = format!(
        "20 rounds of refused tokens: {} refreshes, {} invalid_grant, {} more client credentials",
        after.refreshes,
        after.invalid_grants,
        after.client_credentials - stats.client_credentials
    );
    (first, second)
}

fn check_reports(reports: &[WorkerReport]) {
    assert_eq!(reports.len(), HOSTS);
    for report in reports {
        assert_eq!(report.errors, 0, "{reports:?}");
        assert_eq!(report.auth_required, 0, "{reports:?}");
    }
}

fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("file written");
    path.display().to_string()
}

fn ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The namespaces of one run, deleted when dropped (after the processes in them, which are
/// declared after it and so dropped before it).
struct Net {
    prefix: String,
    namespaces: Vec<String>,
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

impl Net {
    /// The network of one run, or `None` (with a message) when namespaces cannot be created
    /// here and `CI` is not set. Under `CI`, that is a failure.
    fn create_or_skip(test: &str) -> Option<Net> {
        Net::remove_stale();
        let prefix = format!(
            "ocmh-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::SeqCst)
        );
        let mut net = Net {
            prefix,
            namespaces: Vec::new(),
        };
        if let Err(problem) = net.add_namespace("hub") {
            assert!(
                !ci(),
                "{test}: cannot create network namespaces ({problem}); CI must run this test as \
                 root (CAP_NET_ADMIN, CAP_SYS_ADMIN)"
            );
            eprintln!(
                "SKIPPED, NOT PASSED: {test}: cannot create network namespaces ({problem}); run \
                 as root to run it (set CI=true to make this a failure)"
            );
            return None;
        }
        net.ip("hub", &["link", "add", "br0", "type", "bridge"]);
        net.ip("hub", &["link", "set", "br0", "up"]);
        let machines = [
            ("db", 2),
            ("auth", 3),
            ("h1", 11),
            ("h2", 12),
            ("h3", 13),
            ("h4", 14),
        ];
        for (role, host) in machines {
            net.add_namespace(role)
                .unwrap_or_else(|p| panic!("namespace {role}: {p}"));
            let port = format!("v-{role}");
            let ns = net.ns(role);
            net.ip(
                "hub",
                &[
                    "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
                ],
            );
            net.ip("hub", &["link", "set", &port, "master", "br0", "up"]);
            net.ip(
                role,
                &["addr", "add", &format!("{SUBNET}.{host}/24"), "dev", "eth0"],
            );
            net.ip(role, &["link", "set", "eth0", "up"]);
            net.ip(role, &["link", "set", "lo", "up"]);
        }
        Some(net)
    }

    /// The full name of the namespace of `role`.
    fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }

    fn add_namespace(&mut self, role: &str) -> Result<(), String> {
        let name = self.ns(role);
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| format!("`ip` did not run: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        self.namespaces.push(name);
        Ok(())
    }

    /// Runs `ip -n <ns of role> ARGS`, which must succeed.
    fn ip(&self, role: &str, args: &[&str]) {
        let out = Command::new("ip")
            .args(["-n", &self.ns(role)])
            .args(args)
            .output()
            .expect("ip runs");
        assert!(
            out.status.success(),
            "ip -n {} {}: {}",
            self.ns(role),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What `command` prints inside the namespace of `role`, or `None` when it fails.
    fn exec(&self, role: &str, command: &[&str]) -> Option<String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns(role)])
            .args(command)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Deletes the namespaces of runs whose process is gone (killed before its `Drop` ran).
    fn remove_stale() {
        let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
            return;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            let Some(pid) = name.strip_prefix("ocmh-").and_then(|r| r.split('-').next()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("ip").args(["netns", "del", name]).status();
            }
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for name in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// A process started in a namespace, killed when dropped.
struct NsProcess(Child);

impl NsProcess {
    fn spawn(ns: &str, command: &[&str], args: &[&str]) -> NsProcess {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(command)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the process starts");
        NsProcess(child)
    }

    /// Waits, at most 30 s, until `ready`.
    fn wait_until(&self, what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "{what} was not ready within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NsProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The token endpoint in `…-auth`: this test binary again, in the role [`token_server_role`].
/// It answers `stats` on its stdin with the endpoint's counts, and stops at the end of its
/// input (when this is dropped, or when the test process dies).
struct TokenServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl TokenServer {
    fn start(net: &Net, certificates: &TestCertificates, files: &Path) -> TokenServer {
        write_file(files, "server.crt", &certificates.server_pem);
        write_file(files, "server.key", &certificates.server_key_pem);
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &net.ns("auth")])
            .arg(exe)
            .args(["token_server_role", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads=1", "-q"])
            .env(ROLE_ENV, "token-server")
            .env("MULTI_HOST_LISTEN", format!("{AUTH}:8443"))
            .env("MULTI_HOST_FILES", files)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the token server starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let server = TokenServer {
            child,
            stdin,
            lines,
        };
        server.expect_line("@@ready@@");
        server
    }

    /// The first line containing `marker`, waited for at most 30 s.
    fn expect_line(&self, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(marker) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("the token server did not say {marker}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the token server ended"),
            }
        }
    }

    fn stats(&mut self) -> EndpointStats {
        let stdin = self.stdin.as_mut().expect("the token server's stdin");
        writeln!(stdin, "stats").expect("the token server reads");
        stdin.flush().expect("the token server reads");
        let line = self.expect_line("@@stats");
        let numbers: Vec<u64> = line
            .split("@@stats")
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches('@')
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        assert_eq!(numbers.len(), 3, "{line}");
        EndpointStats {
            client_credentials: numbers[0],
            refreshes: numbers[1],
            invalid_grants: numbers[2],
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test of its own: the HTTPS token endpoint of the tests above, which run this binary
/// again inside their `…-auth` namespace with `OAUTH_CLIENTS_MULTI_HOST_ROLE=token-server`.
/// Without that variable it does nothing.
#[test]
#[ignore = "a role of the multi-host tests, started by them inside a network namespace"]
fn token_server_role() {
    if std::env::var(ROLE_ENV).as_deref() != Ok("token-server") {
        return;
    }
    let listen = std::env::var("MULTI_HOST_LISTEN").expect("MULTI_HOST_LISTEN");
    let files = std::path::PathBuf::from(std::env::var("MULTI_HOST_FILES").expect("files"));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(serve_tokens(&listen, &files));
}

/// The mock rotating endpoint on this namespace's loopback, behind TLS on `listen`.
async fn serve_tokens(listen: &str, files: &Path) {
    let mock = wiremock::MockServer::start().await;
    let endpoint = RotatingEndpoint::new(3600, Duration::from_millis(50));
    endpoint.mount(&mock).await;
    let acceptor = tls_acceptor(files);
    let listener = tokio::net::TcpListener::bind(listen).await.expect("listen");
    let backend = *mock.address();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    println!("@@ready@@");
    // Commands on stdin until its end: `stats` prints the endpoint's counts. At most 10 min.
    let (send, mut commands) = tokio::sync::mpsc::channel::<String>(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if send.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while let Ok(Some(command)) = tokio::time::timeout_at(deadline, commands.recv()).await {
        if command.trim() == "stats" {
            let s = endpoint.stats();
            println!(
                "@@stats {} {} {}@@",
                s.client_credentials, s.refreshes, s.invalid_grants
            );
        }
    }
}

fn tls_acceptor(files: &Path) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(files.join("server.crt"))
        .expect("certificate file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(files.join("server.key")).expect("key");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}
