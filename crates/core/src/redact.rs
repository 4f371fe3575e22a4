//! URLs as they may be shown: without user info, query or fragment, any of which may carry a
//! secret.

use url::{Position, Url};

/// A URL without user info, query and fragment: safe to show.
pub(crate) fn display_url(url: &Url) -> String {
    // Built from slices of the serialization (a clone and four setters cost ten times more,
    // on every request).
    if !url.has_authority() {
        // Rare (`mailto:`, `urn:`…), and without user info: the setters, which also trim an
        // opaque path's trailing spaces as the URL standard says when its query goes.
        let mut shown = url.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        return shown.into();
    }
    let scheme = url.scheme();
    let rest = &url[Position::BeforeHost..Position::AfterPath];
    let mut shown = String::with_capacity(scheme.len() + 3 + rest.len());
    shown.push_str(scheme);
    shown.push_str("://");
    shown.push_str(rest);
    shown
}

/// A URL given as text, as it may be shown in messages and `Debug` output: without user,
/// password, query or fragment (any of which may carry a secret). Text that is not a URL is not
/// shown at all.
pub(crate) fn redact_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => display_url(&url),
        Err(_) => "(not a URL; not shown)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_url_has_no_user_info_query_or_fragment() {
        for (url, shown) in [
            (
                "https://api.example/v1/x?token=abc#frag",
                "https://api.example/v1/x",
            ),
            (
                "https://user:pw@api.example:8443/v1/",
                "https://api.example:8443/v1/",
            ),
            ("https://user@api.example", "https://api.example/"),
            ("http://127.0.0.1:9/token", "http://127.0.0.1:9/token"),
            ("http://[::1]:9/a?b", "http://[::1]:9/a"),
            ("file:///etc/passwd?x", "file:///etc/passwd"),
            (
                "mailto:someone@example.com?subject=x",
                "mailto:someone@example.com",
            ),
            ("urn:ietf:params:oauth#x", "urn:ietf:params:oauth"),
            ("unix:/run/socket?x", "unix:/run/socket"),
            ("https://user:pw@[::1]/", "https://[::1]/"),
            ("ps:%00%00 #A/ae", "ps:%00%00"),
        ] {
            let parsed = Url::parse(url).unwrap();
            assert_eq!(display_url(&parsed), shown, "{url}");
            assert_eq!(display_url(&parsed), setters_reference(&parsed), "{url}");
        }
    }

    /// The plain way (what `display_url` did before): the reference it must agree with.
    fn setters_reference(url: &Url) -> String {
        let mut shown = url.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.to_string()
    }
}
