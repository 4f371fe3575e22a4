//! A descriptor that could not be loaded.

use std::fmt;

/// A descriptor that could not be loaded: where, which field, and what was expected.
///
/// `Display` reads `origin:LINE:COL: field.path: message`. A descriptor may come from anyone,
/// so control characters in the text it contributes (field names, values) are shown escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl DescriptorError {
    /// An error at a position (or none) of `origin`.
    pub fn new(
        origin: impl Into<String>,
        position: Option<(usize, usize)>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> DescriptorError {
        DescriptorError {
            origin: origin.into(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Writes `text` with control characters escaped (`\u{1b}`), so that it cannot move the cursor,
/// retitle or clear a terminal.
pub(crate) fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        if c.is_control() {
            write!(f, "{}", c.escape_unicode())?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.origin)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            f.write_str(": ")?;
            write_escaped(f, &self.path)?;
        }
        f.write_str(": ")?;
        write_escaped(f, &self.message)
    }
}

impl std::error::Error for DescriptorError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let err = DescriptorError::new(
            "d.yaml",
            Some((3, 4)),
            "grants.\u{1b}]0;PWNED\u{7}",
            "unknown field `\u{1b}[2J`",
        );
        let text = err.to_string();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.starts_with("d.yaml:3:4: grants."), "{text}");
    }
}
