//! `oauth-clients doctor`: checks a vendor's set-up without getting a token: the descriptor and
//! configuration, each endpoint's reachability (DNS, TCP, TLS) and the clock against the
//! vendor's.

use std::time::{Duration, SystemTime};

use oauth_clients_core::Error;

use crate::cli::Common;
use crate::cmd::describe::table;
use crate::failure::Failure;
use crate::session::{Session, resolve_vendor};

/// Clock skew beyond which tokens may look expired too early or too late.
const SKEW_WARNING: Duration = Duration::from_secs(60);

/// How a check came out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Warning,
    Failed,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Warning => "warning",
            Outcome::Failed => "FAILED",
        }
    }
}

/// The checks made so far.
#[derive(Default)]
struct Report {
    rows: Vec<(Outcome, String, String)>,
}

impl Report {
    fn add(&mut self, outcome: Outcome, check: impl Into<String>, detail: impl Into<String>) {
        self.rows.push((outcome, check.into(), detail.into()));
    }

    fn finish(self) -> Result<String, Failure> {
        let failed = self.rows.iter().filter(|r| r.0 == Outcome::Failed).count();
        let rows: Vec<[String; 3]> = self
            .rows
            .into_iter()
            .map(|(outcome, check, detail)| [check, outcome.word().to_owned(), detail])
            .collect();
        let output = oauth_clients_core::escape_control_characters(&table(
            &["CHECK", "RESULT", "DETAIL"],
            &rows,
        ));
        if failed == 0 {
            return Ok(output);
        }
        Err(Failure::Findings {
            output,
            message: format!("{failed} check(s) failed"),
        })
    }
}

/// Runs `doctor`: the report on stdout; exit status 1 when a check failed.
pub(crate) async fn run(vendor: Option<&str>, common: &Common) -> Result<String, Failure> {
    let mut report = Report::default();
    let provider = match resolve_vendor(vendor, common).await {
        Ok(provider) => provider,
        Err(failure) => {
            report.add(Outcome::Failed, "descriptor", failure.message());
            return report.finish();
        }
    };
    report.add(
        Outcome::Ok,
        "descriptor",
        format!(
            "{} ({}) is valid",
            provider.descriptor().name,
            provider.id()
        ),
    );
    let session = match Session::with_provider(provider, common, None) {
        Ok(session) => session,
        Err(failure) => {
            report.add(Outcome::Failed, "configuration", failure.message());
            return report.finish();
        }
    };
    report.add(
        Outcome::Ok,
        "configuration",
        "client id, secret and variables accepted",
    );
    let mut server_date = None;
    for (kind, url) in session.client.resolved_endpoints() {
        let check = format!("endpoint {kind}");
        if let Err(err) = url {
            report.add(Outcome::Failed, check, err.to_string());
            continue;
        }
        match session.client.probe(&kind).await {
            Ok(probe) => {
                server_date = server_date.or(probe.date);
                let outcome = probe_outcome(probe.status);
                report.add(
                    outcome,
                    check,
                    format!("{} answered HTTP {}", probe.endpoint, probe.status),
                );
            }
            Err(err) => report.add(Outcome::Failed, check, unreachable(&err)),
        }
    }
    clock_check(&mut report, server_date.as_deref());
    report.finish()
}

/// Any answer shows an endpoint is reachable; a 5xx says the vendor is unwell.
fn probe_outcome(status: u16) -> Outcome {
    if status >= 500 {
        Outcome::Warning
    } else {
        Outcome::Ok
    }
}

/// What a failed probe means, with a hint for certificate problems.
fn unreachable(err: &Error) -> String {
    let text = err.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return format!("{text}\n  hint: a TLS problem: check the system's CA certificates");
    }
    text
}

/// Compares the vendor's `Date` with this machine's clock.
fn clock_check(report: &mut Report, date: Option<&str>) {
    let Some(date) = date else {
        report.add(Outcome::Warning, "clock", "no endpoint sent a Date header");
        return;
    };
    let Ok(server) = httpdate::parse_http_date(date) else {
        report.add(
            Outcome::Warning,
            "clock",
            format!("unreadable Date header `{date}`"),
        );
        return;
    };
    let now = SystemTime::now();
    let (skew, ahead) = match server.duration_since(now) {
        Ok(ahead) => (ahead, true),
        Err(behind) => (behind.duration(), false),
    };
    let direction = if ahead { "behind" } else { "ahead of" };
    let detail = format!(
        "this machine's clock is {}s {direction} the vendor's",
        skew.as_secs()
    );
    let outcome = if skew > SKEW_WARNING {
        Outcome::Warning
    } else {
        Outcome::Ok
    };
    report.add(outcome, "clock", detail);
}
