//! Shared pieces of the lifecycle and store tests: a real `redis-server` on loopback, a real
//! PostgreSQL server (`postgres.rs`), a mock token endpoint that counts and rotates, and the
//! helper process.

#![allow(dead_code)] // each test file uses part of this

pub mod postgres;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oauth_clients_core::secrecy::{ExposeSecret as _, SecretString};
use oauth_clients_core::{
    AccessToken, Client, ClientConfig, Provider, Token, TokenManager, TokenStore,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A `redis-server` on 127.0.0.1, killed when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
    tls: bool,
    /// Certificate files of a TLS server, removed on drop.
    files: Option<tempfile::TempDir>,
}

/// A private CA and a server certificate for 127.0.0.1 signed by it, made at test time.
pub struct TestCertificates {
    /// The CA's certificate (PEM): what clients must trust.
    pub ca_pem: String,
    /// The server's certificate (PEM).
    pub server_pem: String,
    /// The server's private key (PEM).
    pub server_key_pem: String,
}

impl TestCertificates {
    /// A new CA and a certificate for `127.0.0.1` and `localhost`.
    pub fn new() -> TestCertificates {
        TestCertificates::for_hosts(&["127.0.0.1", "localhost"])
    }

    /// A new CA and a certificate for `hosts` (IP addresses or names).
    pub fn for_hosts(hosts: &[&str]) -> TestCertificates {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let server_key = KeyPair::generate().expect("a server key");
        let names: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let params = CertificateParams::new(names).expect("server parameters");
        let server = params
            .signed_by(&server_key, &issuer)
            .expect("a server certificate");
        TestCertificates {
            ca_pem: ca_cert.pem(),
            server_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
        }
    }
}

fn redis_binary() -> String {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(String::from)
        .or_else(|| {
            Command::new("redis-server")
                .arg("--version")
                .output()
                .ok()
                .map(|_| "redis-server".to_owned())
        })
        .unwrap_or_else(|| {
            panic!(
                "redis-server is not installed: the Redis store tests need a real server \
                 (apt-get install redis-server; .ci/run installs it)"
            )
        })
}

impl RedisServer {
    /// Starts a server on a free port, without persistence, and waits until it answers.
    pub fn start() -> RedisServer {
        RedisServer::spawn(&[], false, None)
    }

    /// Starts a server that speaks only TLS, with `certificates`.
    pub fn start_tls(certificates: &TestCertificates) -> RedisServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("certificate file written");
            path.display().to_string()
        };
        let cert = write("server.crt", &certificates.server_pem);
        let key = write("server.key", &certificates.server_key_pem);
        let ca = write("ca.crt", &certificates.ca_pem);
        let args = [
            "--tls-cert-file".to_owned(),
            cert,
            "--tls-key-file".to_owned(),
            key,
            "--tls-ca-cert-file".to_owned(),
            ca,
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
        ];
        RedisServer::spawn(&args, true, Some(dir))
    }

    fn spawn(extra: &[String], tls: bool, files: Option<tempfile::TempDir>) -> RedisServer {
        let binary = redis_binary();
        let port = free_port();
        let port_text = port.to_string();
        let ports: [&str; 4] = if tls {
            ["--port", "0", "--tls-port", &port_text]
        } else {
            ["--port", &port_text, "--bind", "127.0.0.1"]
        };
        let child = Command::new(binary)
            .args(ports)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = RedisServer {
            child,
            port,
            tls,
            files,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on 127.0.0.1:{port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The server's URL (`rediss://` for a TLS server).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// The server's process id (to pause it with SIGSTOP).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server must be woken up to die.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.files.take());
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// What the mock token endpoint saw.
#[derive(Default, Debug, Clone)]
pub struct EndpointStats {
    /// Requests with `grant_type=client_credentials`.
    pub client_credentials: u64,
    /// Refresh requests that were accepted.
    pub refreshes: u64,
    /// Refresh requests refused with `invalid_grant` (an old refresh token was reused).
    pub invalid_grants: u64,
}

struct RotatingState {
    issued: u64,
    current_refresh: Option<String>,
    stats: EndpointStats,
}

/// A token endpoint that issues `access-N` / `refresh-N` pairs, accepts only the newest refresh
/// token (each use rotates it) and refuses any other with `invalid_grant`.
#[derive(Clone)]
pub struct RotatingEndpoint {
    state: Arc<Mutex<RotatingState>>,
    lifetime: u64,
    delay: Duration,
}

impl RotatingEndpoint {
    /// Tokens living `lifetime` seconds; every answer delayed by `delay`.
    pub fn new(lifetime: u64, delay: Duration) -> RotatingEndpoint {
        RotatingEndpoint {
            state: Arc::new(Mutex::new(RotatingState {
                issued: 0,
                current_refresh: None,
                stats: EndpointStats::default(),
            })),
            lifetime,
            delay,
        }
    }

    /// Mounts the endpoint at `POST /oauth/token`.
    pub async fn mount(&self, server: &MockServer) {
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }

    /// What it saw so far.
    pub fn stats(&self) -> EndpointStats {
        self.state
            .lock()
            .map(|s| s.stats.clone())
            .unwrap_or_default()
    }
}

fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

impl Respond for RotatingEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let Ok(mut state) = self.state.lock() else {
            return ResponseTemplate::new(500);
        };
        match form_value(&body, "grant_type").as_deref() {
            Some("client_credentials") => state.stats.client_credentials += 1,
            Some("refresh_token") => {
                let presented = form_value(&body, "refresh_token");
                if presented.is_none() || presented != state.current_refresh {
                    state.stats.invalid_grants += 1;
                    return ResponseTemplate::new(400)
                        .set_delay(self.delay)
                        .set_body_json(serde_json::json!({
                            "error": "invalid_grant",
                            "error_description": "refresh token already used"
                        }));
                }
                state.stats.refreshes += 1;
            }
            _ => {
                return ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": "unsupported_grant_type"}));
            }
        }
        state.issued += 1;
        let n = state.issued;
        state.current_refresh = Some(format!("refresh-{n}"));
        ResponseTemplate::new(200)
            .set_delay(self.delay)
            .set_body_json(serde_json::json!({
                "access_token": format!("access-{n}"),
                "token_type": "bearer",
                "expires_in": self.lifetime,
                "refresh_token": format!("refresh-{n}"),
            }))
    }
}

/// The test vendor's descriptor, with its token endpoint on `server`.
pub fn provider(token_url: &str) -> Provider {
    let yaml = format!(
        "id: worker_vendor\nname: Worker vendor\nendpoints:\n  token: {token_url}\n\
         grants:\n  client_credentials: {{}}\n  refresh_token:\n    rotates: true\n\
         client_auth: client_secret_post\n"
    );
    Provider::from_yaml_str(&yaml, "test").expect("valid test descriptor")
}

/// A client of the test vendor with the same configuration as the helper process.
pub fn client(token_url: &str) -> Client {
    let config = ClientConfig::new("worker-client").secret(SecretString::from("worker-secret"));
    Client::new(provider(token_url), config).expect("client")
}

/// Token URL of a mock server.
pub fn token_url(server: &MockServer) -> String {
    format!("{}/oauth/token", server.uri())
}

/// Stores an expired token under a manager's key in `store`, has `tasks` tasks ask for a token
/// at once (the endpoint answering after `delay`), and checks that every task got the one new
/// token from exactly one token request, and that the store holds it.
pub async fn tasks_on_an_expired_token_make_one_request(
    store: Arc<dyn TokenStore>,
    tasks: usize,
    delay: Duration,
) {
    let server = MockServer::start().await;
    let endpoint = RotatingEndpoint::new(3600, delay);
    endpoint.mount(&server).await;
    let manager = TokenManager::builder(client(&token_url(&server)))
        .store(store.clone())
        .build();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let expired = Token::new(AccessToken::new("expired"), now - 7200, Some(now - 3600));
    store.put(manager.storage_key(), &expired).await.unwrap();

    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for handle in handles {
        let token = handle.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "access-1");
    }
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 1, "exactly one token request");
    let stats = endpoint.stats();
    assert_eq!(stats.client_credentials, 1, "{stats:?}");
    let stored = store.get(manager.storage_key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "access-1");
}

/// What one helper process printed.
#[derive(Debug, Default)]
pub struct WorkerReport {
    /// Different access tokens seen in phase 1.
    pub distinct: usize,
    /// One of them.
    pub token: String,
    /// Failed calls.
    pub errors: usize,
    /// Calls that ended in "authorization required" / invalid_grant.
    pub auth_required: usize,
    /// Token requests it made.
    pub fetches: u64,
}

/// Runs `processes` helper processes at once (`tasks` tasks each, `rounds` refresh rounds) on
/// `store`, and returns their reports. Each process is given 120 s.
pub fn run_workers(
    processes: usize,
    store: &str,
    token_url: &str,
    tasks: usize,
    rounds: usize,
) -> Vec<WorkerReport> {
    run_workers_with_env(processes, store, token_url, tasks, rounds, &[])
}

/// [`run_workers`] with environment variables set in each process (e.g. a store key).
pub fn run_workers_with_env(
    processes: usize,
    store: &str,
    token_url: &str,
    tasks: usize,
    rounds: usize,
    env: &[(&str, &str)],
) -> Vec<WorkerReport> {
    let launchers = vec![Vec::new(); processes];
    run_workers_in(&launchers, store, token_url, tasks, rounds, env, &[])
}

/// [`run_workers_with_env`] with one process per launcher: a command prefix the helper runs
/// under (e.g. `ip netns exec NAME`; empty to run it directly), and `extra` arguments.
pub fn run_workers_in(
    launchers: &[Vec<String>],
    store: &str,
    token_url: &str,
    tasks: usize,
    rounds: usize,
    env: &[(&str, &str)],
    extra: &[&str],
) -> Vec<WorkerReport> {
    let start_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
        + 1500;
    let worker = env!("CARGO_BIN_EXE_token_worker");
    let children: Vec<Child> = launchers
        .iter()
        .map(|launcher| {
            let mut command = match launcher.split_first() {
                Some((program, args)) => {
                    let mut command = Command::new(program);
                    command.args(args).arg(worker);
                    command
                }
                None => Command::new(worker),
            };
            command
                .args(["--store", store, "--token-url", token_url])
                .args(extra)
                .args([
                    "--tasks",
                    &tasks.to_string(),
                    "--rounds",
                    &rounds.to_string(),
                ])
                .args(["--start-at-ms", &start_at.to_string()])
                .env_remove("OAUTH_CLIENTS_STORE_KEY")
                .envs(env.iter().copied())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("token_worker starts")
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    children
        .into_iter()
        .map(|mut child| {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!("token_worker did not finish within 120 s");
                    }
                }
            }
            let output = child.wait_with_output().expect("worker output");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success(),
                "token_worker failed: {}\n{stderr}",
                output.status
            );
            if !stderr.is_empty() {
                eprintln!("token_worker stderr:\n{stderr}");
            }
            let mut report = WorkerReport::default();
            for line in stdout.lines() {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                match k {
                    "distinct" => report.distinct = v.parse().unwrap_or(0),
                    "token" => report.token = v.to_owned(),
                    "errors" => report.errors = v.parse().unwrap_or(0),
                    "auth_required" => report.auth_required = v.parse().unwrap_or(0),
                    "fetches" => report.fetches = v.parse().unwrap_or(0),
                    _ => {}
                }
            }
            report
        })
        .collect()
}

/// The behaviour every store must have: get/put/delete by key, and a lock with an owner and
/// an expiry that only its owner releases.
pub async fn check_store_contract(store: &dyn TokenStore) {
    use oauth_clients_core::Token;
    use oauth_clients_core::secrecy::ExposeSecret;

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let key = "contract:key-a";
    let other = "contract:key-b";
    assert!(store.get(key).await.unwrap().is_none());
    let token = Token::new(AccessToken::new("secret-access"), now, Some(now + 3600))
        .with_refresh_token(Some(oauth_clients_core::RefreshToken::new(
            "secret-refresh",
        )));
    store.put(key, &token).await.unwrap();
    let back = store.get(key).await.unwrap().expect("stored token");
    assert_eq!(back.access_token().expose_secret(), "secret-access");
    assert_eq!(
        back.refresh_token().map(|r| r.expose_secret().to_owned()),
        Some("secret-refresh".to_owned())
    );
    assert_eq!(back.expires_at_unix(), Some(now + 3600));
    assert!(
        store.get(other).await.unwrap().is_none(),
        "keys are separate"
    );
    // Replace.
    let newer = Token::new(AccessToken::new("newer"), now, Some(now + 60));
    store.put(key, &newer).await.unwrap();
    assert_eq!(
        store
            .get(key)
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .expose_secret(),
        "newer"
    );
    store.delete(key).await.unwrap();
    assert!(store.get(key).await.unwrap().is_none());
    store.delete(key).await.unwrap(); // deleting nothing is fine

    // Locks: exclusive, owner-only release, expiry.
    let ttl = Duration::from_secs(30);
    assert!(store.try_lock(key, "owner-1", ttl).await.unwrap());
    assert!(!store.try_lock(key, "owner-2", ttl).await.unwrap());
    assert!(
        store.try_lock(other, "owner-2", ttl).await.unwrap(),
        "per key"
    );
    assert!(
        !store.unlock(key, "owner-2").await.unwrap(),
        "not the owner"
    );
    assert!(!store.try_lock(key, "owner-2", ttl).await.unwrap());
    assert!(store.unlock(key, "owner-1").await.unwrap());
    assert!(
        store
            .try_lock(key, "owner-2", Duration::from_millis(200))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        store.try_lock(key, "owner-3", ttl).await.unwrap(),
        "an expired lock can be taken"
    );
    assert!(
        !store.unlock(key, "owner-2").await.unwrap(),
        "the lapsed owner cannot release"
    );
    assert!(store.unlock(key, "owner-3").await.unwrap());
    assert!(store.unlock(other, "owner-2").await.unwrap());

    // Listing by prefix: only the keys that start with it, glob characters taken literally.
    store.put("contract:list:a", &token).await.unwrap();
    store.put("contract:list:b", &token).await.unwrap();
    store.put("contract:lisx", &token).await.unwrap();
    store.put("contract:l*", &token).await.unwrap();
    let mut listed = store.keys_with_prefix("contract:list:").await.unwrap();
    listed.sort();
    assert_eq!(listed, ["contract:list:a", "contract:list:b"]);
    assert_eq!(
        store.keys_with_prefix("contract:l*").await.unwrap(),
        ["contract:l*"]
    );
    for listed in [
        "contract:list:a",
        "contract:list:b",
        "contract:lisx",
        "contract:l*",
    ] {
        store.delete(listed).await.unwrap();
    }

    // Debug never shows tokens.
    store.put(key, &token).await.unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains("secret-access"), "{debug}");
    store.delete(key).await.unwrap();
}

/// Ends the test process with a message if the test is not over within `limit`, even when its
/// async runtime is stuck (so a hang fails, bounded, instead of running forever).
pub struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    /// Starts watching.
    pub fn start(test: &'static str, limit: Duration) -> Watchdog {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                eprintln!("{test}: still running after {limit:?}; stopping the test process");
                std::process::exit(101);
            }
        });
        Watchdog(Some(done))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(done) = self.0.take() {
            let _ = done.send(());
        }
    }
}
