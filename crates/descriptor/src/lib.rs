//! The vendor descriptor schema of **oauth-clients**, and its validation.
//!
//! A descriptor (`providers/<id>.yaml`) describes one vendor's OAuth 2.0 set-up as data:
//! endpoints, grants, tenant variables and environments, client authentication, token-request
//! encoding and the quirks of its token responses. This crate defines the schema once
//! ([`schema`]), parses and validates descriptors with errors for people
//! ([`Provider::from_yaml_str`]: `file:LINE:COL: field.path: message`), and holds the rules
//! the engine shares with validation: the `{placeholder}` grammar ([`template`]), which URLs
//! may carry credentials ([`urls`]) and which names hold secrets ([`names`]).
//!
//! It is used by the generator (`cargo xtask codegen`) and by the runtime
//! (`oauth-clients-core`), so the generator compiles no HTTP or async code.
//!
//! ```
//! use oauth_clients_descriptor::Provider;
//!
//! let yaml = "
//! id: example
//! name: Example
//! endpoints:
//!   token: https://auth.example.com/oauth/token
//! grants:
//!   client_credentials: {}
//! ";
//! let provider = Provider::from_yaml_str(yaml, "example.yaml").expect("valid descriptor");
//! assert_eq!(provider.id(), "example");
//! ```

pub mod error;
pub mod metadata;
pub mod names;
mod provider;
#[cfg(feature = "codegen")]
pub mod rust_data;
pub mod schema;
pub mod template;
pub mod urls;
mod validate;

pub use error::DescriptorError;
pub use provider::Provider;
pub use schema::{Descriptor, GrantKind};
#[cfg(feature = "yaml")]
pub use validate::MAX_DESCRIPTOR_BYTES;
pub use validate::nearest;
