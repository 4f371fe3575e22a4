//! Token lifecycle: a manager that caches and renews tokens, and an authorized API client on
//! top of it.

mod authorized;
mod buckets;
mod key;
mod manager;
mod source;
mod tenants;

pub use authorized::AuthorizedClient;
pub use key::TokenKey;
pub use manager::{Fetched, ManagerOptions, SignedOut, TokenManager, TokenManagerBuilder};
pub use source::TokenSource;
pub use tenants::{Tenant, Tenants, TenantsBuilder};
