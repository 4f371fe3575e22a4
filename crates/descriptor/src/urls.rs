//! The one rule for which URLs may be used: HTTPS, or plain HTTP to a loopback host.
//!
//! Validation applies it to descriptor templates, the engine to every URL it is about to use
//! (after variables are substituted and rewrites are applied), so both always agree.

use url::{Host, Url};

/// Whether a URL's host is a loopback address: 127.0.0.0/8, `[::1]` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether a URL may carry credentials: `https`, or `http` to a loopback host.
pub fn is_secure(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_loopback_rule() {
        for ok in [
            "https://example.com/x",
            "http://127.0.0.1:8080/x",
            "http://127.0.0.2/x",
            "http://127.5.6.7/x",
            "http://localhost/x",
            "http://LOCALHOST:9/x",
            "http://[::1]:9/x",
        ] {
            assert!(is_secure(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://localhost.evil.com/x",
            "http://[::2]/x",
            "ftp://127.0.0.1/x",
            "file:///etc/passwd",
        ] {
            assert!(!is_secure(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
