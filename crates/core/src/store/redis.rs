//! The Redis store: the shared store for services on several machines.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use super::{RawTokenStore, StoreError, StoreErrorKind, TokenLifetime, TokenStore, raw};
use crate::token::{Token, now_unix};

/// Releases a lock only when its value is still the caller's owner token.
const UNLOCK_SCRIPT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
else
  return 0
end
"#;

/// Tokens in Redis, shared by every process and machine that uses the same server and namespace.
///
/// - A token is stored as JSON under `<namespace>:token:<key>` with a TTL: its remaining
///   lifetime when it has no refresh token, else [`RedisStore::refresh_token_ttl`] (30 days by
///   default), so that a refresh token outlives the access token it came with.
/// - The refresh lock is `<namespace>:lock:<key>`, taken with `SET key owner NX PX ttl` and
///   released by a Lua compare-and-delete, so only its owner can release it; a crashed owner's
///   lock lapses after its TTL.
/// - The connection is opened on first use and re-established automatically.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    namespace: String,
    name: String,
    refresh_token_ttl: Duration,
    timeout: Duration,
    unlock: redis::Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.name)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl RedisStore {
    /// A store on the server at `url` (`redis://[:password@]host:port[/db]`, or `rediss://…`
    /// for TLS, with rustls and the system's root certificates, which `SSL_CERT_FILE` can
    /// replace), namespace `oauth-clients`. Nothing is connected until first use.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        let name = format!("redis store {}", crate::redact::redact_url(url));
        let client = redis::Client::open(url).map_err(|e| {
            StoreError::new(
                StoreErrorKind::InvalidConfig,
                name.clone(),
                format!("invalid Redis URL ({:?})", e.kind()),
            )
        })?;
        Ok(RedisStore {
            client,
            connection: OnceCell::new(),
            namespace: "oauth-clients".into(),
            name,
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            timeout: Duration::from_secs(5),
            unlock: redis::Script::new(UNLOCK_SCRIPT),
        })
    }

    /// Trusts the root certificate `pem` (PEM) for a `rediss://` server instead of the system's
    /// roots, e.g. a private CA.
    pub fn with_root_certificate(mut self, pem: &[u8]) -> Result<RedisStore, StoreError> {
        let info = self.client.get_connection_info().clone();
        self.client = redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.to_vec()),
            },
        )
        .map_err(|e| {
            StoreError::new(
                StoreErrorKind::InvalidConfig,
                self.name.clone(),
                format!("unusable root certificate ({:?})", e.kind()),
            )
        })?;
        Ok(self)
    }

    /// Sets the key namespace (default `oauth-clients`), e.g. to separate applications.
    pub fn namespace(mut self, namespace: impl Into<String>) -> RedisStore {
        self.namespace = namespace.into();
        self
    }

    /// Sets how long a token with a refresh token is kept (default 30 days).
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> RedisStore {
        self.refresh_token_ttl = ttl;
        self
    }

    /// Sets the connection and response timeout of Redis commands (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> RedisStore {
        self.timeout = timeout;
        self
    }

    fn token_key(&self, key: &str) -> String {
        format!("{}:token:{key}", self.namespace)
    }

    fn lock_key(&self, key: &str) -> String {
        format!("{}:lock:{key}", self.namespace)
    }

    fn err(&self, what: &str, err: &redis::RedisError) -> StoreError {
        // A RedisError's Display holds the server's reply or the I/O error, never our values.
        StoreError::new(
            StoreErrorKind::Unavailable,
            self.name.clone(),
            format!("{what} failed: {err}"),
        )
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        self.connection
            .get_or_try_init(|| async {
                // Bounded whatever the library's reconnection policy does.
                match tokio::time::timeout(
                    self.timeout * 2,
                    self.client.get_connection_manager_with_config(config),
                )
                .await
                {
                    Ok(Ok(connection)) => Ok(connection),
                    Ok(Err(e)) => Err(self.err("connecting", &e)),
                    Err(_) => Err(StoreError::new(
                        StoreErrorKind::Unavailable,
                        self.name.clone(),
                        format!("connecting timed out after {:?}", self.timeout * 2),
                    )),
                }
            })
            .await
            .cloned()
    }

    fn ttl_ms(&self, lifetime: TokenLifetime) -> u64 {
        let keep = if lifetime.refreshable() {
            self.refresh_token_ttl
        } else {
            match lifetime.expires_at_unix() {
                Some(expires) => Duration::from_secs(expires.saturating_sub(now_unix()).max(1)),
                None => self.refresh_token_ttl,
            }
        };
        (keep.as_millis() as u64).max(1)
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        match self.get_raw(key).await? {
            None => Ok(None),
            Some(json) if raw::is_encrypted(&json) => Err(StoreError::new(
                StoreErrorKind::Unreadable,
                self.name.clone(),
                format!("the token under {key} {}", raw::ENCRYPTED_WITHOUT_KEY),
            )),
            Some(json) => Token::from_storage_json(&json).map(Some).map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Corrupt,
                    self.name.clone(),
                    format!(
                        "the value under {} is not a stored token ({}:{}); delete the key",
                        self.token_key(key),
                        e.line(),
                        e.column()
                    ),
                )
            }),
        }
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.connection().await?;
        let full_prefix = self.token_key(prefix);
        let pattern = format!("{}*", glob_escape(&full_prefix));
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        // SCAN walks the keyspace in steps; bounded, as the keyspace may be large.
        for _ in 0..SCAN_STEPS {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.err("SCAN", &e))?;
            keys.extend(
                found
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&self.token_key("")).map(str::to_owned)),
            );
            cursor = next;
            if cursor == 0 || keys.len() >= super::MAX_LISTED_KEYS {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        keys.truncate(super::MAX_LISTED_KEYS);
        Ok(keys)
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        self.put_raw(key, &token.to_storage_json(), TokenLifetime::of(token))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        redis::cmd("DEL")
            .arg(self.token_key(key))
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.err("DEL", &e))
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.connection().await?;
        let reply: Option<String> = redis::cmd("SET")
            .arg(self.lock_key(key))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg((ttl.as_millis() as u64).max(1))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err("SET NX (lock)", &e))?;
        Ok(reply.is_some())
    }

    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let mut conn = self.connection().await?;
        let deleted: i64 = self
            .unlock
            .key(self.lock_key(key))
            .arg(owner)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err("unlock script", &e))?;
        Ok(deleted == 1)
    }
}

#[async_trait]
impl RawTokenStore for RedisStore {
    async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.connection().await?;
        redis::cmd("GET")
            .arg(self.token_key(key))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err("GET", &e))
    }

    async fn put_raw(
        &self,
        key: &str,
        raw: &str,
        lifetime: TokenLifetime,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        redis::cmd("SET")
            .arg(self.token_key(key))
            .arg(raw)
            .arg("PX")
            .arg(self.ttl_ms(lifetime))
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.err("SET", &e))
    }
}

/// The most SCAN steps of one [`RedisStore::keys_with_prefix`] (each looks at about 1000 keys).
const SCAN_STEPS: usize = 64;

/// `text` with Redis glob characters escaped, for a MATCH pattern.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
