//! Many tenants in one process: tokens by vendor, tenant, client, subject and scopes, from
//! clients and managers made on first use, kept within a bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::authorized::AuthorizedClient;
use super::key::TokenKey;
use super::manager::{ManagerOptions, TokenManager};
use crate::client::Client;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::secret::AccessToken;
use crate::store::{MemoryStore, TokenStore, now_unix_ms};
use crate::token::Token;
use crate::transport::ClientOptions;
use oauth_clients_descriptor::Provider;

/// Whom a token is for: a vendor, the client configuration (credentials, tenant variables,
/// environment, scopes) and, for a user's tokens, the subject.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The vendor.
    pub provider: Provider,
    /// The client's credentials and the tenant's variables and scopes.
    pub config: ClientConfig,
    /// The user the tokens act for; `None` for the client's own tokens.
    pub subject: Option<String>,
}

impl Tenant {
    /// The client's own tokens for a vendor and configuration.
    pub fn new(provider: Provider, config: ClientConfig) -> Tenant {
        Tenant {
            provider,
            config,
            subject: None,
        }
    }

    /// A user's tokens (from a login) under this configuration.
    pub fn subject(mut self, subject: impl Into<String>) -> Tenant {
        self.subject = Some(subject.into());
        self
    }
}

/// Builds [`Tenants`].
#[derive(Debug)]
pub struct TenantsBuilder {
    store: Option<Arc<dyn TokenStore>>,
    client_options: ClientOptions,
    manager_options: ManagerOptions,
    max_managers: usize,
    idle: Duration,
}

impl TenantsBuilder {
    /// Where every tenant's tokens are kept (default: a memory store of its own).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> TenantsBuilder {
        self.store = Some(store);
        self
    }

    /// Transport options of every client (one HTTP stack per distinct options per process).
    pub fn client_options(mut self, options: ClientOptions) -> TenantsBuilder {
        self.client_options = options;
        self
    }

    /// Settings of every token manager.
    pub fn manager_options(mut self, options: ManagerOptions) -> TenantsBuilder {
        self.manager_options = options;
        self
    }

    /// The most managers kept at once (default 100,000). Beyond it, the least recently used
    /// are dropped; their tokens stay in the store and are read again on next use.
    pub fn max_managers(mut self, max: usize) -> TenantsBuilder {
        self.max_managers = max.max(1);
        self
    }

    /// Managers unused this long are dropped when the set is tidied (default 1 hour).
    pub fn idle_after(mut self, idle: Duration) -> TenantsBuilder {
        self.idle = idle;
        self
    }

    /// The registry.
    pub fn build(self) -> Tenants {
        Tenants {
            inner: Arc::new(Inner {
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                client_options: self.client_options,
                manager_options: self.manager_options,
                max_managers: self.max_managers,
                idle_ms: u64::try_from(self.idle.as_millis()).unwrap_or(u64::MAX),
                clients: Mutex::new(HashMap::new()),
                managers: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// Tokens for many tenants in one process, the answer to "I have many customers".
///
/// Hand it a [`Tenant`] (vendor, configuration, subject) and it gives that tenant's token,
/// authorized client or manager. Clients are made once per vendor and configuration and
/// managers once per token key, on first use; all share one HTTP stack and one store. However
/// many tasks ask for the same tenant at once, one token request is made (the manager's
/// single flight), and with a shared store (Redis, a file) one across processes too. At most
/// [`TenantsBuilder::max_managers`] managers are kept: the least recently used go first, and
/// a dropped tenant's token is read back from the store when it is next asked for.
///
/// Cheap to clone; clones share everything.
///
/// ```no_run
/// # async fn run(provider: oauth_clients_core::Provider) -> Result<(), oauth_clients_core::Error> {
/// use std::sync::Arc;
/// use oauth_clients_core::{ClientConfig, Tenant, Tenants};
/// use oauth_clients_core::secrecy::SecretString;
/// use oauth_clients_core::store::FileStore;
///
/// let tenants = Tenants::builder()
///     .store(Arc::new(FileStore::new("/var/lib/my-app/tokens.json")))
///     .build();
/// // One customer's vendor account: its own credentials and tenant domain.
/// let config = ClientConfig::new("customer-42-client-id")
///     .secret(SecretString::from("customer-42-secret"))
///     .variable("domain", "customer42");
/// let token = tenants.access_token(&Tenant::new(provider, config)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Tenants {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn TokenStore>,
    client_options: ClientOptions,
    manager_options: ManagerOptions,
    max_managers: usize,
    idle_ms: u64,
    /// Clients by the key of their tokens without a subject: one per vendor and configuration.
    clients: Mutex<HashMap<String, Client>>,
    /// Managers by storage key.
    managers: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    manager: TokenManager,
    /// Unix ms of the last use.
    used: AtomicU64,
}

impl std::fmt::Debug for Tenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants")
            .field("store", &self.inner.store)
            .field("managers", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for Tenants {
    fn default() -> Self {
        Tenants::builder().build()
    }
}

impl Tenants {
    /// A builder with the defaults: a memory store, default options, 100,000 managers.
    pub fn builder() -> TenantsBuilder {
        TenantsBuilder {
            store: None,
            client_options: ClientOptions::default(),
            manager_options: ManagerOptions::default(),
            max_managers: 100_000,
            idle: Duration::from_secs(3600),
        }
    }

    /// A valid access token for `tenant` (cached, refreshed, or fetched once).
    pub async fn access_token(&self, tenant: &Tenant) -> Result<AccessToken, Error> {
        self.manager(tenant)?.access_token().await
    }

    /// A valid token for `tenant`, with everything the vendor said about it.
    pub async fn token(&self, tenant: &Tenant) -> Result<Arc<Token>, Error> {
        self.manager(tenant)?.token().await
    }

    /// An authorized API client for `tenant`.
    pub fn authorized(&self, tenant: &Tenant) -> Result<AuthorizedClient, Error> {
        let manager = self.manager(tenant)?;
        let key = TokenKey::for_config(&tenant.provider, &tenant.config).storage_key();
        let client = self.client(tenant, key)?;
        Ok(AuthorizedClient::with_manager(client, manager))
    }

    /// The token manager of `tenant`, made on first use (e.g. to give it the token of a
    /// login with [`TokenManager::set_token`], or to sign the user out).
    pub fn manager(&self, tenant: &Tenant) -> Result<TokenManager, Error> {
        let client_key = TokenKey::for_config(&tenant.provider, &tenant.config);
        let storage_key = match &tenant.subject {
            Some(subject) => client_key.clone().subject(subject.clone()).storage_key(),
            None => client_key.storage_key(),
        };
        let now = now_unix_ms();
        if let Some(entry) = lock(&self.inner.managers).get(&storage_key) {
            entry.used.store(now, Ordering::Relaxed);
            return Ok(entry.manager.clone());
        }
        // Built outside the lock: building a client parses URLs and header maps.
        let client = self.client(tenant, client_key.storage_key())?;
        let mut managers = lock(&self.inner.managers);
        if let Some(entry) = managers.get(&storage_key) {
            entry.used.store(now, Ordering::Relaxed);
            return Ok(entry.manager.clone());
        }
        if managers.len() >= self.inner.max_managers {
            self.shed(&mut managers, now);
        }
        let mut builder = TokenManager::builder(client)
            .store(Arc::clone(&self.inner.store))
            .options(self.inner.manager_options.clone());
        if let Some(subject) = &tenant.subject {
            builder = builder.subject(subject.clone());
        }
        let manager = builder.build();
        managers.insert(
            storage_key,
            Entry {
                manager: manager.clone(),
                used: AtomicU64::new(now),
            },
        );
        Ok(manager)
    }

    /// How many managers are kept.
    pub fn len(&self) -> usize {
        lock(&self.inner.managers).len()
    }

    /// Whether no manager is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the managers unused for longer than [`TenantsBuilder::idle_after`] (and the
    /// clients no manager uses any more); returns how many managers were dropped. Their tokens
    /// stay in the store.
    pub fn evict_idle(&self) -> usize {
        let now = now_unix_ms();
        let idle_ms = self.inner.idle_ms;
        let dropped = {
            let mut managers = lock(&self.inner.managers);
            let before = managers.len();
            managers.retain(|_, e| now.saturating_sub(e.used.load(Ordering::Relaxed)) < idle_ms);
            before - managers.len()
        };
        if dropped > 0 {
            // A client only this map holds serves no manager any more.
            lock(&self.inner.clients).retain(|_, client| Arc::strong_count(&client.inner) > 1);
        }
        dropped
    }

    /// The client of a tenant's vendor and configuration (`key`: its token key without a
    /// subject), made on first use.
    fn client(&self, tenant: &Tenant, key: String) -> Result<Client, Error> {
        if let Some(client) = lock(&self.inner.clients).get(&key) {
            return Ok(client.clone());
        }
        let client = Client::with_options(
            tenant.provider.clone(),
            tenant.config.clone(),
            self.inner.client_options.clone(),
        )?;
        let mut clients = lock(&self.inner.clients);
        Ok(clients.entry(key).or_insert(client).clone())
    }

    /// Makes room: drops the idle, else the least recently used tenth.
    fn shed(&self, managers: &mut HashMap<String, Entry>, now: u64) {
        let idle_ms = self.inner.idle_ms;
        managers.retain(|_, e| now.saturating_sub(e.used.load(Ordering::Relaxed)) < idle_ms);
        if managers.len() < self.inner.max_managers {
            return;
        }
        let mut by_use: Vec<(u64, String)> = managers
            .iter()
            .map(|(k, e)| (e.used.load(Ordering::Relaxed), k.clone()))
            .collect();
        by_use.sort_unstable();
        let excess = managers.len() + 1 - self.inner.max_managers;
        let drop = excess.max(self.inner.max_managers / 10);
        for (_, key) in by_use.into_iter().take(drop) {
            managers.remove(&key);
        }
    }
}

/// A lock that a panic elsewhere does not make unusable (the maps stay consistent: every
/// change is one insert or remove).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
