//! Runtime of **oauth-clients**: the vendor descriptor schema, one OAuth 2.0 engine that executes
//! any descriptor, tolerant token parsing, one error model, and the token lifecycle.
//!
//! Most users reach this crate through the generated, typed modules of the `oauth-clients`
//! crate. Users who keep vendors in configuration load a descriptor at run time instead:
//!
//! ```no_run
//! # async fn run() -> Result<(), oauth_clients_core::Error> {
//! use oauth_clients_core::{Client, ClientConfig, Provider};
//! use secrecy::SecretString;
//!
//! let yaml = std::fs::read_to_string("providers/procurify.yaml").expect("readable file");
//! let provider = Provider::from_yaml_str(&yaml, "providers/procurify.yaml")?;
//! let config = ClientConfig::new("my-client-id")
//!     .secret(SecretString::from("my-secret"))
//!     .variable("domain", "acme");
//! let client = Client::new(provider, config)?;
//! let token = client.client_credentials().await?;
//! println!("expires at {:?}", token.expires_at());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod client;
pub mod descriptor;
mod error;
mod provider;
mod token;

pub use client::{
    AuthorizationRequest, Callback, Client, ClientConfig, ClientOptions, UserCredentials,
};
pub use descriptor::{Descriptor, GrantKind};
pub use error::{DescriptorError, Error};
pub use provider::Provider;
pub use token::Token;

/// Re-exported so that generated code and users name the same secret types.
pub use secrecy;
