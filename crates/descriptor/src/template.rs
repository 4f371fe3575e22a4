//! The one grammar of `{placeholder}` templates, used by validation and by the engine.
//!
//! A template is text with placeholders. A placeholder is `{name}` where `name` is a lowercase
//! identifier (`[a-z][a-z0-9_]*`). Every other `{` or `}` is an error: descriptors have no way
//! to write a literal brace, so nothing can look like a placeholder and silently not be one.

use std::fmt;

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A `{name}` placeholder.
    Var(String),
}

/// A parsed template: literal text and placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// Why a text is not a valid template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Whether `name` is a lowercase identifier: `[a-z][a-z0-9_]*`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let error = |message: String| TemplateError { message };
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(error(format!("`{text}` has a `}}` without a `{{`")));
            }
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let Some(close) = after
                .find(['}', '{'])
                .filter(|&i| after[i..].starts_with('}'))
            else {
                return Err(error(format!("`{text}` has a `{{` without a `}}`")));
            };
            let name = &after[..close];
            if !is_identifier(name) {
                return Err(error(format!(
                    "`{{{name}}}` in `{text}` is not a variable name: use lowercase letters, \
                     digits and `_`, starting with a letter"
                )));
            }
            pieces.push(Piece::Var(name.to_owned()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(Template { pieces })
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The placeholder names, in order (repeats included).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Var(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// Whether the template starts with a placeholder (a variable holding a whole origin).
    pub fn starts_with_placeholder(&self) -> bool {
        matches!(self.pieces.first(), Some(Piece::Var(_)))
    }

    /// Whether the template has no placeholder.
    pub fn is_literal(&self) -> bool {
        self.names().next().is_none()
    }

    /// Renders the template: literal text is copied, each placeholder is written by `value`.
    pub fn render<E>(
        &self,
        mut value: impl FnMut(&str, &mut String) -> Result<(), E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => value(name, &mut out)?,
            }
        }
        Ok(out)
    }

    /// The template with every placeholder replaced by `with` (for checks of its shape).
    pub fn fill(&self, with: &str) -> String {
        self.render::<()>(|_, out| {
            out.push_str(with);
            Ok(())
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Result<Vec<String>, TemplateError> {
        Template::parse(text).map(|t| t.names().map(str::to_owned).collect())
    }

    #[test]
    fn one_grammar_for_placeholders() {
        assert_eq!(
            names("https://{a}.x/{b_1}/").unwrap(),
            vec!["a".to_owned(), "b_1".to_owned()]
        );
        for bad in [
            "https://{a.x/",
            "https://a}.x/",
            "{}",
            "{A}",
            "{1a}",
            "{a{b}}",
            "{\"a\":1}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let template = Template::parse("https://{a}.x/{b}").unwrap();
        assert_eq!(template.fill("x"), "https://x.x/x");
        assert!(!template.starts_with_placeholder());
        assert!(
            Template::parse("{origin}/x")
                .unwrap()
                .starts_with_placeholder()
        );
        assert!(Template::parse("plain").unwrap().is_literal());
    }
}
