//! `--store`: a token store from a specification (`memory`, `file:PATH`, `sqlite:PATH`,
//! `redis://…`).

use std::sync::Arc;

use oauth_clients_core::TokenStore;
use oauth_clients_core::store::{FileStore, MemoryStore, RedisStore, SqliteStore};

use crate::failure::Failure;

/// Opens a store from a specification as the tool takes it: `memory`, `file:PATH`,
/// `sqlite:PATH`, or a Redis URL (`redis://host:port/db`, `rediss://…` for TLS).
pub(crate) fn open_store(spec: &str) -> Result<Arc<dyn TokenStore>, Failure> {
    if spec == "memory" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if let Some(path) = spec.strip_prefix("file:") {
        if path.is_empty() {
            return Err(Failure::usage(
                "--store: `file:` needs a path, e.g. `file:/var/lib/app/tokens.json`",
            ));
        }
        return Ok(Arc::new(FileStore::new(path)));
    }
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(Failure::usage(
                "--store: `sqlite:` needs a path, e.g. `sqlite:/var/lib/app/tokens.db`",
            ));
        }
        return Ok(Arc::new(SqliteStore::new(path)));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        let store =
            RedisStore::open(spec).map_err(|err| Failure::usage(format!("--store: {err}")))?;
        return Ok(Arc::new(store));
    }
    Err(Failure::usage(
        "--store: expected `memory`, `file:PATH`, `sqlite:PATH` or `redis://host:port` (or \
         `rediss://`)",
    ))
}
