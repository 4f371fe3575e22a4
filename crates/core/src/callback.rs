//! The authorization request in progress, and the one parser of what comes back to the
//! redirect URI.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::ExposeSecret as _;

use crate::secret::{AuthorizationCode, CsrfState, Nonce, PkceVerifier};

/// An authorization request in progress: the URL to send the user to, and what the callback
/// must be checked against. Keep it until the callback arrives. `Debug` shows neither the
/// state nor the verifier.
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// The URL to open in the user's browser, with the client's rewrites already applied.
    pub url: url::Url,
    /// The `state` sent; the callback must return it.
    pub state: CsrfState,
    /// The PKCE verifier, when PKCE is used.
    pub pkce_verifier: Option<PkceVerifier>,
    /// The redirect URI sent.
    pub redirect_uri: Option<String>,
    /// The OpenID Connect nonce sent (when the scopes have `openid`); the ID token must carry
    /// it.
    pub nonce: Option<Nonce>,
}

impl AuthorizationRequest {
    /// Whether a callback's `state` is the one this request sent, compared in constant time.
    pub fn state_matches(&self, state: Option<&str>) -> bool {
        self.state.matches(state)
    }
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &"[contains state]")
            .field("pkce", &self.pkce_verifier.is_some())
            .field("redirect_uri", &self.redirect_uri)
            .field("nonce", &self.nonce.is_some())
            .finish()
    }
}

/// Options of [`crate::Client::authorize_url_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizeOptions {
    /// Use PKCE S256 when the vendor supports it (always used when the vendor requires it,
    /// never when it does not support it). Defaults to true.
    pub pkce: bool,
    /// Scopes for this request; the configuration's (or descriptor's) when `None`.
    pub scopes: Option<Vec<String>>,
    /// Further authorize-URL parameters for this request (e.g. `prompt`, `login_hint`).
    pub extra_params: Vec<(String, String)>,
}

impl Default for AuthorizeOptions {
    fn default() -> Self {
        AuthorizeOptions {
            pkce: true,
            scopes: None,
            extra_params: Vec::new(),
        }
    }
}

impl AuthorizeOptions {
    /// Turns PKCE off where the vendor merely supports it.
    pub fn without_pkce(mut self) -> AuthorizeOptions {
        self.pkce = false;
        self
    }

    /// Sets the scopes of this request.
    pub fn scopes<I, S>(mut self, scopes: I) -> AuthorizeOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Adds an authorize-URL parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> AuthorizeOptions {
        self.extra_params.push((name.into(), value.into()));
        self
    }
}

/// What came back to the redirect URI: the code and state, or an error (RFC 6749 §4.1.2), and
/// the issuer (RFC 9207). `Debug` never shows the code or the state.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Callback {
    /// The authorization code.
    pub code: Option<AuthorizationCode>,
    /// The returned state.
    pub state: Option<String>,
    /// An RFC 6749 §4.1.2.1 error code, when authorization failed.
    pub error: Option<String>,
    /// The error description.
    pub error_description: Option<String>,
    /// A page about the error.
    pub error_uri: Option<String>,
    /// The issuer of the authorization response (RFC 9207), when sent.
    pub iss: Option<String>,
    /// The other parameters, by name (a vendor's company id, or its renamed code). `Debug`
    /// shows their names only.
    pub params: BTreeMap<String, String>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("error_uri", &self.error_uri)
            .field("iss", &self.iss)
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Callback {
    /// Reads a callback from the query of the URL the user was sent back to (e.g. the request
    /// line a local redirect listener received, or a redirect's `Location`): `code`, `state`,
    /// `error`, `error_description`, `error_uri` and `iss`. A parameter given twice is ignored
    /// after its first value.
    pub fn from_query(query: &str) -> Callback {
        let mut callback = Callback::default();
        for (name, value) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.into_owned();
            let slot = match name.as_ref() {
                "code" => {
                    if callback.code.is_none() {
                        callback.code = Some(AuthorizationCode::new(value));
                    }
                    continue;
                }
                "state" => &mut callback.state,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                "error_uri" => &mut callback.error_uri,
                "iss" => &mut callback.iss,
                other => {
                    callback.params.entry(other.to_owned()).or_insert(value);
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        callback
    }

    /// A callback with a code (and state), e.g. from an out-of-band paste or a test.
    pub fn with_code(code: AuthorizationCode, state: Option<String>) -> Callback {
        Callback {
            code: Some(code),
            state,
            ..Callback::default()
        }
    }

    /// The value of a parameter by name, standard or not (`code` and `state` included).
    pub fn param(&self, name: &str) -> Option<&str> {
        match name {
            "code" => self.code.as_ref().map(|c| c.expose_secret()),
            "state" => self.state.as_deref(),
            "error" => self.error.as_deref(),
            "error_description" => self.error_description.as_deref(),
            "error_uri" => self.error_uri.as_deref(),
            "iss" => self.iss.as_deref(),
            other => self.params.get(other).map(String::as_str),
        }
    }

    /// Whether the callback carries a non-empty code.
    pub fn has_code(&self) -> bool {
        self.code
            .as_ref()
            .is_some_and(|code| !code.expose_secret().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_keeps_every_field() {
        let cb = Callback::from_query(
            "?code=c%2F1&state=s&error=access_denied&error_description=no+way&error_uri=https%3A%2F%2Fx&iss=https%3A%2F%2Fas&code=second",
        );
        assert_eq!(cb.code.as_ref().unwrap().expose_secret(), "c/1");
        assert_eq!(cb.state.as_deref(), Some("s"));
        assert_eq!(cb.error.as_deref(), Some("access_denied"));
        assert_eq!(cb.error_description.as_deref(), Some("no way"));
        assert_eq!(cb.error_uri.as_deref(), Some("https://x"));
        assert_eq!(cb.iss.as_deref(), Some("https://as"));
        assert!(!format!("{cb:?}").contains("c/1"));
    }
}
