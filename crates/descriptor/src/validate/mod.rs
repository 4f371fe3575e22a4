//! Validation of descriptors, with errors for people.
//!
//! Loading a descriptor happens in three steps, and every step reports problems as
//! `file:LINE:COL: field.path: message`:
//!
//! 1. the YAML is read by an event parser that records where every field path starts (serde
//!    gives no positions for values, so semantic errors look their path up in this index) and
//!    refuses input beyond a descriptor's bounds (size, nesting, alias expansion);
//! 2. serde reads the YAML into [`Descriptor`]; its errors (unknown field, missing field, wrong
//!    type or enum value) are reworded and given the nearest known field name;
//! 3. the rules a schema cannot express are checked: declared `{variables}`, HTTPS, grants
//!    that need endpoints, environments, identifiers, regular expressions…

#[cfg(feature = "yaml")]
mod index;
mod rules;
#[cfg(feature = "yaml")]
mod serde_error;

#[cfg(feature = "yaml")]
use crate::error::DescriptorError;
use crate::schema::Descriptor;

#[cfg(feature = "yaml")]
pub use index::MAX_DESCRIPTOR_BYTES;
#[cfg(feature = "yaml")]
use index::{Index, IndexError};
#[cfg(feature = "yaml")]
use rules::At;
pub(crate) use rules::Problem;

/// Parses and validates a descriptor; every problem found, in document order. A YAML or serde
/// error stops the checks, so it is then the only one.
#[cfg(feature = "yaml")]
pub(crate) fn diagnose(yaml: &str, origin: &str) -> Result<Descriptor, Vec<DescriptorError>> {
    let index = match Index::build(yaml) {
        Ok(index) => index,
        Err(IndexError::Syntax(err)) => return Err(vec![serde_error::syntax_error(&err, origin)]),
        Err(IndexError::Bound { at, message }) => {
            return Err(vec![DescriptorError::new(origin, Some(at), "", message)]);
        }
    };
    if !index.values.contains_key("") {
        return Err(vec![DescriptorError::new(
            origin,
            None,
            "",
            "the descriptor is empty: expected a mapping with at least `id`, `name`, \
             `endpoints` and `grants`",
        )]);
    }
    let descriptor: Descriptor = match serde_yaml::from_str(yaml) {
        Ok(descriptor) => descriptor,
        Err(err) => return Err(vec![serde_error::serde_error(&err, &index, origin)]),
    };
    let problems = check(&descriptor);
    if problems.is_empty() {
        return Ok(descriptor);
    }
    let mut errors: Vec<DescriptorError> = problems
        .into_iter()
        .map(|problem| {
            let position = match problem.at {
                At::Key => index.key(&problem.path),
                At::Value => index.value(&problem.path),
            };
            DescriptorError::new(origin, position, problem.path, problem.message)
        })
        .collect();
    // Document order; problems without a position (a missing field) last. The sort is stable,
    // so problems at one place keep the order of the checks.
    errors.sort_by_key(|e| (e.line.is_none(), e.line, e.column));
    Err(errors)
}

/// The rules a schema cannot express, checked on a parsed descriptor.
pub(crate) fn check(descriptor: &Descriptor) -> Vec<Problem> {
    let mut checker = rules::Checker::default();
    checker.check(descriptor);
    checker.problems
}

/// The candidate nearest to `word` by edit distance, when it is near enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("tokn", "token"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(nearest("tokn", ["token", "refresh"]), Some("token"));
        assert_eq!(nearest("zzzzzz", ["token"]), None);
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn index_positions() {
        let yaml = "a:\n  b: 1\n  c:\n    - x\n    - y\n? [complex]\n: 3\nd: {e: f}\n";
        let Ok(index) = Index::build(yaml) else {
            panic!("valid YAML")
        };
        assert_eq!(index.key("a.b"), Some((2, 3)));
        assert_eq!(index.value("a.b"), Some((2, 6)));
        assert_eq!(index.value("a.c[1]"), Some((5, 7)));
        assert_eq!(index.value("d.e"), Some((8, 8)));
    }

    #[cfg(feature = "yaml")]
    fn alias_bomb(levels: usize) -> String {
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..levels {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            yaml.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        yaml
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn alias_bombs_are_refused_before_expansion() {
        let yaml = format!("id: x\n{}", alias_bomb(9));
        let errors = match diagnose(&yaml, "bomb.yaml") {
            Err(errors) => errors,
            Ok(_) => panic!("an alias bomb loaded"),
        };
        assert_eq!(errors.len(), 1);
        let text = errors[0].to_string();
        assert!(text.starts_with("bomb.yaml:"), "{text}");
        assert!(text.contains("alias"), "{text}");
        // A few aliases are fine.
        assert!(Index::build(&alias_bomb(2)).is_ok());
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn oversized_and_deep_descriptors_are_refused() {
        let big = format!("id: x\nname: '{}'\n", "y".repeat(MAX_DESCRIPTOR_BYTES));
        let Err(errors) = diagnose(&big, "big.yaml") else {
            panic!("loaded")
        };
        assert!(errors[0].message.contains("at most"), "{}", errors[0]);
        let deep = format!("a: {}1{}\n", "[".repeat(100), "]".repeat(100));
        let Err(errors) = diagnose(&deep, "deep.yaml") else {
            panic!("loaded")
        };
        assert!(errors[0].message.contains("nest deeper"), "{}", errors[0]);
    }
}
