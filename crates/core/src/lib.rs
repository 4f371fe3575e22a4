//! Runtime of **oauth-clients**: one OAuth 2.0 engine that executes any vendor descriptor,
//! tolerant token parsing, one error model, and the token lifecycle.
//!
//! Most users reach this crate through the generated, typed modules of the `oauth-clients`
//! crate. Users who keep vendors in configuration load a descriptor at run time instead:
//!
//! ```no_run
//! # async fn run() -> Result<(), oauth_clients_core::Error> {
//! use oauth_clients_core::{Client, ClientConfig, Provider};
//! use secrecy::SecretString;
//!
//! let yaml = std::fs::read_to_string("my-vendor.yaml").expect("readable file");
//! let provider = Provider::from_yaml_str(&yaml, "my-vendor.yaml")?;
//! let config = ClientConfig::new("my-client-id")
//!     .secret(SecretString::from("my-secret"))
//!     .variable("domain", "acme");
//! let client = Client::new(provider, config)?;
//! let token = client.client_credentials().await?;
//! println!("expires at {:?}", token.expires_at());
//! # Ok(())
//! # }
//! ```
//!
//! # How a request flows
//!
//! A grant (one file each under `grants/`) assembles its parameters into a token call; the
//! call is prepared as plain data (client authentication, body encoding, the target URL with
//! rewrites applied: `request.rs`), sent by the transport, built once per client with retries
//! under one deadline (`transport.rs`), and the answer is parsed (`response.rs`). Every piece of
//! vendor text that can reach a person goes through one sanitizer (`sanitize.rs`).
#![deny(missing_docs)]

mod api;
mod callback;
mod client;
mod config;
mod crypto;
mod discovery;
mod endpoints;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod grants;
mod hashing;
mod headers;
mod jwks;
mod jwt;
mod lifecycle;
#[cfg(any(feature = "reqwest-middleware", feature = "tower"))]
pub mod middleware;
mod observe;
mod oidc;
mod parts;
mod probe;
mod redact;
mod request;
mod response;
mod sanitize;
mod secret;
mod stack;
pub mod store;
mod target;
mod token;
mod token_endpoints;
mod transport;
mod vars;

/// The descriptor schema (from `oauth-clients-descriptor`).
pub mod descriptor {
    pub use oauth_clients_descriptor::schema::*;
}

pub use api::{ApiBody, ApiRequest, ApiResponse};
pub use callback::{AuthorizationRequest, AuthorizeOptions, Callback};
pub use client::Client;
pub use config::{ClientConfig, UserCredentials};
pub use discovery::{Discovered, discover};
pub use endpoints::EndpointKind;
pub use error::{DescriptorError, Error};
pub use grants::{DeviceAuthorization, DevicePoll};
pub use jwt::SigningKey;
pub use lifecycle::{
    AuthorizedClient, Fetched, ManagerOptions, SignedOut, Tenant, Tenants, TenantsBuilder,
    TokenKey, TokenManager, TokenManagerBuilder, TokenSource,
};
pub use oauth_clients_descriptor::{GrantKind, Provider};
pub use probe::Probe;
pub use sanitize::{escape_control_characters, sanitize_text};
pub use secret::{
    AccessToken, AuthorizationCode, CsrfState, DeviceCode, IdToken, Nonce, Password, PkceVerifier,
    RefreshToken,
};
pub use stack::http_client_builder;
pub use store::{ImmediateStore, StoreError, StoreErrorKind, TokenStore};
pub use token::Token;
pub use token_endpoints::{Introspection, TokenRef};
pub use transport::ClientOptions;

/// Re-exported so that generated code and users name the same secret types.
pub use secrecy;
