//! Helper process for the multi-process token store tests: one OS process with many tasks
//! asking one shared store for a token.
//!
//! ```text
//! token_worker --store SPEC --token-url URL [--tasks N] [--rounds R] [--start-at-ms UNIX_MS]
//!              [--ca-file PEM]
//! ```
//!
//! `SPEC` is `file:PATH`, `sqlite:PATH`, `redis://…` or `postgres://…`; when `OAUTH_CLIENTS_STORE_KEY` is set,
//! the store is wrapped in an `EncryptedStore` with those keys. `--ca-file` trusts a test CA for
//! an HTTPS token URL.
//!
//! Prints `key=value` lines: `distinct` (different access tokens seen in the first phase),
//! `token` (one of them), `errors` and `auth_required` (failures in the rounds), `fetches`
//! (token requests this process made).

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_clients_core::TokenStore;
use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::store::{
    EncryptedStore, EncryptionKeys, FileStore, PostgresStore, RawTokenStore, RedisStore,
    SqliteStore,
};
use oauth_clients_core::{Client, ClientConfig, ClientOptions, Error, Provider, TokenManager};

struct Args {
    store: String,
    token_url: String,
    tasks: usize,
    rounds: usize,
    start_at_ms: u64,
    ca_file: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        store: String::new(),
        token_url: String::new(),
        tasks: 100,
        rounds: 0,
        start_at_ms: 0,
        ca_file: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--store" => args.store = value.clone(),
            "--token-url" => args.token_url = value.clone(),
            "--tasks" => args.tasks = number()? as usize,
            "--rounds" => args.rounds = number()? as usize,
            "--start-at-ms" => args.start_at_ms = number()?,
            "--ca-file" => args.ca_file = Some(value.clone()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.store.is_empty() || args.token_url.is_empty() {
        return Err("--store and --token-url are required".into());
    }
    Ok(args)
}

/// A vendor with client credentials and rotating refresh tokens, at `token_url`.
fn provider(token_url: &str) -> Result<Provider, Error> {
    let yaml = format!(
        "id: worker_vendor\nname: Worker vendor\nendpoints:\n  token: {token_url}\n\
         grants:\n  client_credentials: {{}}\n  refresh_token:\n    rotates: true\n\
         client_auth: client_secret_post\n"
    );
    Ok(Provider::from_yaml_str(&yaml, "token_worker")?)
}

/// The store of `spec`, encrypted when `OAUTH_CLIENTS_STORE_KEY` is set.
fn open_store(spec: &str) -> Result<Arc<dyn TokenStore>, String> {
    let keys = EncryptionKeys::from_env().map_err(|e| e.to_string())?;
    fn wrap<S: RawTokenStore + 'static>(
        store: S,
        keys: Option<EncryptionKeys>,
    ) -> Arc<dyn TokenStore> {
        match keys {
            Some(keys) => Arc::new(EncryptedStore::new(store, keys)),
            None => Arc::new(store),
        }
    }
    if let Some(path) = spec.strip_prefix("file:") {
        return Ok(wrap(FileStore::new(path), keys));
    }
    if let Some(path) = spec.strip_prefix("sqlite:") {
        return Ok(wrap(SqliteStore::new(path), keys));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store = PostgresStore::open(spec).map_err(|e| e.to_string())?;
        return Ok(wrap(store, keys));
    }
    let store = RedisStore::open(spec).map_err(|e| e.to_string())?;
    Ok(wrap(store, keys))
}

/// A client of the worker vendor; with `ca_file`, its HTTP client trusts that CA.
fn client(args: &Args) -> Result<Client, String> {
    let provider = provider(&args.token_url).map_err(|e| e.to_string())?;
    let config = ClientConfig::new("worker-client").secret(SecretString::from("worker-secret"));
    let mut options = ClientOptions::default();
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("--ca-file {path}: {e}"))?;
        options = options.root_certificate(pem);
    }
    Client::with_options(provider, config, options).map_err(|e| e.to_string())
}

async fn run(args: Args) -> Result<(), String> {
    let client = client(&args)?;
    let store = open_store(&args.store)?;
    let manager = TokenManager::builder(client).store(store).build();

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    if args.start_at_ms > now_ms {
        tokio::time::sleep(Duration::from_millis(args.start_at_ms - now_ms)).await;
    }

    // Phase 1: every task asks at once.
    let mut handles = Vec::with_capacity(args.tasks);
    for _ in 0..args.tasks {
        let manager = manager.clone();
        handles.push(tokio::spawn(async move { manager.access_token().await }));
    }
    let mut seen = BTreeSet::new();
    let mut errors = 0usize;
    for handle in handles {
        match handle.await {
            Ok(Ok(token)) => {
                seen.insert(token.expose_secret().to_owned());
            }
            Ok(Err(err)) => {
                errors += 1;
                eprintln!("phase 1 error: {err}");
            }
            Err(err) => {
                errors += 1;
                eprintln!("phase 1 task failed: {err}");
            }
        }
    }

    // Phase 2: rounds of "the vendor refused my token, give me another".
    let mut auth_required = 0usize;
    for _ in 0..args.rounds {
        let mut handles = Vec::with_capacity(args.tasks);
        for _ in 0..args.tasks {
            let manager = manager.clone();
            handles.push(tokio::spawn(async move {
                let token = manager.access_token().await?;
                manager.refresh_rejected(&token).await.map(|_| ())
            }));
        }
        for handle in handles {
            match handle.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    errors += 1;
                    if matches!(err, Error::AuthorizationRequired { .. }) || err.is_invalid_grant()
                    {
                        auth_required += 1;
                    }
                    eprintln!("round error: {err}");
                }
                Err(err) => {
                    errors += 1;
                    eprintln!("round task failed: {err}");
                }
            }
        }
    }

    println!("distinct={}", seen.len());
    println!(
        "token={}",
        seen.iter().next().map(String::as_str).unwrap_or("")
    );
    println!("errors={errors}");
    println!("auth_required={auth_required}");
    println!("fetches={}", manager.fetch_count());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("token_worker: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("token_worker: runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("token_worker: {err}");
            ExitCode::FAILURE
        }
    }
}
