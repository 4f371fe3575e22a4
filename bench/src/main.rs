//! Benchmarks of oauth-clients against oauth2-rs and raw reqwest, all against ONE local HTTP
//! server on 127.0.0.1 (started here, stopped at the end).
//!
//! ```text
//! cargo run --release -p oauth-clients-bench -- [--quick | --smoke]
//! ```
//!
//! Rows, each measured for the project and its peers, interleaved, over several rounds (the
//! table shows the median and the spread, min–max):
//!
//! 1. many tenants, each with its own client: peak RSS, open descriptors and the time to fetch
//!    every tenant's token with 16 in flight (one child process per variant and round);
//! 2. reading a cached token, 1 and 2 threads, against an `ArcSwap<Token>` load;
//! 3. client credentials exchanges per second, 16 in flight, and the CPU time per exchange of
//!    the client's threads (every thread but the local server's);
//! 4. authorized API GETs per second, 16 in flight, and their CPU time likewise;
//! 5. a store's cost per token put + get with 100, 1,000 and 10,000 tokens stored.
//!
//! `--only tenants|cached|exchanges|api-gets VARIANT [COUNT]` runs one variant of row 1, 2, 3
//! or 4 alone (for a profiler). `--interleaved ROW ROUNDS [COUNT]` runs `--only`
//! for each variant of the row in turn, a fresh process each time, and prints the table of
//! their medians.
//! `--counts tenants|exchanges|api-gets [COUNT]` counts, under callgrind (valgrind), the
//! instructions and estimated cycles of one operation of each variant: figures the machine's
//! other work does not move (see `counts.rs`).
//! `--quick` runs fewer tenants and rounds (well under a minute in release); `--smoke` is the
//! smallest run, for the test that checks every row is printed. No figure is asserted anywhere.

mod cached;
mod counts;
mod http;
mod peers;
mod report;
mod server;
mod stores;
mod tenants;

use std::process::ExitCode;

use crate::peers::BenchResult;
use crate::report::Report;

/// How big a run is.
struct Sizes {
    name: &'static str,
    rounds: usize,
    tenants: usize,
    cached_calls: u64,
    exchanges: usize,
    api_gets: usize,
    store_tenants: &'static [usize],
    /// Scales the store cycles of [`stores::cycles`].
    store_scale: f64,
}

const FULL: Sizes = Sizes {
    name: "full",
    rounds: 5,
    tenants: 10_000,
    cached_calls: 5_000_000,
    exchanges: 20_000,
    api_gets: 40_000,
    store_tenants: &[100, 1_000, 10_000],
    store_scale: 1.0,
};

const QUICK: Sizes = Sizes {
    name: "quick",
    rounds: 3,
    tenants: 2_000,
    cached_calls: 1_000_000,
    exchanges: 4_000,
    api_gets: 8_000,
    store_tenants: &[100, 1_000],
    store_scale: 0.2,
};

const SMOKE: Sizes = Sizes {
    name: "smoke",
    rounds: 1,
    tenants: 100,
    cached_calls: 1_000,
    exchanges: 20,
    api_gets: 20,
    store_tenants: &[100],
    store_scale: 0.01,
};

/// Operations `--counts` runs by default (and twice as many).
const DEFAULT_COUNTED: usize = 1000;

/// The hidden subcommand a child of `--interleaved` runs: `--only`, printing its samples as
/// tab-separated lines.
const ONLY_SAMPLES: &str = "__only-samples";

/// `items` rotated by `round`, so that no variant always runs first (round 0 keeps the table's
/// order).
fn rotated<T: Copy>(items: &[T], round: usize) -> Vec<T> {
    let shift = round % items.len().max(1);
    items[shift..]
        .iter()
        .chain(&items[..shift])
        .copied()
        .collect()
}

fn run(sizes: &Sizes) -> BenchResult<String> {
    let server = server::Server::start()?;
    let base_url = server.base_url();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (setup, readers, seeded) = runtime.block_on(async {
        let setup = http::Setup::new(&base_url).await?;
        let readers = cached::Readers::new(&base_url).await?;
        let mut seeded = Vec::new();
        for kind in stores::VARIANTS {
            for &tenants in sizes.store_tenants {
                eprintln!("seeding {kind} with {tenants} tokens");
                seeded.push(stores::seed(kind, tenants).await?);
            }
        }
        BenchResult::Ok((setup, readers, seeded))
    })?;
    let mut report = Report::default();
    for round in 0..sizes.rounds {
        eprintln!("round {} of {}", round + 1, sizes.rounds);
        let order = rotated(&tenants::VARIANTS, round);
        tenants::round(&mut report, sizes.tenants, &base_url, &order)?;
        let order = rotated(&cached::VARIANTS, round);
        cached::round(&mut report, &readers, sizes.cached_calls, &order)?;
        runtime.block_on(async {
            let order = rotated(&http::EXCHANGE_VARIANTS, round);
            http::exchanges(&mut report, &setup, sizes.exchanges, &order).await?;
            let order = rotated(&http::API_VARIANTS, round);
            http::api_gets(&mut report, &setup, sizes.api_gets, &order).await?;
            let shift = (round % stores::VARIANTS.len()) * sizes.store_tenants.len();
            let order: Vec<_> = seeded[shift..].iter().chain(&seeded[..shift]).collect();
            stores::round(&mut report, &order, sizes.store_scale, round as u64).await
        })?;
    }
    drop(setup);
    drop(runtime);
    let issued = server.tokens_issued();
    drop(server);
    Ok(format!(
        "oauth-clients bench ({} run: {} round(s), {} core(s); {issued} tokens issued by the \
         local server)\n\n{}",
        sizes.name,
        sizes.rounds,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        report.markdown()
    ))
}

/// One variant of row 1, 2, 3 or 4 alone, for a profiler: `--only
/// tenants|cached|exchanges|api-gets VARIANT [COUNT]` (a variant as the table names it; by
/// default 10,000 tenants, 5,000,000 cached reads per thread, or 50,000 calls), its figures
/// printed.
fn only(row: &str, variant: &str, count: Option<usize>) -> BenchResult<Report> {
    let server = server::Server::start()?;
    let base_url = server.base_url();
    if row == "cached" {
        let Some(&variant) = cached::VARIANTS.iter().find(|v| **v == variant) else {
            return Err(format!("no variant {variant}").into());
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let readers = runtime.block_on(cached::Readers::new(&base_url))?;
        let calls = count.map_or(FULL.cached_calls, |count| count as u64);
        let mut report = Report::default();
        cached::round(&mut report, &readers, calls, &[variant])?;
        return Ok(report);
    }
    if row == "tenants" {
        let Some(&variant) = tenants::VARIANTS.iter().find(|v| **v == variant) else {
            return Err(format!("no variant {variant}").into());
        };
        let mut report = Report::default();
        tenants::round(
            &mut report,
            count.unwrap_or(FULL.tenants),
            &base_url,
            &[variant],
        )?;
        return Ok(report);
    }
    http_only(row, variant, count.unwrap_or(50_000), &base_url)
}

/// The hidden subcommand `--counts` runs under callgrind for rows 3 and 4: `--only` against a
/// server of another process (`ROW VARIANT COUNT BASE_URL`).
const HTTP_SUBCOMMAND: &str = "__http";

/// One variant of row 3 or 4 against the server at `base_url`.
fn http_only(row: &str, variant: &str, count: usize, base_url: &str) -> BenchResult<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let setup = http::Setup::new(base_url).await?;
        let mut report = Report::default();
        let known = http::EXCHANGE_VARIANTS.iter().chain(&http::API_VARIANTS);
        let Some(&variant) = known.into_iter().find(|v| **v == variant) else {
            return Err(format!("no variant {variant}").into());
        };
        match row {
            "exchanges" => http::exchanges(&mut report, &setup, count, &[variant]).await?,
            "api-gets" => http::api_gets(&mut report, &setup, count, &[variant]).await?,
            _ => return Err(unknown_row(row)),
        }
        Ok(report)
    })
}

/// The variants of a row `--only` and `--interleaved` run.
fn row_variants(row: &str) -> BenchResult<Vec<&'static str>> {
    match row {
        // The bare process is the floor of the full run's row 1, not a contender.
        "tenants" => Ok(tenants::VARIANTS[..tenants::VARIANTS.len() - 1].to_vec()),
        "exchanges" => Ok(http::EXCHANGE_VARIANTS.to_vec()),
        "cached" => Ok(cached::VARIANTS.to_vec()),
        "api-gets" => Ok(http::API_VARIANTS.to_vec()),
        _ => Err(unknown_row(row)),
    }
}

fn unknown_row(row: &str) -> Box<dyn std::error::Error + Send + Sync> {
    format!("no row {row} (tenants, cached, exchanges, api-gets)").into()
}

/// Runs `--only ROW VARIANT [COUNT]` for each variant of `row` in turn, `rounds` times, each in
/// a fresh process (rotated, so that no variant always runs first), and gathers the figures.
fn interleaved(row: &str, rounds: usize, count: Option<usize>) -> BenchResult<String> {
    let variants = row_variants(row)?;
    let exe = std::env::current_exe()?;
    let mut report = Report::default();
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        for variant in rotated(&variants, round) {
            let mut child = std::process::Command::new(&exe);
            child.args([ONLY_SAMPLES, row, variant]);
            if let Some(count) = count {
                child.arg(count.to_string());
            }
            let output = child.output()?;
            if !output.status.success() {
                return Err(format!(
                    "{variant}: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )
                .into());
            }
            report.add_samples_tsv(&String::from_utf8_lossy(&output.stdout))?;
        }
    }
    Ok(format!(
        "oauth-clients bench, row `{row}` interleaved: {rounds} round(s), a fresh process per \
         variant and round\n\n{}",
        report.markdown()
    ))
}

/// Waits for `child` to end (at most `limit`, else it is killed and `what` named in the error)
/// and returns what it wrote.
fn output_within(
    mut child: std::process::Child,
    limit: std::time::Duration,
    what: &str,
) -> BenchResult<std::process::Output> {
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait()?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{what} ran over {} s", limit.as_secs()).into());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(child.wait_with_output()?)
}

/// Prints a run's table, or why it failed.
fn print_table(result: BenchResult<String>) -> ExitCode {
    match result {
        Ok(table) => {
            println!("{table}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bench failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(tenants::SUBCOMMAND) {
        return match tenants::child_main(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{}: {err}", tenants::SUBCOMMAND);
                ExitCode::FAILURE
            }
        };
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let [HTTP_SUBCOMMAND, row, variant, count, base_url] = args[..] {
        let report = count
            .parse::<usize>()
            .map_err(|_| format!("not a count: {count}").into())
            .and_then(|count| http_only(row, variant, count, base_url));
        return print_table(report.map(|r| r.samples_tsv()));
    }
    let count = |text: Option<&&str>| match text.map(|t| t.parse::<usize>()) {
        None => Ok(None),
        Some(Ok(n)) => Ok(Some(n)),
        Some(Err(_)) => Err(format!(
            "not a count: {}",
            text.copied().unwrap_or_default()
        )),
    };
    let sizes = match args[..] {
        [
            flag @ ("--only" | ONLY_SAMPLES),
            row,
            variant,
            ref rest @ ..,
        ] if rest.len() <= 1 => {
            let report = count(rest.first())
                .map_err(Into::into)
                .and_then(|count| only(row, variant, count));
            return match flag {
                ONLY_SAMPLES => print_table(report.map(|r| r.samples_tsv())),
                _ => print_table(report.map(|r| r.markdown())),
            };
        }
        ["--interleaved", row, rounds, ref rest @ ..] if rest.len() <= 1 => {
            let parsed = rounds
                .parse::<usize>()
                .map_err(|_| format!("not a number of rounds: {rounds}"))
                .and_then(|rounds| Ok((rounds, count(rest.first())?)));
            return match parsed {
                Ok((rounds, count)) => print_table(interleaved(row, rounds, count)),
                Err(message) => {
                    eprintln!("{message}");
                    ExitCode::from(2)
                }
            };
        }
        ["--counts", row, ref rest @ ..] if rest.len() <= 1 => {
            let result = count(rest.first())
                .map_err(Into::into)
                .and_then(|count| counts::run(row, count.unwrap_or(DEFAULT_COUNTED)));
            return print_table(result);
        }
        [] => &FULL,
        ["--quick"] => &QUICK,
        ["--smoke"] => &SMOKE,
        _ => {
            eprintln!(
                "usage: oauth-clients-bench [--quick | --smoke | --only ROW VARIANT [COUNT] | \
                 --interleaved ROW ROUNDS [COUNT] | --counts ROW [COUNT]]"
            );
            return ExitCode::from(2);
        }
    };
    print_table(run(sizes))
}
