//! The one local server of the bench: `POST /token` answers a client credentials request with a
//! JSON token, `GET /api` a small JSON body. Runs on its own thread and runtime, on 127.0.0.1,
//! and stops when dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// The body of every `GET /api` answer.
const API_BODY: &[u8] = br#"{"id":42,"name":"bench","items":[1,2,3],"active":true}"#;

/// The name of the server's thread (its CPU time is left out of the clients').
pub const THREAD_NAME: &str = "bench-server";

/// A running server; stopped (and its thread joined) on drop.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    tokens_issued: Arc<AtomicU64>,
}

impl Server {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<Server> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let tokens_issued = Arc::new(AtomicU64::new(0));
        let counter = tokens_issued.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || runtime.block_on(serve(listener, stopped, counter)))?;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            tokens_issued,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.tokens_issued.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    mut stopped: oneshot::Receiver<()>,
    counter: Arc<AtomicU64>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(request, counter.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
    // Returning drops the runtime, which ends every connection task.
}

async fn handle(
    request: Request<Incoming>,
    counter: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let authorization = request.headers().get(AUTHORIZATION).cloned();
    let starts = |prefix: &[u8]| {
        authorization
            .as_ref()
            .is_some_and(|v| v.as_bytes().starts_with(prefix))
    };
    Ok(match (request.method(), request.uri().path()) {
        (&Method::POST, "/token") => {
            let basic = starts(b"Basic ");
            let body = match request.into_body().collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return Ok(status(StatusCode::BAD_REQUEST)),
            };
            let grant = body
                .windows(b"grant_type=client_credentials".len())
                .any(|w| w == b"grant_type=client_credentials");
            if !basic || !grant {
                return Ok(status(StatusCode::UNAUTHORIZED));
            }
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let token = format!(
                r#"{{"access_token":"bench-token-{n}","token_type":"bearer","expires_in":3600}}"#
            );
            json(Bytes::from(token))
        }
        (&Method::GET, "/api") if starts(b"Bearer ") => json(Bytes::from_static(API_BODY)),
        (&Method::GET, "/api") => status(StatusCode::UNAUTHORIZED),
        _ => status(StatusCode::NOT_FOUND),
    })
}

fn json(body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}
