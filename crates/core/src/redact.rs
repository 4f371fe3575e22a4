//! URLs as they may be shown: without user info, query or fragment, any of which may carry a
//! secret.

use url::Url;

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
pub(crate) fn redact_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => display_url(&url),
        Err(_) => "(not a URL; not shown)".to_owned(),
    }
}
