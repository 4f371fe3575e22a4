//! One module per faked vendor, plus the authorize page Procurios and Procore share.

pub(crate) mod procore;
pub(crate) mod procountor;
pub(crate) mod procurify;
pub(crate) mod procurios;

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::Response;

use crate::Vendor;
use crate::state::{CODE_LIFETIME, CodeGrant, State};
use crate::wire::{self, Params};

/// The out-of-band redirect URI (the code is shown in the browser).
pub(crate) const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// An authorize endpoint that approves at once (there is no user to log in): redirects to
/// `redirect_uri?code=…&state=…`, or for the out-of-band URI (when `oob_allowed`) shows the code
/// in a page. Errors about the client or the redirect URI are shown, never redirected
/// (RFC 6749 §4.1.2.1); others are redirected.
pub(crate) fn authorize(
    state: &State,
    vendor: Vendor,
    query: Option<&str>,
    require_scope: bool,
    oob_allowed: bool,
) -> Response {
    let params = match wire::parse_query(query) {
        Ok(params) => params,
        Err(_) => return error_page("invalid_request", "a query parameter is repeated"),
    };
    let client_id = params.get("client_id").map(String::as_str).unwrap_or("");
    if client_id.is_empty() {
        return error_page("invalid_request", "missing parameter `client_id`");
    }
    if client_id != state.config.client_id {
        return error_page("unauthorized_client", "unknown client_id");
    }
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return error_page("invalid_request", "missing parameter `redirect_uri`");
    };
    let oob = redirect_uri == OOB;
    if oob && !oob_allowed {
        return error_page(
            "invalid_request",
            "this vendor does not support the out-of-band redirect URI",
        );
    }
    if !oob && !is_http_url(redirect_uri) {
        return error_page(
            "invalid_request",
            "redirect_uri must be an absolute http(s) URL",
        );
    }
    let state_param = params.get("state").map(String::as_str);
    let fail = |code: &str, description: &str| -> Response {
        if oob {
            return error_page(code, description);
        }
        let mut pairs = vec![("error", code), ("error_description", description)];
        if let Some(s) = state_param {
            pairs.push(("state", s));
        }
        match wire::redirect_with(redirect_uri, &pairs) {
            Some(location) => wire::found(&location),
            None => error_page("invalid_request", "redirect_uri is not a valid URL"),
        }
    };
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some(_) => return fail("unsupported_response_type", "response_type must be `code`"),
        None => return fail("invalid_request", "missing parameter `response_type`"),
    }
    if require_scope && params.get("scope").is_none_or(|s| s.trim().is_empty()) {
        return fail("invalid_scope", "at least one scope must be requested");
    }
    let pkce = match wire::authorize_pkce(&params) {
        Ok(pkce) => pkce,
        Err(message) => return fail("invalid_request", message),
    };
    let code = state.issue_code(CodeGrant {
        vendor,
        client_id: client_id.to_owned(),
        redirect_uri: Some(redirect_uri.clone()),
        pkce,
        expires: Instant::now() + CODE_LIFETIME,
    });
    if oob {
        return wire::html(
            StatusCode::OK,
            "Authorization code",
            &format!(
                "<p>Copy this code and paste it into your application. It is valid for ten \
                 minutes.</p><p><code id=\"code\">{}</code></p>",
                wire::html_escape(&code)
            ),
        );
    }
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = state_param {
        pairs.push(("state", s));
    }
    match wire::redirect_with(redirect_uri, &pairs) {
        Some(location) => wire::found(&location),
        None => error_page("invalid_request", "redirect_uri is not a valid URL"),
    }
}

fn is_http_url(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

pub(crate) fn error_page(code: &str, description: &str) -> Response {
    wire::html(
        StatusCode::BAD_REQUEST,
        "Authorization failed",
        &format!(
            "<p><code id=\"error\">{}</code>: {}</p>",
            wire::html_escape(code),
            wire::html_escape(description)
        ),
    )
}

/// The `grant_type` of a token request.
pub(crate) fn grant_type(params: &Params) -> Result<&str, Response> {
    wire::require(params, "grant_type")
}
