//! The in-memory store, the default.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::hashing::RandomState;

use super::{ImmediateStore, StoreError, StoreErrorKind, TokenStore, now_unix_ms};
use crate::token::Token;

/// Tokens kept in this process's memory. Share one (in an `Arc`) between managers to share
/// tokens between them; nothing survives a restart.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// Lock slots an empty lock table keeps (a few hundred bytes), so that refreshes one after
/// another do not allocate a table each.
const KEPT_LOCK_CAPACITY: usize = 16;

#[derive(Default)]
struct Inner {
    /// Shared with the managers that stored them (see [`TokenStore::put_shared`]): a token
    /// and its key are kept once in memory, however many hold them.
    tokens: HashMap<Arc<str>, Arc<Token>, RandomState>,
    /// key → (owner, expiry in Unix milliseconds); the key shared with the caller.
    locks: HashMap<Arc<str>, (Owner, u64), RandomState>,
}

/// A lock's owner: kept in place when it is as short as a token manager's (32 hex digits),
/// so that taking a lock allocates nothing.
enum Owner {
    Short { len: u8, bytes: [u8; 32] },
    Long(Box<str>),
}

impl Owner {
    fn new(owner: &str) -> Owner {
        let mut bytes = [0u8; 32];
        match bytes.get_mut(..owner.len()) {
            Some(room) => {
                room.copy_from_slice(owner.as_bytes());
                Owner::Short {
                    len: owner.len() as u8,
                    bytes,
                }
            }
            None => Owner::Long(owner.into()),
        }
    }

    fn is(&self, owner: &str) -> bool {
        match self {
            Owner::Short { len, bytes } => bytes.get(..usize::from(*len)) == Some(owner.as_bytes()),
            Owner::Long(own) => **own == *owner,
        }
    }
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
        Ok(self.get_now(key)?.map(|token| (*token).clone()))
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        self.put_now(&key.into(), &Arc::new(token.clone()))
    }

    fn may_hold_older_keys(&self) -> bool {
        false
    }

    async fn get_shared(&self, key: &str) -> Result<Option<Arc<Token>>, StoreError> {
        self.get_now(key)
    }

    async fn put_shared(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError> {
        self.put_now(key, token)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner()?.tokens.remove(key);
        Ok(())
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.try_lock_now(&key.into(), owner, ttl)
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
        self.unlock_now(key, owner)
    }

    fn immediate(&self) -> Option<&dyn ImmediateStore> {
        Some(self)
    }
}

impl ImmediateStore for MemoryStore {
    fn get_now(&self, key: &str) -> Result<Option<Arc<Token>>, StoreError> {
        Ok(self.inner()?.tokens.get(key).cloned())
    }

    fn put_now(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError> {
        self.inner()?.tokens.insert(key.clone(), token.clone());
        Ok(())
    }

    fn try_lock_now(&self, key: &Arc<str>, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_unix_ms();
        let mut inner = self.inner()?;
        match inner.locks.get(key) {
            Some((_, expires)) if *expires > now => Ok(false),
            _ => {
                let expires = now.saturating_add(ttl.as_millis() as u64);
                inner
                    .locks
                    .insert(key.clone(), (Owner::new(owner), expires));
                Ok(true)
            }
        }
    }

    fn unlock_now(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let mut inner = self.inner()?;
        if inner.locks.get(key).is_some_and(|(held, _)| held.is(owner)) {
            inner.locks.remove(key);
            if inner.locks.capacity() > KEPT_LOCK_CAPACITY && inner.locks.is_empty() {
                // Locks are brief: give back the room a burst of them took.
                inner.locks = HashMap::default();
            }
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_immediate_lock_is_held_until_its_owner_releases_it_or_it_lapses() {
        let store = MemoryStore::new();
        let now = store.immediate().expect("the memory store answers at once");
        let key: Arc<str> = "vendor:family:scopes".into();
        let minute = Duration::from_secs(60);
        assert!(now.try_lock_now(&key, "owner-a", minute).unwrap());
        assert!(!now.try_lock_now(&key, "owner-b", minute).unwrap());
        assert!(
            !now.unlock_now(&key, "owner-b").unwrap(),
            "only its owner releases it"
        );
        assert!(now.unlock_now(&key, "owner-a").unwrap());
        assert!(!now.unlock_now(&key, "owner-a").unwrap(), "released once");
        assert!(now.try_lock_now(&key, "owner-b", Duration::ZERO).unwrap());
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            now.try_lock_now(&key, "owner-c", minute).unwrap(),
            "a lapsed lease"
        );
    }

    #[test]
    fn owners_short_and_long_are_told_apart_exactly() {
        let store = MemoryStore::new();
        let now = store.immediate().expect("the memory store answers at once");
        let minute = Duration::from_secs(60);
        let fits = "0123456789abcdef0123456789abcdef";
        let longer = "0123456789abcdef0123456789abcdef0";
        for (held, others) in [
            (fits, [longer, &fits[..31], ""]),
            (longer, [fits, "0123456789abcdef0123456789abcdef1", ""]),
            ("a", ["ab", "", "b"]),
        ] {
            let key: Arc<str> = format!("key-{held}").into();
            assert!(now.try_lock_now(&key, held, minute).unwrap());
            for other in others {
                assert!(
                    !now.unlock_now(&key, other).unwrap(),
                    "{other:?} is not {held:?}"
                );
            }
            assert!(now.unlock_now(&key, held).unwrap(), "{held:?} releases it");
        }
    }

    #[tokio::test]
    async fn immediate_and_async_operations_see_the_same_tokens() {
        let store = Arc::new(MemoryStore::new());
        let token = Arc::new(Token::new(
            crate::AccessToken::new("memory-access"),
            1_000,
            None,
        ));
        let key: Arc<str> = "k".into();
        let now = store
            .immediate()
            .expect("an Arc forwards to the memory store");
        now.put_now(&key, &token).unwrap();
        let read = store.get_shared("k").await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&read, &token), "kept, not copied");
        store.delete("k").await.unwrap();
        assert!(now.get_now("k").unwrap().is_none());
    }
}
