//! The cache of an issuer's key set (JWKS), shared by the clients of one vendor, variables
//! and options.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;

/// For one unknown `kid`, the key set is fetched again at most this often (keys rotate; a
/// stream of tokens naming a key that does not exist must not make the client hammer the
/// issuer).
const REFETCH_AFTER: Duration = Duration::from_secs(30);

/// The issuer's key set, as last fetched.
#[derive(Default)]
pub(crate) struct JwksCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
pub(crate) struct CacheState {
    pub(crate) keys: Option<Arc<JwkSet>>,
    /// The last `kid` the set was fetched again for, and when.
    refetched_for: Option<(String, Instant)>,
}

impl JwksCache {
    pub(crate) fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a token naming `kid`, which the cached set lacks, may fetch the set again.
    pub(crate) fn may_refetch_for(&self, kid: &str) -> bool {
        let mut state = self.lock();
        let recent = state
            .refetched_for
            .as_ref()
            .is_some_and(|(last, at)| last == kid && at.elapsed() < REFETCH_AFTER);
        if !recent {
            state.refetched_for = Some((kid.to_owned(), Instant::now()));
        }
        !recent
    }
}
