//! What one descriptor fake remembers: codes, tokens and device codes it issued.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use oauth_clients_descriptor::GrantKind;

use crate::state::now_unix;

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    /// The grant that issued it (authorization code or legacy credentials).
    pub grant: GrantKind,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    /// The S256 `code_challenge` the code is bound to.
    pub challenge: Option<String>,
    pub scope: Option<String>,
    /// The OpenID Connect nonce of the authorize request.
    pub nonce: Option<String>,
    pub expires: Instant,
}

/// An issued access or refresh token.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub client_id: String,
    pub scope: Option<String>,
    /// Unix seconds; `None` for tokens that never expire.
    pub expires_at: Option<u64>,
}

/// A device authorization waiting for its polls.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub client_id: String,
    pub scope: Option<String>,
    /// Polls still answered with `authorization_pending`.
    pub pending: u32,
    pub expires: Instant,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, Code>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    devices: HashMap<String, Device>,
}

/// The fake's memory; every method takes the lock briefly and never across an await.
#[derive(Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

/// What a device poll finds.
pub(crate) enum Poll {
    /// Unknown, expired or already used.
    Unknown,
    /// Issued to another client.
    OtherClient,
    /// Still waiting (`authorization_pending`).
    Pending,
    /// Approved: the device code is used up.
    Approved(Device),
}

impl Store {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding the lock; recover the data if one ever did.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn add_code(&self, code: &str, grant: Code) {
        self.inner().codes.insert(code.to_owned(), grant);
    }

    /// The grant that issued a code, without using it up.
    pub fn code_grant(&self, code: &str) -> Option<GrantKind> {
        self.inner().codes.get(code).map(|c| c.grant)
    }

    /// Takes a code out (single use), when it exists and is fresh.
    pub fn take_code(&self, code: &str) -> Option<Code> {
        let grant = self.inner().codes.remove(code)?;
        (grant.expires > Instant::now()).then_some(grant)
    }

    pub fn add_access(&self, token: &str, issued: Issued) {
        self.inner().access.insert(token.to_owned(), issued);
    }

    pub fn add_refresh(&self, token: &str, issued: Issued) {
        self.inner().refresh.insert(token.to_owned(), issued);
    }

    /// An access token that exists and has not expired.
    pub fn access(&self, token: &str) -> Option<Issued> {
        let now = now_unix();
        self.inner()
            .access
            .get(token)
            .filter(|issued| issued.expires_at.is_none_or(|e| e > now))
            .cloned()
    }

    /// A refresh token; taken out (used up) when `rotate`.
    pub fn refresh(&self, token: &str, rotate: bool) -> Option<Issued> {
        let mut inner = self.inner();
        if rotate {
            inner.refresh.remove(token)
        } else {
            inner.refresh.get(token).cloned()
        }
    }

    pub fn add_device(&self, device_code: &str, device: Device) {
        self.inner().devices.insert(device_code.to_owned(), device);
    }

    /// One poll of a device code by `client_id`.
    pub fn poll_device(&self, device_code: &str, client_id: &str) -> Poll {
        let mut inner = self.inner();
        let Some(device) = inner.devices.get_mut(device_code) else {
            return Poll::Unknown;
        };
        if device.expires <= Instant::now() {
            inner.devices.remove(device_code);
            return Poll::Unknown;
        }
        if device.client_id != client_id {
            return Poll::OtherClient;
        }
        if device.pending > 0 {
            device.pending -= 1;
            return Poll::Pending;
        }
        match inner.devices.remove(device_code) {
            Some(device) => Poll::Approved(device),
            None => Poll::Unknown,
        }
    }
}
