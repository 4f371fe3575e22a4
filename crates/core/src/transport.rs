//! The HTTP side of a client, built once: transport options, the HTTP client (one per process
//! for the same options, or the user's own), URL rewriting, sending with retries under one
//! deadline, and capped body reading.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use rand::RngExt as _;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Response};
use tokio::time::Instant;
use url::Url;

use crate::error::Error;
use crate::headers::copy_with_room;
use crate::sanitize::Sanitizer;
use crate::stack::{
    ProxyChoice, Roots, StackKey, StackSettings, certificate_problem, shared_client,
};
use crate::target::{Rewrite, check_secure, display_url};

/// The longest `Retry-After` honoured; a server asking for more is not retried at all.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The longest computed backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Transport settings of a client, built with setters from [`ClientOptions::default`].
///
/// - `connect_timeout` bounds opening a connection, `request_timeout` one attempt (body
///   included), and `deadline` the whole operation: every attempt and every wait between them.
///   An operation never takes longer than its deadline, whatever the server does.
/// - Token requests are attempted up to `max_attempts` times (1 turns retries off): connection
///   failures, timeouts, 5xx and 429 are retried after `initial_backoff × 2^n` with jitter, or
///   after the server's `Retry-After` (a server asking for more than 30 s, or for more time
///   than the deadline leaves, is not retried). OAuth errors and refused server certificates
///   are never retried, and single-use values (a code, a rotating refresh token, a password)
///   are resent only when the connection failed before the request was sent.
/// - `rewrites` send every request whose URL starts with a prefix (origin and path prefix) to
///   another origin instead (tests, proxies); the result is always on the target's origin,
///   and must be HTTPS or loopback.
/// - By default every client with the same connect timeout, trusted roots and proxy shares
///   one HTTP client (its connection pool, TLS configuration and sockets) per process;
///   [`ClientOptions::http_client`] brings your own instead.
///
/// # TLS and proxies
///
/// TLS is rustls (never OpenSSL). The trusted roots are, together:
///
/// 1. Mozilla's roots, compiled in (`webpki-roots`); the operating system's store is not read;
/// 2. the PEM bundle that the `SSL_CERT_FILE` environment variable names, read each time a
///    client is built (a file that cannot be read, or holds no certificate, is an error);
/// 3. the roots given with [`ClientOptions::root_certificate`] and
///    [`ClientOptions::root_certificates_pem`].
///
/// Extra roots are added to the built-in ones, never replace them. The proxy is the one given
/// with [`ClientOptions::proxy`], else none after [`ClientOptions::no_proxy`], else the one the
/// environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, their lowercase forms, and
/// `NO_PROXY`), read each time a client is built. With your own
/// [`ClientOptions::http_client`], none of this applies: roots and proxy are your client's,
/// and setting them here too is an error.
///
/// `Debug` hides any user info in rewrites and in the proxy URL.
#[derive(Clone)]
pub struct ClientOptions {
    connect_timeout: Duration,
    request_timeout: Duration,
    deadline: Duration,
    max_attempts: u32,
    initial_backoff: Duration,
    rewrites: Vec<(String, String)>,
    roots: Vec<Roots>,
    proxy: ProxyChoice,
    /// The user's own client; in an `Arc` so that clones of these options can be told to be
    /// the same (clients built with equal options share their immutable parts).
    http_client: Option<Arc<reqwest::Client>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(30),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            rewrites: Vec::new(),
            roots: Vec::new(),
            proxy: ProxyChoice::Environment,
            http_client: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rewrites: Vec<(String, String)> = self
            .rewrites
            .iter()
            .map(|(from, to)| {
                (
                    crate::target::redact_url(from),
                    crate::target::redact_url(to),
                )
            })
            .collect();
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("deadline", &self.deadline)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("rewrites", &rewrites)
            .field("extra_roots", &self.roots.len())
            .field("proxy", &self.proxy.display())
            .field("own_http_client", &self.http_client.is_some())
            .finish()
    }
}

impl ClientOptions {
    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientOptions {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt, body included (default 15 s).
    pub fn request_timeout(mut self, timeout: Duration) -> ClientOptions {
        self.request_timeout = timeout;
        self
    }

    /// Time allowed for a whole operation, every attempt and wait included (default 30 s).
    pub fn deadline(mut self, deadline: Duration) -> ClientOptions {
        self.deadline = deadline;
        self
    }

    /// Attempts per token request, the first included; 1 turns retries off (default 3).
    pub fn max_attempts(mut self, attempts: u32) -> ClientOptions {
        self.max_attempts = attempts.max(1);
        self
    }

    /// First backoff delay, doubled per attempt, with jitter (default 200 ms).
    pub fn initial_backoff(mut self, backoff: Duration) -> ClientOptions {
        self.initial_backoff = backoff;
        self
    }

    /// Sends every request whose URL starts with `from` (an origin and an optional path prefix)
    /// to `to` instead. Checked when the client is built.
    pub fn rewrite(mut self, from: impl Into<String>, to: impl Into<String>) -> ClientOptions {
        self.rewrites.push((from.into(), to.into()));
        self
    }

    /// Trusts one more root certificate authority, given as one PEM certificate
    /// (`-----BEGIN CERTIFICATE-----`), besides the built-in roots: for a vendor (or a proxy
    /// that inspects TLS) whose certificate a private CA issued. Checked when the client is
    /// built. See "TLS and proxies" above.
    pub fn root_certificate(mut self, pem: impl AsRef<[u8]>) -> ClientOptions {
        self.roots
            .push(Roots::one(pem.as_ref(), "ClientOptions::root_certificate"));
        self
    }

    /// Trusts every certificate of a PEM bundle (a CA file's contents: one or more
    /// certificates), besides the built-in roots. Checked when the client is built.
    pub fn root_certificates_pem(mut self, bundle: impl AsRef<[u8]>) -> ClientOptions {
        self.roots.push(Roots::bundle(
            bundle.as_ref(),
            "ClientOptions::root_certificates_pem",
        ));
        self
    }

    /// Sends every request through this proxy (`http://HOST:PORT` or `https://…`; user info
    /// in the URL authenticates to the proxy), whatever the
    /// environment says. HTTPS goes through it with `CONNECT`, so the proxy sees only the host.
    pub fn proxy(mut self, url: impl Into<String>) -> ClientOptions {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Uses no proxy, whatever the environment says (`HTTPS_PROXY`…).
    pub fn no_proxy(mut self) -> ClientOptions {
        self.proxy = ProxyChoice::Off;
        self
    }

    /// Uses your own HTTP client (with your proxy, CA and middleware) instead of the shared
    /// one. Build it with `redirect(reqwest::redirect::Policy::none())`: a response that a
    /// client followed to another URL is refused, but the request went there first. Start from
    /// [`http_client_builder`](crate::http_client_builder) unless your program installs a rustls
    /// crypto provider or turns on a reqwest TLS feature that brings one.
    pub fn http_client(mut self, client: reqwest::Client) -> ClientOptions {
        self.http_client = Some(Arc::new(client));
        self
    }

    /// The time allowed for a whole operation.
    pub fn deadline_value(&self) -> Duration {
        self.deadline
    }

    /// The attempts per token request.
    pub fn max_attempts_value(&self) -> u32 {
        self.max_attempts
    }

    /// The rewrites, as given.
    pub fn rewrites(&self) -> &[(String, String)] {
        &self.rewrites
    }
}

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryPolicy {
    /// Connection failures, timeouts, 5xx and 429.
    Idempotent,
    /// Only when the connection failed before the request was sent (single-use values).
    SingleUse,
    /// Never.
    Never,
}

/// A request as plain data: everything needed to send it (again).
pub(crate) struct PreparedRequest {
    pub(crate) method: Method,
    /// Where it goes, rewrites applied.
    pub(crate) url: Url,
    /// The URL as shown in messages, worked out when first asked ([`PreparedRequest::endpoint`]):
    /// most requests are never shown.
    pub(crate) endpoint: OnceLock<String>,
    pub(crate) headers: HeaderMap,
    /// The body and its content type (`Bytes`: each attempt sends it without a copy).
    pub(crate) body: Option<(HeaderValue, Bytes)>,
    /// The secrets this request carries, scrubbed from anything shown about its answer.
    pub(crate) sanitizer: Sanitizer,
}

impl PreparedRequest {
    /// The URL as shown in messages (no user info, query or fragment).
    pub(crate) fn endpoint(&self) -> &str {
        self.endpoint.get_or_init(|| display_url(&self.url))
    }
}

tokio::task_local! {
    /// The end of the enclosing work (see [`within_deadline`]).
    static ENCLOSING_DEADLINE: Instant;
}

/// Runs `work` so that every transport operation it starts ends by `deadline`, or by its own
/// deadline when that comes first; one that would start later fails at once with
/// [`Error::Timeout`]. A token manager bounds a fetch so, which may make several requests (a
/// refused refresh, then the grant again; keys for an ID token): with the timers the requests
/// have anyway, instead of one more around them all.
pub(crate) fn within_deadline<F: Future>(
    deadline: Instant,
    work: F,
) -> impl Future<Output = F::Output> {
    ENCLOSING_DEADLINE.scope(deadline, work)
}

/// A response, read up to a cap.
pub(crate) struct BufferedResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// `None` when the body exceeded the cap and was not read.
    pub(crate) body: Option<Bytes>,
}

impl BufferedResponse {
    /// Whether the status says that trying again later may succeed (5xx, 429).
    fn is_transient(&self) -> bool {
        self.status >= 500 || self.status == 429
    }

    /// A header as text, when present and visible ASCII.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The HTTP side of one client, built once.
pub(crate) struct Transport {
    http: reqwest::Client,
    /// The user's own client: it may follow redirects, so responses are checked.
    own_client: bool,
    options: ClientOptions,
    rewrites: Vec<Rewrite>,
    vendor: Box<str>,
    request_id_header: Option<HeaderName>,
}

/// The HTTP client a transport uses, and what identifies it.
pub(crate) struct HttpChoice {
    http: reqwest::Client,
    /// The shared stack's key; `None` for the user's own client (identified by the options).
    pub(crate) stack: Option<StackKey>,
}

impl HttpChoice {
    /// The user's own client, or the shared stack for the options (the stack reflects the
    /// environment now: `SSL_CERT_FILE` and the proxy variables).
    pub(crate) fn for_options(vendor: &str, options: &ClientOptions) -> Result<HttpChoice, Error> {
        match &options.http_client {
            Some(_) if !options.roots.is_empty() || options.proxy != ProxyChoice::Environment => {
                Err(Error::config(
                    vendor,
                    "root certificates and the proxy are settings of the shared HTTP client; \
                     with ClientOptions::http_client, set them on your own client instead",
                ))
            }
            Some(client) => Ok(HttpChoice {
                http: (**client).clone(),
                stack: None,
            }),
            None => {
                let settings = StackSettings {
                    connect_timeout: options.connect_timeout,
                    roots: &options.roots,
                    proxy: &options.proxy,
                };
                let (stack, http) = shared_client(vendor, &settings)?;
                Ok(HttpChoice {
                    http,
                    stack: Some(stack),
                })
            }
        }
    }
}

impl ClientOptions {
    /// Whether clients built with `self` and with `other` (and the same HTTP client) behave
    /// alike: equal settings, and the same own HTTP client if any.
    pub(crate) fn same_as(&self, other: &ClientOptions) -> bool {
        let same_client = match (&self.http_client, &other.http_client) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_client
            && self.connect_timeout == other.connect_timeout
            && self.request_timeout == other.request_timeout
            && self.deadline == other.deadline
            && self.max_attempts == other.max_attempts
            && self.initial_backoff == other.initial_backoff
            && self.rewrites == other.rewrites
            && self.proxy == other.proxy
            && self.roots.len() == other.roots.len()
            && self
                .roots
                .iter()
                .zip(&other.roots)
                .all(|(a, b)| a.same_as(b))
    }
}

impl Transport {
    /// Builds the transport: rewrites parsed and checked, the HTTP client chosen.
    pub(crate) fn new(
        vendor: &str,
        options: ClientOptions,
        request_id_header: Option<&str>,
    ) -> Result<Transport, Error> {
        let http = HttpChoice::for_options(vendor, &options)?;
        Transport::with_http(vendor, options, request_id_header, http)
    }

    /// Builds the transport over a chosen HTTP client.
    pub(crate) fn with_http(
        vendor: &str,
        options: ClientOptions,
        request_id_header: Option<&str>,
        http: HttpChoice,
    ) -> Result<Transport, Error> {
        let rewrites = options
            .rewrites
            .iter()
            .map(|(from, to)| Rewrite::parse(vendor, from, to))
            .collect::<Result<Vec<_>, _>>()?;
        let request_id_header =
            request_id_header.and_then(|name| HeaderName::from_bytes(name.as_bytes()).ok());
        Ok(Transport {
            http: http.http,
            own_client: http.stack.is_none(),
            options,
            rewrites,
            vendor: vendor.into(),
            request_id_header,
        })
    }

    /// The options.
    pub(crate) fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Where a request to `url` goes: the first matching rewrite applied, and HTTPS (or a
    /// loopback host) checked before and after.
    pub(crate) fn target(&self, url: Url) -> Result<Url, Error> {
        check_secure(&self.vendor, &url)?;
        let Some(rewritten) = self.rewrites.iter().find_map(|r| r.apply(&url)) else {
            return Ok(url);
        };
        check_secure(&self.vendor, &rewritten)?;
        Ok(rewritten)
    }

    /// The rewrites, safe to show.
    pub(crate) fn rewrites_display(&self) -> Vec<(String, String)> {
        self.rewrites.iter().map(Rewrite::display).collect()
    }

    /// The longest an operation may take, every attempt and wait included.
    pub(crate) fn worst_case(&self) -> Duration {
        self.options.deadline
    }

    /// Sends `request`, retrying as `policy` allows within the deadline, and reads the body up
    /// to `cap` bytes.
    pub(crate) fn send<'a>(
        &'a self,
        request: &'a mut PreparedRequest,
        policy: RetryPolicy,
        cap: usize,
    ) -> Pin<Box<impl Future<Output = Result<BufferedResponse, Error>> + 'a>> {
        // Boxed: the HTTP exchange's state (some 700 bytes) would otherwise be part of every
        // caller's future, and a task over a kilobyte takes the allocator's slow path (its
        // per-thread cache serves smaller blocks), on every request.
        Box::pin(self.send_unboxed(request, policy, cap))
    }

    pub(crate) async fn send_unboxed(
        &self,
        request: &mut PreparedRequest,
        policy: RetryPolicy,
        cap: usize,
    ) -> Result<BufferedResponse, Error> {
        let now = Instant::now();
        let own = now + self.options.deadline;
        let deadline = ENCLOSING_DEADLINE
            .try_with(|enclosing| own.min(*enclosing))
            .unwrap_or(own);
        if deadline <= now {
            // The enclosing work is out of time: nothing is sent.
            return Err(Error::Timeout {
                vendor: self.vendor.clone(),
                endpoint: request.endpoint().into(),
                attempts: 0,
            });
        }
        let max_attempts = match policy {
            RetryPolicy::Never => 1,
            _ => self.options.max_attempts.max(1),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let more = attempt < max_attempts;
            // One timer per attempt: the attempt's own limit, or the operation's deadline when
            // that comes first.
            let attempt_deadline = deadline.min(Instant::now() + self.options.request_timeout);
            // The last attempt takes the prepared headers instead of a copy.
            let headers = if more {
                copy_with_room(&request.headers)
            } else {
                std::mem::take(&mut request.headers)
            };
            // Built in the expression that awaits it: a future held in a local would keep its
            // own slot in this future besides the awaited copy (rust-lang/rust#62958), and
            // every caller's task would be that much larger to allocate and move.
            let outcome = match tokio::time::timeout_at(
                attempt_deadline,
                self.attempt(request, headers, cap),
            )
            .await
            {
                // The common case, decided here; everything else is in `after_attempt`, out of
                // the way of the code every request runs.
                Ok(Ok(response)) if !more || !response.is_transient() => return Ok(response),
                Ok(outcome) => outcome,
                Err(_) if attempt_deadline >= deadline => Err(AttemptError::Deadline),
                Err(_) => Err(AttemptError::TimedOut),
            };
            match self.after_attempt(outcome, request, policy, attempt, more, deadline) {
                AfterAttempt::Retry(wait) => tokio::time::sleep(wait).await,
                AfterAttempt::Done(result) => return result,
            }
        }
    }

    /// What follows an attempt that did not simply succeed: the wait before the next attempt,
    /// or the answer or error to return.
    #[cold]
    #[inline(never)]
    fn after_attempt(
        &self,
        outcome: Result<BufferedResponse, AttemptError>,
        request: &PreparedRequest,
        policy: RetryPolicy,
        attempt: u32,
        more: bool,
        deadline: Instant,
    ) -> AfterAttempt {
        let timeout = || Error::Timeout {
            vendor: self.vendor.clone(),
            endpoint: request.endpoint().into(),
            attempts: attempt,
        };
        if let Err(AttemptError::Deadline) = outcome {
            return AfterAttempt::Done(Err(timeout()));
        }
        let fits = |wait: Duration| Instant::now() + wait < deadline;
        match self.retry_wait(&outcome, policy, attempt) {
            Some(wait) if more && fits(wait) => {
                tracing::debug!(
                    vendor = &*self.vendor,
                    endpoint = request.endpoint(),
                    attempt,
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "retrying"
                );
                AfterAttempt::Retry(wait)
            }
            _ => AfterAttempt::Done(outcome.map_err(|err| match err {
                AttemptError::Send(err) | AttemptError::Body(err) => {
                    self.transport_error(request.endpoint(), err, attempt)
                }
                AttemptError::Refused(err) => err,
                AttemptError::TimedOut | AttemptError::Deadline => timeout(),
            })),
        }
    }

    /// How long to wait before trying again after `outcome`, or `None` to stop: transient
    /// failures are retried as `policy` allows, honouring `Retry-After` up to a bound.
    fn retry_wait(
        &self,
        outcome: &Result<BufferedResponse, AttemptError>,
        policy: RetryPolicy,
        attempt: u32,
    ) -> Option<Duration> {
        match outcome {
            // A refused server certificate is not transient: it is never retried.
            Err(AttemptError::Send(err)) if certificate_problem(err).is_some() => None,
            Err(AttemptError::Send(err)) => {
                let retry = match policy {
                    RetryPolicy::Idempotent => true,
                    RetryPolicy::SingleUse => err.is_connect(),
                    RetryPolicy::Never => false,
                };
                retry.then(|| self.backoff(attempt))
            }
            Err(AttemptError::Body(_) | AttemptError::TimedOut) => {
                (policy == RetryPolicy::Idempotent).then(|| self.backoff(attempt))
            }
            Err(AttemptError::Refused(_) | AttemptError::Deadline) => None,
            Ok(response) => {
                if response.is_transient() && policy == RetryPolicy::Idempotent {
                    match retry_after(&response.headers) {
                        Some(wait) if wait > MAX_RETRY_AFTER => None,
                        Some(wait) => Some(wait),
                        None => Some(self.backoff(attempt)),
                    }
                } else {
                    None
                }
            }
        }
    }

    /// One attempt. Not an `async fn`: the request is built before the future is made, so
    /// that neither the header map (an argument would be kept twice) nor the request under
    /// construction takes room in the future while it is sent (see `send`).
    fn attempt<'a>(
        &'a self,
        request: &'a PreparedRequest,
        headers: HeaderMap,
        cap: usize,
    ) -> impl Future<Output = Result<BufferedResponse, AttemptError>> + 'a {
        // Built by hand, not through `RequestBuilder`: its `headers` would copy the prepared
        // map entry by entry into yet another map, on every request.
        let mut http_request = reqwest::Request::new(request.method.clone(), request.url.clone());
        *http_request.headers_mut() = headers;
        if let Some((content_type, bytes)) = &request.body {
            http_request
                .headers_mut()
                .insert(CONTENT_TYPE, content_type.clone());
            *http_request.body_mut() = Some(bytes.clone().into());
        }
        let pending = self.http.execute(http_request);
        async move {
            let mut response = pending.await.map_err(AttemptError::Send)?;
            if self.own_client && response.url() != &request.url {
                return Err(AttemptError::Refused(Error::refused(
                    &self.vendor,
                    format!(
                        "the HTTP client followed a redirect from {} to {}; build it with \
                         redirect::Policy::none()",
                        request.endpoint(),
                        display_url(response.url())
                    ),
                )));
            }
            // Read through a borrow: a response moved into the reading future would be kept
            // twice in this one. The headers are taken after the body is read, so that they
            // are not kept beside the response while it is.
            let body = read_capped(&mut response, cap)
                .await
                .map_err(AttemptError::Body)?;
            Ok(BufferedResponse {
                status: response.status().as_u16(),
                headers: std::mem::take(response.headers_mut()),
                body,
            })
        }
    }

    /// The vendor's request id from the configured header, or a conventional `X-Request-Id`,
    /// sanitized.
    pub(crate) fn request_id(&self, headers: &HeaderMap, sanitizer: &Sanitizer) -> Option<String> {
        // Looked up by `HeaderName`: a `&str` name would be parsed again on every response.
        const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
        let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        self.request_id_header
            .as_ref()
            .and_then(text)
            .or_else(|| text(&X_REQUEST_ID))
            .map(|id| sanitizer.clean_shown(id, 128))
    }

    /// Exponential backoff with jitter: `initial × 2^(attempt-1)`, then a random value between
    /// half of that and all of it.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let base = self
            .options
            .initial_backoff
            .saturating_mul(factor)
            .min(MAX_BACKOFF);
        let half = base / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_nanos)
        };
        half + Duration::from_nanos(jitter)
    }

    fn transport_error(&self, endpoint: &str, err: reqwest::Error, attempts: u32) -> Error {
        if err.is_timeout() {
            Error::Timeout {
                vendor: self.vendor.clone(),
                endpoint: endpoint.into(),
                attempts,
            }
        } else {
            Error::Transport {
                vendor: self.vendor.clone(),
                endpoint: endpoint.into(),
                message: error_chain_text(err).into(),
                attempts,
            }
        }
    }
}

/// Why one attempt failed.
enum AttemptError {
    /// No complete answer within the attempt's time (`request_timeout`).
    TimedOut,
    /// No complete answer before the operation's deadline: not retried.
    Deadline,
    /// The request could not be sent, or no response came.
    Send(reqwest::Error),
    /// The body could not be read.
    Body(reqwest::Error),
    /// The exchange was refused by the engine.
    Refused(Error),
}

/// What follows an attempt that did not simply succeed.
enum AfterAttempt {
    /// Try again after this wait.
    Retry(Duration),
    /// The operation's answer or error.
    Done(Result<BufferedResponse, Error>),
}

/// A `Retry-After` in either of its forms (RFC 9110 §10.2.3): seconds, or an HTTP date (a date
/// in the past means now). Unreadable values are ignored: the computed backoff applies.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Reads a body chunk by chunk; `Ok(None)` as soon as it is known to exceed `cap`.
async fn read_capped(response: &mut Response, cap: usize) -> Result<Option<Bytes>, reqwest::Error> {
    let announced = response.content_length();
    if announced.is_some_and(|len| len > cap as u64) {
        return Ok(None);
    }
    // A body that comes in one chunk (most answers) is kept as that chunk, without a copy.
    let Some(first) = response.chunk().await? else {
        return Ok(Some(Bytes::new()));
    };
    if first.len() > cap {
        return Ok(None);
    }
    let Some(second) = response.chunk().await? else {
        return Ok(Some(first));
    };
    // Sized once when the length is announced (it is at most `cap` here).
    let mut body = Vec::with_capacity(announced.map_or(0, |len| len as usize));
    let mut next = Some(second);
    body.extend_from_slice(&first);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await?;
    }
    Ok(Some(body.into()))
}

/// An HTTP library error and its causes, without the URL (whose query may hold secrets). A
/// refused server certificate is said first, in plain words.
fn error_chain_text(err: reqwest::Error) -> String {
    let err = err.without_url();
    if let Some(problem) = certificate_problem(&err) {
        return crate::sanitize::sanitize_text(&problem);
    }
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    crate::sanitize::sanitize_text(&message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_in_one_chunk_is_kept_whole_and_the_cap_is_kept() {
        let response = |body: &'static str| Response::from(http::Response::new(body));
        let read = read_capped(&mut response("{\"a\":1}"), 7).await.unwrap();
        assert_eq!(read.as_deref(), Some(&b"{\"a\":1}"[..]));
        let read = read_capped(&mut response("{\"a\":1}"), 6).await.unwrap();
        assert_eq!(read, None, "one byte over the cap");
        let read = read_capped(&mut response(""), 6).await.unwrap();
        assert_eq!(read.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn rewrites_are_checked_when_the_transport_is_built() {
        let options = ClientOptions::default()
            .rewrite("https://a.example", "http://127.0.0.1:9")
            .rewrite("https://b.example", "http://evil.example");
        let err = Transport::new("v", options, None).err().unwrap();
        assert!(matches!(err, Error::InsecureUrl { .. }), "{err}");
        let options = ClientOptions::default().rewrite("https://a.example", "http://127.0.0.1:9");
        let transport = Transport::new("v", options, None).unwrap();
        let url = transport
            .target(Url::parse("https://a.example/t?x=1").unwrap())
            .unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/t?x=1");
        assert!(matches!(
            transport.target(Url::parse("http://c.example/t").unwrap()),
            Err(Error::InsecureUrl { .. })
        ));
    }

    #[test]
    fn roots_or_a_proxy_with_your_own_http_client_is_an_error() {
        let own = crate::http_client_builder().build().unwrap();
        for options in [
            ClientOptions::default()
                .http_client(own.clone())
                .proxy("http://127.0.0.1:9"),
            ClientOptions::default().http_client(own.clone()).no_proxy(),
            ClientOptions::default()
                .http_client(own.clone())
                .root_certificate("-----BEGIN CERTIFICATE-----"),
        ] {
            let err = Transport::new("v", options, None).err().unwrap();
            assert!(
                err.to_string().contains("set them on your own client"),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn an_operation_after_the_enclosing_deadline_sends_nothing() {
        let server = wiremock::MockServer::start().await;
        let transport = Transport::new("v", ClientOptions::default(), None).unwrap();
        let url = Url::parse(&format!("{}/token", server.uri())).unwrap();
        let mut request = PreparedRequest {
            method: Method::POST,
            url,
            endpoint: OnceLock::new(),
            headers: HeaderMap::new(),
            body: None,
            sanitizer: Sanitizer::new(),
        };
        let past = Instant::now() - Duration::from_millis(1);
        let sent = within_deadline(past, transport.send(&mut request, RetryPolicy::Never, 64));
        let err = sent.await.err().unwrap();
        assert!(matches!(err, Error::Timeout { attempts: 0, .. }), "{err}");
        let received = server.received_requests().await.unwrap_or_default();
        assert!(received.is_empty(), "{} requests sent", received.len());
        // Within a deadline still ahead, the same request goes out.
        let ahead = Instant::now() + Duration::from_secs(10);
        let sent = within_deadline(ahead, transport.send(&mut request, RetryPolicy::Never, 64));
        assert_eq!(sent.await.unwrap().status, 404);
        assert_eq!(
            server.received_requests().await.unwrap_or_default().len(),
            1
        );
    }

    #[test]
    fn debug_hides_the_proxy_credentials() {
        let options = ClientOptions::default().proxy("http://u:pw-secret@127.0.0.1:3128");
        let shown = format!("{options:?}");
        assert!(!shown.contains("pw-secret"), "{shown}");
        assert!(shown.contains("127.0.0.1:3128"), "{shown}");
    }
}
