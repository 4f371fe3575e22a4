//! The tables of [`super::Tenants`]: values by a 64-bit hash of their key, read without a lock.

use std::sync::{Mutex, MutexGuard};

use crate::hashing::RandomState;

/// Values by a hash of their key, those whose hashes collide side by side in one bucket: found
/// without building the key (the caller hashes borrowed parts and tells the value apart).
///
/// Readers take no lock and write no shared counter: a papaya reader marks only its own
/// thread's epoch, so tasks on several threads find their values at once. Writers take turns
/// (a [`Writer`]): the count stays exact, and every change is the replacement of one bucket,
/// which readers see whole or not at all.
pub(crate) struct Buckets<T> {
    map: papaya::HashMap<u64, Box<[T]>, RandomState>,
    /// How many values there are, held by the one writer.
    count: Mutex<usize>,
}

impl<T: Clone + Send + Sync> Buckets<T> {
    pub(crate) fn new() -> Buckets<T> {
        Buckets {
            map: papaya::HashMap::builder()
                .hasher(RandomState::default())
                .build(),
            count: Mutex::new(0),
        }
    }

    /// `read` applied to the value of hash `hash` that `is` accepts, without cloning it.
    pub(crate) fn read<R>(
        &self,
        hash: u64,
        is: impl FnMut(&&T) -> bool,
        read: impl FnOnce(&T) -> R,
    ) -> Option<R> {
        let map = self.map.pin();
        map.get(&hash)?.iter().find(is).map(read)
    }

    /// A clone of the value of hash `hash` that `is` accepts.
    pub(crate) fn find(&self, hash: u64, is: impl FnMut(&&T) -> bool) -> Option<T> {
        self.read(hash, is, T::clone)
    }

    /// How many values there are.
    pub(crate) fn len(&self) -> usize {
        *lock(&self.count)
    }

    /// The right to change the table; one writer at a time.
    pub(crate) fn writer(&self) -> Writer<'_, T> {
        Writer {
            buckets: self,
            count: lock(&self.count),
        }
    }
}

/// Changes a [`Buckets`]; readers go on meanwhile.
pub(crate) struct Writer<'a, T> {
    buckets: &'a Buckets<T>,
    count: MutexGuard<'a, usize>,
}

impl<T: Clone + Send + Sync> Writer<'_, T> {
    /// How many values there are.
    pub(crate) fn len(&self) -> usize {
        *self.count
    }

    /// Adds `value` under hash `hash`, beside any value already there.
    pub(crate) fn insert(&mut self, hash: u64, value: T) {
        let map = self.buckets.map.pin();
        let bucket = match map.get(&hash) {
            Some(bucket) => bucket.iter().cloned().chain([value]).collect(),
            None => Box::from([value]),
        };
        map.insert(hash, bucket);
        *self.count += 1;
    }

    /// Removes the values of hash `hash` that `gone` accepts; returns how many.
    pub(crate) fn remove(&mut self, hash: u64, mut gone: impl FnMut(&T) -> bool) -> usize {
        let map = self.buckets.map.pin();
        let Some(bucket) = map.get(&hash) else {
            return 0;
        };
        let kept: Box<[T]> = bucket
            .iter()
            .filter(|value| !gone(value))
            .cloned()
            .collect();
        let removed = bucket.len() - kept.len();
        if removed > 0 {
            keep_only(&map, hash, kept);
        }
        *self.count -= removed;
        removed
    }

    /// Keeps the values `keep` accepts, asking it once about each; returns how many went.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) -> usize {
        let map = self.buckets.map.pin();
        // Worked out first and applied after, so the table does not change under its iterator.
        let mut changes: Vec<(u64, Box<[T]>)> = Vec::new();
        let mut removed = 0;
        for (&hash, bucket) in map.iter() {
            let kept: Box<[T]> = match &bucket[..] {
                // Nearly every bucket: judged without a copy.
                [only] if keep(only) => continue,
                [_] => Box::default(),
                _ => bucket.iter().filter(|value| keep(value)).cloned().collect(),
            };
            if kept.len() == bucket.len() {
                continue;
            }
            removed += bucket.len() - kept.len();
            changes.push((hash, kept));
        }
        for (hash, kept) in changes {
            keep_only(&map, hash, kept);
        }
        *self.count -= removed;
        removed
    }

    /// `f` applied to every value.
    pub(crate) fn for_each(&self, f: impl FnMut(&T)) {
        let map = self.buckets.map.pin();
        map.values().flatten().for_each(f);
    }
}

/// Makes `kept` the bucket of hash `hash`; an empty one goes.
fn keep_only<T, G: papaya::Guard>(
    map: &papaya::HashMapRef<'_, u64, Box<[T]>, RandomState, G>,
    hash: u64,
    kept: Box<[T]>,
) where
    T: Send + Sync,
{
    if kept.is_empty() {
        map.remove(&hash);
    } else {
        map.insert(hash, kept);
    }
}

/// A lock that a panic elsewhere does not make unusable (the count is changed in one step).
fn lock(count: &Mutex<usize>) -> MutexGuard<'_, usize> {
    count
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_whose_hashes_collide_are_kept_apart() {
        let buckets = Buckets::new();
        let mut writer = buckets.writer();
        writer.insert(7, "a");
        writer.insert(7, "b");
        writer.insert(8, "c");
        drop(writer);
        assert_eq!(buckets.len(), 3);
        assert_eq!(buckets.find(7, |v| **v == "b"), Some("b"));
        assert_eq!(buckets.find(7, |v| **v == "c"), None);
        assert_eq!(buckets.read(8, |_| true, |v| v.len()), Some(1));

        assert_eq!(buckets.writer().remove(7, |v| *v == "a"), 1);
        assert_eq!(buckets.find(7, |v| **v == "a"), None);
        assert_eq!(buckets.find(7, |v| **v == "b"), Some("b"));
        assert_eq!(buckets.writer().remove(7, |_| true), 1);
        assert_eq!(buckets.writer().remove(7, |_| true), 0);
        assert_eq!(buckets.len(), 1);
    }

    #[test]
    fn retain_asks_once_about_each_value_and_counts_what_went() {
        let buckets = Buckets::new();
        let mut writer = buckets.writer();
        for n in 0..100u32 {
            // Ten values share each hash, as colliding keys would.
            writer.insert(u64::from(n % 10), n);
        }
        let mut asked = 0;
        let went = writer.retain(|n| {
            asked += 1;
            n % 3 == 0
        });
        assert_eq!(asked, 100);
        assert_eq!(went, 66);
        assert_eq!(writer.len(), 34);
        let mut left = Vec::new();
        writer.for_each(|n| left.push(*n));
        left.sort_unstable();
        assert_eq!(left, (0..100).filter(|n| n % 3 == 0).collect::<Vec<_>>());
        assert_eq!(writer.retain(|_| false), 34);
        drop(writer);
        assert_eq!(buckets.len(), 0);
        assert_eq!(buckets.find(0, |_| true), None);
    }

    #[test]
    fn readers_on_other_threads_see_each_change_whole() {
        let buckets = std::sync::Arc::new(Buckets::new());
        buckets.writer().insert(1, 0u64);
        let reader = {
            let buckets = buckets.clone();
            std::thread::spawn(move || {
                // Bounded: the writer below makes 2,000 changes.
                for _ in 0..20_000 {
                    let seen = buckets
                        .find(1, |_| true)
                        .expect("hash 1 always has a value");
                    assert!(seen < 2_000);
                }
            })
        };
        for n in 1..2_000 {
            let mut writer = buckets.writer();
            writer.insert(1, n);
            writer.remove(1, |v| *v == n - 1);
        }
        reader.join().expect("the reader saw every version whole");
        assert_eq!(buckets.len(), 1);
    }
}
