//! serde's and the YAML parser's errors, reworded for people and placed by the index.

use saphyr_parser::ScanError;

use super::index::{Index, join};
use super::nearest;
use crate::error::DescriptorError;

pub(crate) fn syntax_error(err: &ScanError, origin: &str) -> DescriptorError {
    DescriptorError::new(
        origin,
        Some((err.marker().line(), err.marker().col() + 1)),
        "",
        format!("invalid YAML: {}", err.info()),
    )
}

pub(crate) fn serde_error(err: &serde_yaml::Error, index: &Index, origin: &str) -> DescriptorError {
    let location = err.location().map(|l| (l.line(), l.column()));
    let mut text = err.to_string();
    if let Some((line, column)) = location {
        let suffix = format!(" at line {line} column {column}");
        if let Some(at) = text.find(&suffix) {
            text.truncate(at);
        }
    }
    // serde_yaml writes `path: message`; a path has no white space, a message's head has.
    let (mut path, message) = match text.split_once(": ") {
        Some((head, rest)) if !head.contains(char::is_whitespace) && head != "." => {
            (head.to_owned(), rest.to_owned())
        }
        _ => (String::new(), text.clone()),
    };
    let mut at_key = false;
    let message = if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        path = join(&path, field);
        at_key = true;
        let mut message = format!("unknown field `{field}`");
        if let Some(nearest) = nearest(field, known.iter().map(String::as_str)) {
            message.push_str(&format!("; did you mean `{nearest}`?"));
        }
        if known.is_empty() {
            message.push_str("; this mapping takes no fields");
        } else {
            message.push_str(&format!(" (expected one of {})", list(&known)));
        }
        message
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split_once('`').map_or(rest, |(f, _)| f);
        let parent = if path.is_empty() {
            "the descriptor".to_owned()
        } else {
            format!("`{path}`")
        };
        let message = format!("missing required field `{field}` in {parent}");
        path = join(&path, field);
        message
    } else if let Some(rest) = message.strip_prefix("duplicate field `") {
        let field = rest.split_once('`').map_or(rest, |(f, _)| f);
        path = join(&path, field);
        at_key = true;
        match index.key(&path) {
            Some((line, _)) => format!("`{field}` is set twice; the first is on line {line}"),
            None => format!("`{field}` is set twice"),
        }
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (variant, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let mut message = format!("unknown value `{variant}`");
        if let Some(nearest) = nearest(variant, known.iter().map(String::as_str)) {
            message.push_str(&format!("; did you mean `{nearest}`?"));
        }
        message.push_str(&format!(" (expected one of {})", list(&known)));
        message
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        let rest = rest
            .replace("expected u64", "expected a whole number")
            .replace("expected a sequence", "expected a list");
        format!("wrong type: found {rest}")
    } else {
        message
    };
    let position = if path.is_empty() {
        None
    } else if let Some(repeated) = index.repeated.get(&path) {
        Some(*repeated)
    } else if at_key {
        index.key(&path)
    } else {
        index.value(&path)
    }
    .or(location);
    DescriptorError::new(origin, position, path, message)
}

/// The `backticked` names of a serde "expected one of `a`, `b`" list.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
