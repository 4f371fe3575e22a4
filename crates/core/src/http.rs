//! HTTP plumbing of the engine: URL checks and rewriting, capped body reading, retries.

use std::time::Duration;

use rand::Rng as _;
use reqwest::RequestBuilder;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use url::{Host, Url};

use crate::client::ClientOptions;
use crate::error::Error;

/// The longest `Retry-After` honoured; a server asking for more is not retried at all.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The longest computed backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Whether a URL's host is a loopback address: 127.0.0.0/8, `[::1]` or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A URL without user info, query and fragment: safe to show.
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Fails only for URLs that cannot have user info, which then have none.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// A URL given as text, as it may be shown in messages and `Debug` output: without user,
/// password, query or fragment (any of which may carry a secret). Text that is not a URL is not
/// shown at all.
pub fn redact_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => display_url(&url),
        Err(_) => "(not a URL; not shown)".to_owned(),
    }
}

/// Requires HTTPS, except on loopback hosts.
pub(crate) fn check_secure(vendor: &str, url: &Url) -> Result<(), Error> {
    if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url)) {
        Ok(())
    } else {
        Err(Error::InsecureUrl {
            vendor: vendor.to_owned(),
            url: display_url(url),
        })
    }
}

/// Applies the first matching `(from, to)` prefix rewrite, then checks the result is secure.
pub(crate) fn rewrite(vendor: &str, options: &ClientOptions, url: &Url) -> Result<Url, Error> {
    check_secure(vendor, url)?;
    let text = url.as_str();
    let Some((from, to)) = options
        .rewrites
        .iter()
        .find(|(from, _)| !from.is_empty() && text.starts_with(from.as_str()))
    else {
        return Ok(url.clone());
    };
    let rewritten = format!("{to}{}", &text[from.len()..]);
    let parsed = Url::parse(&rewritten).map_err(|err| Error::Config {
        vendor: vendor.to_owned(),
        message: format!(
            "the rewrite of `{}` to `{}` gives an invalid URL: {err}",
            redact_url(from),
            redact_url(to)
        ),
    })?;
    check_secure(vendor, &parsed)?;
    Ok(parsed)
}

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryPolicy {
    /// Connection failures, timeouts, 5xx and 429.
    Idempotent,
    /// Only when the connection failed before the request was sent (single-use codes).
    SingleUse,
    /// Never.
    Never,
}

/// A response, read up to a cap.
pub(crate) struct Captured {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) content_type: Option<String>,
    pub(crate) request_id: Option<String>,
    /// `None` when the body exceeded the cap and was not read.
    pub(crate) body: Option<Vec<u8>>,
}

/// The HTTP side of one client.
pub(crate) struct Transport<'a> {
    pub(crate) vendor: &'a str,
    pub(crate) options: &'a ClientOptions,
    pub(crate) request_id_header: Option<&'a str>,
}

impl Transport<'_> {
    /// Sends the request `build` makes (once per attempt), retrying as `policy` allows, and reads
    /// the body up to `cap` bytes.
    pub(crate) async fn execute(
        &self,
        endpoint: &str,
        policy: RetryPolicy,
        cap: usize,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Captured, Error> {
        let max_attempts = match policy {
            RetryPolicy::Never => 1,
            _ => self.options.max_attempts.max(1),
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let more = attempt < max_attempts;
            let response = match build().send().await {
                Ok(response) => response,
                Err(err) => {
                    let retry = more
                        && match policy {
                            RetryPolicy::Idempotent => true,
                            RetryPolicy::SingleUse => err.is_connect(),
                            RetryPolicy::Never => false,
                        };
                    if retry {
                        let wait = self.backoff(attempt);
                        tracing::debug!(
                            vendor = self.vendor,
                            endpoint,
                            attempt,
                            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            "connection failed; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(self.transport_error(endpoint, err, attempt));
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = match read_capped(response, cap).await {
                Ok(body) => body,
                Err(err) => {
                    if more && policy == RetryPolicy::Idempotent {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        continue;
                    }
                    return Err(self.transport_error(endpoint, err, attempt));
                }
            };
            let transient = status >= 500 || status == 429;
            if more && transient && policy == RetryPolicy::Idempotent {
                let wait = match retry_after(&headers) {
                    Some(wait) if wait > MAX_RETRY_AFTER => None,
                    Some(wait) => Some(wait),
                    None => Some(self.backoff(attempt)),
                };
                if let Some(wait) = wait {
                    tracing::debug!(
                        vendor = self.vendor,
                        endpoint,
                        attempt,
                        status,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "transient HTTP status; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Ok(Captured {
                status,
                content_type: header_str(&headers, CONTENT_TYPE.as_str()),
                request_id: self.request_id(&headers),
                headers,
                body,
            });
        }
    }

    /// The vendor's request id from the configured header, or a conventional `X-Request-Id`.
    pub(crate) fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        self.request_id_header
            .and_then(|name| header_str(headers, name))
            .or_else(|| header_str(headers, "x-request-id"))
            .map(|id| id.chars().take(128).collect())
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
                vendor: self.vendor.to_owned(),
                endpoint: endpoint.to_owned(),
                attempts,
            }
        } else {
            Error::Transport {
                vendor: self.vendor.to_owned(),
                endpoint: endpoint.to_owned(),
                message: describe(err),
                attempts,
            }
        }
    }
}

/// The text of a header, when present and visible ASCII.
pub(crate) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A `Retry-After` in either of its forms (RFC 9110 §10.2.3): seconds, or an HTTP date (a date
/// in the past means now). Unreadable values are ignored: the computed backoff applies.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, RETRY_AFTER.as_str())?;
    let value = value.trim();
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
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// An HTTP library error and its causes, without the URL (whose query may hold secrets).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
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
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_https_rules() {
        let ok = [
            "https://example.com/x",
            "http://127.0.0.1:8080/x",
            "http://127.5.6.7/x",
            "http://localhost/x",
            "http://[::1]:9/x",
        ];
        for u in ok {
            assert!(check_secure("v", &Url::parse(u).unwrap()).is_ok(), "{u}");
        }
        let bad = [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://localhost.evil.com/x",
            "ftp://127.0.0.1/x",
        ];
        for u in bad {
            assert!(
                matches!(
                    check_secure("v", &Url::parse(u).unwrap()),
                    Err(Error::InsecureUrl { .. })
                ),
                "{u}"
            );
        }
    }

    #[test]
    fn rewrite_checks_the_result() {
        let mut options = ClientOptions::default();
        options
            .rewrites
            .push(("https://a.example".into(), "http://127.0.0.1:9".into()));
        options
            .rewrites
            .push(("https://b.example".into(), "http://evil.example".into()));
        let u = rewrite(
            "v",
            &options,
            &Url::parse("https://a.example/t?x=1").unwrap(),
        )
        .unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9/t?x=1");
        assert!(matches!(
            rewrite("v", &options, &Url::parse("https://b.example/t").unwrap()),
            Err(Error::InsecureUrl { .. })
        ));
    }

    #[test]
    fn display_url_drops_secrets() {
        let u = Url::parse("https://user:pw@h.example/p?code=abc#frag").unwrap();
        assert_eq!(display_url(&u), "https://h.example/p");
    }

    #[test]
    fn rewrite_errors_never_show_credentials_of_the_prefixes() {
        let options = ClientOptions {
            rewrites: vec![(
                "https://a.example/".into(),
                "http://proxy-user:proxy-pass@127.0.0.1:99999".into(),
            )],
            ..ClientOptions::default()
        };
        let err = rewrite("v", &options, &Url::parse("https://a.example/t").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("proxy-pass") && !err.contains("proxy-user"),
            "{err}"
        );
        assert_eq!(
            redact_url("http://u:p@127.0.0.1:8080/x"),
            "http://127.0.0.1:8080/x"
        );
    }
}
