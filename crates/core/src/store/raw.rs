//! Raw access to a store: any JSON text under a key, for wrappers such as `EncryptedStore`
//! (feature `encryption`) that keep something else than a token's own JSON.

use std::sync::Arc;

use async_trait::async_trait;

use super::{StoreError, TokenStore};
use crate::token::Token;

/// A store that can keep any JSON text under a key, not only a token.
///
/// [`TokenStore::get`] and [`TokenStore::put`] read and write a token's storage JSON
/// ([`Token::to_storage_json`]); a store that implements this trait also hands that text out as
/// it is, and keeps a text it is given, so that a wrapper can keep an envelope (e.g. a
/// ciphertext) in its place. The file, Redis and PostgreSQL (feature `postgres`) stores
/// implement it; the memory store, which keeps `Token`s and nothing at rest, does not.
///
/// `get` on a key written with `put_raw` returns [`StoreErrorKind::Corrupt`](super::StoreErrorKind)
/// unless the text is a token's storage JSON: read such keys through the wrapper that wrote them.
#[async_trait]
pub trait RawTokenStore: TokenStore {
    /// The JSON text stored under `key`, as `put` or `put_raw` wrote it, if any.
    async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Stores `raw`, a JSON text (an object, for every store to accept it), under `key`,
    /// replacing any previous value. `lifetime` is what the token that `raw` stands for allows:
    /// a store that expires values (Redis) keeps it as long as it would keep that token.
    async fn put_raw(
        &self,
        key: &str,
        raw: &str,
        lifetime: TokenLifetime,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: RawTokenStore + ?Sized> RawTokenStore for Arc<S> {
    async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        (**self).get_raw(key).await
    }
    async fn put_raw(
        &self,
        key: &str,
        raw: &str,
        lifetime: TokenLifetime,
    ) -> Result<(), StoreError> {
        (**self).put_raw(key, raw, lifetime).await
    }
}

/// How long a stored value may be kept: what the token it stands for allows. No secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetime {
    expires_at_unix: Option<u64>,
    refreshable: bool,
}

impl TokenLifetime {
    /// The lifetime of `token`: its access token's expiry, and whether it has a refresh token
    /// (which outlives the access token).
    pub fn of(token: &Token) -> TokenLifetime {
        TokenLifetime {
            expires_at_unix: token.expires_at_unix(),
            refreshable: token.refresh_token().is_some(),
        }
    }

    /// When the access token expires (Unix seconds), if known.
    pub fn expires_at_unix(&self) -> Option<u64> {
        self.expires_at_unix
    }

    /// Whether the token has a refresh token.
    pub fn refreshable(&self) -> bool {
        self.refreshable
    }
}

/// Whether a stored value is an encrypted token (the envelope of an `EncryptedStore`, feature
/// `encryption`), which a store read without the keys must leave alone.
pub(crate) fn is_encrypted(json: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(value) => {
            value.get("format").and_then(serde_json::Value::as_str)
                == Some("oauth-clients-encrypted-token")
        }
        Err(_) => false,
    }
}

/// The message for an encrypted value read without the keys.
pub(crate) const ENCRYPTED_WITHOUT_KEY: &str = "is encrypted, and this store was opened without \
     its keys (OAUTH_CLIENTS_STORE_KEY for the tool, `EncryptedStore` for the library); it is \
     left as it is";
