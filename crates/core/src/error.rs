//! One error model for the whole runtime.

use std::fmt;

/// A descriptor that could not be loaded: where, which field, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorError {
    /// The file (or other origin) of the descriptor.
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field path, e.g. `grants.authorization_code.pkce`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DescriptorError {}

/// Everything that can go wrong at run time.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The descriptor is invalid.
    #[error(transparent)]
    Descriptor(#[from] DescriptorError),
    /// The client configuration does not fit the descriptor.
    #[error("{vendor}: invalid configuration: {message}")]
    Config {
        /// The vendor id.
        vendor: String,
        /// What is wrong.
        message: String,
    },
}
