//! `--counts ROW [COUNT]`: what one operation of each variant of row 1, 3 or 4 costs, counted by
//! callgrind (valgrind) instead of timed. A count does not move with the machine's other work,
//! so it can settle a margin of a few percent that the wall clock of a shared machine cannot.
//!
//! Each variant's client runs under callgrind in a process of its own, against the local server
//! that runs here, outside valgrind. Callgrind zeroes its counters as the measured phase starts
//! ([`phase_starts`]) and writes them out as it ends ([`phase_ends`]): building the clients,
//! the first token of rows 3 and 4 and the process's start and exit are left out. The phase is
//! run at `COUNT` and at `2 × COUNT` operations, and the difference is divided by `COUNT`, so
//! what every run does once (the first connections, the runtime's warm-up) cancels out.
//!
//! Two figures per operation: instructions, and estimated cycles from callgrind's cache
//! simulation, with the weights iai-callgrind uses (a first-level hit 1, a last-level hit 5, a
//! memory access 35), over the same simulated caches on every machine. With
//! `BENCH_CALLGRIND_DIR=DIR`, callgrind's files are kept in `DIR` for `callgrind_annotate`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::peers::BenchResult;
use crate::report::{Better, Measure, Report};

/// Called as a measured phase starts; `--counts` has callgrind zero its counters on entry.
#[inline(never)]
pub fn phase_starts() {
    // Distinct bodies: identical functions could be merged into one symbol.
    std::hint::black_box(1_u8);
}

/// Called as a measured phase ends; `--counts` has callgrind write its counters on entry.
#[inline(never)]
pub fn phase_ends() {
    std::hint::black_box(2_u16);
}

/// The callgrind events the estimate needs, in the order `--cache-sim=yes` writes them.
const EVENTS: [&str; 9] = [
    "Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw",
];

/// The environment variable naming a directory where callgrind's files are kept.
const KEEP_DIR: &str = "BENCH_CALLGRIND_DIR";

/// The longest one process under callgrind may run.
const RUN_LIMIT: Duration = Duration::from_secs(900);

/// What callgrind counted over one measured phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// Instructions executed.
    pub instructions: f64,
    /// Estimated cycles: first-level hits + 5 × last-level hits + 35 × memory accesses.
    pub estimated_cycles: f64,
}

impl Counts {
    /// The counts of a callgrind totals line, given the file's `events:` names.
    fn from_totals(events: &[&str], totals: &[u64]) -> Result<Counts, String> {
        let event = |name: &str| {
            events
                .iter()
                .position(|e| *e == name)
                .and_then(|at| totals.get(at))
                .map(|&n| n as f64)
                .ok_or_else(|| format!("callgrind wrote no `{name}` (run with --cache-sim=yes)"))
        };
        let mut values = [0.0; EVENTS.len()];
        for (value, name) in values.iter_mut().zip(EVENTS) {
            *value = event(name)?;
        }
        let [ir, dr, dw, i1, d1r, d1w, ill, dllr, dllw] = values;
        let accesses = ir + dr + dw;
        let first_level_misses = i1 + d1r + d1w;
        let memory = ill + dllr + dllw;
        Ok(Counts {
            instructions: ir,
            estimated_cycles: (accesses - first_level_misses)
                + 5.0 * (first_level_misses - memory)
                + 35.0 * memory,
        })
    }
}

/// The counts in one callgrind output file: its `events:` line and its `summary:` (or, failing
/// that, `totals:`) line, as `callgrind_annotate` reads them.
pub fn parse_callgrind(text: &str) -> Result<Counts, String> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let events: Vec<&str> = field("events")
        .ok_or("no `events:` line in the callgrind output")?
        .split_whitespace()
        .collect();
    let totals = field("summary")
        .or_else(|| field("totals"))
        .ok_or("no `summary:` line in the callgrind output")?
        .split_whitespace()
        .map(|n| n.parse::<u64>().map_err(|_| format!("not a count: {n}")))
        .collect::<Result<Vec<_>, _>>()?;
    Counts::from_totals(&events, &totals)
}

/// Whether a callgrind output file is the dump taken as the measured phase ended (not the
/// one written at the process's exit).
fn is_phase_dump(text: &str) -> bool {
    text.lines()
        .take_while(|line| !line.starts_with("fn="))
        .any(|line| line.starts_with("desc: Trigger:") && line.contains("phase_ends"))
}

/// Counts each contender of `row` (`tenants`, `exchanges` or `api-gets`) and prints the table.
pub fn run(row: &str, count: usize) -> BenchResult<String> {
    let (number, what) = match row {
        "tenants" => ("1", "first token of a tenant"),
        "exchanges" => ("3", "client_credentials exchange"),
        "api-gets" => ("4", "API GET"),
        _ => {
            return Err(format!(
                "--counts takes the row tenants, exchanges or api-gets, not {row}"
            )
            .into());
        }
    };
    if count == 0 {
        return Err("--counts needs a count above 0".into());
    }
    check_valgrind()?;
    let server = crate::server::Server::start()?;
    let base_url = server.base_url();
    let instructions = Measure::new(
        number,
        format!("instructions per {what}"),
        "count",
        Better::Lower,
    );
    let cycles = Measure::new(
        number,
        format!("estimated cycles per {what} (L1 hit 1, LL hit 5, RAM 35)"),
        "count",
        Better::Lower,
    );
    let mut report = Report::default();
    for variant in crate::row_variants(row)? {
        eprintln!("counting {variant}: {count} and {} operations", 2 * count);
        let once = counted_run(row, variant, count, &base_url)?;
        let twice = counted_run(row, variant, 2 * count, &base_url)?;
        let per_op = |of: fn(&Counts) -> f64| (of(&twice) - of(&once)) / count as f64;
        report.add(&instructions, variant, per_op(|c| c.instructions));
        report.add(&cycles, variant, per_op(|c| c.estimated_cycles));
    }
    Ok(format!(
        "oauth-clients bench, row `{row}` counted by callgrind: ({} minus {count} operations) \
         / {count}, the client's process alone\n\n{}",
        2 * count,
        report.markdown(),
    ))
}

fn check_valgrind() -> BenchResult<()> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        _ => {
            Err("--counts runs valgrind, which is not installed (apt-get install valgrind)".into())
        }
    }
}

/// Runs `count` operations of `variant` under callgrind and returns the measured phase's counts.
fn counted_run(row: &str, variant: &str, count: usize, base_url: &str) -> BenchResult<Counts> {
    // Kept for callgrind_annotate when `BENCH_CALLGRIND_DIR` names a directory.
    let temporary = tempfile::tempdir()?;
    let dir = match std::env::var_os(KEEP_DIR) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => temporary.path().to_owned(),
    };
    let slug: String = variant
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let name = format!("callgrind.{row}.{slug}.{count}");
    let out_file = dir.join(&name);
    let count = count.to_string();
    let client_args: Vec<&str> = match row {
        "tenants" => vec![crate::tenants::SUBCOMMAND, variant, &count, base_url],
        _ => vec![crate::HTTP_SUBCOMMAND, row, variant, &count, base_url],
    };
    let mut command = Command::new("valgrind");
    command
        .args([
            "--tool=callgrind",
            "--cache-sim=yes",
            // The same caches on every machine (valgrind would read the host's, which a
            // virtual machine may report oddly): 32 KiB first-level caches, an 8 MiB last level.
            "--I1=32768,8,64",
            "--D1=32768,8,64",
            "--LL=8388608,16,64",
            "--zero-before=*phase_starts*",
            "--dump-before=*phase_ends*",
        ])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(std::env::current_exe()?)
        .args(&client_args);
    run_bounded(command, variant)?;
    phase_dump(&dir, &name)
}

/// Runs `command` to its end (at most [`RUN_LIMIT`]); an error with its output when it fails.
fn run_bounded(mut command: Command, variant: &str) -> BenchResult<()> {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let output = crate::output_within(child, RUN_LIMIT, &format!("{variant} under callgrind"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{variant} under callgrind failed ({}):\n{}",
            output.status,
            tail.join("\n")
        )
        .into());
    }
    Ok(())
}

/// The counts of the one phase dump in `dir` among the files callgrind wrote for `name`.
fn phase_dump(dir: &Path, name: &str) -> BenchResult<Counts> {
    let mut found = None;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(name) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())?;
        if !is_phase_dump(&text) {
            continue;
        }
        if found.is_some() {
            return Err("more than one measured phase was dumped".into());
        }
        found = Some(parse_callgrind(&text)?);
    }
    found.ok_or_else(|| "callgrind dumped no measured phase (is the binary stripped?)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\n\
        pid: 42\ncmd:  bench __http api-gets raw 10 http://127.0.0.1:1\npart: 1\n\n\
        desc: I1 cache: 32768 B, 64 B, 8-way associative\n\
        desc: Trigger: --dump-before=oauth_clients_bench::counts::phase_ends\n\n\
        positions: line\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n\
        summary: 1000 400 200 10 20 10 1 2 1\n\nfn=(1) main\n0 1000 400 200 10 20 10 1 2 1\n\
        totals: 1000 400 200 10 20 10 1 2 1\n";

    #[test]
    fn a_phase_dump_gives_instructions_and_weighted_cycles() {
        assert!(is_phase_dump(DUMP));
        let counts = parse_callgrind(DUMP).unwrap();
        assert_eq!(counts.instructions, 1000.0);
        // 1,600 accesses, 40 first-level misses of which 4 went to memory:
        // 1,560 + 5 × 36 + 35 × 4.
        assert_eq!(counts.estimated_cycles, 1560.0 + 180.0 + 140.0);
    }

    #[test]
    fn the_dump_at_exit_is_not_the_phase() {
        let at_exit = DUMP.replace(
            "Trigger: --dump-before=oauth_clients_bench::counts::phase_ends",
            "Trigger: Program termination",
        );
        assert!(!is_phase_dump(&at_exit));
    }

    #[test]
    fn a_dump_without_the_cache_events_is_refused() {
        let bare = "events: Ir\ntotals: 1000\n";
        let err = parse_callgrind(bare).unwrap_err();
        assert!(err.contains("--cache-sim=yes"), "{err}");
        assert!(parse_callgrind("events: Ir\n").is_err());
        assert!(parse_callgrind("events: Ir\ntotals: x\n").is_err());
    }
}
