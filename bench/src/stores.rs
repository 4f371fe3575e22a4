//! Row 5: what a store costs per token written and read back (one refresh's store work: a put,
//! then the get of the next reader), with 100, 1,000 and 10,000 tenants' tokens stored.

use std::sync::Arc;
use std::time::Instant;

use oauth_clients_core::store::{FileStore, MemoryStore, SqliteStore};
use oauth_clients_core::{AccessToken, RefreshToken, Token, TokenStore};

use crate::peers::BenchResult;
use crate::report::{Better, Measure, Report};

/// The variants of row 5, in table order.
pub const VARIANTS: [&str; 3] = ["MemoryStore", "FileStore", "SqliteStore"];

/// One store of one kind holding `tenants` tokens, and its directory.
pub struct Seeded {
    pub kind: &'static str,
    pub tenants: usize,
    store: Arc<dyn TokenStore>,
    _dir: tempfile::TempDir,
}

fn token(n: usize, version: u64) -> Token {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Token::new(
        AccessToken::new(format!("access-{n}-{version}-{}", "x".repeat(40))),
        now,
        Some(now + 3600),
    )
    .with_refresh_token(Some(RefreshToken::new(format!("refresh-{n}-{version}"))))
}

fn key(n: usize) -> String {
    format!("bench_vendor:tenant-{n}:cc")
}

/// A store of `kind` with `tenants` tokens in it. The file and SQLite stores are seeded in
/// their own formats at once (through the API, `tenants` durable writes would take minutes:
/// that is what the row measures, per write).
pub async fn seed(kind: &'static str, tenants: usize) -> BenchResult<Seeded> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn TokenStore> = match kind {
        "MemoryStore" => {
            let store = MemoryStore::new();
            for n in 0..tenants {
                store.put(&key(n), &token(n, 0)).await?;
            }
            Arc::new(store)
        }
        "FileStore" => {
            let path = dir.path().join("tokens.json");
            let mut tokens = serde_json::Map::new();
            for n in 0..tenants {
                let value = serde_json::from_str(&token(n, 0).to_storage_json())?;
                tokens.insert(key(n), value);
            }
            let document = serde_json::json!({
                "format": "oauth-clients-token-store", "version": 1, "tokens": tokens, "locks": {}
            });
            std::fs::write(&path, serde_json::to_vec(&document)?)?;
            Arc::new(FileStore::new(path))
        }
        _ => {
            let path = dir.path().join("tokens.db");
            let store = SqliteStore::new(&path);
            store.get("schema").await?; // creates the file and its schema
            let mut conn = rusqlite::Connection::open(&path)?;
            let tx = conn.transaction()?;
            for n in 0..tenants {
                tx.execute(
                    "INSERT INTO tokens (key, token, updated_at_ms) VALUES (?1, ?2, 0)",
                    (key(n), token(n, 0).to_storage_json()),
                )?;
            }
            tx.commit()?;
            Arc::new(store)
        }
    };
    // Every seeded token reads back.
    if store.get(&key(tenants - 1)).await?.is_none() {
        return Err(format!("{kind}: the seeded tokens do not read back").into());
    }
    Ok(Seeded {
        kind,
        tenants,
        store,
        _dir: dir,
    })
}

/// How many put+get cycles one round times: many for memory, fewer for stores that flush to
/// disk, fewer still for the file store, whose every write rewrites every token.
pub fn cycles(kind: &str, tenants: usize, scale: f64) -> usize {
    let base: f64 = match kind {
        "MemoryStore" => 20_000.0,
        "SqliteStore" => 300.0,
        _ => (30_000.0 / tenants as f64).clamp(10.0, 300.0),
    };
    ((base * scale) as usize).max(3)
}

/// One round: `cycles` put+get cycles over the stored keys; microseconds per cycle.
pub async fn round(
    report: &mut Report,
    seeded: &[&Seeded],
    scale: f64,
    round: u64,
) -> BenchResult<()> {
    for seeded in seeded {
        let measure = Measure::new(
            "5",
            format!("token put + get, {} tenants stored", seeded.tenants),
            "µs",
            Better::Lower,
        );
        let cycles = cycles(seeded.kind, seeded.tenants, scale);
        let start = Instant::now();
        for i in 0..cycles {
            let n = (i * 7919) % seeded.tenants; // spread over the keys
            seeded.store.put(&key(n), &token(n, round + 1)).await?;
            let back = seeded.store.get(&key(n)).await?;
            std::hint::black_box(back.ok_or("a token put was not read back")?);
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / cycles as f64;
        report.add(&measure, seeded.kind, micros);
    }
    Ok(())
}
