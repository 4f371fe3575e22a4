//! One error model for the whole runtime.

pub use oauth_clients_descriptor::DescriptorError;

/// Everything that can go wrong at run time.
///
/// Every case names the vendor; cases about an HTTP exchange also name the endpoint (the URL
/// without its query or fragment, so no secret placed there is shown), the HTTP status and the
/// vendor's request id when there were any. `Display` is written for a person who has to act on
/// it; neither `Display` nor `Debug` ever shows a secret, password, code or token: every piece
/// of text that came from the vendor went through one sanitizer (secrets scrubbed in their
/// common encodings, control characters escaped, length capped) before it was stored here.
///
/// The accessors ([`Error::vendor`], [`Error::status`], [`Error::oauth_error_code`],
/// [`Error::is_invalid_grant`], [`Error::is_transient`]…) are the stable way to inspect an
/// error; the variants and their fields may grow.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The descriptor is invalid.
    #[error(transparent)]
    Descriptor(#[from] DescriptorError),
    /// The client configuration does not fit the descriptor.
    #[error("{vendor}: invalid configuration: {message}")]
    #[non_exhaustive]
    Config {
        /// The vendor id.
        vendor: Box<str>,
        /// What is wrong.
        message: Box<str>,
    },
    /// A `{variable}` used by a URL or parameter template has no value.
    #[error(
        "{vendor}: variable `{variable}` (used by {used_by}) has no value; set it in the \
         client configuration or choose an environment that sets it"
    )]
    #[non_exhaustive]
    MissingVariable {
        /// The vendor id.
        vendor: Box<str>,
        /// The variable's name.
        variable: Box<str>,
        /// What needed it, e.g. `endpoints.token`.
        used_by: Box<str>,
    },
    /// A variable's value does not match the pattern the descriptor gives for it. The value
    /// itself is not shown (it may be secret).
    #[error("{vendor}: the value of variable `{variable}` does not match its pattern `{pattern}`")]
    #[non_exhaustive]
    InvalidVariable {
        /// The vendor id.
        vendor: Box<str>,
        /// The variable's name.
        variable: Box<str>,
        /// The anchored pattern it must match.
        pattern: Box<str>,
    },
    /// A URL is not HTTPS and its host is not a loopback address.
    #[error(
        "{vendor}: refusing to use {url}: HTTPS is required except for loopback hosts \
         (127.0.0.0/8, localhost, [::1])"
    )]
    #[non_exhaustive]
    InsecureUrl {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL, without query or fragment.
        url: Box<str>,
    },
    /// A request was refused before it was sent because it would have put a credential at
    /// risk: a bearer token bound for another host, an API path that leaves the API's origin.
    #[error("{vendor}: refusing the request: {reason}")]
    #[non_exhaustive]
    Refused {
        /// The vendor id.
        vendor: Box<str>,
        /// Why.
        reason: Box<str>,
    },
    /// The vendor's descriptor does not offer this grant (or endpoint).
    #[error("{vendor}: the vendor's descriptor does not support {what}")]
    #[non_exhaustive]
    Unsupported {
        /// The vendor id.
        vendor: Box<str>,
        /// What is missing, e.g. ``grant `refresh_token` ``.
        what: Box<str>,
    },
    /// The connection failed (DNS, TCP, TLS, reset…).
    #[error(
        "{vendor}: could not reach {endpoint}: {message} (after {attempts} attempt{s})",
        s = plural(*attempts)
    )]
    #[non_exhaustive]
    Transport {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL without query.
        endpoint: Box<str>,
        /// What failed, as the HTTP library said it.
        message: Box<str>,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The operation did not complete within its deadline (see `ClientOptions::deadline`).
    #[error(
        "{vendor}: {endpoint} did not answer in time (after {attempts} attempt{s})",
        s = plural(*attempts)
    )]
    #[non_exhaustive]
    Timeout {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL without query.
        endpoint: Box<str>,
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
    #[non_exhaustive]
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
        /// The start of the body, sanitized.
        excerpt: Box<str>,
    },
    /// The vendor refused the request with an OAuth 2.0 error (RFC 6749 §5.2 or §4.1.2.1).
    #[error(
        "{vendor}: {endpoint} refused {what}{status}: {error}{desc}{uri}{rid}",
        what = refused.as_deref().unwrap_or("the request"),
        status = fmt_status(*status),
        desc = error_description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
        uri = error_uri.as_deref().map(|u| format!(", see {u}")).unwrap_or_default(),
        rid = fmt_request_id(request_id.as_deref()),
    )]
    #[non_exhaustive]
    OAuth {
        /// The vendor id.
        vendor: Box<str>,
        /// The URL without query.
        endpoint: Box<str>,
        /// What was refused, e.g. "the refresh token" (per grant), when known.
        refused: Option<Box<str>>,
        /// The HTTP status (`None` for an error returned to the redirect URI).
        status: Option<u16>,
        /// The vendor's request id, when its header was present.
        request_id: Option<Box<str>>,
        /// The RFC 6749 `error` code, e.g. `invalid_grant`.
        error: Box<str>,
        /// The `error_description`, sanitized.
        error_description: Option<Box<str>>,
        /// The `error_uri`, sanitized.
        error_uri: Option<Box<str>>,
    },
    /// The `state` returned with an authorization code is missing or differs from the one sent:
    /// the callback may be forged (CSRF) or belong to another attempt.
    #[error(
        "{vendor}: the state returned by {endpoint} does not match the state sent; the \
         callback may be forged or stale, start the authorization again"
    )]
    #[non_exhaustive]
    StateMismatch {
        /// The vendor id.
        vendor: Box<str>,
        /// The endpoint that returned the state (URL without query).
        endpoint: Box<str>,
    },
    /// The callback's `iss` (RFC 9207) is not the vendor's issuer, or is missing although the
    /// vendor always sends it: the code may come from another authorization server (mix-up).
    #[error(
        "{vendor}: the callback's issuer {got} is not the vendor's issuer `{expected}`; the \
         code was not exchanged (possible mix-up attack), start the authorization again",
        got = got.as_deref().map(|g| format!("`{g}`")).unwrap_or_else(|| "(missing)".to_owned())
    )]
    #[non_exhaustive]
    IssuerMismatch {
        /// The vendor id.
        vendor: Box<str>,
        /// The issuer the descriptor names.
        expected: Box<str>,
        /// The `iss` the callback carried, sanitized.
        got: Option<Box<str>>,
    },
    /// The ID token that came with the tokens failed OpenID Connect's checks (signature,
    /// issuer, audience, expiry, nonce): the tokens were not used.
    #[error("{vendor}: the ID token is not valid: {reason}; the tokens were not used")]
    #[non_exhaustive]
    InvalidIdToken {
        /// The vendor id.
        vendor: Box<str>,
        /// What check failed.
        reason: Box<str>,
    },
    /// An authorized API request got an unsuccessful HTTP status
    /// (see [`crate::ApiResponse::error_for_status`]).
    #[error(
        "{vendor}: API request to {endpoint} failed{status}{rid}{body}",
        status = fmt_status(Some(*status)),
        rid = fmt_request_id(request_id.as_deref()),
        body = fmt_excerpt(excerpt),
    )]
    #[non_exhaustive]
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
        /// The start of the body, sanitized.
        excerpt: Box<str>,
    },
    /// No usable token, and none can be obtained without the user (token lifecycle).
    #[error("{vendor}: authorization required: {reason}")]
    #[non_exhaustive]
    AuthorizationRequired {
        /// The vendor id.
        vendor: Box<str>,
        /// Why.
        reason: Box<str>,
    },
    /// A token store failed (token lifecycle).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A bug: a task panicked or shared state was poisoned.
    #[error("{vendor}: internal error: {message}")]
    #[non_exhaustive]
    Internal {
        /// The vendor id.
        vendor: Box<str>,
        /// What failed.
        message: Box<str>,
    },
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
    /// An [`Error::OAuth`] as a custom [`crate::TokenSource`] reports a vendor's refusal. The
    /// texts are sanitized.
    pub fn oauth(vendor: &str, endpoint: &str, code: &str, description: Option<&str>) -> Error {
        let clean = |text: &str| crate::sanitize::sanitize_text(text).into_boxed_str();
        Error::OAuth {
            vendor: vendor.into(),
            endpoint: clean(endpoint),
            refused: None,
            status: None,
            request_id: None,
            error: clean(code),
            error_description: description.map(clean),
            error_uri: None,
        }
    }

    /// An [`Error::Transport`] as a custom [`crate::TokenSource`] reports an unreachable
    /// vendor. The texts are sanitized.
    pub fn transport(vendor: &str, endpoint: &str, message: &str) -> Error {
        let clean = |text: &str| crate::sanitize::sanitize_text(text).into_boxed_str();
        Error::Transport {
            vendor: vendor.into(),
            endpoint: clean(endpoint),
            message: clean(message),
            attempts: 1,
        }
    }

    /// An [`Error::AuthorizationRequired`]: no token can be had without the user.
    pub fn authorization_required(vendor: &str, reason: &str) -> Error {
        Error::AuthorizationRequired {
            vendor: vendor.into(),
            reason: crate::sanitize::sanitize_text(reason).into(),
        }
    }

    pub(crate) fn config(vendor: &str, message: impl Into<String>) -> Error {
        Error::Config {
            vendor: vendor.into(),
            message: message.into().into(),
        }
    }

    pub(crate) fn unsupported(vendor: &str, what: impl Into<String>) -> Error {
        Error::Unsupported {
            vendor: vendor.into(),
            what: what.into().into(),
        }
    }

    pub(crate) fn refused(vendor: &str, reason: impl Into<String>) -> Error {
        Error::Refused {
            vendor: vendor.into(),
            reason: reason.into().into(),
        }
    }

    pub(crate) fn internal(vendor: &str, message: impl Into<String>) -> Error {
        Error::Internal {
            vendor: vendor.into(),
            message: message.into().into(),
        }
    }

    /// The vendor id, when the error concerns one (every case but [`Error::Descriptor`] and
    /// [`Error::Store`]).
    pub fn vendor(&self) -> Option<&str> {
        match self {
            Error::Descriptor(_) | Error::Store(_) => None,
            Error::Config { vendor, .. }
            | Error::MissingVariable { vendor, .. }
            | Error::InvalidVariable { vendor, .. }
            | Error::InsecureUrl { vendor, .. }
            | Error::Refused { vendor, .. }
            | Error::Unsupported { vendor, .. }
            | Error::Transport { vendor, .. }
            | Error::Timeout { vendor, .. }
            | Error::StateMismatch { vendor, .. }
            | Error::IssuerMismatch { vendor, .. }
            | Error::InvalidIdToken { vendor, .. }
            | Error::InvalidResponse { vendor, .. }
            | Error::OAuth { vendor, .. }
            | Error::Api { vendor, .. }
            | Error::AuthorizationRequired { vendor, .. }
            | Error::Internal { vendor, .. } => Some(vendor),
        }
    }

    /// The endpoint (URL without query) the error concerns, when there is one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Error::Transport { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::StateMismatch { endpoint, .. }
            | Error::InvalidResponse { endpoint, .. }
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

    /// Whether the error is about the user's configuration or the descriptor rather than the
    /// vendor or the network (tools exit with a usage status for these).
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Error::Descriptor(_)
                | Error::Config { .. }
                | Error::MissingVariable { .. }
                | Error::InvalidVariable { .. }
                | Error::InsecureUrl { .. }
                | Error::Unsupported { .. }
        )
    }
}
