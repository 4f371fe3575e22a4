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

mod api;
mod client;
pub mod descriptor;
mod error;
mod http;
mod lifecycle;
mod parse;
mod pkce;
mod provider;
mod scrub;
pub mod store;
mod template;
mod token;
mod validate;

pub use api::{ApiBody, ApiRequest, ApiResponse, MAX_API_BODY};
pub use client::{
    AuthorizationRequest, AuthorizeOptions, Callback, Client, ClientConfig, ClientOptions,
    EndpointKind, UserCredentials,
};
pub use descriptor::{Descriptor, GrantKind};
pub use error::{DescriptorError, Error};
pub use http::redact_url;
pub use lifecycle::{
    AuthorizedClient, ManagerOptions, TokenKey, TokenManager, TokenManagerBuilder, TokenSource,
};
pub use provider::Provider;
pub use store::{StoreError, StoreErrorKind, TokenStore};
pub use token::{Token, now_unix};

/// Re-exported so that generated code and users name the same secret types.
pub use secrecy;
