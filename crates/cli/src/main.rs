//! The `oauth-clients` command-line tool: tokens for any vendor of `providers/` in one line,
//! browser logins, authorized API calls, and a local sandbox of the seed vendors.
//!
//! stdout carries only the result (token JSON, response body, tables); progress, warnings and
//! errors go to stderr. Exit status: 0 on success, 1 when the vendor or the network failed,
//! 2 on a usage or descriptor error.

mod auth;
mod catalog;
mod cli;
mod demo;
mod describe;
mod failure;
mod logging;
mod loopback;

use std::io::Write as _;
use std::time::Duration;

use clap::Parser as _;

use crate::auth::Session;
use crate::cli::{Cli, Command};
use crate::failure::Failure;

fn main() {
    let cli = Cli::parse();
    logging::install();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(run(cli.command)) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(output.as_bytes());
            let _ = stdout.flush();
            0
        }
        Err(failure) => {
            if let Some(output) = failure.output() {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(output.as_bytes());
                let _ = stdout.flush();
            }
            eprintln!("error: {}", failure.message());
            failure.exit_code()
        }
    };
    drop(runtime);
    std::process::exit(code);
}

/// Runs one command; the `Ok` text is written to stdout.
async fn run(command: Command) -> Result<String, Failure> {
    match command {
        Command::Providers { json } => describe::providers(json),
        Command::Describe {
            vendor,
            json,
            descriptor,
        } => {
            let provider = catalog::resolve(vendor.as_deref(), descriptor.as_deref())?;
            describe::describe(&provider, json)
        }
        Command::Token {
            vendor,
            grant,
            common,
        } => {
            let session = Session::new(vendor.as_deref(), &common, None)?;
            let token = session.token(grant.as_deref()).await?;
            Ok(auth::token_json(session.client.provider().id(), &token))
        }
        Command::Login {
            vendor,
            port,
            oob,
            no_browser,
            timeout,
            common,
        } => {
            let mut common = common;
            if common.redirect_uri.take().is_some() {
                eprintln!(
                    "warning: login ignores --redirect-uri: it uses its loopback receiver, or the \
                     vendor's out-of-band URI with --oob"
                );
            }
            if oob {
                let session = Session::new(vendor.as_deref(), &common, None)?;
                let token = session.login_oob(!no_browser).await?;
                return Ok(auth::token_json(session.client.provider().id(), &token));
            }
            let provider = catalog::resolve(vendor.as_deref(), common.descriptor.as_deref())?;
            if provider.descriptor().grants.authorization_code.is_none() {
                return Err(Failure::usage(format!(
                    "{}: the vendor does not offer the authorization code grant",
                    provider.id()
                )));
            }
            let receiver = loopback::Receiver::bind(port, provider.id()).await?;
            let session = Session::with_provider(provider, &common, Some(receiver.redirect_uri()))?;
            let token = session
                .login_loopback(receiver, !no_browser, Duration::from_secs(timeout))
                .await?;
            Ok(auth::token_json(session.client.provider().id(), &token))
        }
        Command::Call { args, data, common } => {
            let (vendor, method, path) = match args.as_slice() {
                [vendor, method, path] => (Some(vendor.as_str()), method, path),
                [method, path] if common.descriptor.is_some() => (None, method, path),
                _ => {
                    return Err(Failure::usage(
                        "call takes <VENDOR> <METHOD> <PATH> (or <METHOD> <PATH> with --descriptor)",
                    ));
                }
            };
            let session = Session::new(vendor, &common, None)?;
            let body = session.call(method, path, data.as_deref()).await?;
            auth::print_body(&body);
            Ok(String::new())
        }
        Command::Sandbox { port } => sandbox(port).await,
        Command::Demo => demo::run().await,
    }
}

/// `oauth-clients sandbox`: serves until Ctrl-C. The `--rewrite-url` arguments go to stdout.
async fn sandbox(port: u16) -> Result<String, Failure> {
    use oauth_clients_sandbox::{Sandbox, SandboxConfig};
    let config = SandboxConfig::default().port(port);
    let sandbox = Sandbox::start(config)
        .map_err(|err| Failure::usage(format!("cannot start the sandbox on port {port}: {err}")))?;
    eprintln!(
        "sandbox of procurios, procurify, procore and procountor on {}",
        sandbox.base_url()
    );
    eprintln!(
        "accepts --client-id {} and the test secret named in `oauth-clients sandbox --help`; \
         pass these to token, login and call:",
        sandbox.config().client_id
    );
    {
        let mut stdout = std::io::stdout().lock();
        for (from, to) in sandbox.rewrites() {
            let _ = writeln!(stdout, "--rewrite-url {from}={to}");
        }
        let _ = stdout.flush();
    }
    eprintln!("press Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("stopping");
    sandbox.shutdown();
    Ok(String::new())
}
