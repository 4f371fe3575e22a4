//! What identifies a stored token.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use oauth_clients_descriptor::Provider;

use crate::client::Client;
use crate::config::ClientConfig;

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
        TokenKey::for_config(client.provider(), client.config())
    }

    /// [`TokenKey::for_client`] without building the client.
    pub(crate) fn for_config(provider: &Provider, config: &ClientConfig) -> TokenKey {
        let parts = KeyParts::new(provider, config, None);
        TokenKey {
            vendor: parts.vendor.to_owned(),
            environment: parts.environment.map(str::to_owned),
            variables: parts.variables.clone(),
            client_id: parts.client_id.to_owned(),
            scopes: parts.scopes.iter().map(|s| (*s).to_owned()).collect(),
            subject: None,
        }
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

    /// The key as stores use it: `<vendor>:<family>:<scopes>`, where `<family>` is the
    /// SHA-256 (hex) of everything but the scopes and `<scopes>` that of the scopes. Keys of
    /// the same vendor, tenant, client and subject share [`TokenKey::family_prefix`], so a
    /// store can tell that a token exists for other scopes. Variable values and the subject
    /// appear only hashed.
    pub fn storage_key(&self) -> String {
        let mut scopes = Sha256::new();
        part(&mut scopes, "oauth-clients token scopes v2");
        for scope in &self.scopes {
            part(&mut scopes, scope);
        }
        format!("{}{}", self.family_prefix(), hex(&scopes.finalize()))
    }

    /// `<vendor>:<family>:`, the start of the storage keys of every scope set of this vendor,
    /// tenant, client and subject.
    pub fn family_prefix(&self) -> String {
        let mut hash = Sha256::new();
        part(&mut hash, "oauth-clients token family v2");
        self.hash_family(&mut hash);
        format!("{}:{}:", self.vendor, hex(&hash.finalize()))
    }

    /// The storage key of versions before 0.2 (`<vendor>:<SHA-256 of every part>`), read once
    /// to move a token stored by them to its new key.
    pub(crate) fn legacy_storage_key(&self) -> String {
        let mut hash = Sha256::new();
        part(&mut hash, "oauth-clients token key v1");
        part(&mut hash, &self.vendor);
        part(&mut hash, self.environment.as_deref().unwrap_or("\u{0}"));
        for (name, value) in &self.variables {
            part(&mut hash, name);
            part(&mut hash, value);
        }
        part(&mut hash, "\u{0}client");
        part(&mut hash, &self.client_id);
        for scope in &self.scopes {
            part(&mut hash, scope);
        }
        part(&mut hash, "\u{0}subject");
        part(&mut hash, self.subject.as_deref().unwrap_or("\u{0}"));
        format!("{}:{}", self.vendor, hex(&hash.finalize()))
    }

    fn hash_family(&self, hash: &mut Sha256) {
        part(hash, &self.vendor);
        part(hash, self.environment.as_deref().unwrap_or("\u{0}"));
        for (name, value) in &self.variables {
            part(hash, name);
            part(hash, value);
        }
        part(hash, "\u{0}client");
        part(hash, &self.client_id);
        part(hash, "\u{0}subject");
        part(hash, self.subject.as_deref().unwrap_or("\u{0}"));
    }
}

/// The parts of a token key, borrowed from a vendor, a configuration and a subject: hashed and
/// compared without building a [`TokenKey`] (no allocation but the sorted scopes, no SHA-256),
/// for a registry that looks tenants up on every call.
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct KeyParts<'a> {
    vendor: &'a str,
    environment: Option<&'a str>,
    variables: &'a BTreeMap<String, String>,
    client_id: &'a str,
    /// Sorted, without duplicates, as in a [`TokenKey`].
    scopes: Vec<&'a str>,
    subject: Option<&'a str>,
}

impl<'a> KeyParts<'a> {
    /// The parts of the key of `provider` and `config` (with `subject`): the descriptor's
    /// default environment and scopes when the configuration names none, scopes sorted and
    /// without duplicates. The one place these rules live ([`TokenKey::for_config`] too).
    pub(crate) fn new(
        provider: &'a Provider,
        config: &'a ClientConfig,
        subject: Option<&'a str>,
    ) -> KeyParts<'a> {
        let descriptor = provider.descriptor();
        let mut scopes: Vec<&str> = config
            .scope_list()
            .unwrap_or(&descriptor.scopes.default)
            .iter()
            .map(String::as_str)
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        KeyParts {
            vendor: &descriptor.id,
            environment: config
                .environment_name()
                .or(descriptor.default_environment.as_deref()),
            variables: config.variables(),
            client_id: config.client_id(),
            scopes,
            subject,
        }
    }

    /// A hash of the parts.
    pub(crate) fn hash_value(&self) -> u64 {
        crate::hashing::hash_one(self)
    }

    /// Whether `key` is made of these parts.
    pub(crate) fn matches(&self, key: &TokenKey) -> bool {
        key.vendor == self.vendor
            && key.environment.as_deref() == self.environment
            && key.variables == *self.variables
            && key.client_id == self.client_id
            && key
                .scopes
                .iter()
                .map(String::as_str)
                .eq(self.scopes.iter().copied())
            && key.subject.as_deref() == self.subject
    }
}

/// Feeds one length-prefixed part to a hash, so that parts cannot run into each other.
fn part(hash: &mut Sha256, text: &str) {
    hash.update((text.len() as u64).to_be_bytes());
    hash.update(text.as_bytes());
}

fn hex(digest: &[u8]) -> String {
    base16ct::lower::encode_string(digest)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new("acme", "client-1").scopes(["b", "a"])
    }

    #[test]
    fn the_legacy_key_is_the_one_earlier_versions_wrote() {
        // Computed by a separate implementation of the v1 scheme (Python, hashlib).
        assert_eq!(
            key().legacy_storage_key(),
            "acme:4bd5f51b6fa794843204ae7eedb92bbb7a5a0c14b68e199069196f82382c35f7"
        );
    }

    #[test]
    fn keys_differing_only_in_scopes_share_their_family() {
        let other = TokenKey::new("acme", "client-1").scopes(["openid"]);
        assert_ne!(key().storage_key(), other.storage_key());
        assert_eq!(key().family_prefix(), other.family_prefix());
        assert!(key().storage_key().starts_with(&key().family_prefix()));
        let user = key().subject("login");
        assert_ne!(key().family_prefix(), user.family_prefix());
    }

    #[test]
    fn key_parts_match_exactly_the_key_built_from_the_same_configuration() {
        let yaml = "id: acme\nname: Acme\nendpoints:\n  token: https://{region}.acme.example/token\n\
                    grants:\n  client_credentials: {}\nscopes:\n  default: [read]\n\
                    variables:\n  region:\n    description: Region.\n";
        let provider = Provider::from_yaml_str(yaml, "acme.yaml").unwrap();
        let config = ClientConfig::new("client-1")
            .variable("region", "eu")
            .scopes(["write", "read", "write"]);
        let key = TokenKey::for_config(&provider, &config);
        let parts = KeyParts::new(&provider, &config, None);
        assert!(parts.matches(&key));
        assert!(!parts.matches(&key.clone().subject("user")));
        assert!(
            KeyParts::new(&provider, &config, Some("user")).matches(&key.clone().subject("user"))
        );
        // Scopes in another order are the same key; any other difference is another key.
        let reordered = config.clone().scopes(["read", "write"]);
        assert!(KeyParts::new(&provider, &reordered, None).matches(&key));
        assert_eq!(
            KeyParts::new(&provider, &reordered, None).hash_value(),
            parts.hash_value()
        );
        for other in [
            config.clone().scopes(["read"]),
            config.clone().variable("region", "us"),
            ClientConfig::new("client-2")
                .variable("region", "eu")
                .scopes(["read", "write"]),
            config.clone().environment("sandbox"),
        ] {
            assert!(!KeyParts::new(&provider, &other, None).matches(&key));
        }
        // The descriptor's default scopes when the configuration names none.
        let defaults = ClientConfig::new("client-1").variable("region", "eu");
        assert!(
            KeyParts::new(&provider, &defaults, None)
                .matches(&TokenKey::for_config(&provider, &defaults))
        );
    }
}
