//! The core's warnings (a corrupt store file moved aside, a token that could not be stored, a
//! failed refresh while the old token is kept) reach the user on stderr, one line each. The
//! core never puts secrets in its events; stdout stays reserved for results.

/// Installs the stderr subscriber for WARN and ERROR events (once; later calls do nothing).
pub(crate) fn install() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .try_init();
}
