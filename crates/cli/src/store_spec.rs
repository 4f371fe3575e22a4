//! `--store`: a token store from a specification (`memory`, `file:PATH`, `sqlite:PATH`,
//! `redis://…`, `postgres://…`), encrypted when `OAUTH_CLIENTS_STORE_KEY` is set.

use std::sync::Arc;

use oauth_clients_core::TokenStore;
use oauth_clients_core::store::{
    EncryptedStore, EncryptionKeys, FileStore, MemoryStore, PostgresStore, RawTokenStore,
    RedisStore, SqliteStore,
};

use crate::failure::Failure;

/// Opens a store from a specification as the tool takes it: `memory`, `file:PATH`,
/// `sqlite:PATH`, a Redis URL
/// (`redis://host:port/db`, `rediss://…` for TLS) or a PostgreSQL URL
/// (`postgres://user:password@host:port/db`, `?sslmode=require` for TLS). When
/// `OAUTH_CLIENTS_STORE_KEY` is set, the tokens of a file, SQLite, Redis or PostgreSQL store are
/// encrypted with its keys (the memory store keeps nothing at rest).
pub(crate) fn open_store(spec: &str) -> Result<Arc<dyn TokenStore>, Failure> {
    let keys = EncryptionKeys::from_env().map_err(|err| Failure::usage(err.to_string()))?;
    open_store_with(spec, keys)
}

/// The store of `spec`, encrypted with `keys` when given.
fn open_store_with(
    spec: &str,
    keys: Option<EncryptionKeys>,
) -> Result<Arc<dyn TokenStore>, Failure> {
    fn durable<S: RawTokenStore + 'static>(
        store: S,
        keys: Option<EncryptionKeys>,
    ) -> Arc<dyn TokenStore> {
        match keys {
            Some(keys) => Arc::new(EncryptedStore::new(store, keys)),
            None => Arc::new(store),
        }
    }
    if spec == "memory" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if let Some(path) = spec.strip_prefix("file:") {
        if path.is_empty() {
            return Err(Failure::usage(
                "--store: `file:` needs a path, e.g. `file:/var/lib/app/tokens.json`",
            ));
        }
        return Ok(durable(FileStore::new(path), keys));
    }
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(Failure::usage(
                "--store: `sqlite:` needs a path, e.g. `sqlite:/var/lib/app/tokens.db`",
            ));
        }
        return Ok(durable(SqliteStore::new(path), keys));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        let store =
            RedisStore::open(spec).map_err(|err| Failure::usage(format!("--store: {err}")))?;
        return Ok(durable(store, keys));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store =
            PostgresStore::open(spec).map_err(|err| Failure::usage(format!("--store: {err}")))?;
        return Ok(durable(store, keys));
    }
    Err(Failure::usage(
        "--store: expected `memory`, `file:PATH`, `sqlite:PATH`, `redis://host:port` (or \
         `rediss://`) or `postgres://user:password@host:port/db`",
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

    #[test]
    fn a_store_key_encrypts_durable_stores() {
        let keys = || EncryptionKeys::parse(&format!("k1:{}", "A".repeat(43))).ok();
        assert!(keys().is_some());
        for spec in [
            "file:/tmp/t.json",
            "redis://127.0.0.1:1/",
            "postgres://db/t",
        ] {
            let debug = format!("{:?}", open_store_with(spec, keys()).unwrap());
            assert!(debug.starts_with("EncryptedStore"), "{spec}: {debug}");
            assert!(debug.contains("k1"), "{spec}: {debug}");
            let plain = format!("{:?}", open_store_with(spec, None).unwrap());
            assert!(!plain.contains("Encrypted"), "{spec}: {plain}");
        }
        let memory = format!("{:?}", open_store_with("memory", keys()).unwrap());
        assert!(memory.starts_with("MemoryStore"), "{memory}");
        assert_eq!(
            oauth_clients_core::store::STORE_KEY_ENV,
            "OAUTH_CLIENTS_STORE_KEY"
        );
    }
}
