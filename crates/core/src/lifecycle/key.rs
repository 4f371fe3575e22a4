//! What identifies a stored token.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::client::Client;

/// What identifies a token: vendor, tenant variables and environment, client id, scopes, and
/// the user or subject it acts for. Two managers with equal keys share stored tokens.
///
/// `Debug` shows variable names but not their values (some are secret).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey {
    vendor: String,
    environment: Option<String>,
    variables: BTreeMap<String, String>,
    client_id: String,
    scopes: Vec<String>,
    pub(crate) subject: Option<String>,
}

impl TokenKey {
    /// A key for a vendor and client id, with no variables, scopes or subject.
    pub fn new(vendor: impl Into<String>, client_id: impl Into<String>) -> TokenKey {
        TokenKey {
            vendor: vendor.into(),
            environment: None,
            variables: BTreeMap::new(),
            client_id: client_id.into(),
            scopes: Vec::new(),
            subject: None,
        }
    }

    /// The key of a client's tokens: its vendor, environment (the descriptor's default when the
    /// configuration names none), variables, client id and scopes (the descriptor's defaults
    /// when the configuration names none).
    pub fn for_client(client: &Client) -> TokenKey {
        let descriptor = client.provider().descriptor();
        let config = client.config();
        TokenKey {
            vendor: descriptor.id.clone(),
            environment: config
                .environment_name()
                .map(str::to_owned)
                .or_else(|| descriptor.default_environment.clone()),
            variables: config.variables().clone(),
            client_id: config.client_id().to_owned(),
            scopes: config
                .scope_list()
                .map(<[String]>::to_vec)
                .unwrap_or_else(|| descriptor.scopes.default.clone()),
            subject: None,
        }
        .normalized()
    }

    /// Sets the environment.
    pub fn environment(mut self, environment: impl Into<String>) -> TokenKey {
        self.environment = Some(environment.into());
        self
    }

    /// Sets a tenant variable.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> TokenKey {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// Sets the scopes (order and duplicates do not matter).
    pub fn scopes<I, S>(mut self, scopes: I) -> TokenKey
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self.normalized()
    }

    /// Sets the user or subject the tokens act for.
    pub fn subject(mut self, subject: impl Into<String>) -> TokenKey {
        self.subject = Some(subject.into());
        self
    }

    /// The vendor id.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    pub(crate) fn normalized(mut self) -> TokenKey {
        self.scopes.sort();
        self.scopes.dedup();
        self
    }

    /// The subject, when set.
    pub fn subject_name(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The scopes, sorted.
    pub fn scope_list(&self) -> &[String] {
        &self.scopes
    }

    /// The key as stores use it: `<vendor>:<SHA-256 of every part, hex>`. Variable values and
    /// the subject appear only hashed.
    pub fn storage_key(&self) -> String {
        let mut hash = Sha256::new();
        let mut part = |s: &str| {
            hash.update((s.len() as u64).to_be_bytes());
            hash.update(s.as_bytes());
        };
        part("oauth-clients token key v1");
        part(&self.vendor);
        part(self.environment.as_deref().unwrap_or("\u{0}"));
        for (name, value) in &self.variables {
            part(name);
            part(value);
        }
        part("\u{0}client");
        part(&self.client_id);
        for scope in &self.scopes {
            part(scope);
        }
        part("\u{0}subject");
        part(self.subject.as_deref().unwrap_or("\u{0}"));
        let digest = hash.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest {
            let _ = write!(hex, "{byte:02x}");
        }
        format!("{}:{hex}", self.vendor)
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("vendor", &self.vendor)
            .field("environment", &self.environment)
            .field("variables", &self.variables.keys().collect::<Vec<_>>())
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("subject", &self.subject.as_ref().map(|_| "[set]"))
            .finish()
    }
}
