//! Tokens as the engine returns them and as stores keep them.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::secret::{AccessToken, RefreshToken};

/// An access token with what the vendor said about it. `Debug` never shows the tokens.
#[derive(Clone)]
pub struct Token {
    pub(crate) access_token: AccessToken,
    pub(crate) token_type: Option<String>,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds at which the access token expires, when known.
    pub(crate) expires_at: Option<u64>,
    /// Unix seconds at which the token was issued (the vendor's `created_at`, or receipt time).
    pub(crate) issued_at: u64,
    pub(crate) scope: Option<String>,
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
}

impl Token {
    /// Builds a token from its parts; `expires_at` and `issued_at` are Unix seconds.
    pub fn new(access_token: AccessToken, issued_at: u64, expires_at: Option<u64>) -> Token {
        Token {
            access_token,
            token_type: None,
            refresh_token: None,
            expires_at,
            issued_at,
            scope: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sets the refresh token.
    pub fn with_refresh_token(mut self, refresh_token: Option<RefreshToken>) -> Token {
        self.refresh_token = refresh_token;
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The refresh token, when the vendor issued one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The token type as sent (`bearer`, `Bearer`…), when sent.
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }

    /// The granted scope string, when the vendor sent a meaningful one (`"null"` is dropped).
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Response fields beyond the standard ones, kept as sent.
    pub fn extra(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.extra
    }

    /// When the access token expires, when known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Unix seconds at which the access token expires, when known.
    pub fn expires_at_unix(&self) -> Option<u64> {
        self.expires_at
    }

    /// Unix seconds at which the token was issued.
    pub fn issued_at_unix(&self) -> u64 {
        self.issued_at
    }

    /// The token's lifetime in seconds, when its expiry is known.
    pub fn lifetime_seconds(&self) -> Option<u64> {
        self.expires_at.map(|e| e.saturating_sub(self.issued_at))
    }

    /// Keeps `previous`'s refresh token when this (refreshed) token came without one.
    pub(crate) fn inherit_refresh_token(mut self, previous: &Token) -> Token {
        if self.refresh_token.is_none() {
            self.refresh_token = previous.refresh_token.clone();
        }
        self
    }

    /// Serializes the token, secrets included, for a token store. Handle the result as a secret.
    pub fn to_storage_json(&self) -> String {
        let stored = StoredToken {
            access_token: self.access_token.expose_secret().to_owned(),
            token_type: self.token_type.clone(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at: self.expires_at,
            issued_at: self.issued_at,
            scope: self.scope.clone(),
            extra: self.extra.clone(),
        };
        // Serializing plain strings, numbers and JSON values cannot fail.
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Reads a token written by [`Token::to_storage_json`].
    pub fn from_storage_json(json: &str) -> Result<Token, serde_json::Error> {
        let stored: StoredToken = serde_json::from_str(json)?;
        Ok(Token {
            access_token: AccessToken::new(stored.access_token),
            token_type: stored.token_type,
            refresh_token: stored.refresh_token.map(RefreshToken::new),
            expires_at: stored.expires_at,
            issued_at: stored.issued_at,
            scope: stored.scope,
            extra: stored.extra,
        })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("issued_at", &self.issued_at)
            .field("scope", &self.scope)
            .field("extra_fields", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<u64>,
    issued_at: u64,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// Seconds since the Unix epoch, now (0 if the system clock is before 1970).
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
