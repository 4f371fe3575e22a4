//! One error model for the whole runtime.

use std::fmt;

/// A descriptor that could not be loaded: where, which field, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorError {
    /// The file (or other origin) of the descriptor.
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field path, e.g. `grants.authorization_code.pkce`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DescriptorError {}

/// Everything that can go wrong at run time.
///
/// Every case names the vendor; cases about an HTTP exchange also name the endpoint (the URL
/// without its query or fragment, so no secret placed there is shown), the HTTP status and the
/// vendor's request id when there were any. `Display` is written for a person who has to act on
/// it; neither `Display` nor `Debug` ever shows a secret, password, code or token: response
/// excerpts and error descriptions are scrubbed before they are stored here.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The descriptor is invalid.
    #[error(transparent)]
    Descriptor(#[from] DescriptorError),
    /// The client configuration does not fit the descriptor.
    #[error("{vendor}: invalid configuration: {message}")]
    Config {
        /// The vendor id.
        vendor: String,
        /// What is wrong.
        message: String,
    },
    /// A `{variable}` used by a URL or parameter template has no value.
    #[error(
        "{vendor}: variable `{variable}` (used by {used_by}) has no value; set it in the \
         client configuration or choose an environment that sets it"
    )]
    MissingVariable {
        /// The vendor id.
        vendor: String,
        /// The variable's name.
        variable: String,
        /// What needed it, e.g. `endpoints.token`.
        used_by: String,
    },
    /// A variable's value does not match the pattern the descriptor gives for it. The value
    /// itself is not shown (it may be secret).
    #[error("{vendor}: the value of variable `{variable}` does not match its pattern `{pattern}`")]
    InvalidVariable {
        /// The vendor id.
        vendor: String,
        /// The variable's name.
        variable: String,
        /// The anchored pattern it must match.
        pattern: String,
    },
    /// A URL is not HTTPS and its host is not a loopback address.
    #[error(
        "{vendor}: refusing to use {url}: HTTPS is required except for loopback hosts \
         (127.0.0.0/8, localhost, [::1])"
    )]
    InsecureUrl {
        /// The vendor id.
        vendor: String,
        /// The URL, without query or fragment.
        url: String,
    },
    /// The vendor's descriptor does not offer this grant (or endpoint).
    #[error("{vendor}: the vendor's descriptor does not support {what}")]
    Unsupported {
        /// The vendor id.
        vendor: String,
        /// What is missing, e.g. ``grant `refresh_token` ``.
        what: String,
    },
    /// The connection failed (DNS, TCP, TLS, reset…).
    #[error(
        "{vendor}: could not reach {endpoint}: {message} (after {attempts} attempt{s})",
        s = plural(*attempts)
    )]
    Transport {
        /// The vendor id.
        vendor: String,
        /// The URL without query.
        endpoint: String,
        /// What failed, as the HTTP library said it.
        message: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The request did not complete within the configured timeouts.
    #[error(
        "{vendor}: {endpoint} did not answer in time (after {attempts} attempt{s}); the \
         timeouts are set in ClientOptions",
        s = plural(*attempts)
    )]
    Timeout {
        /// The vendor id.
        vendor: String,
        /// The URL without query.
        endpoint: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The vendor answered with something that is not a usable response.
    #[error(
        "{vendor}: unusable answer from {endpoint}{status}: {reason} (content type: {ct}){rid}{body}",
        status = fmt_status(*status),
        ct = content_type.as_deref().unwrap_or("none"),
        rid = fmt_request_id(request_id.as_deref()),
        body = fmt_excerpt(excerpt),
    )]
    InvalidResponse {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL without query.
        endpoint: Box<str>,
        /// The HTTP status, when there was a response.
        status: Option<u16>,
        /// The vendor's request id, when its header was present.
        request_id: Option<Box<str>>,
        /// The response's content type.
        content_type: Option<Box<str>>,
        /// What is wrong with it.
        reason: Box<str>,
        /// The start of the body, scrubbed of anything that looks like a secret.
        excerpt: Box<str>,
    },
    /// The vendor refused the request with an OAuth 2.0 error (RFC 6749 §5.2 or §4.1.2.1).
    #[error(
        "{vendor}: {endpoint} refused the request{status}: {error}{desc}{uri}{rid}",
        status = fmt_status(*status),
        desc = error_description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
        uri = error_uri.as_deref().map(|u| format!(", see {u}")).unwrap_or_default(),
        rid = fmt_request_id(request_id.as_deref()),
    )]
    OAuth {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL without query.
        endpoint: Box<str>,
        /// The HTTP status (`None` for an error returned to the redirect URI).
        status: Option<u16>,
        /// The vendor's request id, when its header was present.
        request_id: Option<Box<str>>,
        /// The RFC 6749 `error` code, e.g. `invalid_grant`.
        error: Box<str>,
        /// The `error_description`, scrubbed.
        error_description: Option<Box<str>>,
        /// The `error_uri`.
        error_uri: Option<Box<str>>,
    },
    /// The `state` returned with an authorization code is missing or differs from the one sent:
    /// the callback may be forged (CSRF) or belong to another attempt.
    #[error(
        "{vendor}: the state returned by {endpoint} does not match the state sent; the \
         callback may be forged or stale, start the authorization again"
    )]
    StateMismatch {
        /// The vendor id.
        vendor: String,
        /// The endpoint that returned the state (URL without query).
        endpoint: String,
    },
    /// An authorized API request got an unsuccessful HTTP status
    /// (see [`crate::ApiResponse::error_for_status`]).
    #[error(
        "{vendor}: API request to {endpoint} failed{status}{rid}{body}",
        status = fmt_status(Some(*status)),
        rid = fmt_request_id(request_id.as_deref()),
        body = fmt_excerpt(excerpt),
    )]
    Api {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL without query.
        endpoint: Box<str>,
        /// The HTTP status.
        status: u16,
        /// The vendor's request id, when its header was present.
        request_id: Option<Box<str>>,
        /// The response's content type.
        content_type: Option<Box<str>>,
        /// The start of the body, scrubbed.
        excerpt: Box<str>,
    },
    /// No usable token, and none can be obtained without the user (token lifecycle).
    #[error("{vendor}: authorization required: {reason}")]
    AuthorizationRequired {
        /// The vendor id.
        vendor: String,
        /// Why, and what to do.
        reason: String,
    },
    /// A token store failed (token lifecycle).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn fmt_status(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn fmt_request_id(id: Option<&str>) -> String {
    id.map(|id| format!(" [vendor request id: {id}]"))
        .unwrap_or_default()
}

fn fmt_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!("; body starts: {excerpt}")
    }
}

impl Error {
    /// The vendor id, when the error concerns one (every case but [`Error::Descriptor`] and
    /// [`Error::Store`]).
    pub fn vendor(&self) -> Option<&str> {
        match self {
            Error::Descriptor(_) => None,
            Error::Config { vendor, .. }
            | Error::MissingVariable { vendor, .. }
            | Error::InvalidVariable { vendor, .. }
            | Error::InsecureUrl { vendor, .. }
            | Error::Unsupported { vendor, .. }
            | Error::Transport { vendor, .. }
            | Error::Timeout { vendor, .. }
            | Error::StateMismatch { vendor, .. } => Some(vendor),
            Error::InvalidResponse { vendor, .. }
            | Error::OAuth { vendor, .. }
            | Error::Api { vendor, .. } => Some(vendor),
            Error::AuthorizationRequired { vendor, .. } => Some(vendor),
            Error::Store(_) => None,
        }
    }

    /// The endpoint (URL without query) the error concerns, when there is one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Error::Transport { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::StateMismatch { endpoint, .. } => Some(endpoint),
            Error::InvalidResponse { endpoint, .. }
            | Error::OAuth { endpoint, .. }
            | Error::Api { endpoint, .. } => Some(endpoint),
            Error::InsecureUrl { url, .. } => Some(url),
            _ => None,
        }
    }

    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::InvalidResponse { status, .. } | Error::OAuth { status, .. } => *status,
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The vendor's request id (from `api.request_id_header`), when the response carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::InvalidResponse { request_id, .. }
            | Error::OAuth { request_id, .. }
            | Error::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The RFC 6749 `error` code (e.g. `invalid_grant`) of an [`Error::OAuth`].
    pub fn oauth_error_code(&self) -> Option<&str> {
        match self {
            Error::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the vendor answered `invalid_grant`: the refresh token (or code) is expired,
    /// revoked or already used, so retrying with it is pointless.
    pub fn is_invalid_grant(&self) -> bool {
        self.oauth_error_code() == Some("invalid_grant")
    }

    /// Whether the error is transient (connection failure, timeout, 5xx or 429): the same
    /// request may succeed later. OAuth errors are never transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::InvalidResponse { status, .. } => status.is_some_and(|s| s >= 500 || s == 429),
            Error::Api { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
