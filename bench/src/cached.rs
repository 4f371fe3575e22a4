//! Row 2: reading a cached, valid token, on 1 thread and on 2 threads at once, against an
//! `ArcSwap<Token>` load (the floor of a lock-free cache).

use std::sync::{Arc, Barrier};
use std::time::Instant;

use arc_swap::ArcSwap;
use oauth_clients_core::secrecy::ExposeSecret as _;
use oauth_clients_core::{AccessToken, Tenant, Tenants, Token, TokenManager};

use crate::peers::BenchResult;
use crate::report::{Better, Measure, Report};

/// The variants of row 2, in table order.
pub const VARIANTS: [&str; 7] = [
    "oauth-clients access_token()",
    "oauth-clients Tenants::access_token(), 1,000 tenants",
    "oauth-clients token()",
    "oauth-clients with_cached_token() (a borrow)",
    "ArcSwap load + AccessToken clone",
    "ArcSwap load_full (Arc<Token>)",
    "ArcSwap load (a borrow)",
];

/// What the readers read: one manager's token, one tenant's among many, and the same token in
/// an `ArcSwap`.
#[derive(Clone)]
pub struct Readers {
    pub manager: TokenManager,
    pub tenants: Tenants,
    pub tenant: Tenant,
    pub swap: Arc<ArcSwap<Token>>,
}

impl Readers {
    /// A manager with a token, 1,000 tenants with theirs (the 501st is read), and the
    /// manager's token in an `ArcSwap`, all from the local server at `base_url`.
    pub async fn new(base_url: &str) -> BenchResult<Readers> {
        let provider = crate::peers::provider(base_url)?;
        let manager = TokenManager::new(crate::peers::project_client(&provider, 1_000_000)?);
        let swap = Arc::new(ArcSwap::new(manager.token().await?));
        let tenants = Tenants::default();
        for n in 0..1_000 {
            let tenant = Tenant::new(
                provider.clone(),
                crate::peers::project_config(2_000_000 + n),
            );
            tenants.access_token(&tenant).await?;
        }
        let tenant = Tenant::new(provider, crate::peers::project_config(2_000_500));
        Ok(Readers {
            manager,
            tenants,
            tenant,
            swap,
        })
    }
}

/// Runs one round: every variant on 1 and 2 threads, `calls` calls per thread.
pub fn round(
    report: &mut Report,
    readers: &Readers,
    calls: u64,
    order: &[&'static str],
) -> BenchResult<()> {
    for threads in [1usize, 2] {
        let measure = Measure::new(
            "2",
            format!("cached read, {threads} thread(s), aggregate"),
            "ns/call",
            Better::Lower,
        );
        for variant in order {
            let ns = time_threads(threads, calls, variant, readers)?;
            report.add(&measure, variant, ns);
        }
    }
    Ok(())
}

/// Wall time of `threads` threads making `calls` calls each, per call in all.
fn time_threads(threads: usize, calls: u64, variant: &str, readers: &Readers) -> BenchResult<f64> {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, readers) = (barrier.clone(), readers.clone());
            let variant = variant.to_owned();
            std::thread::spawn(move || -> BenchResult<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                barrier.wait();
                runtime.block_on(calls_on_this_thread(&variant, calls, &readers))
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for handle in handles {
        handle.join().map_err(|_| "a reader thread panicked")??;
    }
    let elapsed = start.elapsed();
    Ok(elapsed.as_nanos() as f64 / (calls as f64 * threads as f64))
}

async fn calls_on_this_thread(variant: &str, calls: u64, readers: &Readers) -> BenchResult<()> {
    let Readers {
        manager,
        tenants,
        tenant,
        swap,
    } = readers;
    match variant {
        "oauth-clients Tenants::access_token(), 1,000 tenants" => {
            for _ in 0..calls {
                std::hint::black_box(tenants.access_token(tenant).await?);
            }
        }
        "oauth-clients access_token()" => {
            for _ in 0..calls {
                std::hint::black_box(manager.access_token().await?);
            }
        }
        "oauth-clients token()" => {
            for _ in 0..calls {
                std::hint::black_box(manager.token().await?);
            }
        }
        "oauth-clients with_cached_token() (a borrow)" => {
            for _ in 0..calls {
                let read = manager.with_cached_token(|t| t.access_token().expose_secret().len());
                std::hint::black_box(read.ok_or("the token is not cached")?);
            }
        }
        "ArcSwap load (a borrow)" => {
            for _ in 0..calls {
                std::hint::black_box(swap.load().access_token().expose_secret().len());
            }
        }
        "ArcSwap load + AccessToken clone" => {
            for _ in 0..calls {
                let token: AccessToken = swap.load().access_token().clone();
                std::hint::black_box(token);
            }
        }
        "ArcSwap load_full (Arc<Token>)" => {
            for _ in 0..calls {
                std::hint::black_box(swap.load_full());
            }
        }
        other => return Err(format!("unknown variant {other}").into()),
    }
    Ok(())
}
