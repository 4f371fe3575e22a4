//! Tokens as the engine returns them and as stores keep them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::secret::{AccessToken, IdToken, RefreshToken};

/// An access token with what the vendor said about it. `Debug` never shows the tokens.
#[derive(Clone)]
pub struct Token {
    pub(crate) access_token: AccessToken,
    /// Borrowed for the usual spellings of `bearer`: no allocation per token.
    pub(crate) token_type: Option<Cow<'static, str>>,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Unix seconds at which the access token expires, when known.
    pub(crate) expires_at: Option<u64>,
    /// Unix seconds at which the token was issued (the vendor's `created_at`, or receipt time).
    pub(crate) issued_at: u64,
    pub(crate) scope: Option<String>,
    /// What few tokens have, apart: a process holding many tokens pays a pointer for it.
    details: Option<Box<TokenDetails>>,
}

/// The parts of a token that most vendors never send.
#[derive(Clone, Default)]
pub(crate) struct TokenDetails {
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
    /// Unix seconds at which the refresh token expires, when the vendor said.
    pub(crate) refresh_expires_at: Option<u64>,
    /// Values captured from the vendor's answers (descriptor variables with `from`), which
    /// shape later URLs: an API origin, a company id.
    pub(crate) variables: BTreeMap<String, String>,
    /// Further tokens of the same answer (`token_response.additional_tokens`), by name.
    pub(crate) additional: BTreeMap<String, Token>,
    /// The OpenID Connect ID token, when the answer had one.
    pub(crate) id_token: Option<IdToken>,
    /// The ID token's claims, once checked (see [`Token::id_token_claims`]).
    pub(crate) id_token_claims: Option<serde_json::Map<String, serde_json::Value>>,
}

impl TokenDetails {
    fn is_empty(&self) -> bool {
        self.extra.is_empty()
            && self.refresh_expires_at.is_none()
            && self.variables.is_empty()
            && self.additional.is_empty()
            && self.id_token.is_none()
            && self.id_token_claims.is_none()
    }
}

/// The details of a token that has none.
static NO_DETAILS: std::sync::LazyLock<TokenDetails> = std::sync::LazyLock::new(Default::default);

/// A token's own secrets, for the sanitizer of a request that carries it.
impl crate::sanitize::KnownSecrets for Token {
    fn known_secrets(&self) -> Vec<String> {
        let access = self.access_token.expose_secret().to_owned();
        let refresh = self.refresh_token.as_ref();
        std::iter::once(access)
            .chain(refresh.map(|r| r.expose_secret().to_owned()))
            .collect()
    }
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
            details: None,
        }
    }

    pub(crate) fn details(&self) -> &TokenDetails {
        self.details.as_deref().unwrap_or(&NO_DETAILS)
    }

    /// The details, to change them (made when the token had none).
    pub(crate) fn details_mut(&mut self) -> &mut TokenDetails {
        self.details.get_or_insert_with(Box::default)
    }

    /// Sets the details (kept only when there is something in them).
    pub(crate) fn set_details(&mut self, details: TokenDetails) {
        self.details = (!details.is_empty()).then(|| Box::new(details));
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
        &self.details().extra
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

    /// When the refresh token expires, when the vendor said.
    pub fn refresh_token_expires_at_unix(&self) -> Option<u64> {
        self.details().refresh_expires_at
    }

    /// The values captured from the vendor's answers (descriptor variables with `from`), such
    /// as an API origin.
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.details().variables
    }

    /// A further token of the same answer (`token_response.additional_tokens`), e.g. a user
    /// token beside a bot token.
    pub fn additional(&self, name: &str) -> Option<&Token> {
        self.details().additional.get(name)
    }

    /// The names of the further tokens of the same answer.
    pub fn additional_names(&self) -> impl Iterator<Item = &str> {
        self.details().additional.keys().map(String::as_str)
    }

    /// The OpenID Connect ID token, when the vendor sent one (with `openid` in the scopes).
    pub fn id_token(&self) -> Option<&IdToken> {
        self.details().id_token.as_ref()
    }

    /// The claims of the ID token (`sub`, `email`…), once the engine checked it: signature
    /// (from the issuer's key set when the descriptor names one), `iss`, `aud`, `exp` and the
    /// `nonce`. `None` when there is no ID token.
    pub fn id_token_claims(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.details().id_token_claims.as_ref()
    }

    /// Keeps what `previous` had and this (refreshed) token lacks: the refresh token and its
    /// expiry, and the captured values (a refresh answer rarely repeats them).
    pub(crate) fn inherit_refresh_token(mut self, previous: &Token) -> Token {
        let before = previous.details();
        if self.refresh_token.is_none() {
            self.refresh_token = previous.refresh_token.clone();
            if before.refresh_expires_at.is_some() {
                self.details_mut().refresh_expires_at = before.refresh_expires_at;
            }
        }
        if self.id_token().is_none() && before.id_token.is_some() {
            let details = self.details_mut();
            details.id_token = before.id_token.clone();
            details.id_token_claims = before.id_token_claims.clone();
        }
        for (name, value) in &before.variables {
            self.details_mut()
                .variables
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        self
    }

    /// Serializes the token, secrets included, for a token store. Handle the result as a secret.
    pub fn to_storage_json(&self) -> String {
        // Serializing plain strings, numbers and JSON values cannot fail.
        serde_json::to_string(&self.stored()).unwrap_or_default()
    }

    fn stored(&self) -> StoredToken {
        let details = self.details();
        StoredToken {
            access_token: self.access_token.expose_secret().to_owned(),
            token_type: self.token_type.as_deref().map(str::to_owned),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at: self.expires_at,
            issued_at: self.issued_at,
            scope: self.scope.clone(),
            extra: details.extra.clone(),
            refresh_expires_at: details.refresh_expires_at,
            variables: details.variables.clone(),
            additional: details
                .additional
                .iter()
                .map(|(name, token)| (name.clone(), token.stored()))
                .collect(),
            id_token: details
                .id_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            id_token_claims: details.id_token_claims.clone(),
        }
    }

    /// Reads a token written by [`Token::to_storage_json`].
    pub fn from_storage_json(json: &str) -> Result<Token, serde_json::Error> {
        let stored: StoredToken = serde_json::from_str(json)?;
        Ok(Token::from_stored(stored))
    }

    fn from_stored(mut stored: StoredToken) -> Token {
        // Tokens stored before the ID token had a field of its own kept it among the extras.
        let id_token = stored
            .id_token
            .or_else(|| match stored.extra.remove("id_token") {
                Some(serde_json::Value::String(jwt)) => Some(jwt),
                _ => None,
            });
        let mut token = Token {
            access_token: AccessToken::new(stored.access_token),
            token_type: stored.token_type.map(token_type),
            refresh_token: stored.refresh_token.map(RefreshToken::new),
            expires_at: stored.expires_at,
            issued_at: stored.issued_at,
            scope: stored.scope,
            details: None,
        };
        token.set_details(TokenDetails {
            extra: stored.extra,
            refresh_expires_at: stored.refresh_expires_at,
            variables: stored.variables,
            additional: stored
                .additional
                .into_iter()
                .map(|(name, token)| (name, Token::from_stored(token)))
                .collect(),
            id_token: id_token.map(IdToken::new),
            id_token_claims: stored.id_token_claims,
        });
        token
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
            .field("extra_fields", &self.extra().keys().collect::<Vec<_>>())
            .field("variables", &self.variables().keys().collect::<Vec<_>>())
            .field("additional", &self.details().additional)
            .field("id_token", &self.id_token().map(|_| "[redacted]"))
            .field(
                "id_token_claims",
                &self.id_token_claims().map(|c| c.keys().collect::<Vec<_>>()),
            )
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    additional: BTreeMap<String, StoredToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token_claims: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A token type as sent, borrowed when it is a usual spelling of `bearer`.
pub(crate) fn token_type(sent: String) -> Cow<'static, str> {
    match sent.as_str() {
        "bearer" => Cow::Borrowed("bearer"),
        "Bearer" => Cow::Borrowed("Bearer"),
        _ => Cow::Owned(sent),
    }
}

/// Seconds since the Unix epoch, now (0 if the system clock is before 1970).
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
