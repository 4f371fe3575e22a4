//! Row 1: many tenants, each with its own client, in a fresh child process per variant (so that
//! peak RSS and open descriptors are the variant's own).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use oauth_clients_core::TokenManager;

use crate::peers::{
    self, BenchResult, RawTenant, oauth2_client, oauth2_exchange, project_client, raw_exchange,
};
use crate::report::{Better, Measure, Report};

/// The variants of row 1, in table order. `bare` is a process that builds nothing: the floor.
/// `oauth-clients Client only` fetches with the clients alone (no manager, no store): what the
/// manager's bookkeeping costs.
pub const VARIANTS: [&str; 5] = [
    "oauth-clients",
    "oauth-clients Client only",
    "oauth2-rs",
    "raw reqwest",
    "bare process",
];

/// Requests in flight while fetching every tenant's token.
const IN_FLIGHT: usize = 16;

/// The hidden subcommand a child runs.
pub const SUBCOMMAND: &str = "__tenants";

/// Runs one child per variant (in `order`) and adds its figures to `report`.
pub fn round(
    report: &mut Report,
    tenants: usize,
    base_url: &str,
    order: &[&'static str],
) -> BenchResult<()> {
    let label = format!("{tenants} tenants");
    let rss = Measure::new("1", format!("peak RSS, {label}"), "MiB", Better::Lower);
    let fds = Measure::new("1", format!("open fds, {label}"), "count", Better::Lower);
    let time = Measure::new(
        "1",
        format!("fetch every token, {label}, {IN_FLIGHT} in flight"),
        "ms",
        Better::Lower,
    );
    let cpu = Measure::new(
        "1",
        format!("CPU of the client process while fetching every token, {label}"),
        "ms",
        Better::Lower,
    );
    for variant in order {
        let figures = run_child(variant, tenants, base_url)?;
        report.add(&rss, variant, figures.rss_kib as f64 / 1024.0);
        report.add(&fds, variant, figures.fds as f64);
        if *variant != "bare process" {
            report.add(&time, variant, figures.fetch_ms);
            report.add(&cpu, variant, figures.fetch_cpu_ms);
        }
    }
    Ok(())
}

struct ChildFigures {
    rss_kib: u64,
    fds: u64,
    fetch_ms: f64,
    fetch_cpu_ms: f64,
}

fn run_child(variant: &str, tenants: usize, base_url: &str) -> BenchResult<ChildFigures> {
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .args([SUBCOMMAND, variant, &tenants.to_string(), base_url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let output = crate::output_within(
        child,
        Duration::from_secs(300),
        &format!("the {variant} child"),
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("the {variant} child failed: {}: {stderr}", output.status).into());
    }
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("the {variant} child printed no {name}"))
    };
    Ok(ChildFigures {
        rss_kib: value("vm_hwm_kib")? as u64,
        fds: value("fds")? as u64,
        fetch_ms: value("fetch_ms")?,
        fetch_cpu_ms: value("fetch_cpu_ms")?,
    })
}

/// The child: builds `tenants` clients of `variant`, fetches every token with 16 in flight,
/// keeps them all, then prints its peak RSS, the descriptors open while the clients (and their
/// connection pools) are alive, and the fetch time.
pub fn child_main(args: &[String]) -> BenchResult<()> {
    let [variant, tenants, base_url] = args else {
        return Err(format!("usage: {SUBCOMMAND} VARIANT TENANTS BASE_URL").into());
    };
    let tenants: usize = tenants.parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (fetch, fds) = runtime.block_on(async {
        match variant.as_str() {
            "oauth-clients" => project(tenants, base_url).await,
            "oauth-clients Client only" => clients_only(tenants, base_url).await,
            "oauth2-rs" => oauth2_rs(tenants, base_url).await,
            "raw reqwest" => raw(tenants, base_url).await,
            "bare process" => Ok((Timing::default(), open_fds()?)),
            other => Err(format!("unknown variant {other}").into()),
        }
    })?;
    println!("fetch_ms={}", fetch.wall_ms);
    println!("fetch_cpu_ms={}", fetch.cpu_ms);
    println!("fds={fds}");
    println!("vm_hwm_kib={}", vm_hwm_kib()?);
    Ok(())
}

/// How long fetching every token took: elapsed, and the CPU time of this process (the client
/// alone: the server runs in the parent), which the machine's other work disturbs less.
#[derive(Default)]
struct Timing {
    wall_ms: f64,
    cpu_ms: f64,
}

/// Fetches with `IN_FLIGHT` requests in flight.
async fn fetch_all<F, T>(futures: impl Iterator<Item = F>) -> BenchResult<(Timing, Vec<T>)>
where
    F: Future<Output = BenchResult<T>>,
{
    let cpu_before = process_cpu_ms()?;
    let start = Instant::now();
    crate::counts::phase_starts();
    let results: Vec<BenchResult<T>> = futures_util::stream::iter(futures)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    crate::counts::phase_ends();
    let timing = Timing {
        wall_ms: start.elapsed().as_secs_f64() * 1000.0,
        cpu_ms: process_cpu_ms()? - cpu_before,
    };
    let kept = results.into_iter().collect::<BenchResult<Vec<T>>>()?;
    Ok((timing, kept))
}

/// The CPU time of this process so far, in milliseconds.
fn process_cpu_ms() -> BenchResult<f64> {
    Ok(crate::http::process_cpu_ns()? as f64 / 1e6)
}

async fn project(tenants: usize, base_url: &str) -> BenchResult<(Timing, usize)> {
    let provider = peers::provider(base_url)?;
    let managers = (0..tenants)
        .map(|n| Ok(TokenManager::new(project_client(&provider, n)?)))
        .collect::<BenchResult<Vec<_>>>()?;
    let (timing, tokens) = fetch_all(
        managers
            .iter()
            .map(|m| async move { Ok(m.access_token().await?) }),
    )
    .await?;
    std::hint::black_box((&managers, tokens));
    Ok((timing, open_fds()?))
}

async fn clients_only(tenants: usize, base_url: &str) -> BenchResult<(Timing, usize)> {
    let provider = peers::provider(base_url)?;
    let clients = (0..tenants)
        .map(|n| project_client(&provider, n))
        .collect::<BenchResult<Vec<_>>>()?;
    let (timing, tokens) = fetch_all(
        clients
            .iter()
            .map(|c| async move { Ok(c.client_credentials().await?) }),
    )
    .await?;
    std::hint::black_box((&clients, tokens));
    Ok((timing, open_fds()?))
}

async fn oauth2_rs(tenants: usize, base_url: &str) -> BenchResult<(Timing, usize)> {
    let http = peers::shared_oauth2_http()?;
    let clients = (0..tenants)
        .map(|n| oauth2_client(base_url, n))
        .collect::<BenchResult<Vec<_>>>()?;
    let (timing, tokens) = fetch_all(clients.iter().map(|c| oauth2_exchange(c, &http))).await?;
    std::hint::black_box((&clients, &http, tokens));
    Ok((timing, open_fds()?))
}

async fn raw(tenants: usize, base_url: &str) -> BenchResult<(Timing, usize)> {
    let http = peers::shared_reqwest()?;
    let url: Arc<str> = format!("{base_url}/token").into();
    let clients: Vec<RawTenant> = (0..tenants).map(RawTenant::new).collect();
    let (timing, tokens) = fetch_all(clients.iter().map(|t| raw_exchange(&http, &url, t))).await?;
    std::hint::black_box((&clients, &http, tokens));
    Ok((timing, open_fds()?))
}

fn open_fds() -> BenchResult<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?.count())
}

fn vm_hwm_kib() -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}
