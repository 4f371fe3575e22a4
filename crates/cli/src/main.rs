//! The `oauth-clients` command-line tool: tokens for any vendor of `providers/` in one line,
//! browser logins, authorized API calls, and a local sandbox of the seed vendors.
//!
//! stdout carries only the result (token JSON, response body, tables); progress, warnings and
//! errors go to stderr. Exit status: 0 on success, 1 when the vendor or the network failed (or
//! the result could not be written or stored), 2 on a usage or descriptor error.
// Everything the tool writes goes through `output`: stdout writes can fail, stderr ones must not
// panic.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod catalog;
mod cli;
mod cmd;
mod failure;
mod logging;
mod loopback;
mod output;
mod session;
mod store_spec;
mod term;

use std::time::Duration;

use clap::Parser as _;

use oauth_clients_core::ClientOptions;

use crate::cli::{Cli, Command};
use crate::cmd::login::Via;
use crate::failure::Failure;
use crate::output::note;
use crate::session::Session;

fn main() {
    if let Err(failure) = output::refuse_closed_stdout() {
        note(&format!("error: {}", failure.message()));
        std::process::exit(failure.exit_code());
    }
    let cli = Cli::parse();
    logging::install(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            note(&format!("error: cannot start the async runtime: {err}"));
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(run(cli.command));
    drop(runtime);
    std::process::exit(finish(result));
}

/// Writes the result (or what a failure still owes stdout) and the error; the exit status.
fn finish(result: Result<String, Failure>) -> i32 {
    let (output, failure) = match result {
        Ok(output) => (output, None),
        Err(failure) => (
            failure.output().unwrap_or_default().to_owned(),
            Some(failure),
        ),
    };
    let written = output::stdout(output.as_bytes());
    match (failure, written) {
        (None, Ok(())) => 0,
        (None, Err(failure)) | (Some(failure), Ok(())) => {
            note(&format!("error: {}", failure.message()));
            failure.exit_code()
        }
        (Some(failure), Err(write_failure)) => {
            note(&format!("error: {}", failure.message()));
            note(&format!("error: {}", write_failure.message()));
            failure.exit_code().max(write_failure.exit_code())
        }
    }
}

/// Runs one command; the `Ok` text is written to stdout.
async fn run(command: Command) -> Result<String, Failure> {
    match command {
        Command::Providers {
            output,
            json,
            grant,
            search,
        } => {
            let grant = grant
                .map(|g| g.parse().map_err(Failure::usage))
                .transpose()?;
            let as_json = json || output == cli::ListFormat::Json;
            cmd::describe::providers(&cmd::describe::Filter { grant, search }, as_json)
        }
        Command::Describe {
            vendor,
            output,
            json,
            yaml,
            descriptor,
            issuer,
        } => describe(vendor, output.or_flags(json, yaml), descriptor, issuer).await,
        Command::Doctor { vendor, common } => cmd::doctor::run(vendor.as_deref(), &common).await,
        Command::Completions { shell } => Ok(cmd::manual::completions(shell)),
        Command::Man => cmd::manual::man(),
        Command::Token {
            vendor,
            grant,
            common,
        } => {
            let session = Session::new(vendor.as_deref(), &common, None).await?;
            cmd::token::run(&session, grant.as_deref(), common.subject.as_deref()).await
        }
        Command::Login {
            vendor,
            port,
            oob,
            device,
            no_browser,
            wait,
            common,
        } => {
            let via = if device {
                Via::Device
            } else if oob {
                Via::OutOfBand
            } else {
                Via::Loopback {
                    port,
                    wait: Duration::from_secs(wait),
                }
            };
            login(vendor, common, via, !no_browser).await
        }
        Command::Call {
            args,
            data,
            userinfo,
            common,
        } => call(args, data, userinfo, common).await,
        Command::Revoke { vendor, common } => {
            let session = Session::new(vendor.as_deref(), &common, None).await?;
            cmd::revoke::revoke(&session).await
        }
        Command::Introspect { vendor, common } => {
            let session = Session::new(vendor.as_deref(), &common, None).await?;
            cmd::revoke::introspect(&session).await
        }
        Command::Sandbox {
            port,
            vendors,
            descriptors,
        } => cmd::sandbox::run(port, &vendors, &descriptors).await,
        Command::Demo => cmd::demo::run().await,
    }
}

/// `login`, which chooses its own redirect URI.
async fn login(
    vendor: Option<String>,
    mut common: cli::Common,
    via: Via,
    open_browser: bool,
) -> Result<String, Failure> {
    if common.redirect_uri.take().is_some() {
        note(
            "warning: login ignores --redirect-uri: it uses its loopback receiver, or the \
             vendor's out-of-band URI with --oob",
        );
    }
    cmd::login::run(vendor.as_deref(), &common, via, open_browser).await
}

/// `call`: `<VENDOR> <METHOD> <PATH>`, `<METHOD> <PATH>` with --descriptor or --issuer, or
/// `<VENDOR>` (or nothing) with --userinfo.
async fn call(
    args: Vec<String>,
    data: Option<String>,
    userinfo: bool,
    common: cli::Common,
) -> Result<String, Failure> {
    let other_source = common.descriptor.is_some() || common.issuer.is_some();
    let usage = || {
        Failure::usage(
            "call takes <VENDOR> <METHOD> <PATH> (or <METHOD> <PATH> with --descriptor or \
             --issuer), or <VENDOR> --userinfo",
        )
    };
    if userinfo {
        let vendor = match args.as_slice() {
            [vendor] => Some(vendor.as_str()),
            [] if other_source => None,
            _ => return Err(usage()),
        };
        let session = Session::new(vendor, &common, None).await?;
        return cmd::call::userinfo(&session).await;
    }
    let (vendor, method, path) = match args.as_slice() {
        [vendor, method, path] => (Some(vendor.as_str()), method, path),
        [method, path] if other_source => (None, method, path),
        _ => return Err(usage()),
    };
    let session = Session::new(vendor, &common, None).await?;
    cmd::call::run(&session, method, path, data.as_deref()).await
}

/// `describe`: text, JSON or YAML; with --issuer and --yaml, a descriptor file for review.
async fn describe(
    vendor: Option<String>,
    format: cli::DescribeFormat,
    descriptor: Option<std::path::PathBuf>,
    issuer: Option<String>,
) -> Result<String, Failure> {
    let yaml = format == cli::DescribeFormat::Yaml;
    if let (true, Some(issuer)) = (yaml, issuer.as_deref()) {
        return cmd::describe::imported_yaml(vendor.as_deref(), issuer).await;
    }
    let provider = catalog::resolve(
        vendor.as_deref(),
        descriptor.as_deref(),
        issuer.as_deref(),
        ClientOptions::default(),
    )
    .await?;
    if yaml {
        return cmd::describe::descriptor_yaml(&provider);
    }
    cmd::describe::describe(&provider, format == cli::DescribeFormat::Json)
}
