//! The PostgreSQL store (feature `postgres`): the shared store for services that already have a
//! database.
//!
//! Two tables in a schema of their own (`oauth_clients` by default, see
//! [`PostgresStore::schema`]), created on first use:
//!
//! ```sql
//! CREATE TABLE "oauth_clients".tokens (key text PRIMARY KEY, value json NOT NULL,
//!                                      updated_at timestamptz NOT NULL DEFAULT now());
//! CREATE TABLE "oauth_clients".locks (key text PRIMARY KEY, owner text NOT NULL,
//!                                     expires_at timestamptz NOT NULL);
//! ```
//!
//! The refresh lock is one statement, atomic whatever the number of processes:
//! `INSERT … ON CONFLICT (key) DO UPDATE … WHERE l.expires_at < now() OR l.owner = $owner`, taken
//! when it wrote a row; `unlock` deletes the row only when its owner is the caller's. Times are
//! the database server's, so the clocks of the machines that share it do not matter.
//!
//! Connections: a small pool of its own (a `Mutex<Vec<Client>>` and a semaphore that bounds the
//! connections open at once, 4 by default). A pool crate would bring a second `deadpool` into
//! the build for what is a dozen lines here, and this one drops a connection whose statement
//! failed below SQL or timed out instead of handing it to the next caller.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{RawTokenStore, StoreError, StoreErrorKind, TokenLifetime, TokenStore, raw};
use crate::token::Token;

/// Tokens in PostgreSQL, shared by every process and machine that uses the same database and
/// schema.
///
/// - A token is a row of `<schema>.tokens`: its key, its JSON (as [`Token::to_storage_json`]
///   writes it) and when it was written. Rows stay until they are replaced or deleted.
/// - The refresh lock is a row of `<schema>.locks` with its owner and expiry, taken with one
///   `INSERT … ON CONFLICT … WHERE` statement and released only by its owner; a crashed owner's
///   lock lapses at its expiry.
/// - The schema and its tables are created on first use (`CREATE … IF NOT EXISTS`, under an
///   advisory lock so that processes starting together do not race).
/// - TLS: `sslmode=require` in the URL asks for TLS, with rustls; the server's certificate is
///   verified against the system's roots (or [`PostgresStore::with_root_certificate`]) and its
///   name checked, which is stricter than libpq's `require`. Without `sslmode`, TLS is used when
///   the server offers it (`prefer`); `sslmode=disable` turns it off. Use `require` for any
///   server that is not on the same machine.
/// - Neither the password nor any token appears in `Debug`, errors or logs.
pub struct PostgresStore {
    config: Config,
    tls: rustls::ClientConfig,
    schema: String,
    name: String,
    /// Only to scrub it from server messages, never shown.
    password: Option<secrecy::SecretString>,
    timeout: Duration,
    idle: Mutex<Vec<Client>>,
    permits: Semaphore,
    max_connections: usize,
    ready: OnceCell<()>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("server", &self.name)
            .field("schema", &self.schema)
            .finish()
    }
}

/// The schema used unless [`PostgresStore::schema`] says otherwise.
const DEFAULT_SCHEMA: &str = "oauth_clients";

impl PostgresStore {
    /// A store in the database at `url`: `postgres://user:password@host:port/dbname` (or
    /// `postgresql://…`, with `?sslmode=require` for TLS), or a libpq key-value string
    /// (`host=… user=… password=… dbname=…`). Schema `oauth_clients`. Nothing is connected
    /// until first use.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config: Config = url.parse().map_err(|e: tokio_postgres::Error| {
            StoreError::new(
                StoreErrorKind::InvalidConfig,
                "postgres store (URL not shown)",
                format!("invalid PostgreSQL URL: {}", chain_text(&e)),
            )
        })?;
        let name = format!("postgres store {}", describe(&config));
        let password = config
            .get_password()
            .map(|p| secrecy::SecretString::from(String::from_utf8_lossy(p).into_owned()));
        let tls = tls_config(native_roots()).map_err(|message| {
            StoreError::new(StoreErrorKind::InvalidConfig, name.clone(), message)
        })?;
        let mut store = PostgresStore {
            config,
            tls,
            schema: DEFAULT_SCHEMA.to_owned(),
            name,
            password,
            timeout: Duration::ZERO,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(4),
            max_connections: 4,
            ready: OnceCell::new(),
        };
        store = store.timeout(Duration::from_secs(5));
        Ok(store)
    }

    /// Trusts the root certificates in `pem` (PEM) for TLS instead of the system's roots, e.g. a
    /// private CA.
    pub fn with_root_certificate(mut self, pem: &[u8]) -> Result<PostgresStore, StoreError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let added = cert
                .map_err(|e| e.to_string())
                .and_then(|cert| roots.add(cert).map_err(|e| e.to_string()));
            if let Err(problem) = added {
                return Err(self.error(
                    StoreErrorKind::InvalidConfig,
                    format!("unusable root certificate ({problem})"),
                ));
            }
        }
        if roots.is_empty() {
            return Err(self.error(
                StoreErrorKind::InvalidConfig,
                "no certificate in the root certificate PEM",
            ));
        }
        self.tls = tls_config(roots)
            .map_err(|message| self.error(StoreErrorKind::InvalidConfig, message))?;
        Ok(self)
    }

    /// Sets the schema of the two tables (default `oauth_clients`), e.g. to separate
    /// applications: lowercase letters, digits and `_`, starting with a letter or `_`, at most
    /// 63 characters.
    pub fn schema(mut self, schema: impl Into<String>) -> Result<PostgresStore, StoreError> {
        let schema = schema.into();
        let valid = schema.len() <= 63
            && schema
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(self.error(
                StoreErrorKind::InvalidConfig,
                "a schema name is lowercase letters, digits and `_`, starting with a letter or \
                 `_`, at most 63 characters",
            ));
        }
        self.schema = schema;
        Ok(self)
    }

    /// Sets the timeout of connecting and of each statement (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> PostgresStore {
        self.timeout = timeout;
        self.config.connect_timeout(timeout);
        self
    }

    /// Sets the most connections open at once (default 4, at least 1).
    pub fn max_connections(mut self, connections: usize) -> PostgresStore {
        self.max_connections = connections.max(1);
        self.permits = Semaphore::new(self.max_connections);
        self
    }

    fn error(&self, kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        let mut message = message.into();
        if let Some(password) = &self.password {
            use secrecy::ExposeSecret as _;
            let password = password.expose_secret();
            if !password.is_empty() {
                message = message.replace(password, "***");
            }
        }
        StoreError::new(kind, self.name.clone(), message)
    }

    fn pg_error(&self, what: &str, err: &tokio_postgres::Error) -> StoreError {
        self.error(
            StoreErrorKind::Unavailable,
            format!("{what} failed: {}", chain_text(err)),
        )
    }

    fn table(&self, table: &str) -> String {
        format!("\"{}\".{table}", self.schema)
    }

    /// A connection from the pool (or a new one), with the tables created.
    async fn conn(&self) -> Result<Conn<'_>, StoreError> {
        let permit = match tokio::time::timeout(self.timeout, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                return Err(self.error(
                    StoreErrorKind::Unavailable,
                    format!(
                        "all {} connections stayed busy for {:?}",
                        self.max_connections, self.timeout
                    ),
                ));
            }
        };
        let idle = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(|client| !client.is_closed());
            idle.pop()
        };
        let client = match idle {
            Some(client) => client,
            None => self.connect().await?,
        };
        let conn = Conn {
            store: self,
            client: Some(client),
            broken: AtomicBool::new(false),
            _permit: permit,
        };
        self.ready
            .get_or_try_init(|| self.create_tables(&conn))
            .await?;
        Ok(conn)
    }

    async fn connect(&self) -> Result<Client, StoreError> {
        let tls = MakeRustlsConnect::new(self.tls.clone());
        // Bounded whatever the server does during authentication.
        match tokio::time::timeout(self.timeout * 2, self.config.connect(tls)).await {
            Ok(Ok((client, connection))) => {
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!(error = %chain_text(&err), "postgres connection ended");
                    }
                });
                Ok(client)
            }
            Ok(Err(err)) => Err(self.pg_error("connecting", &err)),
            Err(_) => Err(self.error(
                StoreErrorKind::Unavailable,
                format!("connecting timed out after {:?}", self.timeout * 2),
            )),
        }
    }

    /// Creates the schema and tables when missing. One transaction under an advisory lock:
    /// `CREATE … IF NOT EXISTS` alone races when several processes start at once.
    async fn create_tables(&self, conn: &Conn<'_>) -> Result<(), StoreError> {
        let schema = &self.schema; // validated: lowercase letters, digits and `_`
        let ddl = format!(
            "DO $ddl$ BEGIN \
               PERFORM pg_advisory_xact_lock(hashtext('oauth-clients-store:{schema}')); \
               IF to_regnamespace('{schema}') IS NULL THEN CREATE SCHEMA \"{schema}\"; END IF; \
               IF to_regclass('\"{schema}\".tokens') IS NULL THEN \
                 CREATE TABLE \"{schema}\".tokens (key text PRIMARY KEY, value json NOT NULL, \
                   updated_at timestamptz NOT NULL DEFAULT now()); \
               END IF; \
               IF to_regclass('\"{schema}\".locks') IS NULL THEN \
                 CREATE TABLE \"{schema}\".locks (key text PRIMARY KEY, owner text NOT NULL, \
                   expires_at timestamptz NOT NULL); \
               END IF; \
             END $ddl$"
        );
        self.bounded(
            conn,
            "creating the tables",
            conn.client().batch_execute(&ddl),
        )
        .await
    }

    /// Runs one statement on `conn`, bounded by the timeout. A connection whose statement timed
    /// out or failed below SQL is not reused.
    async fn bounded<T>(
        &self,
        conn: &Conn<'_>,
        what: &str,
        statement: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, statement).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                if err.as_db_error().is_none() {
                    conn.broken.store(true, Ordering::Relaxed);
                }
                Err(self.pg_error(what, &err))
            }
            Err(_) => {
                conn.broken.store(true, Ordering::Relaxed);
                Err(self.error(
                    StoreErrorKind::Unavailable,
                    format!("{what} timed out after {:?}", self.timeout),
                ))
            }
        }
    }
}

/// A pooled connection: back to the pool when dropped, unless it broke.
struct Conn<'a> {
    store: &'a PostgresStore,
    client: Option<Client>,
    broken: AtomicBool,
    _permit: SemaphorePermit<'a>,
}

impl Conn<'_> {
    fn client(&self) -> &Client {
        // Some until dropped.
        self.client
            .as_ref()
            .expect("a pooled connection has a client")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && !self.broken.load(Ordering::Relaxed)
            && !client.is_closed()
        {
            let mut idle = self.store.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(client);
        }
    }
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        match self.get_raw(key).await? {
            None => Ok(None),
            Some(json) if raw::is_encrypted(&json) => Err(self.error(
                StoreErrorKind::Unreadable,
                format!("the token under {key} {}", raw::ENCRYPTED_WITHOUT_KEY),
            )),
            Some(json) => Token::from_storage_json(&json).map(Some).map_err(|e| {
                self.error(
                    StoreErrorKind::Corrupt,
                    format!(
                        "the row of {key} in {} is not a stored token ({}:{}); delete the row",
                        self.table("tokens"),
                        e.line(),
                        e.column()
                    ),
                )
            }),
        }
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        self.put_raw(key, &token.to_storage_json(), TokenLifetime::of(token))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        let sql = format!("DELETE FROM {} WHERE key = $1", self.table("tokens"));
        self.bounded(&conn, "DELETE", conn.client().execute(&sql, &[&key]))
            .await
            .map(|_| ())
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let conn = self.conn().await?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let sql = format!(
            "INSERT INTO {} AS l (key, owner, expires_at) \
             VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond') \
             ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, \
               expires_at = EXCLUDED.expires_at \
             WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner",
            self.table("locks")
        );
        let written = self
            .bounded(
                &conn,
                "taking the lock",
                conn.client().execute(&sql, &[&key, &owner, &ttl_ms]),
            )
            .await?;
        Ok(written == 1)
    }

    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let conn = self.conn().await?;
        let sql = format!(
            "DELETE FROM {} WHERE key = $1 AND owner = $2",
            self.table("locks")
        );
        let deleted = self
            .bounded(
                &conn,
                "releasing the lock",
                conn.client().execute(&sql, &[&key, &owner]),
            )
            .await?;
        Ok(deleted == 1)
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.conn().await?;
        let pattern = format!("{}%", like_escape(prefix));
        let limit = super::MAX_LISTED_KEYS as i64;
        let sql = format!(
            "SELECT key FROM {} WHERE key LIKE $1 ESCAPE '!' ORDER BY key LIMIT $2",
            self.table("tokens")
        );
        let rows = self
            .bounded(
                &conn,
                "listing keys",
                conn.client().query(&sql, &[&pattern, &limit]),
            )
            .await?;
        Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect())
    }
}

#[async_trait]
impl RawTokenStore for PostgresStore {
    async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn().await?;
        let sql = format!(
            "SELECT value::text FROM {} WHERE key = $1",
            self.table("tokens")
        );
        let row = self
            .bounded(&conn, "SELECT", conn.client().query_opt(&sql, &[&key]))
            .await?;
        Ok(row.map(|row| row.get::<_, String>(0)))
    }

    async fn put_raw(
        &self,
        key: &str,
        raw: &str,
        _lifetime: TokenLifetime,
    ) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        let sql = format!(
            "INSERT INTO {} (key, value, updated_at) VALUES ($1, $2::text::json, now()) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            self.table("tokens")
        );
        self.bounded(&conn, "INSERT", conn.client().execute(&sql, &[&key, &raw]))
            .await
            .map(|_| ())
    }
}

/// `text` with the LIKE wildcards `%` and `_` (and the escape character `!`) escaped with `!`.
fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            escaped.push('!');
        }
        escaped.push(c);
    }
    escaped
}

/// The server as shown: `postgres://host:port/dbname`, without user and password.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) if host.contains(':') => format!("[{host}]"),
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or_default();
    format!("postgres://{host}:{port}/{dbname}")
}

/// An error and its causes. A server's error is its code and message, without the detail,
/// which may quote the values of a statement.
fn chain_text(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!(
            "{} {}: {}",
            db.severity(),
            db.code().code(),
            crate::sanitize::escape_control_characters(db.message())
        );
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    // Bounded: a cause chain is short, and a cycle would be a bug elsewhere.
    for _ in 0..8 {
        let Some(cause) = source else { break };
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The system's root certificates (`SSL_CERT_FILE` may replace them); unreadable ones are
/// skipped.
fn native_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    roots
}

fn tls_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(like_escape("a%b_c!d"), "a!%b!_c!!d");
        assert_eq!(like_escape("plain:key"), "plain:key");
    }

    #[test]
    fn the_password_is_never_shown() {
        let store = PostgresStore::open("postgres://app:hunter2@db.example:6543/tokens").unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("postgres://db.example:6543/tokens"),
            "{debug}"
        );
        let err = store.error(StoreErrorKind::Unavailable, "server said hunter2");
        assert!(!err.to_string().contains("hunter2"), "{err}");

        let kv = PostgresStore::open("host=db user=app password=hunter2 dbname=t").unwrap();
        assert!(!format!("{kv:?}").contains("hunter2"));
        let bad = PostgresStore::open("postgres://app:hunter2@db/t?sslmode=bogus").unwrap_err();
        assert_eq!(bad.kind(), StoreErrorKind::InvalidConfig);
        assert!(!bad.to_string().contains("hunter2"), "{bad}");
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        let store = || PostgresStore::open("postgres://db/t").unwrap();
        assert!(store().schema("app_a").is_ok());
        for bad in ["", "App", "a-b", "a\"; drop", "1a", &"a".repeat(64)] {
            assert!(store().schema(bad).is_err(), "{bad}");
        }
    }
}
