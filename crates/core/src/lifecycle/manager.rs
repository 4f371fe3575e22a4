//! The token manager: a cached token, one refresh at a time, in one process and across many.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::FutureExt;
use futures_util::future::Shared;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::client::{Client, UserCredentials};
use crate::error::Error;
use crate::store::{MemoryStore, StoreError, StoreErrorKind, TokenStore, now_unix_ms};
use crate::token::Token;

/// Where a [`TokenManager`] gets new tokens. [`Client`] is one; tests and unusual set-ups can
/// bring their own.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Gets a new token. `previous` is the newest token known (from the store or memory), which
    /// may carry a refresh token; `None` when there is none.
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error>;

    /// The longest a [`TokenSource::fetch`] may take (all attempts and backoffs included). The
    /// manager cuts a fetch off after this, and holds a store lock a little longer, so a lock
    /// never lapses while its owner is still asking the vendor.
    fn max_fetch_duration(&self) -> Duration {
        Duration::from_secs(120)
    }

    /// The vendor's advice on how long before expiry to renew a token, when it gives any.
    fn expiry_margin(&self) -> Option<Duration> {
        None
    }
}

/// The engine as a token source: refreshes with the refresh token when there is one, else runs
/// the client credentials grant, else the legacy credentials flow when user credentials were
/// given (see [`TokenManagerBuilder::user_credentials`]). A refresh token refused with
/// `invalid_grant` is replaced by running such a grant again when the vendor has one and the
/// manager acts for the application (no subject, see [`TokenManagerBuilder::subject`]);
/// otherwise the manager clears the token and returns [`Error::AuthorizationRequired`].
#[async_trait]
impl TokenSource for Client {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        fetch_with_client(self, Actor::Application, previous).await
    }

    fn max_fetch_duration(&self) -> Duration {
        client_max_fetch(self, false)
    }

    fn expiry_margin(&self) -> Option<Duration> {
        client_margin(self)
    }
}

/// A [`Client`] for a key with a subject: a user's tokens. The client credentials grant never
/// runs for it (an application token must not replace a user's), and the legacy credentials
/// flow only with the user's own credentials, which the user opted in to give.
struct ClientForUser {
    client: Client,
    user: Option<UserCredentials>,
}

#[async_trait]
impl TokenSource for ClientForUser {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        fetch_with_client(&self.client, Actor::User(self.user.as_ref()), previous).await
    }

    fn max_fetch_duration(&self) -> Duration {
        client_max_fetch(&self.client, self.user.is_some())
    }

    fn expiry_margin(&self) -> Option<Duration> {
        client_margin(&self.client)
    }
}

fn client_margin(client: &Client) -> Option<Duration> {
    client
        .provider()
        .descriptor()
        .lifecycle
        .expiry_margin_seconds
        .map(Duration::from_secs)
}

fn client_max_fetch(client: &Client, legacy: bool) -> Duration {
    let options = client.options();
    let attempts = options.max_attempts.max(1);
    let mut backoff = Duration::ZERO;
    let mut delay = options.initial_backoff;
    for _ in 1..attempts.min(32) {
        // Doubling with jitter: count each delay twice to be safe.
        backoff = backoff.saturating_add(delay.saturating_mul(2));
        delay = delay.saturating_mul(2);
    }
    let one = options
        .request_timeout
        .saturating_mul(attempts)
        .saturating_add(backoff);
    if legacy { one.saturating_mul(2) } else { one }
}

/// Whom the tokens of a manager act for.
#[derive(Clone, Copy)]
enum Actor<'a> {
    /// The application itself (no subject): the client credentials grant may run.
    Application,
    /// A user (the key has a subject), with the user's own credentials when given.
    User(Option<&'a UserCredentials>),
}

/// Runs again a grant that needs no user interaction and fits the actor, if there is one.
async fn rerun_grant(client: &Client, actor: Actor<'_>) -> Option<Result<Token, Error>> {
    let grants = &client.provider().descriptor().grants;
    match actor {
        Actor::Application if grants.client_credentials.is_some() => {
            Some(client.client_credentials().await)
        }
        Actor::User(Some(user)) if grants.legacy_credentials.is_some() => {
            Some(client.legacy_credentials(user).await)
        }
        _ => None,
    }
}

async fn fetch_with_client(
    client: &Client,
    actor: Actor<'_>,
    previous: Option<&Token>,
) -> Result<Token, Error> {
    let can_refresh = client
        .provider()
        .descriptor()
        .grants
        .refresh_token
        .is_some();
    if let Some((previous, refresh_token)) =
        previous.and_then(|p| p.refresh_token().map(|r| (p, r)))
    {
        if can_refresh {
            return match client.refresh(refresh_token).await {
                Ok(token) => Ok(token.inherit_refresh_token(previous)),
                // The refresh token is dead; a grant that needs no user gets a new pair.
                Err(err) if err.is_invalid_grant() => {
                    rerun_grant(client, actor).await.unwrap_or(Err(err))
                }
                Err(err) => Err(err),
            };
        }
    }
    rerun_grant(client, actor).await.unwrap_or_else(|| {
        Err(Error::AuthorizationRequired {
            vendor: client.provider().id().to_owned(),
            reason: "no usable token is stored and no grant can run without the user; run the \
                     authorization code flow and give the token to TokenManager::set_token"
                .into(),
        })
    })
}

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
    subject: Option<String>,
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
                .environment
                .clone()
                .or_else(|| descriptor.default_environment.clone()),
            variables: config.variables.clone(),
            client_id: config.client_id.clone(),
            scopes: config
                .scopes
                .clone()
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

    fn normalized(mut self) -> TokenKey {
        self.scopes.sort();
        self.scopes.dedup();
        self
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
            hex.push_str(&format!("{byte:02x}"));
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

/// Settings of a [`TokenManager`].
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// How long before expiry a token is renewed. When `None`: the vendor's advice
    /// (descriptor `lifecycle.expiry_margin_seconds`), else the larger of 60 s and 10 % of the
    /// token's lifetime. Never more than half the lifetime, so a short-lived token is still used.
    pub expiry_margin: Option<Duration>,
    /// The longest one token request may take; `None`: what the source says
    /// ([`TokenSource::max_fetch_duration`]). The store lock is held for this plus 10 s.
    pub fetch_timeout: Option<Duration>,
    /// After a failed refresh while the old token is still valid, how long the old token is
    /// served before the next attempt.
    pub retry_after_failure: Duration,
    /// First pause between looks at the store while another process holds the lock (it grows
    /// to 250 ms).
    pub lock_poll_interval: Duration,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            expiry_margin: None,
            fetch_timeout: None,
            retry_after_failure: Duration::from_secs(5),
            lock_poll_interval: Duration::from_millis(10),
        }
    }
}

/// Builds a [`TokenManager`].
pub struct TokenManagerBuilder {
    source: BuilderSource,
    key: TokenKey,
    store: Option<Arc<dyn TokenStore>>,
    options: ManagerOptions,
}

enum BuilderSource {
    Client(Client, Option<UserCredentials>),
    Custom(Arc<dyn TokenSource>),
}

impl TokenManagerBuilder {
    /// Where tokens are kept; when not set, this process's [`MemoryStore::process`], which
    /// managers of the same key share.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> TokenManagerBuilder {
        self.store = Some(store);
        self
    }

    /// Settings.
    pub fn options(mut self, options: ManagerOptions) -> TokenManagerBuilder {
        self.options = options;
        self
    }

    /// The user or subject the tokens act for (part of the key). A manager with a subject holds
    /// a user's tokens: it refreshes them, but never replaces them with an application token
    /// from the client credentials grant; when the user's refresh token is refused it returns
    /// [`Error::AuthorizationRequired`]. Give tokens from the authorization code flow to such a
    /// manager with [`TokenManager::set_token`].
    pub fn subject(mut self, subject: impl Into<String>) -> TokenManagerBuilder {
        self.key = self.key.subject(subject);
        self
    }

    /// Opts in to running the legacy credentials flow with the user's own credentials when
    /// there is no refresh token (Procountor). The user name becomes the key's subject unless
    /// one was set. Has no effect on a custom source.
    pub fn user_credentials(mut self, user: UserCredentials) -> TokenManagerBuilder {
        if let BuilderSource::Client(_, slot) = &mut self.source {
            if self.key.subject.is_none() {
                self.key.subject = Some(user.username.clone());
            }
            *slot = Some(user);
        }
        self
    }

    /// The manager.
    pub fn build(self) -> TokenManager {
        let source: Arc<dyn TokenSource> = match self.source {
            BuilderSource::Client(client, user) if self.key.subject.is_some() || user.is_some() => {
                Arc::new(ClientForUser { client, user })
            }
            BuilderSource::Client(client, _) => Arc::new(client),
            BuilderSource::Custom(source) => source,
        };
        let fetch_timeout = self
            .options
            .fetch_timeout
            .unwrap_or_else(|| source.max_fetch_duration());
        let margin = self
            .options
            .expiry_margin
            .or_else(|| source.expiry_margin());
        TokenManager {
            inner: Arc::new(Inner {
                storage_key: self.key.storage_key(),
                vendor: self.key.vendor.clone(),
                key: self.key,
                source,
                store: self.store.unwrap_or_else(|| MemoryStore::process()),
                margin,
                fetch_timeout,
                lock_ttl: fetch_timeout.saturating_add(Duration::from_secs(10)),
                options: self.options,
                current: RwLock::new(None),
                flight: Mutex::new(None),
                flight_ids: AtomicU64::new(0),
                unsaved: AtomicBool::new(false),
                retry_after_ms: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
            }),
        }
    }
}

type Flight = Shared<Pin<Box<dyn Future<Output = Result<Arc<Token>, Error>> + Send>>>;

/// Hands out valid access tokens for one key, asking the vendor as rarely as possible.
///
/// - A cached token is returned while it is valid, renewed a margin before it expires (see
///   [`ManagerOptions::expiry_margin`]); a vendor's advice such as Procurify's "cache the 24 h
///   token until it expires" comes from the descriptor.
/// - However many tasks ask at once, one token request is in flight per manager; all of them
///   get its result, success or error. The request runs in its own task, so a caller that gives
///   up does not cancel it, and a rotated refresh token is always stored.
/// - Across processes, the store's lock makes one process refresh while the others wait and
///   then read the token it stored (see [`TokenStore`]).
/// - A refresh uses the refresh token when there is one, else runs the grant again. A refused
///   refresh token (`invalid_grant`) clears the stored token and gives
///   [`Error::AuthorizationRequired`]. A failed refresh while the old token is still valid
///   keeps serving the old token.
/// - A new token is stored before any caller receives it; when storing fails, the callers of
///   that refresh get [`Error::Store`] saying so and the token is kept, and served, from memory.
///
/// Cheap to clone; clones share everything.
///
/// ```no_run
/// # async fn run(client: oauth_clients_core::Client) -> Result<(), oauth_clients_core::Error> {
/// use std::sync::Arc;
///
/// use oauth_clients_core::TokenManager;
/// use oauth_clients_core::store::FileStore;
///
/// let manager = TokenManager::builder(client)
///     .store(Arc::new(FileStore::new("/var/lib/my-app/tokens.json")))
///     .build();
/// // Cached until shortly before it expires; one refresh however many tasks ask.
/// let access_token = manager.access_token().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    key: TokenKey,
    storage_key: String,
    vendor: String,
    source: Arc<dyn TokenSource>,
    store: Arc<dyn TokenStore>,
    margin: Option<Duration>,
    fetch_timeout: Duration,
    lock_ttl: Duration,
    options: ManagerOptions,
    /// The token in use (the hot path of `access_token` only reads it).
    current: RwLock<Option<Arc<Cached>>>,
    flight: Mutex<Option<(u64, Flight)>>,
    flight_ids: AtomicU64,
    /// The current token could not be stored: it is the newest, whatever the store says.
    unsaved: AtomicBool,
    /// After a failed refresh, no new attempt before this (Unix ms).
    retry_after_ms: AtomicU64,
    /// Token requests made (for tests and benchmarks).
    fetches: AtomicU64,
}

struct Cached {
    token: Arc<Token>,
    /// Renew from this Unix ms on; `None`: never (no known expiry).
    refresh_at_ms: Option<u64>,
    /// Unusable from this Unix ms on; `None`: never known to expire.
    expires_at_ms: Option<u64>,
}

impl Cached {
    fn is_fresh(&self, now_ms: u64) -> bool {
        self.refresh_at_ms.is_none_or(|at| now_ms < at)
    }

    fn is_valid(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|at| now_ms < at)
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("key", &self.inner.key)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

/// Why a refresh is wanted.
#[derive(Clone)]
enum Want {
    /// Any fresh token.
    Fresh,
    /// A fresh token other than this rejected access token.
    Not(Arc<SecretString>),
}

impl TokenManager {
    /// A manager for a client's tokens, kept in memory, with default settings.
    pub fn new(client: Client) -> TokenManager {
        TokenManager::builder(client).build()
    }

    /// A builder for a client's tokens (key from [`TokenKey::for_client`]).
    pub fn builder(client: Client) -> TokenManagerBuilder {
        TokenManagerBuilder {
            key: TokenKey::for_client(&client),
            source: BuilderSource::Client(client, None),
            store: None,
            options: ManagerOptions::default(),
        }
    }

    /// A builder over any token source, e.g. a fake in tests.
    pub fn from_source(source: Arc<dyn TokenSource>, key: TokenKey) -> TokenManagerBuilder {
        TokenManagerBuilder {
            key: key.normalized(),
            source: BuilderSource::Custom(source),
            store: None,
            options: ManagerOptions::default(),
        }
    }

    /// The key.
    pub fn key(&self) -> &TokenKey {
        &self.inner.key
    }

    /// The key as the store sees it.
    pub fn storage_key(&self) -> &str {
        &self.inner.storage_key
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// How long the store lock is held at most during a refresh: the longest a token request
    /// may take (all attempts, see [`TokenSource::max_fetch_duration`]) plus 10 s, after which
    /// the request is cut off, so the lock never lapses while its owner is still asking.
    pub fn lock_ttl(&self) -> Duration {
        self.inner.lock_ttl
    }

    /// How many token requests this manager has made (each [`TokenSource::fetch`] call).
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// A valid access token: the cached one, or a new one when it is due for renewal.
    pub async fn access_token(&self) -> Result<SecretString, Error> {
        // Fast path: under the read lock, no reference count touched.
        if let Ok(current) = self.inner.current.read() {
            if let Some(cached) = current.as_ref() {
                if self.servable(cached, now_unix_ms()) {
                    return Ok(cached.token.access_token().clone());
                }
            }
        }
        Ok(self.token().await?.access_token().clone())
    }

    /// A valid token with everything the vendor said about it.
    pub async fn token(&self) -> Result<Arc<Token>, Error> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        self.run(Want::Fresh).await
    }

    /// Call when the vendor refused `rejected` (HTTP 401): returns a different valid token,
    /// refreshing once however many callers report the same token.
    pub async fn refresh_rejected(&self, rejected: &SecretString) -> Result<Arc<Token>, Error> {
        let now = now_unix_ms();
        if let Some(cached) = self.current() {
            if cached.is_fresh(now)
                && cached.token.access_token().expose_secret() != rejected.expose_secret()
            {
                return Ok(cached.token.clone());
            }
        }
        let rejected = Arc::new(rejected.clone());
        // A refresh already under way may give the same token back (another process stored it);
        // then one more, bounded.
        for _ in 0..2 {
            let token = self.run(Want::Not(rejected.clone())).await?;
            if token.access_token().expose_secret() != rejected.expose_secret() {
                return Ok(token);
            }
        }
        Err(Error::AuthorizationRequired {
            vendor: self.inner.vendor.clone(),
            reason: "the vendor refused the access token and no different one could be obtained"
                .into(),
        })
    }

    /// Stores a token obtained elsewhere (e.g. from the authorization code flow) and uses it.
    pub async fn set_token(&self, token: Token) -> Result<(), Error> {
        let token = Arc::new(token);
        let persisted = self.inner.persist(&token).await;
        self.inner.set_current(token);
        persisted
    }

    /// Forgets the token, in memory and in the store.
    pub async fn clear(&self) -> Result<(), Error> {
        self.inner.clear_current();
        self.inner.store.delete(&self.inner.storage_key).await?;
        Ok(())
    }

    fn current(&self) -> Option<Arc<Cached>> {
        self.inner.current.read().ok().and_then(|c| c.clone())
    }

    /// The cached token when it can be served without a refresh.
    fn cached(&self) -> Option<Arc<Token>> {
        let cached = self.current()?;
        self.servable(&cached, now_unix_ms())
            .then(|| cached.token.clone())
    }

    /// Fresh, or still valid while a failed refresh pauses further attempts.
    fn servable(&self, cached: &Cached, now: u64) -> bool {
        cached.is_fresh(now)
            || (cached.is_valid(now) && now < self.inner.retry_after_ms.load(Ordering::Relaxed))
    }

    /// Joins the refresh in flight, or starts one.
    async fn run(&self, want: Want) -> Result<Arc<Token>, Error> {
        let flight = {
            let mut slot = self
                .inner
                .flight
                .lock()
                .map_err(|_| poisoned(&self.inner))?;
            // Re-check under the lock: a flight that just ended has set the token.
            if let (Want::Fresh, Some(token)) = (&want, self.cached()) {
                return Ok(token);
            }
            match &*slot {
                Some((_, flight)) => flight.clone(),
                None => {
                    let id = self.inner.flight_ids.fetch_add(1, Ordering::Relaxed);
                    let inner = self.inner.clone();
                    let task = tokio::spawn(async move {
                        let result = inner.refresh(want).await;
                        if let Ok(mut slot) = inner.flight.lock() {
                            if slot.as_ref().is_some_and(|(i, _)| *i == id) {
                                *slot = None;
                            }
                        }
                        result
                    });
                    let inner = self.inner.clone();
                    let flight: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
                        match task.await {
                            Ok(result) => result,
                            Err(err) => Err(Error::Store(StoreError::new(
                                StoreErrorKind::Unavailable,
                                "token manager",
                                format!("{}: the refresh task failed: {err}", inner.vendor),
                            ))),
                        }
                    });
                    let flight = flight.shared();
                    *slot = Some((id, flight.clone()));
                    flight
                }
            }
        };
        flight.await
    }
}

fn poisoned(inner: &Inner) -> Error {
    Error::Store(StoreError::new(
        StoreErrorKind::Unavailable,
        "token manager",
        format!("{}: state poisoned by a panic", inner.vendor),
    ))
}

impl Inner {
    fn cache_entry(&self, token: Arc<Token>) -> Cached {
        let expires_at_ms = token.expires_at_unix().map(|s| s.saturating_mul(1000));
        let refresh_at_ms = token.expires_at_unix().map(|expires| {
            let lifetime = token.lifetime_seconds().unwrap_or(0);
            let margin = match self.margin {
                Some(margin) => margin.as_secs(),
                None => (lifetime / 10).max(60),
            }
            .min(lifetime / 2);
            expires.saturating_sub(margin).saturating_mul(1000)
        });
        Cached {
            token,
            refresh_at_ms,
            expires_at_ms,
        }
    }

    fn set_current(&self, token: Arc<Token>) {
        let entry = Arc::new(self.cache_entry(token));
        if let Ok(mut current) = self.current.write() {
            *current = Some(entry);
        }
        self.retry_after_ms.store(0, Ordering::Relaxed);
    }

    fn clear_current(&self) {
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
        self.unsaved.store(false, Ordering::Relaxed);
    }

    fn current(&self) -> Option<Arc<Cached>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    /// Whether `token` satisfies `want` now.
    fn satisfies(&self, token: &Arc<Token>, want: &Want) -> bool {
        let entry = self.cache_entry(token.clone());
        entry.is_fresh(now_unix_ms())
            && match want {
                Want::Fresh => true,
                Want::Not(rejected) => {
                    token.access_token().expose_secret() != rejected.expose_secret()
                }
            }
    }

    async fn persist(&self, token: &Token) -> Result<(), Error> {
        match self.store.put(&self.storage_key, token).await {
            Ok(()) => {
                self.unsaved.store(false, Ordering::Relaxed);
                Ok(())
            }
            Err(err) => {
                self.unsaved.store(true, Ordering::Relaxed);
                tracing::warn!(vendor = %self.vendor, error = %err, "token not stored");
                Err(Error::Store(err.with_kind(
                    StoreErrorKind::NotPersisted,
                    "a new token was obtained but could not be stored; it is kept in memory \
                     and served from there, and storing is tried again at the next refresh",
                )))
            }
        }
    }

    /// Reads the store; a corrupt entry (already reported and moved aside) counts as none.
    async fn read_store(&self) -> Result<Option<Arc<Token>>, Error> {
        match self.store.get(&self.storage_key).await {
            Ok(token) => Ok(token.map(Arc::new)),
            Err(err) if err.kind() == StoreErrorKind::Corrupt => {
                tracing::warn!(vendor = %self.vendor, error = %err, "stored token unreadable");
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The newest token known: memory when it could not be stored, else the store's.
    fn newest(&self, stored: Option<Arc<Token>>) -> Option<Arc<Token>> {
        let memory = self.current().map(|c| c.token.clone());
        if self.unsaved.load(Ordering::Relaxed) && memory.is_some() {
            memory
        } else {
            stored.or(memory)
        }
    }

    async fn refresh(self: &Arc<Self>, want: Want) -> Result<Arc<Token>, Error> {
        let owner = format!("{:032x}", rand::random::<u128>());
        let started = now_unix_ms();
        let deadline =
            started.saturating_add(2 * self.lock_ttl.as_millis().min(u64::MAX as u128 / 4) as u64);
        let mut pause = self
            .options
            .lock_poll_interval
            .max(Duration::from_millis(1));
        // 1. Wait for the store lock, using a token another process stores meanwhile.
        loop {
            if !self.unsaved.load(Ordering::Relaxed) {
                if let Some(stored) = self.read_store().await? {
                    if self.satisfies(&stored, &want) {
                        self.set_current(stored.clone());
                        return Ok(stored);
                    }
                }
            }
            if self
                .store
                .try_lock(&self.storage_key, &owner, self.lock_ttl)
                .await?
            {
                break;
            }
            if now_unix_ms() > deadline {
                return Err(Error::Store(StoreError::new(
                    StoreErrorKind::LockTimeout,
                    "token manager",
                    format!(
                        "{}: gave up waiting for the refresh lock after {} ms",
                        self.vendor,
                        now_unix_ms() - started
                    ),
                )));
            }
            let jitter = rand::random::<u64>() % (pause.as_millis() as u64 / 2 + 1);
            tokio::time::sleep(pause + Duration::from_millis(jitter)).await;
            pause = (pause * 3 / 2).min(Duration::from_millis(250));
        }
        // 2. Holding the lock: re-read, fetch only if still needed, store, release.
        let result = self.refresh_locked(&want).await;
        if let Err(err) = self.store.unlock(&self.storage_key, &owner).await {
            tracing::warn!(vendor = %self.vendor, error = %err, "could not release the refresh lock");
        }
        result
    }

    async fn refresh_locked(&self, want: &Want) -> Result<Arc<Token>, Error> {
        let stored = self.read_store().await?;
        if !self.unsaved.load(Ordering::Relaxed) {
            if let Some(stored) = &stored {
                if self.satisfies(stored, want) {
                    self.set_current(stored.clone());
                    return Ok(stored.clone());
                }
            }
        }
        let base = self.newest(stored);
        if self.unsaved.load(Ordering::Relaxed) {
            if let Some(base) = &base {
                // Store the pair that could not be stored before, before using it up.
                let _ = self.persist(base).await;
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = match tokio::time::timeout(
            self.fetch_timeout,
            self.source.fetch(base.as_deref()),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                vendor: self.vendor.clone(),
                endpoint: "token endpoint".into(),
                attempts: 1,
            }),
        };
        match fetched {
            Ok(token) => {
                let token = Arc::new(token);
                // Stored before any caller (even one on the fast path) can receive it; kept in
                // memory either way.
                let persisted = self.persist(&token).await;
                self.set_current(token.clone());
                persisted?;
                Ok(token)
            }
            Err(err)
                if err.is_invalid_grant() || matches!(err, Error::AuthorizationRequired { .. }) =>
            {
                self.authorization_lost(base, err).await
            }
            Err(err) => {
                let now = now_unix_ms();
                match base.map(|b| self.cache_entry(b)) {
                    Some(old) if old.is_valid(now) && !matches!(want, Want::Not(_)) => {
                        let wait = self.options.retry_after_failure.as_millis() as u64;
                        tracing::warn!(
                            vendor = %self.vendor, error = %err,
                            "token refresh failed; the current token is still valid and kept"
                        );
                        self.set_current(old.token.clone());
                        self.retry_after_ms.store(now + wait, Ordering::Relaxed);
                        Ok(old.token.clone())
                    }
                    _ => Err(err),
                }
            }
        }
    }

    async fn authorization_lost(
        &self,
        base: Option<Arc<Token>>,
        err: Error,
    ) -> Result<Arc<Token>, Error> {
        // If another process stored a different pair meanwhile, that one is good: use it.
        if let Some(stored) = self.read_store().await? {
            let used = base
                .as_ref()
                .and_then(|b| b.refresh_token())
                .map(|r| r.expose_secret().to_owned());
            let theirs = stored.refresh_token().map(|r| r.expose_secret().to_owned());
            if theirs.is_some() && theirs != used && self.satisfies(&stored, &Want::Fresh) {
                self.set_current(stored.clone());
                return Ok(stored);
            }
        }
        self.clear_current();
        if let Err(store_err) = self.store.delete(&self.storage_key).await {
            tracing::warn!(vendor = %self.vendor, error = %store_err, "could not clear the stored token");
        }
        Err(match err {
            Error::AuthorizationRequired { .. } => err,
            other => Error::AuthorizationRequired {
                vendor: self.vendor.clone(),
                reason: format!(
                    "the refresh token was refused; the stored token was cleared, run the \
                     authorization flow again ({other})"
                ),
            },
        })
    }
}
