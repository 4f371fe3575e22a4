//! Rows 3 and 4: token exchanges and authorized API calls per second, 16 in flight.

use std::time::Instant;

use futures_util::StreamExt;
use oauth_clients_core::secrecy::ExposeSecret;
use oauth_clients_core::{ApiRequest, AuthorizedClient, Client};

use crate::peers::{BenchResult, OAuth2Client, RawTenant, oauth2_exchange, raw_exchange};
use crate::report::{Better, Measure, Report};

/// Requests in flight.
const IN_FLIGHT: usize = 16;

/// The variants of row 3, in table order.
pub const EXCHANGE_VARIANTS: [&str; 3] = ["oauth-clients", "oauth2-rs", "raw reqwest"];

/// The variants of row 4, in table order. The last is raw reqwest under a per-request
/// timeout, as the engine sends every request: it shows what the timer costs.
pub const API_VARIANTS: [&str; 3] = [
    "oauth-clients AuthorizedClient::send",
    "raw reqwest",
    RAW_WITH_TIMEOUT,
];

/// Raw reqwest's API GET inside `tokio::time::timeout`, with the engine's default
/// `request_timeout`.
const RAW_WITH_TIMEOUT: &str = "raw reqwest in a 15 s tokio::time::timeout";

/// What rows 3 and 4 use, built once.
pub struct Setup {
    pub client: Client,
    pub authorized: AuthorizedClient,
    pub oauth2: OAuth2Client,
    /// oauth2-rs's own HTTP client (reqwest 0.12).
    pub oauth2_http: oauth2::reqwest::Client,
    pub http: reqwest::Client,
    pub raw: RawTenant,
    pub token_url: String,
    pub api_url: String,
    /// The token raw reqwest sends to the API.
    pub raw_bearer: String,
}

impl Setup {
    pub async fn new(base_url: &str) -> BenchResult<Setup> {
        let provider = crate::peers::provider(base_url)?;
        let client = crate::peers::project_client(&provider, 0)?;
        let authorized = AuthorizedClient::new(client.clone());
        // The first token, so that row 4 measures API calls only.
        authorized.manager().access_token().await?;
        let http = crate::peers::shared_reqwest()?;
        let raw = RawTenant::new(0);
        let token_url = format!("{base_url}/token");
        let raw_bearer = raw_exchange(&http, &token_url, &raw).await?.access_token;
        Ok(Setup {
            client,
            authorized,
            oauth2: crate::peers::oauth2_client(base_url, 0)?,
            oauth2_http: crate::peers::shared_oauth2_http()?,
            http,
            raw,
            token_url,
            api_url: format!("{base_url}/api"),
            raw_bearer,
        })
    }
}

/// What a run of operations measured.
struct Run {
    /// Operations per second (wall clock).
    per_second: f64,
    /// CPU time per operation of every thread but the local server's, in microseconds: the
    /// calling task's thread and the runtime's workers. Less sensitive than the wall clock to
    /// the other tenants of a shared machine.
    cpu_us: f64,
}

/// Runs `count` operations with `IN_FLIGHT` in flight.
async fn per_second<F>(count: usize, mut op: impl FnMut() -> F) -> BenchResult<Run>
where
    F: Future<Output = BenchResult<()>>,
{
    let cpu_before = client_cpu_ns()?;
    let start = Instant::now();
    // Each operation's future is made when there is room for it, as a server's handler would
    // make it: made all at once up front, they would measure how fast memory for `count`
    // futures can be touched (the larger a variant's future, the worse), not the variant.
    let futures = (0..count).map(|_| op());
    let mut results = futures_util::stream::iter(futures).buffer_unordered(IN_FLIGHT);
    crate::counts::phase_starts();
    while let Some(result) = results.next().await {
        result?;
    }
    crate::counts::phase_ends();
    let per_second = count as f64 / start.elapsed().as_secs_f64();
    let cpu_ns = client_cpu_ns()?.saturating_sub(cpu_before);
    Ok(Run {
        per_second,
        cpu_us: cpu_ns as f64 / 1000.0 / count as f64,
    })
}

/// The CPU time of this process but the local server's thread, in nanoseconds: the process's
/// (getrusage, threads that ended included) minus the server thread's (Linux:
/// `/proc/self/task/*/schedstat`).
fn client_cpu_ns() -> BenchResult<u64> {
    let process_ns = process_cpu_ns()?;
    Ok(u64::try_from(process_ns - i128::from(server_cpu_ns()?)).unwrap_or(0))
}

/// The CPU time of this process so far (getrusage: every thread, ended ones included, user
/// and system), in nanoseconds.
pub fn process_cpu_ns() -> BenchResult<i128> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_SELF)?;
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as i128 * 1_000_000 + t.tv_usec() as i128;
    Ok((micros(usage.user_time()) + micros(usage.system_time())) * 1000)
}

/// The time the local server's thread has run, in nanoseconds (0 when it runs elsewhere).
fn server_cpu_ns() -> BenchResult<u64> {
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if name.trim_end() != crate::server::THREAD_NAME {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("schedstat"))?;
        return stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .ok_or_else(|| "unreadable /proc/self/task/*/schedstat".into());
    }
    // The server runs in another process (`--counts`).
    Ok(0)
}

/// The CPU companion of a throughput measure.
fn cpu_measure(row: &'static str, what: &str) -> Measure {
    Measure::new(
        row,
        format!("CPU per {what}, client threads, {IN_FLIGHT} in flight"),
        "µs",
        Better::Lower,
    )
}

/// Row 3: client credentials exchanges per second.
pub async fn exchanges(
    report: &mut Report,
    setup: &Setup,
    count: usize,
    order: &[&'static str],
) -> BenchResult<()> {
    let measure = Measure::new(
        "3",
        format!("client_credentials exchanges, {IN_FLIGHT} in flight"),
        "per s",
        Better::Higher,
    );
    let cpu = cpu_measure("3", "exchange");
    for variant in order {
        let run = match *variant {
            "oauth-clients" => {
                per_second(count, || async {
                    let token = setup.client.client_credentials().await?;
                    std::hint::black_box(token.access_token().expose_secret().len());
                    Ok(())
                })
                .await?
            }
            "oauth2-rs" => {
                per_second(count, || async {
                    std::hint::black_box(oauth2_exchange(&setup.oauth2, &setup.oauth2_http).await?);
                    Ok(())
                })
                .await?
            }
            _ => {
                per_second(count, || async {
                    let token = raw_exchange(&setup.http, &setup.token_url, &setup.raw).await?;
                    std::hint::black_box(token);
                    Ok(())
                })
                .await?
            }
        };
        report.add(&measure, variant, run.per_second);
        report.add(&cpu, variant, run.cpu_us);
    }
    Ok(())
}

/// Row 4: authorized API GETs per second.
pub async fn api_gets(
    report: &mut Report,
    setup: &Setup,
    count: usize,
    order: &[&'static str],
) -> BenchResult<()> {
    let measure = Measure::new(
        "4",
        format!("API GETs with a bearer token, {IN_FLIGHT} in flight"),
        "per s",
        Better::Higher,
    );
    let cpu = cpu_measure("4", "API GET");
    let request = ApiRequest::get("api");
    for variant in order {
        let run = if variant.starts_with("oauth-clients") {
            per_second(count, || async {
                let response = setup.authorized.send(&request).await?.error_for_status()?;
                std::hint::black_box(response.body().len());
                Ok(())
            })
            .await?
        } else if *variant == RAW_WITH_TIMEOUT {
            per_second(count, || async {
                let timeout = std::time::Duration::from_secs(15);
                tokio::time::timeout(timeout, raw_api_get(setup)).await?
            })
            .await?
        } else {
            per_second(count, || raw_api_get(setup)).await?
        };
        report.add(&measure, variant, run.per_second);
        report.add(&cpu, variant, run.cpu_us);
    }
    Ok(())
}

/// One API GET by hand: the bearer header, the status checked, the body read.
async fn raw_api_get(setup: &Setup) -> BenchResult<()> {
    let response = setup
        .http
        .get(&setup.api_url)
        .bearer_auth(&setup.raw_bearer)
        .send()
        .await?
        .error_for_status()?;
    std::hint::black_box(response.bytes().await?.len());
    Ok(())
}
