//! Where requests go: every URL is built and rewritten as a parsed URL, never by joining text,
//! and must be HTTPS (or plain HTTP to a loopback host, [`urls::is_secure`]) before and after.

use oauth_clients_descriptor::urls;
use url::Url;

use crate::error::Error;
pub(crate) use crate::redact::{display_url, redact_url};

/// Requires HTTPS, except on loopback hosts.
pub(crate) fn check_secure(vendor: &str, url: &Url) -> Result<(), Error> {
    if urls::is_secure(url) {
        Ok(())
    } else {
        Err(Error::InsecureUrl {
            vendor: vendor.into(),
            url: display_url(url).into(),
        })
    }
}

/// A rewrite of one origin and path prefix to another origin (and path prefix), for tests and
/// proxies: `https://api.vendor.example/v3/` → `http://127.0.0.1:8080/vendor/`.
///
/// A URL matches when its scheme, host and port are the prefix's, and its path starts with the
/// prefix's path on a segment boundary. The result takes the target's scheme, host and port, the
/// target's path followed by the rest of the URL's path, and the URL's query: it can only ever
/// be on the target's origin.
#[derive(Clone)]
pub(crate) struct Rewrite {
    from: Url,
    to: Url,
}

impl Rewrite {
    /// Parses a rewrite. Neither side may carry user info, a query or a fragment; the target
    /// must be HTTPS or a loopback host.
    pub(crate) fn parse(vendor: &str, from: &str, to: &str) -> Result<Rewrite, Error> {
        let parse = |text: &str, what: &str| -> Result<Url, Error> {
            let url = Url::parse(text).map_err(|err| Error::Config {
                vendor: vendor.into(),
                message: format!(
                    "the rewrite {what} `{}` is not a URL: {err}",
                    redact_url(text)
                )
                .into(),
            })?;
            let problem = if !matches!(url.scheme(), "http" | "https") {
                Some("is not an http(s) URL")
            } else if !url.username().is_empty() || url.password().is_some() {
                Some("carries user info; credentials never go in URLs")
            } else if url.query().is_some() || url.fragment().is_some() {
                Some("has a query or a fragment; give an origin and a path prefix")
            } else {
                None
            };
            match problem {
                Some(problem) => Err(Error::Config {
                    vendor: vendor.into(),
                    message: format!("the rewrite {what} `{}` {problem}", display_url(&url)).into(),
                }),
                None => Ok(url),
            }
        };
        let from = parse(from, "prefix")?;
        let to = parse(to, "target")?;
        check_secure(vendor, &to)?;
        Ok(Rewrite { from, to })
    }

    /// The rewritten URL, when `url` matches the prefix.
    pub(crate) fn apply(&self, url: &Url) -> Option<Url> {
        let same_origin = url.scheme() == self.from.scheme()
            && url.host() == self.from.host()
            && url.port_or_known_default() == self.from.port_or_known_default();
        if !same_origin {
            return None;
        }
        let prefix = self.from.path().trim_end_matches('/');
        let rest = url.path().strip_prefix(prefix)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let mut out = self.to.clone();
        let base = self.to.path().trim_end_matches('/');
        let path = if rest.is_empty() && base.is_empty() {
            "/".to_owned()
        } else {
            format!("{base}{rest}")
        };
        out.set_path(&path);
        out.set_query(url.query());
        debug_assert_eq!(out.origin(), self.to.origin());
        Some(out)
    }

    /// The prefix and target, safe to show.
    pub(crate) fn display(&self) -> (String, String) {
        (display_url(&self.from), display_url(&self.to))
    }
}

/// Joins an API path to `base` (which ends with `/`). The result is always on `base`'s origin.
///
/// A path starting with `/` that already starts with the base's path (`/api/v3/vendors/`) is
/// taken from the host root; any other `/path` and any `path` are relative to the base. A path
/// that would leave the origin (`//host/x`, `\\host\x`, `scheme:…`) or that carries control
/// characters is refused.
pub(crate) fn join_api_path(base: &Url, path: &str) -> Result<Url, String> {
    if let Some(url) = append_plain_path(base, path) {
        return Ok(url);
    }
    if path.chars().any(|c| c.is_control()) {
        return Err("the path contains control characters".to_owned());
    }
    if path.contains('\\') {
        return Err("the path contains `\\`, which some parsers read as `/`".to_owned());
    }
    if path.starts_with("//") {
        return Err("a path starting with `//` names another host".to_owned());
    }
    // `name:` before any `/`, `?` or `#` would be read as a scheme (`javascript:`, `https:`).
    let head = path.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((scheme, _)) = head.split_once(':') {
        let mut chars = scheme.chars();
        let looks_like_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if looks_like_scheme {
            return Err("the path starts with a scheme (`name:`); give a path".to_owned());
        }
    }
    let relative = match path.strip_prefix('/') {
        Some(_) if path.starts_with(base.path()) => path,
        Some(rest) => rest,
        None => path,
    };
    let url = base.join(relative).map_err(|err| err.to_string())?;
    // Compared part by part (`Url::origin` would copy both hosts, per request), with its
    // rule: only these schemes have a tuple origin; any other URL's origin is its own.
    let same_origin = matches!(url.scheme(), "http" | "https" | "ws" | "wss" | "ftp")
        && url.scheme() == base.scheme()
        && url.host() == base.host()
        && url.port_or_known_default() == base.port_or_known_default();
    if !same_origin {
        return Err("the path leads to another host".to_owned());
    }
    Ok(url)
}

/// The common case of [`join_api_path`], without parsing the base again as `Url::join` does:
/// a relative path of letters, digits, `-`, `.`, `_`, `~` and `/`, with no `.` or `..`
/// segment, appended to an `https` or `http` base whose path ends with `/`, has no empty
/// segment and no query or fragment. The result is `base.join(path)`'s; `None` for any other path or base
/// (a `file:` base, say, whose origin `join_api_path` must refuse).
fn append_plain_path(base: &Url, path: &str) -> Option<Url> {
    let plain = !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'))
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|segment| segment != "." && segment != "..");
    let plain_base = matches!(base.scheme(), "https" | "http")
        && base.path().ends_with('/')
        // `https://h//` would lose an empty segment: `PathSegmentsMut` reads `/` as no segment.
        && !base.path().contains("//")
        && base.query().is_none()
        && base.fragment().is_none();
    if !plain || !plain_base {
        return None;
    }
    let mut url = base.clone();
    // The base's empty last segment (after its final `/`) gives way to the path's segments.
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(path.split('/'));
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn rewrites_work_on_parsed_urls() {
        let rewrite = Rewrite::parse(
            "v",
            "https://api.vendor.example/api/v3/",
            "http://127.0.0.1:9",
        )
        .unwrap();
        let out = rewrite
            .apply(&url("https://api.vendor.example/api/v3/vendors/?a=1"))
            .unwrap();
        assert_eq!(out.as_str(), "http://127.0.0.1:9/vendors/?a=1");
        // Another host, port, scheme or a path that only shares characters: no match.
        for other in [
            "https://api.vendor.example.evil/api/v3/x",
            "https://api.vendor.example:444/api/v3/x",
            "http://api.vendor.example/api/v3/x",
            "https://api.vendor.example/api/v30/x",
        ] {
            assert!(rewrite.apply(&url(other)).is_none(), "{other}");
        }
        let proxy = Rewrite::parse("v", "https://a.example", "https://proxy.example").unwrap();
        let out = proxy.apply(&url("https://a.example/x")).unwrap();
        assert_eq!(out.as_str(), "https://proxy.example/x");
        let out = proxy
            .apply(&url("https://a.example/@evil.example/x"))
            .unwrap();
        assert_eq!(out.host_str(), Some("proxy.example"));
    }

    #[test]
    fn rewrite_targets_are_checked() {
        for (to, expect) in [
            ("http://evil.example", "HTTPS is required"),
            ("http://u:p@127.0.0.1:9", "user info"),
            ("https://x.example/?q=1", "query"),
            ("not a url", "not a URL"),
        ] {
            let err = Rewrite::parse("v", "https://a.example", to)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(expect), "{to}: {err}");
            assert!(!err.contains("u:p"), "{err}");
        }
    }

    #[test]
    fn api_paths_stay_on_the_origin() {
        let base = url("https://api.vendor.example/rest/v1.0/");
        assert_eq!(
            join_api_path(&base, "me").unwrap().as_str(),
            "https://api.vendor.example/rest/v1.0/me"
        );
        assert_eq!(
            join_api_path(&base, "/me").unwrap().as_str(),
            "https://api.vendor.example/rest/v1.0/me"
        );
        assert_eq!(
            join_api_path(&base, "/rest/v1.0/me?x=1").unwrap().as_str(),
            "https://api.vendor.example/rest/v1.0/me?x=1"
        );
        let at = join_api_path(&base, "@127.0.0.1:9/api/steal").unwrap();
        assert_eq!(at.host_str(), Some("api.vendor.example"));
        for bad in [
            "//evil.example/x",
            "\\\\evil.example/x",
            "https:evil.example",
            "x\u{1b}y",
            "javascript:alert(1)",
        ] {
            assert!(join_api_path(&base, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_plain_path_is_appended_as_url_join_would() {
        let bases = [
            "https://api.vendor.example/rest/v1.0/",
            "https://api.vendor.example/",
            "https://user:pw@api.vendor.example:8443/a/b/",
            "http://127.0.0.1:9/api/",
        ];
        let paths = [
            "me",
            "vendors/42/items",
            "a/",
            "a//b",
            "a/b/",
            "v1.0/x~y_z-w",
            "...",
            ".hidden/x",
            "x/..y",
        ];
        for base in bases.map(url) {
            for path in paths {
                let fast = append_plain_path(&base, path).expect("a plain path");
                assert_eq!(fast, base.join(path).unwrap(), "{base} + {path}");
                assert_eq!(join_api_path(&base, path).unwrap(), fast);
            }
        }
        // Anything else takes `Url::join`'s way.
        let base = url("https://api.vendor.example/rest/");
        for other in [
            "", "/me", "a/./b", "a/../b", "..", "a?x=1", "a#f", "a%20b", "a b", "a:b",
        ] {
            assert!(append_plain_path(&base, other).is_none(), "{other:?}");
        }
        for other_base in [
            "https://api.vendor.example/rest",
            "https://api.vendor.example/rest/?q=1",
            "https://api.vendor.example/rest/#f",
            "file:///srv/",
            "https://api.vendor.example//",
            "https://api.vendor.example/a//b/",
            "wss://api.vendor.example/rest/",
        ] {
            assert!(
                append_plain_path(&url(other_base), "me").is_none(),
                "{other_base}"
            );
        }
    }
}
