//! A hostile vendor for the command-line tool's tests: a raw HTTP/1.1 server on 127.0.0.1 that
//! knows the test's secrets and answers in one of many hostile ways, chosen by the path
//! (`/mode/<name>/token`, `/mode/<name>/api/...`, `/mode/<name>/authz`, ...). It writes bytes
//! over a tokio `TcpStream` itself, so it can send what no well-behaved HTTP library would:
//! resets, bogus lengths, control characters in headers, endless or trickling bodies.
//!
//! The server runs on its own thread with its own runtime and stops when dropped: every
//! connection task (an endless body included) is cancelled with the runtime. Every loop it runs
//! is bounded in time or count.
#![allow(dead_code)]

pub mod harness;
pub mod modes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

pub use modes::{Action, MODES};

/// The longest the server holds a connection open on purpose (endless, trickling, stalled).
pub const MAX_HOLD: Duration = Duration::from_secs(60);
/// The most connections one server accepts in its life.
const MAX_CONNECTIONS: usize = 10_000;
/// The largest request head read.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body read.
const MAX_BODY: usize = 1 << 20;

/// The secrets of one test: what the tool holds (client secret, password, a stored refresh
/// token) and what the vendor issues (access and refresh tokens, a code). Each is long, looks
/// like nothing else, and has characters that JSON, HTML, percent-encoding and base64 write
/// differently (`/ & " < + %` and a space).
#[derive(Clone, Debug)]
pub struct Secrets {
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub refresh_token: String,
    pub access_token: String,
    pub code: String,
}

impl Secrets {
    pub fn standard() -> Secrets {
        Secrets {
            client_id: "hostile client/7".to_owned(),
            client_secret: "Kq7rT2mXvB9/pL4&sW\"z<Q+9%Yt 8Hd".to_owned(),
            username: "hostile-user".to_owned(),
            password: "Pw3nM8qZjF5/Hr5&Lt\"Vx<Jc+2%Ke 6Fs".to_owned(),
            refresh_token: "Rf5hG1wCxE3/Nb8&Dk\"Sy<Tm+4%Qa 9Lz".to_owned(),
            access_token: "Ac2jU7eKsR6/Wd6&Fp\"Bn<Xg+7%Rv 3Mh".to_owned(),
            code: "Cd8pY4tLoI2/Zs1&Gq\"Hw<Ej+5%Uo 2Nc".to_owned(),
        }
    }

    /// Every secret by name.
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("client secret", self.client_secret.as_str()),
            ("password", self.password.as_str()),
            ("refresh token", self.refresh_token.as_str()),
            ("access token", self.access_token.as_str()),
            ("authorization code", self.code.as_str()),
        ]
    }
}

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub path: String,
    pub query: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `(mode, rest)` of `/mode/<mode>/<rest>`.
    pub fn mode(&self) -> Option<(&str, &str)> {
        let rest = self.path.strip_prefix("/mode/")?;
        Some(rest.split_once('/').unwrap_or((rest, "")))
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A field of a form-encoded body, decoded.
    pub fn form_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.body)
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// What the server shares between its connections and the test.
pub struct State {
    pub secrets: Secrets,
    pub port: u16,
    /// Where the redirect modes send the client (a [`ConnectionRecorder`]'s URL).
    pub attacker: Mutex<String>,
    log: Mutex<Vec<Request>>,
    hits: Mutex<HashMap<String, u32>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// Counts a request to `mode`; the count including this one.
    pub fn hit(&self, mode: &str) -> u32 {
        let mut hits = lock(&self.hits);
        let n = hits.entry(mode.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    pub fn attacker_url(&self) -> String {
        lock(&self.attacker).clone()
    }
}

/// The hostile vendor. Stops (and cancels every connection) when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    /// Starts the server on 127.0.0.1 and a free port.
    pub fn start(secrets: Secrets) -> HostileServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State {
            secrets,
            port: addr.port(),
            attacker: Mutex::new("http://attacker.example/steal".to_owned()),
            log: Mutex::new(Vec::new()),
            hits: Mutex::new(HashMap::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("hostile-vendor".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("hostile vendor runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = stopped => {}
                        _ = accept_loop(listener, thread_state) => {}
                    }
                });
                // Cancels every connection task still running (endless bodies included).
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("hostile vendor thread");
        HostileServer {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// `http://127.0.0.1:PORT/mode/<mode>`.
    pub fn mode_url(&self, mode: &str) -> String {
        format!("{}/mode/{mode}", self.base())
    }

    pub fn secrets(&self) -> &Secrets {
        &self.state.secrets
    }

    /// Sets where the redirect modes point.
    pub fn set_attacker(&self, url: &str) {
        *lock(&self.state.attacker) = url.to_owned();
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state.log).clone()
    }

    /// The requests to `/mode/<mode>/...`.
    pub fn requests_to(&self, mode: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.mode().is_some_and(|(m, _)| m == mode))
            .collect()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    for _ in 0..MAX_CONNECTIONS {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, Arc::clone(&state)));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let request =
        match tokio::time::timeout(Duration::from_secs(10), read_request(&mut stream)).await {
            Ok(Some(request)) => request,
            _ => return,
        };
    lock(&state.log).push(request.clone());
    let action = modes::respond(&state, &request);
    perform(stream, action).await;
}

/// Reads one request: head, then a body of `Content-Length` bytes.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::with_capacity(4096);
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if data.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    Some(Request {
        method,
        target,
        path,
        query,
        headers,
        body,
    })
}

/// Carries out an action on the connection; every wait is bounded by [`MAX_HOLD`].
async fn perform(mut stream: TcpStream, action: Action) {
    let _ = tokio::time::timeout(MAX_HOLD, async {
        match action {
            Action::Send(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.flush().await;
                let _ = stream.shutdown().await;
            }
            Action::Trickle { head, body, every } => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                for byte in body {
                    tokio::time::sleep(every).await;
                    if stream.write_all(&[byte]).await.is_err() {
                        return;
                    }
                }
                let _ = stream.shutdown().await;
            }
            Action::Endless { head, chunk, every } => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                let started = Instant::now();
                while started.elapsed() < MAX_HOLD {
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
            }
            Action::Stall => {
                // Keeps the connection open without a byte of answer, until the client leaves.
                let mut buf = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            }
            Action::Reset => {
                // SO_LINGER 0: closing sends RST instead of FIN.
                let _ = stream.set_zero_linger();
                drop(stream);
            }
            Action::Close => {
                let _ = stream.shutdown().await;
                drop(stream);
            }
        }
    })
    .await;
}

/// A listener that only counts the connections it gets (the place a request must never go).
pub struct ConnectionRecorder {
    port: u16,
    count: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConnectionRecorder {
    pub fn start() -> ConnectionRecorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind recorder");
        listener
            .set_nonblocking(true)
            .expect("nonblocking recorder");
        let port = listener.local_addr().expect("recorder address").port();
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_count, thread_stop) = (Arc::clone(&count), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !thread_stop.load(Ordering::SeqCst)
                && started.elapsed() < Duration::from_secs(600)
            {
                match listener.accept() {
                    Ok((stream, _)) => {
                        thread_count.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        ConnectionRecorder {
            port,
            count,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for ConnectionRecorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
