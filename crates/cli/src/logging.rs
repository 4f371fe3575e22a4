//! The core's events (a corrupt store file moved aside, a token that could not be stored, a
//! wait for another process's refresh) reach the user on stderr, one line each. `RUST_LOG`
//! chooses what is shown when set; otherwise `-v` flags raise the level from WARN. From `-vv`
//! (DEBUG) every token request ends with a line inside its `oauth.token_request` span, whose
//! fields (vendor, grant, endpoint, status, request id, duration, error) the line shows. The
//! core never puts secrets in its events; stdout stays reserved for results.

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber (once; later calls do nothing). A closed stderr is ignored.
pub(crate) fn install(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .try_init();
}
