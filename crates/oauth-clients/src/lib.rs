//! Typed OAuth 2.0 clients for vendor APIs, generated from `providers/*.yaml`.
#![deny(missing_docs)]

pub use oauth_clients_core as core;
