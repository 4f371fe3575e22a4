//! The loopback receiver of `login`: a tiny HTTP server on 127.0.0.1 that takes the browser's
//! redirect, hands the callback to the code exchange, and answers the browser with a page that
//! says whether the login worked.

use std::future::Future;
use std::time::Duration;

use oauth_clients_core::{AuthorizationRequest, Callback, Error, Token};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::failure::Failure;

/// The path the browser is redirected to.
pub(crate) const CALLBACK_PATH: &str = "/callback";
/// The largest request head read from the browser.
const MAX_HEAD: usize = 16 * 1024;
/// How long a connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound receiver, waiting for the browser.
pub(crate) struct Receiver {
    listener: TcpListener,
    port: u16,
    vendor: String,
}

impl Receiver {
    /// Binds 127.0.0.1 on `port`, or on a free port.
    pub(crate) async fn bind(port: Option<u16>, vendor: &str) -> Result<Receiver, Failure> {
        let listener = TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))
            .await
            .map_err(|err| {
                Failure::usage(format!(
                    "cannot listen on 127.0.0.1:{}: {err}",
                    port.unwrap_or(0)
                ))
            })?;
        let port = listener
            .local_addr()
            .map_err(|err| Failure::usage(format!("cannot read the loopback address: {err}")))?
            .port();
        Ok(Receiver {
            listener,
            port,
            vendor: vendor.to_owned(),
        })
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub(crate) fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Serves until the callback of this login arrives (the one carrying `state`), runs
    /// `exchange` on it, answers the browser with the outcome and returns it. Other paths (a
    /// favicon…) get a 404, a redirect with another or no state gets an error page, and the
    /// wait goes on in both cases; only the right state (with a code or an error) ends it.
    pub(crate) async fn serve<F, Fut>(
        self,
        request: &AuthorizationRequest,
        exchange: F,
    ) -> Result<Token, Failure>
    where
        F: Fn(Callback) -> Fut,
        Fut: Future<Output = Result<Token, Error>>,
    {
        let (requests, mut incoming) = mpsc::channel::<(TcpStream, String)>(8);
        let _stop_acceptor = AbortOnDrop(tokio::spawn(accept(self.listener, self.port, requests)));
        while let Some((mut stream, target)) = incoming.recv().await {
            let Some(callback) = callback_of(&mut stream, &target, request).await else {
                continue;
            };
            let result = exchange(callback).await;
            let vendor = html_escape(&self.vendor);
            match &result {
                Ok(_) => {
                    let body = format!(
                        "<p id=\"result\">Logged in to {vendor}. You can close this window and \
                         return to the terminal.</p>"
                    );
                    respond(&mut stream, 200, "Login successful", &body).await
                }
                Err(err) => {
                    // The error's text is sanitized; escaping keeps it text on the page.
                    let body = format!(
                        "<p id=\"result\">Login to {vendor} failed: {}</p><p>See the terminal \
                         for details.</p>",
                        html_escape(&err.to_string())
                    );
                    respond(&mut stream, 400, "Login failed", &body).await
                }
            }
            return result.map_err(Failure::from);
        }
        Err(Failure::vendor(
            "the loopback receiver stopped unexpectedly",
        ))
    }
}

/// Accepts connections and reads them concurrently: a browser may open speculative connections
/// that send nothing, and those must not hold up the one that carries the callback. Requests
/// for a host other than this receiver's loopback names are answered and dropped here.
async fn accept(listener: TcpListener, port: u16, requests: mpsc::Sender<(TcpStream, String)>) {
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // E.g. out of file descriptors: wait instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let requests = requests.clone();
        tokio::spawn(async move {
            let read = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await;
            match read {
                Ok(Some(head)) if host_is_loopback(head.host.as_deref(), port) => {
                    let _ = requests.send((stream, head.target)).await;
                }
                Ok(Some(_)) => {
                    // A page of another site reaching us through DNS rebinding.
                    respond(
                        &mut stream,
                        421,
                        "Wrong host",
                        "<p>This receiver answers only to 127.0.0.1, [::1] and localhost.</p>",
                    )
                    .await
                }
                _ => respond(&mut stream, 400, "Bad request", "<p>Malformed request.</p>").await,
            }
        });
    }
}

/// The callback of this login carried by a request, or `None` after answering a request that
/// is not it (another path, another state, neither code nor error).
async fn callback_of(
    stream: &mut TcpStream,
    target: &str,
    request: &AuthorizationRequest,
) -> Option<Callback> {
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        respond(stream, 400, "Bad request", "<p>Malformed request.</p>").await;
        return None;
    };
    if url.path() != CALLBACK_PATH {
        respond(stream, 404, "Not found", "<p>Nothing here.</p>").await;
        return None;
    }
    let callback = Callback::from_query(url.query().unwrap_or(""));
    if !request.state_matches(callback.state.as_deref()) {
        respond(
            stream,
            400,
            "Not this login",
            "<p>This redirect does not belong to the login in progress (its state does not \
             match); it was ignored. Finish the login in the window opened by \
             <code>oauth-clients login</code>.</p>",
        )
        .await;
        return None;
    }
    if !callback.has_code() && callback.error.is_none() {
        respond(
            stream,
            400,
            "Login failed",
            "<p>The redirect carried neither a code nor an error.</p>",
        )
        .await;
        return None;
    }
    Some(callback)
}

/// Stops the accepting task (and so closes the listening socket) when the wait ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the receiver reads of a request head.
struct Head {
    target: String,
    host: Option<String>,
}

/// Whether a `Host` header names this receiver on a loopback name: `127.0.0.1:PORT`,
/// `[::1]:PORT` or `localhost:PORT` (any case). Anything else may be a DNS-rebinding attack.
fn host_is_loopback(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    ["127.0.0.1", "[::1]", "localhost"]
        .iter()
        .any(|name| host == format!("{name}:{port}"))
}

/// Reads the request head of a `GET`: its target and `Host`.
async fn read_head(stream: &mut TcpStream) -> Option<Head> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = std::str::from_utf8(&head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let host = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim().to_owned());
    (method == "GET" && target.starts_with('/')).then(|| Head {
        target: target.to_owned(),
        host,
    })
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        421 => "Misdirected Request",
        _ => "Bad Request",
    };
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>\n"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Escapes text for HTML.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_with_the_port() {
        for ok in [
            "127.0.0.1:8400",
            "[::1]:8400",
            "localhost:8400",
            "LOCALHOST:8400",
        ] {
            assert!(host_is_loopback(Some(ok), 8400), "{ok}");
        }
        for bad in [
            None,
            Some("evil.example:8400"),
            Some("127.0.0.1"),
            Some("127.0.0.1:8401"),
            Some("localhost.evil.example:8400"),
            Some("127.0.0.2:8400"),
        ] {
            assert!(!host_is_loopback(bad, 8400), "{bad:?}");
        }
    }
}
