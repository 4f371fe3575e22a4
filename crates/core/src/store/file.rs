//! The file store: one JSON file shared by the processes of one machine.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    RawTokenStore, StoreError, StoreErrorKind, TokenLifetime, TokenStore, now_unix_ms, raw,
};
use crate::token::Token;

const FORMAT: &str = "oauth-clients-token-store";

/// The version of the file format this code reads and writes.
const VERSION: u32 = 1;

/// Tokens in one JSON file, shared safely by every process on a machine.
///
/// - Every change is made under an exclusive advisory lock on `PATH.lock` (read, modify, write),
///   so concurrent processes never lose each other's tokens.
/// - The file is replaced atomically: the new content is written to a temporary file in the same
///   directory with mode 0600, flushed to disk, renamed over the old one, and the directory is
///   flushed too. A crash leaves either the old or the new file, never half of one.
/// - A file that cannot be read back is reported, moved aside to `PATH.corrupt-<unix ms>` and
///   never overwritten.
/// - The refresh lock ([`TokenStore::try_lock`]) is an entry with owner and expiry in the same
///   file, so a crashed process's lock lapses after its expiry.
#[derive(Clone)]
pub struct FileStore {
    path: PathBuf,
    name: String,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Document {
    format: String,
    version: u32,
    #[serde(default)]
    tokens: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    locks: BTreeMap<String, LockEntry>,
}

impl Default for Document {
    fn default() -> Self {
        Document {
            format: FORMAT.into(),
            version: VERSION,
            tokens: BTreeMap::new(),
            locks: BTreeMap::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LockEntry {
    owner: String,
    expires_at_ms: u64,
}

impl FileStore {
    /// A store in the file at `path` (created on first write, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> FileStore {
        let path = path.into();
        let name = format!("file store {}", path.display());
        FileStore { path, name }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        StoreError::new(kind, self.name.clone(), message)
    }

    fn io_err(&self, what: &str, path: &Path, err: std::io::Error) -> StoreError {
        self.err(
            StoreErrorKind::Unavailable,
            format!("could not {what} {}: {err}", path.display()),
        )
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    /// Runs `f` on the document under the exclusive lock, on a blocking thread. `f` returns
    /// whether the document changed (and must be written) and a result. Beside the result comes
    /// the report of a corrupt file that was moved aside, if there was one.
    async fn with_document<T, F>(&self, f: F) -> Result<(T, Option<StoreError>), StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Document) -> (bool, T) + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.with_document_blocking(f))
            .await
            .map_err(|err| {
                self.err(
                    StoreErrorKind::Unavailable,
                    format!("file task failed: {err}"),
                )
            })?
    }

    fn with_document_blocking<T, F>(&self, f: F) -> Result<(T, Option<StoreError>), StoreError>
    where
        F: FnOnce(&mut Document) -> (bool, T),
    {
        if let Some(dir) = self.dir()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            fs::create_dir_all(dir).map_err(|e| self.io_err("create directory", dir, e))?;
        }
        let lock_path = self.sibling(".lock");
        let lock_file = open_private(&lock_path, false)
            .map_err(|e| self.io_err("open lock file", &lock_path, e))?;
        fs4::FileExt::lock(&lock_file).map_err(|e| self.io_err("lock", &lock_path, e))?;
        // The lock is released when `lock_file` is dropped (closed), whatever happens below.
        let (mut doc, corrupt) = self.read()?;
        let (changed, out) = f(&mut doc);
        if changed {
            self.write(&doc)?;
        }
        drop(lock_file);
        Ok((out, corrupt))
    }

    fn dir(&self) -> Option<&Path> {
        self.path.parent()
    }

    /// Reads the document. A corrupt file is moved aside; the error describing it is returned
    /// beside an empty document, so that writers can go on and readers report it.
    fn read(&self) -> Result<(Document, Option<StoreError>), StoreError> {
        let mut text = String::new();
        match File::open(&self.path) {
            Ok(mut file) => {
                if let Err(err) = file.read_to_string(&mut text) {
                    if err.kind() != ErrorKind::InvalidData {
                        return Err(self.io_err("read", &self.path, err));
                    }
                    text = String::from("\u{0}"); // not UTF-8: corrupt
                }
            }
            Err(err) if err.kind() == ErrorKind::NotFound => {
                return Ok((Document::default(), None));
            }
            Err(err) => return Err(self.io_err("open", &self.path, err)),
        }
        // A newer tool's file is left alone: moving it aside would drop its tokens.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            let version = value.get("version").and_then(serde_json::Value::as_u64);
            if value.get("format").and_then(serde_json::Value::as_str) == Some(FORMAT)
                && version.is_some_and(|v| v > u64::from(VERSION))
            {
                return Err(self.err(
                    StoreErrorKind::NewerFormat,
                    format!(
                        "the file was written by a newer oauth-clients (format version {}; this \
                         one reads version {VERSION}); it is left as it is: use the newer \
                         version, or another file",
                        version.unwrap_or_default()
                    ),
                ));
            }
        }
        let problem = match serde_json::from_str::<Document>(&text) {
            Ok(doc) if doc.format == FORMAT && doc.version == VERSION => return Ok((doc, None)),
            Ok(doc) => format!(
                "unexpected format `{}` version {} (expected `{FORMAT}` version {VERSION})",
                doc.format, doc.version
            ),
            // serde_json's message gives a line and column, never the content.
            Err(err) => format!("not valid JSON ({err})"),
        };
        let aside = self.sibling(&format!(".corrupt-{}", now_unix_ms()));
        fs::rename(&self.path, &aside).map_err(|e| self.io_err("move aside", &self.path, e))?;
        let err = self.err(
            StoreErrorKind::Corrupt,
            format!(
                "the file could not be read: {problem}; it was moved aside to {} and the \
                 store starts empty",
                aside.display()
            ),
        );
        tracing::warn!(error = %err, "corrupt token store file moved aside");
        Ok((Document::default(), Some(err)))
    }

    fn write(&self, doc: &Document) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(doc).map_err(|e| {
            self.err(
                StoreErrorKind::Unavailable,
                format!("could not encode: {e}"),
            )
        })?;
        let tmp = self.sibling(&format!(
            ".tmp-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let result = (|| {
            let mut file = open_private(&tmp, true).map_err(|e| self.io_err("create", &tmp, e))?;
            file.write_all(&json)
                .map_err(|e| self.io_err("write", &tmp, e))?;
            file.sync_all().map_err(|e| self.io_err("flush", &tmp, e))?;
            drop(file);
            fs::rename(&tmp, &self.path).map_err(|e| self.io_err("replace", &self.path, e))?;
            self.sync_dir()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    #[cfg(unix)]
    fn sync_dir(&self) -> Result<(), StoreError> {
        let dir = match self.dir() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io_err("flush directory", dir, e))
    }

    #[cfg(not(unix))]
    fn sync_dir(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Opens (creating when missing) a file readable and writable by its owner only.
fn open_private(path: &Path, truncate: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    if truncate {
        options.truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[async_trait]
impl TokenStore for FileStore {
    async fn get(&self, key: &str) -> Result<Option<Token>, StoreError> {
        match self.get_raw(key).await? {
            None => Ok(None),
            Some(json) if raw::is_encrypted(&json) => Err(self.err(
                StoreErrorKind::Unreadable,
                format!("the token under {key} {}", raw::ENCRYPTED_WITHOUT_KEY),
            )),
            Some(json) => Token::from_storage_json(&json).map(Some).map_err(|_| {
                self.err(
                    StoreErrorKind::Corrupt,
                    "a stored token has an unexpected shape; delete it or the file",
                )
            }),
        }
    }

    async fn put(&self, key: &str, token: &Token) -> Result<(), StoreError> {
        self.put_raw(key, &token.to_storage_json(), TokenLifetime::of(token))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.with_document(move |doc| (doc.tokens.remove(&key).is_some(), ()))
            .await
            .map(|(out, _)| out)
    }

    async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let prefix = prefix.to_owned();
        let (keys, corrupt) = self
            .with_document(move |doc| {
                let keys: Vec<String> = doc
                    .tokens
                    .keys()
                    .filter(|key| key.starts_with(&prefix))
                    .take(super::MAX_LISTED_KEYS)
                    .cloned()
                    .collect();
                (false, keys)
            })
            .await?;
        match corrupt {
            Some(err) => Err(err),
            None => Ok(keys),
        }
    }

    async fn try_lock(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let owner = owner.to_owned();
        self.with_document(move |doc| {
            let now = now_unix_ms();
            match doc.locks.get(&key) {
                Some(lock) if lock.expires_at_ms > now && lock.owner != owner => (false, false),
                _ => {
                    let expires_at_ms = now.saturating_add(ttl.as_millis() as u64);
                    doc.locks.insert(
                        key,
                        LockEntry {
                            owner,
                            expires_at_ms,
                        },
                    );
                    (true, true)
                }
            }
        })
        .await
        .map(|(out, _)| out)
    }

    async fn unlock(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let owner = owner.to_owned();
        self.with_document(move |doc| {
            if doc.locks.get(&key).is_some_and(|l| l.owner == owner) {
                doc.locks.remove(&key);
                (true, true)
            } else {
                (false, false)
            }
        })
        .await
        .map(|(out, _)| out)
    }
}

#[async_trait]
impl RawTokenStore for FileStore {
    async fn get_raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        let (found, corrupt) = self
            .with_document(move |doc| (false, doc.tokens.get(&key).map(|v| v.to_string())))
            .await?;
        match corrupt {
            Some(err) => Err(err),
            None => Ok(found),
        }
    }

    async fn put_raw(
        &self,
        key: &str,
        raw: &str,
        _lifetime: TokenLifetime,
    ) -> Result<(), StoreError> {
        // serde_json's message gives a line and column, never the content.
        let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| {
            self.err(
                StoreErrorKind::Unavailable,
                format!("the value to store is not JSON: {e}"),
            )
        })?;
        let key = key.to_owned();
        // A corrupt file was moved aside and reported (logged); the value is in a new file.
        self.with_document(move |doc| {
            doc.tokens.insert(key, value);
            (true, ())
        })
        .await
        .map(|(out, _)| out)
    }
}
