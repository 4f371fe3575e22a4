//! Token lifecycle figures (a plain harness): `cargo bench -p oauth-clients-core --bench lifecycle`.
//!
//! Prints the cost of a cached `access_token()` call, single- and multi-threaded, and the wall
//! time and number of token requests when 10,000 callers find the token expired, with the
//! memory, file and Redis stores. The token endpoint is a wiremock server on 127.0.0.1 answering
//! through the real engine; Redis is a `redis-server` started on a free loopback port (skipped,
//! with a note, when not installed).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oauth_clients_core::secrecy::SecretString;
use oauth_clients_core::store::{FileStore, MemoryStore, RedisStore};
use oauth_clients_core::{
    Client, ClientConfig, Provider, Token, TokenKey, TokenManager, TokenStore,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALLERS: usize = 10_000;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn client(server: &MockServer) -> Client {
    let yaml = format!(
        "id: bench_vendor\nname: Bench vendor\nendpoints:\n  token: {}/oauth/token\n\
         grants:\n  client_credentials: {{}}\nclient_auth: client_secret_post\n",
        server.uri()
    );
    let provider = Provider::from_yaml_str(&yaml, "bench").expect("bench descriptor");
    let config = ClientConfig::new("bench").secret(SecretString::from("secret"));
    Client::new(provider, config).expect("bench client")
}

async fn token_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "bench-token", "token_type": "bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    server
}

fn cached_single_threaded() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = token_server().await;
        let manager = TokenManager::new(client(&server));
        manager.access_token().await.expect("first token");
        let calls = 2_000_000u32;
        let start = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(manager.access_token().await.expect("cached"));
        }
        let elapsed = start.elapsed();
        println!(
            "cached access_token(), 1 thread: {:.1} ns/call ({calls} calls in {:.3} s)",
            elapsed.as_nanos() as f64 / f64::from(calls),
            elapsed.as_secs_f64()
        );
    });
}

fn cached_multi_threaded() {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = token_server().await;
        let manager = TokenManager::new(client(&server));
        manager.access_token().await.expect("first token");
        let per_task = 1_000_000u32;
        let start = Instant::now();
        let tasks: Vec<_> = (0..threads)
            .map(|_| {
                let manager = manager.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        std::hint::black_box(manager.access_token().await.expect("cached"));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        let elapsed = start.elapsed();
        let total = f64::from(per_task) * threads as f64;
        println!(
            "cached access_token(), {threads} threads: {:.1} ns/call per thread, {:.1} ns/call \
             aggregate ({total} calls in {:.3} s)",
            elapsed.as_nanos() as f64 / f64::from(per_task),
            elapsed.as_nanos() as f64 / total,
            elapsed.as_secs_f64()
        );
    });
}

/// 10,000 tasks ask a manager whose stored token has expired.
async fn expired_burst(label: &str, store: Arc<dyn TokenStore>) {
    let server = token_server().await;
    let client = client(&server);
    let expired = Token::new(
        oauth_clients_core::AccessToken::new("expired"),
        now() - 7200,
        Some(now() - 3600),
    );
    if let Err(err) = store
        .put(&TokenKey::for_client(&client).storage_key(), &expired)
        .await
    {
        println!("{label}: could not prepare the store: {err}");
        return;
    }
    let manager = TokenManager::builder(client).store(store).build();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    let mut failures = 0;
    for task in tasks {
        if !matches!(task.await, Ok(Ok(_))) {
            failures += 1;
        }
    }
    let elapsed = start.elapsed();
    let requests = server.received_requests().await.map_or(0, |r| r.len());
    println!(
        "{CALLERS} concurrent callers on an expired token, {label}: {:.1} ms wall, {requests} \
         token request(s), {failures} failure(s)",
        elapsed.as_secs_f64() * 1000.0
    );
}

struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Option<(RedisServer, String)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = RedisServer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((server, format!("redis://127.0.0.1:{port}/")))
}

fn main() {
    // `cargo bench` passes `--bench`. Test runners that build every target (`cargo test
    // --all-targets`, `cargo nextest run --all-targets`, which lists tests with `--list`) get no
    // tests and no run: the figures are for `cargo bench` only.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    cached_single_threaded();
    cached_multi_threaded();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        expired_burst("memory store", Arc::new(MemoryStore::new())).await;
        match tempfile::tempdir() {
            Ok(dir) => {
                let store = FileStore::new(dir.path().join("tokens.json"));
                expired_burst("file store", Arc::new(store)).await;
            }
            Err(err) => println!("file store: no temporary directory: {err}"),
        }
        match start_redis() {
            Some((_server, url)) => match RedisStore::open(&url) {
                Ok(store) => expired_burst("Redis store", Arc::new(store)).await,
                Err(err) => println!("Redis store: {err}"),
            },
            None => println!("Redis store: skipped (redis-server not installed or not starting)"),
        }
    });
}
