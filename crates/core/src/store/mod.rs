//! Token stores: where tokens live between requests, restarts and processes.
//!
//! One async trait, [`TokenStore`], with these implementations:
//!
//! - [`MemoryStore`], the default: tokens live as long as the process;
//! - [`FileStore`]: one JSON file shared by every process on a machine (atomic replace, mode
//!   0600, an advisory lock around every change, corrupt files moved aside and reported);
//! - `RedisStore` (cargo feature `redis`): the shared store for services on several machines
//!   (JSON under a namespaced key with a TTL, a lock taken with `SET NX PX` and released only by
//!   its owner);
//! - `SqliteStore` (cargo feature `sqlite`): an embedded database file shared by every process
//!   on a machine, for many keys (one row per key: a refresh writes one row, not the whole
//!   store; WAL mode, `synchronous=FULL`, mode 0600, locks as rows with owner and expiry).
//! - `PostgresStore` (cargo feature `postgres`): the shared store in a PostgreSQL database (a
//!   row per token, a row per lock, taken with one `INSERT … ON CONFLICT … WHERE` and released
//!   only by its owner).
//!
//! Stores that keep their tokens as text also implement [`RawTokenStore`] (any JSON text under a
//! key), on which `EncryptedStore` (cargo feature `encryption`) encrypts every token at rest.
//!
//! Keys are the strings built by [`crate::TokenKey::storage_key`]; a store may namespace them
//! further. Besides `get`, `put` and `delete`, every store offers a lock with an owner and an
//! expiry, which the [`crate::TokenManager`] takes around a refresh so that exactly one process
//! asks the vendor for a new token while the others wait and then read the token it stored.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::token::Token;

#[cfg(feature = "encryption")]
mod encrypted;
mod file;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod raw;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "encryption")]
pub use encrypted::{EncryptedStore, EncryptionKey, EncryptionKeys, STORE_KEY_ENV};
pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use raw::{RawTokenStore, TokenLifetime};
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// A place where tokens are kept, shared by every manager (and process) that uses it.
///
/// Implementations must be safe to call from many tasks at once. `put` must be durable when it
/// returns `Ok` (a rotated refresh token is stored before any caller receives it). Errors must
/// never contain token material.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The token stored under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError>;

    /// Stores `token` under `key`, replacing any previous one.
    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError>;

    /// Removes the token stored under `key`; removing a missing token is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Tries to take the lock of `key` for `owner` (a random string unique to the caller) for
    /// at most `ttl`. Returns `true` when taken, `false` when someone else holds it. Never waits.
    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Releases the lock of `key` if, and only if, `owner` still holds it. Returns whether it did.
    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError>;

    /// [`TokenStore::get`] for a caller that keeps the token in an `Arc`. The default wraps
    /// `get`; a store that keeps tokens in this process's memory returns its own copy.
    async fn get_shared(&self, key: &str) -> Result<Option<Arc<Token>>, StoreError> {
        Ok(self.get(key).await?.map(Arc::new))
    }

    /// [`TokenStore::put`] for a caller that keeps the token (and the key) in an `Arc`. The
    /// default calls `put`; a store that keeps tokens in this process's memory keeps the
    /// caller's copies instead of its own.
    async fn put_shared(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError> {
        self.put(key, token).await
    }

    /// Whether the store may hold tokens written by a version of this library before 0.2,
    /// under that version's keys (a manager then looks there once, and moves what it finds
    /// to the current key). Default: yes; a store that lives and dies with its process (the
    /// memory store) cannot.
    fn may_hold_older_keys(&self) -> bool {
        true
    }

    /// The same store's operations as plain calls, for a store that answers at once from this
    /// process's memory: a manager then calls them directly instead of allocating and polling
    /// a future per operation (five per refresh). Default: none. A store that transforms
    /// what it keeps (encryption) must not hand out its inner store's.
    fn immediate(&self) -> Option<&dyn ImmediateStore> {
        None
    }

    /// The keys of the stored tokens that start with `prefix` (at most [`MAX_LISTED_KEYS`]),
    /// for telling a user that a token exists under another key (other scopes). A store that
    /// cannot list returns none, the default.
    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let _ = prefix;
        Ok(Vec::new())
    }
}

/// The operations a manager needs of a [`TokenStore`] that answers without waiting (see
/// [`TokenStore::immediate`]); each behaves as its namesake in [`TokenStore`].
pub trait ImmediateStore: Send + Sync {
    /// [`TokenStore::get_shared`].
    fn get_now(&self, key: &str) -> Result<Option<Arc<Token>>, StoreError>;

    /// [`TokenStore::put_shared`].
    fn put_now(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError>;

    /// [`TokenStore::try_lock`], for a caller that keeps the key in an `Arc`.
    fn try_lock_now(&self, key: &Arc<str>, owner: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// [`TokenStore::unlock`].
    fn unlock_now(&self, key: &str, owner: &str) -> Result<bool, StoreError>;
}

/// The most keys [`TokenStore::keys_with_prefix`] returns.
pub const MAX_LISTED_KEYS: usize = 100;

#[async_trait]
impl<S: TokenStore + ?Sized> TokenStore for Arc<S> {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        (**self).get(key).await
    }
    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        (**self).put(key, token).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        (**self).delete(key).await
    }
    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        (**self).try_lock(key, owner, ttl).await
    }
    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        (**self).unlock(key, owner).await
    }
    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        (**self).keys_with_prefix(prefix).await
    }
    async fn get_shared(&self, key: &str) -> Result<Option<Arc<Token>>, StoreError> {
        (**self).get_shared(key).await
    }
    fn may_hold_older_keys(&self) -> bool {
        (**self).may_hold_older_keys()
    }
    async fn put_shared(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError> {
        (**self).put_shared(key, token).await
    }
    fn immediate(&self) -> Option<&dyn ImmediateStore> {
        (**self).immediate()
    }
}

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store could not be reached or written (I/O error, Redis down…).
    Unavailable,
    /// Stored data could not be read back. A file store has moved the file aside.
    Corrupt,
    /// The refresh lock could not be taken in time.
    LockTimeout,
    /// The store's configuration is invalid (e.g. a Redis URL).
    InvalidConfig,
    /// The stored data was written by a newer version of oauth-clients; it is left as it is.
    NewerFormat,
    /// The stored value cannot be read by this process, though it may be sound: encrypted with
    /// a key it was not given, or not encrypted where it should be. It is left as it is (a
    /// token manager reports it rather than replacing the token).
    Unreadable,
}

/// A token store failed. `Display` names the store and the operation, never token material.
#[derive(Debug, Clone)]
pub struct StoreError {
    kind: StoreErrorKind,
    store: String,
    message: String,
}

impl StoreError {
    /// A new error: `store` names the store (e.g. `file store /var/lib/app/tokens.json`),
    /// `message` says what failed. Neither may contain a token.
    pub fn new(
        kind: StoreErrorKind,
        store: impl Into<String>,
        message: impl Into<String>,
    ) -> StoreError {
        StoreError {
            kind,
            store: store.into(),
            message: message.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The store, as named in the message.
    pub fn store(&self) -> &str {
        &self.store
    }

    /// What failed.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn with_message_prefix(mut self, prefix: &str) -> StoreError {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token store ({}): {}", self.store, self.message)
    }
}

impl std::error::Error for StoreError {}

/// The wall clock in Unix milliseconds as cheaply as the platform allows, for deciding whether
/// a cached token is still fresh on every read: on Linux the coarse real-time clock (a few
/// nanoseconds; it may lag by a few milliseconds, nothing next to the refresh margins of
/// seconds), elsewhere [`now_unix_ms`].
pub(crate) fn coarse_now_unix_ms() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
        let millis = u64::try_from(now.tv_nsec).unwrap_or(0) / 1_000_000;
        seconds.saturating_mul(1000).saturating_add(millis)
    }
    #[cfg(not(target_os = "linux"))]
    {
        now_unix_ms()
    }
}

/// Unix milliseconds, now.
pub(crate) fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
