//! The in-memory store, the default.

use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::hashing::hash_one;

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

/// Tables that keep each key's hash beside it: growing one hashes no key again (a key's text
/// is elsewhere on the heap, a cache miss each with thousands of tokens), and a lookup compares
/// key texts only when the hashes are equal.
#[derive(Default)]
struct Inner {
    /// Shared with the managers that stored them (see [`TokenStore::put_shared`]): a token
    /// and its key are kept once in memory, however many hold them.
    tokens: HashTable<Keyed<Arc<Token>>>,
    /// Each key's lock: its owner and expiry (Unix milliseconds).
    locks: HashTable<Keyed<(Owner, u64)>>,
}

/// A value under a key, with the key's hash.
struct Keyed<T> {
    hash: u64,
    /// Shared with the caller that stored it.
    key: Arc<str>,
    value: T,
}

impl<T> Keyed<T> {
    /// Whether this is the entry of `key` (whose hash is `hash`).
    fn is(&self, hash: u64, key: &str) -> bool {
        self.hash == hash && *self.key == *key
    }
}

/// The hash a table keeps for an entry.
fn stored_hash<T>(entry: &Keyed<T>) -> u64 {
    entry.hash
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
        let hash = hash_one(key);
        if let Ok(entry) = self.inner()?.tokens.find_entry(hash, |e| e.is(hash, key)) {
            entry.remove();
        }
        Ok(())
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.try_lock_now(&key.into(), owner, ttl)
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let inner = self.inner()?;
        let mut keys: Vec<String> = inner
            .tokens
            .iter()
            .filter(|e| e.key.starts_with(prefix))
            .map(|e| e.key.to_string())
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
        let hash = hash_one(key);
        let inner = self.inner()?;
        Ok(inner
            .tokens
            .find(hash, |e| e.is(hash, key))
            .map(|e| e.value.clone()))
    }

    fn put_now(&self, key: &Arc<str>, token: &Arc<Token>) -> Result<(), StoreError> {
        let hash = hash_one(&**key);
        let mut inner = self.inner()?;
        match inner.tokens.entry(hash, |e| e.is(hash, key), stored_hash) {
            Entry::Occupied(mut kept) => kept.get_mut().value = token.clone(),
            Entry::Vacant(room) => {
                room.insert(Keyed {
                    hash,
                    key: key.clone(),
                    value: token.clone(),
                });
            }
        }
        Ok(())
    }

    fn try_lock_now(&self, key: &Arc<str>, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_unix_ms();
        let held = (
            Owner::new(owner),
            now.saturating_add(ttl.as_millis() as u64),
        );
        let hash = hash_one(&**key);
        let mut inner = self.inner()?;
        match inner.locks.entry(hash, |e| e.is(hash, key), stored_hash) {
            Entry::Occupied(lock) if lock.get().value.1 > now => Ok(false),
            // Free, or its lease has lapsed.
            Entry::Occupied(mut lapsed) => {
                lapsed.get_mut().value = held;
                Ok(true)
            }
            Entry::Vacant(room) => {
                room.insert(Keyed {
                    hash,
                    key: key.clone(),
                    value: held,
                });
                Ok(true)
            }
        }
    }

    fn unlock_now(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let hash = hash_one(key);
        let mut inner = self.inner()?;
        match inner.locks.find_entry(hash, |e| e.is(hash, key)) {
            Ok(lock) if lock.get().value.0.is(owner) => {
                lock.remove();
                if inner.locks.capacity() > KEPT_LOCK_CAPACITY && inner.locks.is_empty() {
                    // Locks are brief: give back the room a burst of them took.
                    inner.locks = HashTable::new();
                }
                Ok(true)
            }
            _ => Ok(false),
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
