//! Helper process for the TLS tests: gets one client-credentials token from a token endpoint
//! with the transport's defaults, so what the environment says (`SSL_CERT_FILE`,
//! `HTTPS_PROXY`) is all that decides whom it trusts and where it connects.
//!
//! ```text
//! env_token TOKEN_URL
//! ```
//!
//! Prints `ok` and exits 0 with a token; prints the error and exits 1 without.

use std::process::ExitCode;

use oauth_clients_core::secrecy::SecretString;
use oauth_clients_core::{Client, ClientConfig, Error, Provider};

async fn token(token_url: &str) -> Result<(), Error> {
    let yaml = format!(
        "id: env_vendor\nname: Env vendor\nendpoints:\n  token: {token_url}\n\
         grants:\n  client_credentials: {{}}\nclient_auth: client_secret_post\n"
    );
    let provider = Provider::from_yaml_str(&yaml, "env_token")?;
    let config = ClientConfig::new("env-client").secret(SecretString::from("env-secret"));
    Client::new(provider, config)?.client_credentials().await?;
    Ok(())
}

fn main() -> ExitCode {
    let Some(token_url) = std::env::args().nth(1) else {
        eprintln!("usage: env_token TOKEN_URL");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(token(&token_url)) {
        Ok(()) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
