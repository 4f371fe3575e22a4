//! The SQLite store: one embedded database file shared by the processes of one machine.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::Semaphore;

use super::{
    MAX_LISTED_KEYS, RawTokenStore, StoreError, StoreErrorKind, TokenLifetime, TokenStore,
    now_unix_ms, raw,
};
use crate::token::Token;

/// The version of the schema this code reads and writes (SQLite's `user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Marks the database as an oauth-clients token store (SQLite's `application_id`: "OACL").
const APPLICATION_ID: i64 = 0x4F41_434C;

/// The most connections (and blocking threads) one store uses at once.
const MAX_CONNECTIONS: usize = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tokens (
    key TEXT PRIMARY KEY NOT NULL,
    token TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locks (
    key TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
";

const PUT: &str = "INSERT INTO tokens (key, token, updated_at_ms) VALUES (?1, ?2, ?3)
    ON CONFLICT (key) DO UPDATE SET token = excluded.token, updated_at_ms = excluded.updated_at_ms";

/// Takes a free or lapsed lock, or renews the caller's own; changes no row when another owner
/// holds it.
const TRY_LOCK: &str = "INSERT INTO locks (key, owner, expires_at_ms) VALUES (?1, ?2, ?3)
    ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms
    WHERE locks.expires_at_ms <= ?4 OR locks.owner = excluded.owner";

/// Keys from `?1` on (the primary key's order) that start with `?1` (`?2` characters): no
/// wildcard to escape.
const LIST: &str = "SELECT key FROM tokens WHERE key >= ?1 AND substr(key, 1, ?2) = ?1
    ORDER BY key LIMIT ?3";

/// Tokens in one SQLite database file, shared safely by every process on a machine.
///
/// - One row per key. A [`TokenStore::put`] is one UPSERT in one transaction: one write and
///   one flush to disk per token. The database runs in WAL mode with `synchronous=FULL`, so a
///   token is on disk when `put` returns (even across a power cut), and readers never wait for
///   a writer.
/// - The refresh lock is a row with owner and expiry in a `locks` table, taken by one
///   conditional UPSERT (only when free, lapsed, or already the caller's), released only by its
///   owner; a crashed process's lock lapses after its expiry.
/// - The file is created with mode 0600 (and its directory when missing); SQLite gives its
///   `-wal` and `-shm` files the same mode, which the store checks and tightens if needed.
/// - Several processes share one file through SQLite's own locking; a writer waits for another
///   at most [`SqliteStore::busy_timeout`] (5 s by default).
/// - A file that is not a SQLite database, or another program's database, is reported
///   ([`StoreErrorKind::Corrupt`]) and left as it is; a database written by a newer
///   oauth-clients is refused ([`StoreErrorKind::NewerFormat`]) and left as it is too.
///
/// Calls run on tokio's blocking threads, at most four at once per store, each on a connection
/// from a small pool of the store (opened on first use, kept open): SQLite lets one writer in
/// at a time whatever the number of connections, while in WAL mode readers go on beside it, so
/// a few connections are enough, and keeping them open spares opening the file and checking
/// its schema on every call.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    name: String,
    busy_timeout: Duration,
    /// Idle connections; never more than [`MAX_CONNECTIONS`] as each use holds a permit.
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl SqliteStore {
    /// A store in the database file at `path` (created on first use, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> SqliteStore {
        SqliteStore::build(path.into(), Duration::from_secs(5))
    }

    fn build(path: PathBuf, busy_timeout: Duration) -> SqliteStore {
        SqliteStore {
            inner: Arc::new(Inner {
                name: format!("sqlite store {}", path.display()),
                path,
                busy_timeout,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            }),
        }
    }

    /// Sets how long a call waits for another connection's write to finish (default 5 s).
    /// Connections already open keep the previous setting: set it before first use.
    pub fn busy_timeout(self, timeout: Duration) -> SqliteStore {
        SqliteStore::build(self.inner.path.clone(), timeout)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a connection of the pool, on a blocking thread.
    async fn call<T, F>(&self, what: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| {
                self.inner
                    .err(StoreErrorKind::Unavailable, "the store is closed")
            })?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.with_connection(what, f)
        })
        .await
        .map_err(|err| {
            self.inner.err(
                StoreErrorKind::Unavailable,
                format!("{what}: the blocking task failed: {err}"),
            )
        })?
    }

    fn corrupt_row(&self) -> StoreError {
        self.inner.err(
            StoreErrorKind::Corrupt,
            "a stored token has an unexpected shape; delete it (or the file)",
        )
    }
}

impl Inner {
    fn err(&self, kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        StoreError::new(kind, self.name.clone(), message)
    }

    /// An SQLite error as a store error. SQLite's messages name the failure (`database is
    /// locked`, `file is not a database`…), never a bound value, so never a token.
    fn sqlite_err(&self, what: &str, err: &rusqlite::Error) -> StoreError {
        let kind = match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreErrorKind::Corrupt,
            _ => StoreErrorKind::Unavailable,
        };
        let hint = match kind {
            StoreErrorKind::Corrupt => "; the file is left as it is: repair or remove it",
            _ => "",
        };
        self.err(kind, format!("{what} failed: {err}{hint}"))
    }

    fn with_connection<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = f(&mut conn).map_err(|err| self.sqlite_err(what, &err));
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        result
    }

    /// Opens a connection: creates the private file and its directory when missing, sets WAL
    /// mode, full sync and the busy timeout, and checks (or creates) the schema.
    fn open(&self) -> Result<Connection, StoreError> {
        self.create_file()?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|err| self.sqlite_err("opening the database", &err))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(|err| self.sqlite_err("setting the busy timeout", &err))?;
        self.switch_to_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|err| self.sqlite_err("setting synchronous=FULL", &err))?;
        self.check_schema(&mut conn)?;
        self.tighten_sidecar_modes()?;
        Ok(conn)
    }

    /// Puts the database in WAL mode (a no-op once it is). Switching needs the database to
    /// itself, and SQLite answers "locked" at once rather than waiting when other connections
    /// are opening it at the same moment: the switch is retried until the busy timeout.
    fn switch_to_wal(&self, conn: &Connection) -> Result<(), StoreError> {
        let deadline = std::time::Instant::now() + self.busy_timeout;
        let mode: String = loop {
            match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
                Ok(mode) => break mode,
                Err(err)
                    if matches!(
                        err.sqlite_error_code(),
                        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    ) && std::time::Instant::now() < deadline =>
                {
                    let pause = 5 + rand::random::<u64>() % 20;
                    std::thread::sleep(Duration::from_millis(pause));
                }
                Err(err) => return Err(self.sqlite_err("switching to WAL mode", &err)),
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(self.err(
                StoreErrorKind::Unavailable,
                format!("the database cannot run in WAL mode (it stays in `{mode}` mode)"),
            ));
        }
        Ok(())
    }

    /// Creates the database file with mode 0600 (and its directory) if it does not exist.
    fn create_file(&self) -> Result<(), StoreError> {
        let io = |what: &str, path: &Path, err: std::io::Error| {
            self.err(
                StoreErrorKind::Unavailable,
                format!("could not {what} {}: {err}", path.display()),
            )
        };
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            fs::create_dir_all(dir).map_err(|e| io("create directory", dir, e))?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options
            .open(&self.path)
            .map(drop)
            .map_err(|e| io("create", &self.path, e))
    }

    /// SQLite creates `-wal` and `-shm` with the database file's mode; a file made looser by
    /// hand (or by another program) is tightened to 0600.
    #[cfg(unix)]
    fn tighten_sidecar_modes(&self) -> Result<(), StoreError> {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.as_os_str().to_owned();
            name.push(suffix);
            let path = PathBuf::from(name);
            let Ok(meta) = fs::metadata(&path) else {
                continue; // not there (yet): SQLite creates it with the database's mode
            };
            if meta.permissions().mode() & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(|e| {
                    self.err(
                        StoreErrorKind::Unavailable,
                        format!("could not make {} private: {e}", path.display()),
                    )
                })?;
            }
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn tighten_sidecar_modes(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Creates the schema in a new database; refuses a newer one and another program's.
    fn check_schema(&self, conn: &mut Connection) -> Result<(), StoreError> {
        let fail = |err: rusqlite::Error| self.sqlite_err("checking the schema", &err);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        let application: i64 = tx
            .pragma_query_value(None, "application_id", |row| row.get(0))
            .map_err(fail)?;
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(fail)?;
        if application != APPLICATION_ID && (application != 0 || tables > 0) {
            return Err(self.err(
                StoreErrorKind::Corrupt,
                "the file is another program's SQLite database, not an oauth-clients token \
                 store; it is left as it is: use another file",
            ));
        }
        if version > SCHEMA_VERSION {
            return Err(self.err(
                StoreErrorKind::NewerFormat,
                format!(
                    "the database was written by a newer oauth-clients (schema version \
                     {version}; this one reads version {SCHEMA_VERSION}); it is left as it is: \
                     use the newer version, or another file"
                ),
            ));
        }
        if version < SCHEMA_VERSION {
            tx.execute_batch(SCHEMA).map_err(fail)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(fail)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }
}

/// Runs one writing statement in an immediate transaction (the write lock is taken first, so
/// a busy database is waited for), and returns the rows it changed.
fn write(
    conn: &mut Connection,
    sql: &str,
    values: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx.prepare_cached(sql)?.execute(values)?;
    tx.commit()?;
    Ok(changed)
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[async_trait]
impl RawTokenStore for SqliteStore {
    async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.call("reading a token", move |conn| {
            conn.prepare_cached("SELECT token FROM tokens WHERE key = ?1")?
                .query_row([key], |row| row.get::<_, String>(0))
                .optional()
        })
        .await
    }

    async fn put_raw(
        &self,
        key: &str,
        raw: &str,
        _lifetime: TokenLifetime,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let json = raw.to_owned();
        self.call("storing a token", move |conn| {
            write(conn, PUT, params![key, json, millis(now_unix_ms())]).map(drop)
        })
        .await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        match self.get_raw(key).await? {
            None => Ok(None),
            Some(json) if raw::is_encrypted(&json) => Err(self.inner.err(
                StoreErrorKind::Unreadable,
                format!("the token under {key} {}", raw::ENCRYPTED_WITHOUT_KEY),
            )),
            Some(json) => Token::from_storage_json(&json)
                .map(Some)
                .map_err(|_| self.corrupt_row()),
        }
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        let json = token.to_storage_json();
        self.put_raw(key, &json, TokenLifetime::of(token)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.call("deleting a token", move |conn| {
            write(conn, "DELETE FROM tokens WHERE key = ?1", [key]).map(drop)
        })
        .await
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let owner = owner.to_owned();
        self.call("taking the refresh lock", move |conn| {
            let now = now_unix_ms();
            let expires = now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
            let values = params![key, owner, millis(expires), millis(now)];
            write(conn, TRY_LOCK, values).map(|changed| changed == 1)
        })
        .await
    }

    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let owner = owner.to_owned();
        self.call("releasing the refresh lock", move |conn| {
            let sql = "DELETE FROM locks WHERE key = ?1 AND owner = ?2";
            write(conn, sql, [key, owner]).map(|changed| changed == 1)
        })
        .await
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let prefix = prefix.to_owned();
        self.call("listing keys", move |conn| {
            let chars = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
            let limit = i64::try_from(MAX_LISTED_KEYS).unwrap_or(i64::MAX);
            let mut statement = conn.prepare_cached(LIST)?;
            let rows = statement.query_map(params![prefix, chars, limit], |row| row.get(0))?;
            rows.collect()
        })
        .await
    }
}
