//! Tokens encrypted at rest (feature `encryption`): a wrapper over any store that keeps raw
//! values.
//!
//! # Design
//!
//! [`EncryptedStore`] encrypts a token's storage JSON ([`Token::to_storage_json`]) and keeps the
//! result, a small JSON envelope, in the store it wraps through [`RawTokenStore`]:
//!
//! ```json
//! {"format":"oauth-clients-encrypted-token","version":1,"alg":"XChaCha20-Poly1305",
//!  "kid":"2025-06","nonce":"<24 bytes, base64url>","ciphertext":"<base64url>"}
//! ```
//!
//! - XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), with a new random 24-byte nonce for
//!   every write: random nonces of that size never repeat in practice, whatever the number of
//!   writers and keys.
//! - The associated data binds the format, the key id and the **storage key**: a value copied
//!   or moved under another key, or relabelled with another key id, fails authentication.
//! - Every value names the id of the key that encrypted it, so keys can rotate: new values are
//!   written with the current key, values written with an older key are still read, and move to
//!   the current key at their next write (the next refresh). A value under a key id that is not
//!   given, or that fails authentication, is [`StoreErrorKind::Unreadable`], with a message that
//!   names the key id and the storage key, never key material or token values.
//! - Locks, deletes and key listing go to the wrapped store unchanged: keys are not secret,
//!   they name a vendor, a client and scopes.
//!
//! Why a trait of its own rather than raw methods on [`TokenStore`] with a default: a default
//! cannot be right for a store that keeps `Token`s rather than text (the memory store). It
//! would have to fail at run time, or parse the envelope as a token, or keep plain tokens; a
//! separate trait makes "this store can keep an opaque value" a property the compiler checks.
//! Storing the envelope inside a `Token`'s access-token field would work with every store, but
//! would let any code that reads the store take ciphertext for a bearer token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret as _, SecretBox};
use serde::{Deserialize, Serialize};

use super::{RawTokenStore, StoreError, StoreErrorKind, TokenLifetime, TokenStore};
use crate::token::Token;

/// The environment variable the tool reads store keys from: `ID:BASE64` (32 bytes), or several
/// `ID:BASE64` separated by commas, the first being the current key and the others older ones.
pub const STORE_KEY_ENV: &str = "OAUTH_CLIENTS_STORE_KEY";

const FORMAT: &str = "oauth-clients-encrypted-token";
const VERSION: u32 = 1;
const ALG: &str = "XChaCha20-Poly1305";
const KEYS_NAME: &str = "store encryption keys";

/// A 256-bit key for [`EncryptedStore`]. `Debug` never shows it; it is zeroed when dropped.
#[derive(Clone)]
pub struct EncryptionKey(Arc<SecretBox<[u8; 32]>>);

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(***)")
    }
}

impl EncryptionKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> EncryptionKey {
        EncryptionKey(Arc::new(SecretBox::new(Box::new(bytes))))
    }

    /// A key from the base64 of 32 bytes (standard or URL-safe alphabet, padded or not).
    pub fn from_base64(text: &str) -> Result<EncryptionKey, StoreError> {
        let text = text.trim();
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .map(Zeroizing::new)
            .ok_or_else(|| keys_error("a store key is not valid base64"))?;
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            keys_error(format!(
                "a store key must be 32 bytes, base64-encoded; this one is {} bytes",
                decoded.len()
            ))
        })?;
        Ok(EncryptionKey::from_bytes(bytes))
    }

    /// A new random key (from the operating system's generator through `rand`).
    pub fn generate() -> EncryptionKey {
        EncryptionKey::from_bytes(rand::random())
    }

    /// The key as base64 (standard alphabet, padded), e.g. to put in [`STORE_KEY_ENV`].
    pub fn to_base64(&self) -> secrecy::SecretString {
        STANDARD.encode(self.0.expose_secret()).into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0.expose_secret()))
    }
}

/// The keys of an [`EncryptedStore`]: the current one, which encrypts every write, and older
/// ones, which still decrypt what they encrypted. Each has an id, stored with every value.
#[derive(Clone)]
pub struct EncryptionKeys {
    current: (String, EncryptionKey),
    older: Vec<(String, EncryptionKey)>,
}

impl fmt::Debug for EncryptionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let older: Vec<&str> = self.older.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("EncryptionKeys")
            .field("current", &self.current.0)
            .field("older", &older)
            .finish()
    }
}

impl EncryptionKeys {
    /// The current key and older ones, each with its id: 1 to 64 characters among ASCII
    /// letters, digits, `.`, `_` and `-`, all different.
    pub fn new(
        current: (impl Into<String>, EncryptionKey),
        older: Vec<(String, EncryptionKey)>,
    ) -> Result<EncryptionKeys, StoreError> {
        let keys = EncryptionKeys {
            current: (current.0.into(), current.1),
            older,
        };
        let ids: Vec<&str> = keys.ids().collect();
        for (i, id) in ids.iter().enumerate() {
            let valid = (1..=64).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid {
                return Err(keys_error(format!(
                    "invalid key id `{}`: use 1 to 64 ASCII letters, digits, `.`, `_` or `-`",
                    crate::sanitize::escape_control_characters(
                        &id.chars().take(64).collect::<String>()
                    )
                )));
            }
            if ids[..i].contains(id) {
                return Err(keys_error(format!("key id `{id}` is given twice")));
            }
        }
        Ok(keys)
    }

    /// Keys written as `ID:BASE64[,ID:BASE64…]` (the format of [`STORE_KEY_ENV`]): the first is
    /// the current key, the others older ones.
    pub fn parse(text: &str) -> Result<EncryptionKeys, StoreError> {
        let mut keys = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part.split_once(':').ok_or_else(|| {
                keys_error("a store key is written `ID:BASE64` (e.g. `2025-06:…`), the id first")
            })?;
            keys.push((id.trim().to_owned(), EncryptionKey::from_base64(key)?));
        }
        let mut keys = keys.into_iter();
        let current = keys
            .next()
            .ok_or_else(|| keys_error("no store key given"))?;
        EncryptionKeys::new(current, keys.collect())
    }

    /// The keys in the environment variable [`STORE_KEY_ENV`], or `None` when it is unset or
    /// empty.
    pub fn from_env() -> Result<Option<EncryptionKeys>, StoreError> {
        match std::env::var(STORE_KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => EncryptionKeys::parse(&text)
                .map(Some)
                .map_err(|e| e.with_message_prefix(STORE_KEY_ENV)),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(keys_error(format!("{STORE_KEY_ENV} is not valid UTF-8")))
            }
        }
    }

    /// The id of the key that encrypts new values.
    pub fn current_id(&self) -> &str {
        &self.current.0
    }

    fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.current.0.as_str()).chain(self.older.iter().map(|(id, _)| id.as_str()))
    }

    fn find(&self, id: &str) -> Option<&EncryptionKey> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|(known, _)| known == id)
            .map(|(_, key)| key)
    }
}

fn keys_error(message: impl Into<String>) -> StoreError {
    StoreError::new(StoreErrorKind::InvalidConfig, KEYS_NAME, message)
}

/// What an [`EncryptedStore`] keeps in place of a token.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    alg: String,
    kid: String,
    nonce: String,
    ciphertext: String,
}

/// The associated data of a value: format, key id and storage key, so that a value is only
/// ever valid where it was written.
fn associated_data(kid: &str, key: &str) -> Vec<u8> {
    format!("{FORMAT}\0{VERSION}\0{kid}\0{key}").into_bytes()
}

/// A store that encrypts every token it keeps in `S`.
///
/// Each token's storage JSON is encrypted with XChaCha20-Poly1305 under the current key of
/// [`EncryptionKeys`], with a random nonce, and kept through [`RawTokenStore::put_raw`] as a
/// JSON envelope that names the key id; the storage key and the key id are the associated data,
/// so a value moved to another key or relabelled fails to decrypt. Values written with an older
/// key are read, and move to the current key at their next write. A value that fails
/// authentication, is not an envelope, or names a key id not given is
/// [`StoreErrorKind::Unreadable`]; messages name the storage key and the key id, never key
/// material or token values. Locks, deletes and listing go to `S` unchanged (keys are not
/// secret).
///
/// ```no_run
/// # async fn demo() -> Result<(), oauth_clients_core::StoreError> {
/// use oauth_clients_core::store::{EncryptedStore, EncryptionKeys, FileStore};
///
/// // OAUTH_CLIENTS_STORE_KEY=2025-06:<base64 of 32 random bytes>
/// let keys = EncryptionKeys::from_env()?.expect("OAUTH_CLIENTS_STORE_KEY is set");
/// let store = EncryptedStore::new(FileStore::new("/var/lib/app/tokens.json"), keys);
/// # let _ = store; Ok(()) }
/// ```
pub struct EncryptedStore<S> {
    inner: S,
    keys: EncryptionKeys,
}

impl<S: fmt::Debug> fmt::Debug for EncryptedStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("inner", &self.inner)
            .field("keys", &self.keys)
            .finish()
    }
}

impl<S: RawTokenStore> EncryptedStore<S> {
    /// Encrypts the tokens kept in `inner` with `keys`.
    pub fn new(inner: S, keys: EncryptionKeys) -> EncryptedStore<S> {
        EncryptedStore { inner, keys }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn unreadable(&self, key: &str, message: impl fmt::Display) -> StoreError {
        StoreError::new(
            StoreErrorKind::Unreadable,
            "encrypted store",
            format!("the value under {key} {message}"),
        )
    }

    fn seal(&self, key: &str, token: &Token) -> Result<String, StoreError> {
        let (kid, secret) = &self.keys.current;
        let plaintext = Zeroizing::new(token.to_storage_json());
        let nonce: [u8; 24] = rand::random();
        let aad = associated_data(kid, key);
        let ciphertext = secret
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    "encrypted store",
                    "encryption failed",
                )
            })?;
        let envelope = Envelope {
            format: FORMAT.into(),
            version: VERSION,
            alg: ALG.into(),
            kid: kid.clone(),
            nonce: URL_SAFE_NO_PAD.encode(nonce),
            ciphertext: URL_SAFE_NO_PAD.encode(ciphertext),
        };
        // Plain strings and numbers: serializing cannot fail.
        Ok(serde_json::to_string(&envelope).unwrap_or_default())
    }

    fn open(&self, key: &str, raw: &str) -> Result<Token, StoreError> {
        let envelope: Envelope = serde_json::from_str(raw)
            .ok()
            .filter(|e: &Envelope| e.format == FORMAT)
            .ok_or_else(|| {
                self.unreadable(
                    key,
                    "is not an encrypted token (written without encryption?); \
                                   delete it, or read it without the store key",
                )
            })?;
        if envelope.version > VERSION {
            return Err(StoreError::new(
                StoreErrorKind::NewerFormat,
                "encrypted store",
                format!(
                    "the value under {key} was encrypted by a newer oauth-clients (envelope \
                     version {}); it is left as it is",
                    envelope.version
                ),
            ));
        }
        if envelope.version != VERSION || envelope.alg != ALG {
            return Err(self.unreadable(key, "has an unknown envelope version or algorithm"));
        }
        let kid = crate::sanitize::escape_control_characters(&envelope.kid);
        let secret = self.keys.find(&envelope.kid).ok_or_else(|| {
            self.unreadable(
                key,
                format_args!(
                    "was encrypted with key id `{kid}`, which is not among the keys given \
                     (current `{}`); add that key as an older key",
                    self.keys.current_id()
                ),
            )
        })?;
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text).ok();
        let nonce = decode(&envelope.nonce)
            .and_then(|n| <[u8; 24]>::try_from(n.as_slice()).ok())
            .ok_or_else(|| self.unreadable(key, "has an invalid nonce"))?;
        let ciphertext = decode(&envelope.ciphertext)
            .ok_or_else(|| self.unreadable(key, "has invalid ciphertext"))?;
        let aad = associated_data(&envelope.kid, key);
        let plaintext = secret
            .cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                self.unreadable(
                    key,
                    format_args!(
                        "failed authentication with key `{kid}`: it was changed, or written \
                         under another key, or with another key of the same id"
                    ),
                )
            })?;
        std::str::from_utf8(&plaintext)
            .ok()
            .and_then(|json| Token::from_storage_json(json).ok())
            .ok_or_else(|| self.unreadable(key, "decrypts to something that is not a token"))
    }
}

#[async_trait]
impl<S: RawTokenStore> TokenStore for EncryptedStore<S> {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        match self.inner.get_raw(key).await? {
            None => Ok(None),
            Some(raw) => self.open(key, &raw).map(Some),
        }
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        let envelope = self.seal(key, token)?;
        self.inner
            .put_raw(key, &envelope, TokenLifetime::of(token))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.try_lock(key, owner, ttl).await
    }

    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        self.inner.unlock(key, owner).await
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.keys_with_prefix(prefix).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileStore;
    use crate::{AccessToken, RefreshToken};

    fn token() -> Token {
        Token::new(AccessToken::new("clear-access"), 1_000, Some(4_000_000_000))
            .with_refresh_token(Some(RefreshToken::new("clear-refresh")))
    }

    /// Keys whose bytes depend on the id's first letter only: `k1` and `k2` share their bytes,
    /// so that only the associated data tells them apart.
    fn keys(current: &str, older: &[&str]) -> EncryptionKeys {
        let key = |id: &str| EncryptionKey::from_bytes([id.as_bytes()[0]; 32]);
        EncryptionKeys::new(
            (current, key(current)),
            older.iter().map(|id| (id.to_string(), key(id))).collect(),
        )
        .unwrap()
    }

    fn file_store() -> (tempfile::TempDir, FileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("tokens.json"));
        (dir, store)
    }

    #[tokio::test]
    async fn round_trip_without_the_token_in_clear() {
        let (_dir, file) = file_store();
        let store = EncryptedStore::new(file.clone(), keys("k1", &[]));
        store.put("a", &token()).await.unwrap();
        let back = store.get("a").await.unwrap().unwrap();
        assert_eq!(back.access_token().expose_secret(), "clear-access");
        assert_eq!(
            back.refresh_token().unwrap().expose_secret(),
            "clear-refresh"
        );
        let dump = std::fs::read_to_string(file.path()).unwrap();
        assert!(!dump.contains("clear-"), "{dump}");
        assert!(dump.contains(r#""kid": "k1""#), "{dump}");
        // Two writes of one token differ (a new nonce each time).
        let first = file.get_raw("a").await.unwrap().unwrap();
        store.put("a", &token()).await.unwrap();
        assert_ne!(first, file.get_raw("a").await.unwrap().unwrap());
        assert!(store.get("missing").await.unwrap().is_none());
        // The plain store does not take the envelope for a token, and says why.
        let err = file.get("a").await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unreadable);
        assert!(err.to_string().contains("encrypted"), "{err}");
    }

    #[tokio::test]
    async fn a_moved_relabelled_or_changed_value_is_unreadable() {
        let (_dir, file) = file_store();
        let store = EncryptedStore::new(file.clone(), keys("k1", &["k2"]));
        store.put("a", &token()).await.unwrap();
        let raw = file.get_raw("a").await.unwrap().unwrap();
        let lifetime = TokenLifetime::of(&token());

        file.put_raw("b", &raw, lifetime).await.unwrap();
        let err = store.get("b").await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unreadable);
        assert!(err.to_string().contains("failed authentication"), "{err}");

        let relabelled = raw.replace(r#""kid":"k1""#, r#""kid":"k2""#);
        assert_ne!(relabelled, raw);
        file.put_raw("a", &relabelled, lifetime).await.unwrap();
        assert_eq!(
            store.get("a").await.unwrap_err().kind(),
            StoreErrorKind::Unreadable
        );

        let mut envelope: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let ciphertext = envelope["ciphertext"].as_str().unwrap().to_owned();
        let flipped = if ciphertext.starts_with('A') {
            "B"
        } else {
            "A"
        };
        envelope["ciphertext"] = format!("{flipped}{}", &ciphertext[1..]).into();
        file.put_raw("a", &envelope.to_string(), lifetime)
            .await
            .unwrap();
        let err = store.get("a").await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unreadable);
        assert!(!err.to_string().contains("clear-"), "{err}");

        file.put("plain", &token()).await.unwrap();
        let err = store.get("plain").await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unreadable);
        assert!(err.to_string().contains("not an encrypted token"), "{err}");
    }

    #[tokio::test]
    async fn keys_rotate() {
        let (_dir, file) = file_store();
        EncryptedStore::new(file.clone(), keys("old", &[]))
            .put("a", &token())
            .await
            .unwrap();
        let rotated = EncryptedStore::new(file.clone(), keys("new", &["old"]));
        let back = rotated.get("a").await.unwrap().unwrap();
        assert_eq!(back.access_token().expose_secret(), "clear-access");
        rotated.put("a", &back).await.unwrap();
        assert!(
            file.get_raw("a")
                .await
                .unwrap()
                .unwrap()
                .contains(r#""kid":"new""#)
        );

        // Without the key that wrote a value, it cannot be read, and the error says which.
        EncryptedStore::new(file.clone(), keys("old", &[]))
            .put("b", &token())
            .await
            .unwrap();
        let err = EncryptedStore::new(file.clone(), keys("new", &[]))
            .get("b")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unreadable);
        assert!(err.to_string().contains("key id `old`"), "{err}");
        // Another key under the same id fails authentication.
        let impostor = EncryptionKeys::new(("old", EncryptionKey::generate()), vec![]).unwrap();
        let err = EncryptedStore::new(file, impostor)
            .get("b")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unreadable);
    }

    #[test]
    fn keys_are_parsed_and_never_shown() {
        let key = EncryptionKey::generate();
        let text = key.to_base64();
        let parsed = EncryptionKeys::parse(&format!(
            "k2:{},k1:{}",
            text.expose_secret(),
            STANDARD.encode([7u8; 32])
        ))
        .unwrap();
        assert_eq!(parsed.current_id(), "k2");
        assert!(parsed.find("k1").is_some());
        let debug = format!("{parsed:?} {key:?}");
        assert!(!debug.contains(text.expose_secret()), "{debug}");
        assert!(debug.contains("k1") && debug.contains("k2"), "{debug}");

        for (bad, says) in [
            ("", "no store key"),
            ("nokey", "ID:BASE64"),
            ("k1:not base64!", "base64"),
            ("k1:AAAA", "32 bytes"),
            (
                "k 1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "invalid key id",
            ),
        ] {
            let err = EncryptionKeys::parse(bad).unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::InvalidConfig);
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
        let k = STANDARD.encode([1u8; 32]);
        let err = EncryptionKeys::parse(&format!("a:{k},a:{k}")).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        assert!(!err.to_string().contains(&k), "{err}");
    }
}
