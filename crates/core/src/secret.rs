//! One type per kind of secret value, so that a code, a verifier, a state, a refresh token and
//! a password cannot be passed for one another.
//!
//! Each wraps a [`SecretString`]: `Debug` shows only the type's name, the value is read with
//! [`ExposeSecret::expose_secret`], and it is zeroed when dropped.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> $name {
                $name(SecretString::from(value.into()))
            }
        }

        impl ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> $name {
                $name::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> $name {
                $name::new(value)
            }
        }

        impl From<SecretString> for $name {
            fn from(value: SecretString) -> $name {
                $name(value)
            }
        }
    };
}

secret_type!(
    /// An access token, sent to the vendor's API as `Authorization: Bearer …`.
    AccessToken
);
secret_type!(
    /// A refresh token (RFC 6749 §6).
    RefreshToken
);
secret_type!(
    /// An authorization code, returned to the redirect URI; single-use.
    AuthorizationCode
);
secret_type!(
    /// A PKCE code verifier (RFC 7636).
    PkceVerifier
);
secret_type!(
    /// The `state` of an authorization request (CSRF protection).
    CsrfState
);
secret_type!(
    /// A user's password (the legacy credentials flow).
    Password
);
secret_type!(
    /// A device code (RFC 8628): whoever holds it gets the token once the user approves.
    DeviceCode
);

secret_type!(
    /// The OpenID Connect `nonce` of an authorization request, which the ID token must carry.
    Nonce
);
secret_type!(
    /// An OpenID Connect ID token (a signed JWT about the user): it carries personal data and
    /// is a credential for some APIs.
    IdToken
);

impl CsrfState {
    /// Whether `got` is this state, compared in constant time.
    pub fn matches(&self, got: Option<&str>) -> bool {
        got.is_some_and(|got| {
            crate::crypto::constant_time_eq(got.as_bytes(), self.expose_secret().as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let code = AuthorizationCode::new("c0de-value");
        assert_eq!(format!("{code:?}"), "AuthorizationCode([redacted])");
        assert_eq!(code.expose_secret(), "c0de-value");
        let state = CsrfState::new("abc");
        assert!(state.matches(Some("abc")));
        assert!(!state.matches(Some("abd")));
        assert!(!state.matches(None));
    }
}
