//! What the sandbox remembers: issued codes and tokens, and request counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::RngExt as _;
use rand::distr::Alphanumeric;

use crate::fake::Fake;
use crate::{SandboxConfig, Vendor};

/// How long an authorization code stays valid (Procore documents ten minutes).
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub vendor: Vendor,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    /// `(method, challenge)` when the authorize request carried PKCE.
    pub pkce: Option<(String, String)>,
    pub expires: Instant,
}

/// An issued access or refresh token.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub vendor: Vendor,
    pub client_id: String,
    /// Unix seconds; `None` for refresh tokens that never expire.
    pub expires_at: Option<u64>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
}

/// Shared by every handler.
pub(crate) struct State {
    pub config: SandboxConfig,
    /// The descriptor fakes, by vendor id.
    pub fakes: std::collections::BTreeMap<String, Fake>,
    inner: Mutex<Inner>,
    token_requests: [AtomicUsize; 4],
    request_ids: AtomicUsize,
}

impl State {
    pub fn new(config: SandboxConfig, fakes: std::collections::BTreeMap<String, Fake>) -> State {
        State {
            config,
            fakes,
            inner: Mutex::new(Inner::default()),
            token_requests: Default::default(),
            request_ids: AtomicUsize::new(0),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A handler never panics while holding the lock; recover the data if one ever did.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a token request, then waits the configured delay (a slow vendor).
    pub async fn begin_token_request(&self, vendor: Vendor) {
        self.token_requests[vendor.index()].fetch_add(1, Ordering::SeqCst);
        if let Some(delay) = self.config.token_delay {
            tokio::time::sleep(delay).await;
        }
    }

    pub fn token_requests(&self, vendor: Vendor) -> usize {
        self.token_requests[vendor.index()].load(Ordering::SeqCst)
    }

    pub fn next_request_id(&self) -> usize {
        self.request_ids.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The access token lifetime: the configured override or the vendor's own.
    pub fn lifetime(&self, vendor_default: u64) -> u64 {
        self.config.token_lifetime_seconds.unwrap_or(vendor_default)
    }

    pub fn issue_code(&self, grant: CodeGrant) -> String {
        let code = random_token(40);
        self.inner().codes.insert(code.clone(), grant);
        code
    }

    /// Takes a code out (codes are single use), when it exists, is this vendor's and is fresh.
    pub fn take_code(&self, vendor: Vendor, code: &str) -> Option<CodeGrant> {
        let grant = self.inner().codes.remove(code)?;
        (grant.vendor == vendor && grant.expires > Instant::now()).then_some(grant)
    }

    pub fn remember_access(&self, token: &str, issued: Issued) {
        self.inner().access.insert(token.to_owned(), issued);
    }

    pub fn remember_refresh(&self, token: &str, issued: Issued) {
        self.inner().refresh.insert(token.to_owned(), issued);
    }

    /// Takes a refresh token out (the sandbox rotates them), when it is this vendor's.
    pub fn take_refresh(&self, vendor: Vendor, token: &str) -> Option<Issued> {
        let mut inner = self.inner();
        match inner.refresh.get(token) {
            Some(issued) if issued.vendor == vendor => inner.refresh.remove(token),
            _ => None,
        }
    }

    /// Looks at a refresh token without using it up.
    pub fn peek_refresh(&self, vendor: Vendor, token: &str) -> Option<Issued> {
        self.inner()
            .refresh
            .get(token)
            .filter(|issued| issued.vendor == vendor)
            .cloned()
    }

    /// The access token's record, when it is this vendor's and has not expired.
    pub fn check_access(&self, vendor: Vendor, token: &str) -> Option<Issued> {
        let now = now_unix();
        self.inner()
            .access
            .get(token)
            .filter(|issued| issued.vendor == vendor && issued.expires_at.is_none_or(|e| e > now))
            .cloned()
    }
}

/// A random token of ASCII letters and digits.
pub(crate) fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
