//! `oauth-clients sandbox`: the local fakes, until Ctrl-C.

use oauth_clients_sandbox::{Sandbox, SandboxConfig};

use crate::failure::Failure;
use crate::output::{self, note};

/// Serves until Ctrl-C. The `--rewrite-url` arguments go to stdout.
pub(crate) async fn run(port: u16) -> Result<String, Failure> {
    let config = SandboxConfig::default().port(port);
    let sandbox = Sandbox::start(config)
        .map_err(|err| Failure::usage(format!("cannot start the sandbox on port {port}: {err}")))?;
    // Listen for Ctrl-C before saying the sandbox is ready: an interrupt that comes right
    // after the announcement must stop it cleanly, not kill the process.
    let interrupted = interrupt()?;
    note(&format!(
        "sandbox of procurios, procurify, procore and procountor on {}",
        sandbox.base_url()
    ));
    note(&format!(
        "accepts --client-id {} and the test secret named in `oauth-clients sandbox --help`; \
         pass these to token, login and call:",
        sandbox.config().client_id
    ));
    let mut lines = String::new();
    for (from, to) in sandbox.rewrites() {
        lines.push_str(&format!("--rewrite-url {from}={to}\n"));
    }
    output::stdout(lines.as_bytes())?;
    note("press Ctrl-C to stop");
    interrupted.await;
    note("stopping");
    sandbox.shutdown();
    Ok(String::new())
}

/// A future that ends at the first Ctrl-C (SIGINT), listening from now on.
fn interrupt() -> Result<impl Future<Output = ()>, Failure> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut signals = signal(SignalKind::interrupt())
            .map_err(|err| Failure::vendor(format!("cannot listen for Ctrl-C: {err}")))?;
        Ok(async move {
            let _ = signals.recv().await;
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
