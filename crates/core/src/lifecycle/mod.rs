//! Token lifecycle: a manager that caches and renews tokens, and an authorized API client on
//! top of it.

mod authorized;
mod manager;

pub use authorized::AuthorizedClient;
pub use manager::{ManagerOptions, TokenKey, TokenManager, TokenManagerBuilder, TokenSource};
