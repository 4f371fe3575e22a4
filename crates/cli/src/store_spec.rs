//! `--store`: a token store from a specification (`memory`, `file:PATH`, `redis://…`,
//! `postgres://…`).

use std::sync::Arc;

use oauth_clients_core::TokenStore;
use oauth_clients_core::store::{FileStore, MemoryStore, PostgresStore, RedisStore};

use crate::failure::Failure;

/// Opens a store from a specification as the tool takes it: `memory`, `file:PATH`, a Redis URL
/// (`redis://host:port/db`, `rediss://…` for TLS) or a PostgreSQL URL
/// (`postgres://user:password@host:port/db`, `?sslmode=require` for TLS).
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
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        let store =
            RedisStore::open(spec).map_err(|err| Failure::usage(format!("--store: {err}")))?;
        return Ok(Arc::new(store));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store =
            PostgresStore::open(spec).map_err(|err| Failure::usage(format!("--store: {err}")))?;
        return Ok(Arc::new(store));
    }
    Err(Failure::usage(
        "--store: expected `memory`, `file:PATH`, `redis://host:port` (or `rediss://`) or \
         `postgres://user:password@host:port/db`",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_open_a_postgres_store_without_showing_the_password() {
        let store = open_store("postgres://app:hunter2@db.example:5432/tokens").unwrap();
        let debug = format!("{store:?}");
        assert!(debug.contains("PostgresStore"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(open_store("postgresql://app@db.example/tokens").is_ok());

        let Err(err) = open_store("postgres://app:hunter2@db.example/t?sslmode=bogus") else {
            panic!("an invalid sslmode is refused");
        };
        assert!(err.message().contains("postgres"), "{}", err.message());
        assert!(!err.message().contains("hunter2"), "{}", err.message());
    }
}
