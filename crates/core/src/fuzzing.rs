//! Entry points for the fuzz targets in `fuzz/` and for property tests: thin wrappers over
//! internal functions, hidden from the documentation and not part of the stable API.

use oauth_clients_descriptor::schema::TokenResponseQuirks;
use url::Url;

use crate::error::Error;
use crate::response::{self, ResponseMeta};
use crate::sanitize::Sanitizer;
use crate::target::{Rewrite, join_api_path};
use crate::token::Token;

/// The sanitizer's excerpt of `body`, knowing `secrets`.
pub fn excerpt(secrets: &[&str], body: &[u8]) -> String {
    Sanitizer::new().with(secrets).excerpt(body)
}

/// The sanitizer's cleaning of a short text, knowing `secrets`.
pub fn clean(secrets: &[&str], text: &str) -> String {
    Sanitizer::new().with(secrets).clean(text, 500)
}

/// Rewrites `url` by the prefix `from` to `to`: `None` when the rewrite is refused or does not
/// match, else the result.
pub fn rewrite(from: &str, to: &str, url: &Url) -> Option<Url> {
    Rewrite::parse("fuzz", from, to).ok()?.apply(url)
}

/// A URL as messages show it: without user info, query or fragment.
pub fn display_url(url: &Url) -> String {
    crate::redact::display_url(url)
}

/// Joins an API path to a base URL (which must end with `/`).
pub fn join(base: &Url, path: &str) -> Result<Url, String> {
    join_api_path(base, path)
}

/// Parses a token endpoint's answer.
pub fn token_response(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    quirks: &TokenResponseQuirks,
    secrets: &[&str],
) -> Result<Token, Error> {
    let sanitizer = Sanitizer::new().with(secrets);
    let meta = ResponseMeta {
        vendor: "fuzz",
        endpoint: "https://fuzz.example/token",
        status,
        request_id: None,
        raw_content_type: content_type,
        refused: None,
        sanitizer: &sanitizer,
    };
    response::token_response(&meta, Some(body), quirks, 1_700_000_000)
}

/// Whether a JSON body reads the same through the token answer's own parser as through a
/// `serde_json::Map` (the reference): the same fields, or the same refusal.
pub fn answer_agrees_with_map(body: &[u8]) -> bool {
    response::answer_agrees_with_map(body)
}
