//! Many tenants in one process: tokens by vendor, tenant, client, subject and scopes, from
//! clients and managers made on first use, kept within a bound.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::authorized::AuthorizedClient;
use super::buckets::{Buckets, Writer};
use super::key::KeyParts;
use super::manager::{ManagerOptions, TokenManager};
use crate::client::{Client, ClientInner};
use crate::config::ClientConfig;
use crate::error::Error;
use crate::secret::AccessToken;
use crate::store::{MemoryStore, TokenStore, coarse_now_unix_ms, now_unix_ms};
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

    /// Managers unused this long are dropped when the set is tidied (default 1 hour; uses are
    /// recorded to about a second).
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
                clients: Buckets::new(),
                managers: Buckets::new(),
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
    /// Clients by the hash of their token key's parts without a subject: one per vendor and
    /// configuration.
    clients: Buckets<Client>,
    /// Managers by the hash of their token key's parts, read without a lock on the hot path
    /// (the last use is an atomic), so tasks on several threads find their tenants at once.
    managers: Buckets<Entry>,
}

impl Buckets<Entry> {
    /// `read` applied to the entry of the manager whose key is made of `parts` (of hash
    /// `hash`).
    fn read_entry<R>(
        &self,
        hash: u64,
        parts: &KeyParts<'_>,
        read: impl FnOnce(&Entry) -> R,
    ) -> Option<R> {
        self.read(hash, |entry| parts.matches(entry.manager.key()), read)
    }
}

struct Entry {
    manager: TokenManager,
    /// Unix ms of the last use (to the second: see [`Entry::touch`]).
    used: AtomicU64,
}

/// A copy for a bucket that changes (its hash collides with another key's).
impl Clone for Entry {
    fn clone(&self) -> Entry {
        Entry {
            manager: self.manager.clone(),
            used: AtomicU64::new(self.used.load(Ordering::Relaxed)),
        }
    }
}

impl Entry {
    /// Records a use at `now`, writing only when the recorded one is a second old or more:
    /// tasks reading the same tenant on several threads do not fight over the cache line.
    fn touch(&self, now: u64) {
        if self.used.load(Ordering::Relaxed).saturating_add(1000) <= now {
            self.used.store(now, Ordering::Relaxed);
        }
    }
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

    /// A valid access token for `tenant` (cached, refreshed, or fetched once). A cached one is
    /// read without a lock and without cloning the manager.
    pub async fn access_token(&self, tenant: &Tenant) -> Result<AccessToken, Error> {
        let parts = KeyParts::new(&tenant.provider, &tenant.config, tenant.subject.as_deref());
        let cached = self
            .inner
            .managers
            .read_entry(parts.hash_value(), &parts, |entry| {
                entry.touch(coarse_now_unix_ms());
                entry
                    .manager
                    .with_cached_token(|token| token.access_token().clone())
            })
            .flatten();
        match cached {
            Some(token) => Ok(token),
            None => self.manager(tenant)?.access_token().await,
        }
    }

    /// A valid token for `tenant`, with everything the vendor said about it.
    pub async fn token(&self, tenant: &Tenant) -> Result<Arc<Token>, Error> {
        self.manager(tenant)?.token().await
    }

    /// An authorized API client for `tenant`.
    pub fn authorized(&self, tenant: &Tenant) -> Result<AuthorizedClient, Error> {
        let manager = self.manager(tenant)?;
        let client = self.client(tenant)?;
        Ok(AuthorizedClient::with_manager(client, manager))
    }

    /// The token manager of `tenant`, made on first use (e.g. to give it the token of a
    /// login with [`TokenManager::set_token`], or to sign the user out).
    pub fn manager(&self, tenant: &Tenant) -> Result<TokenManager, Error> {
        let parts = KeyParts::new(&tenant.provider, &tenant.config, tenant.subject.as_deref());
        let hash = parts.hash_value();
        let now = now_unix_ms();
        let found = |entry: &Entry| {
            entry.touch(now);
            entry.manager.clone()
        };
        if let Some(manager) = self.inner.managers.read_entry(hash, &parts, found) {
            return Ok(manager);
        }
        // Built before taking the writer's turn: building a client checks its variables and
        // options.
        let client = self.client(tenant)?;
        let mut managers = self.inner.managers.writer();
        if let Some(manager) = self.inner.managers.read_entry(hash, &parts, found) {
            return Ok(manager);
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
            hash,
            Entry {
                manager: manager.clone(),
                used: AtomicU64::new(now),
            },
        );
        Ok(manager)
    }

    /// Forgets `tenant`'s manager, and its client when no other subject's manager uses it, so
    /// that the next call builds them from `tenant`'s configuration as it is now: call it when
    /// a customer's client secret or signing key changes (tenants are told apart by vendor,
    /// environment, variables, client id, scopes and subject, not by their secrets). Its token
    /// stays in the store. Returns whether a manager was kept.
    pub fn forget(&self, tenant: &Tenant) -> bool {
        let parts = KeyParts::new(&tenant.provider, &tenant.config, tenant.subject.as_deref());
        let hash = parts.hash_value();
        let mut managers = self.inner.managers.writer();
        let forgotten = managers.remove(hash, |entry| parts.matches(entry.manager.key())) > 0;
        let client_parts = KeyParts::new(&tenant.provider, &tenant.config, None);
        let client_hash = client_parts.hash_value();
        let mut clients = self.inner.clients.writer();
        let same = |client: &&Client| {
            KeyParts::new(client.provider(), client.config(), None) == client_parts
        };
        if let Some(client) = self.inner.clients.find(client_hash, same) {
            // Asked of every manager: forgetting is rare, and another subject's may share it.
            if !clients_in_use(&managers).contains(&Arc::as_ptr(&client.inner)) {
                clients.remove(client_hash, |kept| Arc::ptr_eq(&kept.inner, &client.inner));
            }
        }
        forgotten
    }

    /// How many managers are kept.
    pub fn len(&self) -> usize {
        self.inner.managers.len()
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
        let mut managers = self.inner.managers.writer();
        let dropped =
            managers.retain(|e| now.saturating_sub(e.used.load(Ordering::Relaxed)) < idle_ms);
        if dropped > 0 {
            // The clients no kept manager uses go too.
            let in_use = clients_in_use(&managers);
            self.inner
                .clients
                .writer()
                .retain(|client| in_use.contains(&Arc::as_ptr(&client.inner)));
        }
        dropped
    }

    /// The client of a tenant's vendor and configuration (the same token key without a
    /// subject), made on first use.
    fn client(&self, tenant: &Tenant) -> Result<Client, Error> {
        let parts = KeyParts::new(&tenant.provider, &tenant.config, None);
        let hash = parts.hash_value();
        let same =
            |client: &&Client| KeyParts::new(client.provider(), client.config(), None) == parts;
        if let Some(client) = self.inner.clients.find(hash, same) {
            return Ok(client);
        }
        let client = Client::with_options(
            tenant.provider.clone(),
            tenant.config.clone(),
            self.inner.client_options.clone(),
        )?;
        let mut clients = self.inner.clients.writer();
        if let Some(existing) = self.inner.clients.find(hash, same) {
            return Ok(existing);
        }
        clients.insert(hash, client.clone());
        Ok(client)
    }

    /// Makes room: drops the idle, else the least recently used tenth.
    fn shed(&self, managers: &mut Writer<'_, Entry>, now: u64) {
        let idle_ms = self.inner.idle_ms;
        managers.retain(|e| now.saturating_sub(e.used.load(Ordering::Relaxed)) < idle_ms);
        if managers.len() < self.inner.max_managers {
            return;
        }
        let mut uses: Vec<u64> = Vec::with_capacity(managers.len());
        managers.for_each(|e| uses.push(e.used.load(Ordering::Relaxed)));
        let excess = managers.len() + 1 - self.inner.max_managers;
        let drop = excess.max(self.inner.max_managers / 10).min(uses.len());
        if drop == 0 {
            return;
        }
        // Exactly `drop` go: those used before the drop-th oldest use, then as many of those
        // used at that very time as are needed.
        let (_, cutoff, _) = uses.select_nth_unstable(drop - 1);
        let cutoff = *cutoff;
        let mut at_cutoff = drop - uses.iter().filter(|&&used| used < cutoff).count();
        managers.retain(|e| {
            let used = e.used.load(Ordering::Relaxed);
            if used == cutoff && at_cutoff > 0 {
                at_cutoff -= 1;
                return false;
            }
            used >= cutoff
        });
    }
}

/// The clients the kept managers use, by identity (a client equal to one of them is another).
fn clients_in_use(managers: &Writer<'_, Entry>) -> HashSet<*const ClientInner> {
    let mut in_use = HashSet::new();
    managers.for_each(|entry| {
        if let Some(client) = entry.manager.client() {
            in_use.insert(Arc::as_ptr(&client.inner));
        }
    });
    in_use
}
