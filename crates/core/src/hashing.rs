//! One hasher for the engine's in-memory tables (token keys, tenants, shared client parts):
//! foldhash, seeded once per process, so that values a user controls (tenant variables, keys)
//! cannot be chosen to collide, and long keys hash quickly.

use std::hash::{BuildHasher, Hash};
use std::sync::LazyLock;

/// The engine's hash state: random per process.
pub(crate) type RandomState = foldhash::fast::RandomState;

static PROCESS: LazyLock<RandomState> = LazyLock::new(RandomState::default);

/// A hash of `value`, stable for the life of the process.
pub(crate) fn hash_one(value: impl Hash) -> u64 {
    PROCESS.hash_one(value)
}
