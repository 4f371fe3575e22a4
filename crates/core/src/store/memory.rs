//! The in-memory store, the default.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::hashing::RandomState;

use super::{StoreError, StoreErrorKind, TokenStore, now_unix_ms};
use crate::token::Token;

/// Tokens kept in this process's memory. Share one (in an `Arc`) between managers to share
/// tokens between them; nothing survives a restart.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Shared with the managers that stored them (see [`TokenStore::put_shared`]): a token
    /// and its key are kept once in memory, however many hold them.
    tokens: HashMap<Arc<str>, Arc<Token>, RandomState>,
    /// key → (owner, expiry in Unix milliseconds)
    locks: HashMap<String, (String, u64), RandomState>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The store shared by every manager of this process that was given no store, so that
    /// managers of the same key (built apart, e.g. by two `AuthorizedClient`s) share one token
    /// and one refresh.
    pub fn process() -> Arc<MemoryStore> {
        static PROCESS: LazyLock<Arc<MemoryStore>> = LazyLock::new(Arc::default);
        PROCESS.clone()
    }

    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner.lock().map_err(|_| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                "memory store",
                "poisoned by a panic in another thread",
            )
        })
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.inner.lock().map(|i| i.tokens.len()).unwrap_or(0);
        f.debug_struct("MemoryStore")
            .field("tokens", &count)
            .finish()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        Ok(self.inner()?.tokens.get(key).map(|token| (**token).clone()))
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        self.inner()?
            .tokens
            .insert(key.into(), Arc::new(token.clone()));
        Ok(())
    }

    fn may_hold_older_keys(&self) -> bool {
        false
    }

    async fn get_shared(&self, key: &str) -> Result<Option<Arc<Token>>, StoreError> {
        Ok(self.inner()?.tokens.get(key).cloned())
    }

    async fn put_shared(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError> {
        self.inner()?.tokens.insert(key.clone(), token.clone());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner()?.tokens.remove(key);
        Ok(())
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_unix_ms();
        let mut inner = self.inner()?;
        match inner.locks.get(key) {
            Some((_, expires)) if *expires > now => Ok(false),
            _ => {
                let expires = now.saturating_add(ttl.as_millis() as u64);
                inner
                    .locks
                    .insert(key.to_owned(), (owner.to_owned(), expires));
                Ok(true)
            }
        }
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let inner = self.inner()?;
        let mut keys: Vec<String> = inner
            .tokens
            .keys()
            .filter(|key| key.starts_with(prefix))
            .map(|key| key.to_string())
            .collect();
        keys.sort();
        keys.truncate(super::MAX_LISTED_KEYS);
        Ok(keys)
    }

    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let mut inner = self.inner()?;
        if inner.locks.get(key).is_some_and(|(o, _)| o == owner) {
            inner.locks.remove(key);
            if inner.locks.is_empty() {
                // Locks are brief: give their memory back (a store per manager, many managers).
                inner.locks = HashMap::default();
            }
            Ok(true)
        } else {
            Ok(false)
        }
    }
}
