//! `oauth-clients sandbox`: the local fakes, until Ctrl-C: the seed vendors' hand-written fakes,
//! or fakes built from the descriptors named with `--vendor` and `--descriptor`.

use std::path::PathBuf;

use oauth_clients_core::Provider;
use oauth_clients_sandbox::{Sandbox, SandboxConfig};

use crate::catalog;
use crate::failure::Failure;
use crate::output::{self, note};

/// Serves until Ctrl-C. The `--rewrite-url` (and `--var`) arguments go to stdout.
pub(crate) async fn run(
    port: u16,
    vendors: &[String],
    descriptors: &[PathBuf],
) -> Result<String, Failure> {
    let providers = providers(vendors, descriptors)?;
    let config = SandboxConfig::default().port(port);
    let config = if providers.is_empty() {
        config
    } else {
        config
            .without_seed_vendors()
            .descriptors(providers.iter().map(|p| p.descriptor().clone()))
    };
    let sandbox = Sandbox::start(config).map_err(|err| match err.kind() {
        std::io::ErrorKind::InvalidInput => Failure::usage(err.to_string()),
        _ => Failure::usage(format!("cannot start the sandbox on port {port}: {err}")),
    })?;
    // Listen for Ctrl-C before saying the sandbox is ready: an interrupt that comes right
    // after the announcement must stop it cleanly, not kill the process.
    let interrupted = interrupt()?;
    let faked = if providers.is_empty() {
        "procurios, procurify, procore and procountor".to_owned()
    } else {
        sandbox.descriptor_ids().join(", ")
    };
    note(&format!("sandbox of {faked} on {}", sandbox.base_url()));
    note(&format!(
        "accepts --client-id {} and the test secret named in `oauth-clients sandbox --help`; \
         pass these to token, login and call:",
        sandbox.config().client_id
    ));
    let lines = if providers.is_empty() {
        rewrite_lines(sandbox.rewrites())
    } else {
        descriptor_lines(&sandbox)
    };
    output::stdout(lines.as_bytes())?;
    note("press Ctrl-C to stop");
    interrupted.await;
    note("stopping");
    sandbox.shutdown();
    Ok(String::new())
}

/// The vendors to fake: compiled-in ones by id, then descriptor files.
fn providers(vendors: &[String], descriptors: &[PathBuf]) -> Result<Vec<Provider>, Failure> {
    let mut providers = Vec::new();
    for vendor in vendors {
        providers.push(catalog::resolve_local(Some(vendor), None)?);
    }
    for path in descriptors {
        providers.push(catalog::resolve_local(None, Some(path))?);
    }
    Ok(providers)
}

fn rewrite_lines(rewrites: Vec<(String, String)>) -> String {
    rewrites
        .into_iter()
        .map(|(from, to)| format!("--rewrite-url {from}={to}\n"))
        .collect()
}

/// Each descriptor fake's rewrites and variables, after a `# <id>` line when there are several.
fn descriptor_lines(sandbox: &Sandbox) -> String {
    let ids = sandbox.descriptor_ids();
    let mut lines = String::new();
    for id in &ids {
        if ids.len() > 1 {
            lines.push_str(&format!("# {id}\n"));
        }
        lines.push_str(&rewrite_lines(sandbox.rewrites_for(id)));
        for (name, value) in sandbox.variables(id).into_iter().flatten() {
            lines.push_str(&format!("--var {name}={value}\n"));
        }
    }
    lines
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
