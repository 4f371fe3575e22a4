//! Validation of descriptors, with errors for people.
//!
//! Loading a descriptor happens in three steps, and every step reports problems as
//! `file:LINE:COL: field.path: message`:
//!
//! 1. the YAML is read by an event parser that records where every field path starts (serde
//!    gives no positions for values, so semantic errors look their path up in this index);
//! 2. serde reads the YAML into [`Descriptor`]; its errors (unknown field, missing field, wrong
//!    type or enum value) are reworded and given the nearest known field name;
//! 3. the rules a schema cannot express are checked: declared `{variables}`, HTTPS, grants
//!    that need endpoints, environments, identifiers, regular expressions…

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use saphyr_parser::{Event, Parser, ScanError};

use crate::descriptor::{ClientAuth, Descriptor};
use crate::error::DescriptorError;

/// Parses and validates a descriptor; every problem found, in document order. A YAML or serde
/// error stops the checks, so it is then the only one.
pub(crate) fn diagnose(yaml: &str, origin: &str) -> Result<Descriptor, Vec<DescriptorError>> {
    let index = match Index::build(yaml) {
        Ok(index) => index,
        Err(err) => return Err(vec![syntax_error(&err, origin)]),
    };
    if !index.values.contains_key("") {
        return Err(vec![DescriptorError {
            origin: origin.to_owned(),
            line: None,
            column: None,
            path: String::new(),
            message: "the descriptor is empty: expected a mapping with at least `id`, `name`, `endpoints` and `grants`".to_owned(),
        }]);
    }
    let descriptor: Descriptor = match serde_yaml::from_str(yaml) {
        Ok(descriptor) => descriptor,
        Err(err) => return Err(vec![serde_error(&err, &index, origin)]),
    };
    let mut checker = Checker::default();
    checker.check(&descriptor);
    if checker.problems.is_empty() {
        return Ok(descriptor);
    }
    let mut errors: Vec<DescriptorError> = checker
        .problems
        .into_iter()
        .map(|problem| {
            let position = match problem.at {
                At::Key => index.key(&problem.path),
                At::Value => index.value(&problem.path),
            };
            DescriptorError {
                origin: origin.to_owned(),
                line: position.map(|p| p.0),
                column: position.map(|p| p.1),
                path: problem.path,
                message: problem.message,
            }
        })
        .collect();
    // Document order; problems without a position (a missing field) last. The sort is stable,
    // so problems at one place keep the order of the checks.
    errors.sort_by_key(|e| (e.line.is_none(), e.line, e.column));
    Err(errors)
}

// ---------------------------------------------------------------------------------------------
// Positions of field paths.

/// 1-based line and column.
type Position = (usize, usize);

/// Field path (`grants.authorization_code.pkce`, `scopes.default[0]`) → where its key and its
/// value start in the file.
#[derive(Default)]
struct Index {
    keys: HashMap<String, Position>,
    values: HashMap<String, Position>,
    /// Keys set a second time in one mapping: where the repetition is.
    repeated: HashMap<String, Position>,
}

enum Frame {
    Mapping {
        path: String,
        /// The key whose value comes next; `None` while a key is expected.
        key: Option<String>,
    },
    Sequence {
        path: String,
        next: usize,
    },
    /// A complex (non-scalar) mapping key, skipped; the depth of nested collections.
    SkipKey(usize),
}

impl Index {
    fn build(yaml: &str) -> Result<Index, ScanError> {
        let mut index = Index::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(yaml) {
            let (event, span) = event?;
            let position = (span.start.line(), span.start.col() + 1);
            if let Some(Frame::SkipKey(depth)) = stack.last_mut() {
                match event {
                    Event::MappingStart(..) | Event::SequenceStart(..) => *depth += 1,
                    Event::MappingEnd | Event::SequenceEnd => {
                        *depth -= 1;
                        if *depth == 0 {
                            stack.pop();
                            // The complex key is done: its value follows, under no path.
                            if let Some(Frame::Mapping { key, .. }) = stack.last_mut() {
                                *key = Some("?".to_owned());
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let is_node = matches!(
                event,
                Event::Scalar(..)
                    | Event::MappingStart(..)
                    | Event::SequenceStart(..)
                    | Event::Alias(..)
            );
            if is_node {
                // A node is either a mapping key, or a value at a path.
                let path = match stack.last_mut() {
                    None => Some(String::new()),
                    Some(Frame::Mapping { path, key }) => match key.take() {
                        Some(key) => Some(join(path, &key)),
                        None => {
                            match &event {
                                Event::Scalar(text, ..) => {
                                    let key_path = join(path, text);
                                    match index.keys.entry(key_path) {
                                        Entry::Occupied(first) => {
                                            index
                                                .repeated
                                                .entry(first.key().clone())
                                                .or_insert(position);
                                        }
                                        Entry::Vacant(slot) => {
                                            slot.insert(position);
                                        }
                                    }
                                    *key = Some(text.to_string());
                                }
                                _ => stack.push(Frame::SkipKey(0)),
                            }
                            None
                        }
                    },
                    Some(Frame::Sequence { path, next }) => {
                        let item = format!("{path}[{next}]");
                        *next += 1;
                        Some(item)
                    }
                    Some(Frame::SkipKey(_)) => None,
                };
                if let Some(Frame::SkipKey(depth)) = stack.last_mut() {
                    if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                        *depth += 1;
                    } else {
                        // A scalar complex key cannot happen (scalars are simple keys).
                        stack.pop();
                    }
                    continue;
                }
                let Some(path) = path else { continue };
                index.values.entry(path.clone()).or_insert(position);
                match event {
                    Event::MappingStart(..) => stack.push(Frame::Mapping { path, key: None }),
                    Event::SequenceStart(..) => stack.push(Frame::Sequence { path, next: 0 }),
                    _ => {}
                }
            } else if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                stack.pop();
            }
        }
        Ok(index)
    }

    /// Where the key of `path` is, else where its value is.
    fn key(&self, path: &str) -> Option<Position> {
        self.keys
            .get(path)
            .or_else(|| self.values.get(path))
            .copied()
    }

    /// Where the value of `path` is, else where its key is.
    fn value(&self, path: &str) -> Option<Position> {
        self.values
            .get(path)
            .or_else(|| self.keys.get(path))
            .copied()
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

// ---------------------------------------------------------------------------------------------
// YAML and serde errors.

fn syntax_error(err: &ScanError, origin: &str) -> DescriptorError {
    DescriptorError {
        origin: origin.to_owned(),
        line: Some(err.marker().line()),
        column: Some(err.marker().col() + 1),
        path: String::new(),
        message: format!("invalid YAML: {}", err.info()),
    }
}

fn serde_error(err: &serde_yaml::Error, index: &Index, origin: &str) -> DescriptorError {
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
    DescriptorError {
        origin: origin.to_owned(),
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        path,
        message,
    }
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

/// The candidate nearest to `word` by edit distance, when it is near enough to be a typo.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
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

// ---------------------------------------------------------------------------------------------
// Rules a schema cannot express.

/// Where in a field an error points.
#[derive(Clone, Copy)]
enum At {
    Key,
    Value,
}

struct Problem {
    path: String,
    at: At,
    message: String,
}

/// Names the engine or the generated config type uses itself; a variable may not take them.
const RESERVED_VARIABLES: &[&str] = &[
    "client_id",
    "client_secret",
    "scopes",
    "environment",
    "redirect_uri",
];

/// Rust keywords (2024 edition, reserved ones included): ids, variables and environments become
/// Rust names.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Module names of the generated crate that are not vendors.
const RESERVED_IDS: &[&str] = &["core", "registry", "lib", "std", "alloc"];

/// Token-request body parameters the engine sets itself.
const ENGINE_BODY_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "code_verifier",
    "redirect_uri",
    "refresh_token",
    "scope",
];

/// Step-1 parameters of the legacy flow that the engine sets itself.
const ENGINE_CREDENTIALS_PARAMS: &[&str] = &[
    "username",
    "password",
    "redirect_uri",
    "client_id",
    "response_type",
    "state",
];

/// What a template is, for the checks its text gets.
#[derive(Clone, Copy, PartialEq)]
enum Template {
    /// An endpoint: HTTPS (or HTTP on loopback), a valid URL once filled in.
    Url,
    /// A redirect URI: HTTPS, HTTP on loopback, the out-of-band URN or an app's own scheme.
    RedirectUri,
    /// A parameter or header value: any text.
    Value,
    /// An API path relative to `endpoints.api_base`.
    RelativePath,
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    /// Placeholder name → every path that uses it.
    used: BTreeMap<String, Vec<String>>,
    /// Names offered as "did you mean" for an undeclared placeholder: their "never used"
    /// problem would only repeat that typo.
    suggested: BTreeSet<String>,
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl Checker {
    fn problem(&mut self, path: impl Into<String>, at: At, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            at,
            message: message.into(),
        });
    }

    fn check(&mut self, d: &Descriptor) {
        self.identity(d);
        self.templates(d);
        self.variables(d);
        self.environments(d);
        self.grants(d);
        self.scopes_and_tokens(d);
        self.headers(d);
    }

    fn identity(&mut self, d: &Descriptor) {
        if !is_identifier(&d.id) {
            self.problem(
                "id",
                At::Value,
                format!(
                    "invalid id `{}`: use lowercase letters, digits and `_`, starting with a letter (it names the file and the Rust module)",
                    d.id
                ),
            );
        } else if KEYWORDS.contains(&d.id.as_str()) || RESERVED_IDS.contains(&d.id.as_str()) {
            self.problem(
                "id",
                At::Value,
                format!(
                    "invalid id `{}`: it is reserved as a Rust keyword or a module of the generated crate",
                    d.id
                ),
            );
        }
        if d.name.trim().is_empty() {
            self.problem("name", At::Value, "the name must not be empty");
        }
        if d.description
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            self.problem(
                "description",
                At::Value,
                "the description must not be empty; leave the field out instead",
            );
        }
    }

    /// Every text that may hold `{variable}` placeholders, with its path and kind.
    fn template_fields(d: &Descriptor) -> Vec<(String, &str, Template)> {
        let mut fields: Vec<(String, &str, Template)> = Vec::new();
        if let Some(url) = &d.docs_url {
            fields.push(("docs_url".into(), url, Template::Url));
        }
        let e = &d.endpoints;
        for (name, url) in [
            ("authorization", &e.authorization),
            ("refresh", &e.refresh),
            ("revocation", &e.revocation),
            ("api_base", &e.api_base),
        ] {
            if let Some(url) = url {
                fields.push((format!("endpoints.{name}"), url, Template::Url));
            }
        }
        fields.push(("endpoints.token".into(), &e.token, Template::Url));
        for (name, url) in &e.extra {
            fields.push((format!("endpoints.extra.{name}"), url, Template::Url));
        }
        let g = &d.grants;
        for kind in g.kinds() {
            if let Some(common) = g.common(kind) {
                for (name, value) in common.extra_params {
                    fields.push((
                        format!("grants.{kind}.extra_params.{name}"),
                        value,
                        Template::Value,
                    ));
                }
            }
        }
        if let Some(cc) = &g.client_credentials {
            if let Some(uri) = &cc.redirect_uri {
                fields.push((
                    "grants.client_credentials.redirect_uri".into(),
                    uri,
                    Template::RedirectUri,
                ));
            }
        }
        if let Some(ac) = &g.authorization_code {
            if let Some(uri) = &ac.default_redirect_uri {
                fields.push((
                    "grants.authorization_code.default_redirect_uri".into(),
                    uri,
                    Template::RedirectUri,
                ));
            }
            for (name, value) in &ac.extra_authorize_params {
                fields.push((
                    format!("grants.authorization_code.extra_authorize_params.{name}"),
                    value,
                    Template::Value,
                ));
            }
        }
        if let Some(lc) = &g.legacy_credentials {
            if let Some(uri) = &lc.default_redirect_uri {
                fields.push((
                    "grants.legacy_credentials.default_redirect_uri".into(),
                    uri,
                    Template::RedirectUri,
                ));
            }
            for (name, value) in &lc.credentials_params {
                fields.push((
                    format!("grants.legacy_credentials.credentials_params.{name}"),
                    value,
                    Template::Value,
                ));
            }
        }
        for (name, value) in &d.token_request.headers {
            fields.push((
                format!("token_request.headers.{name}"),
                value,
                Template::Value,
            ));
        }
        for (name, value) in &d.api.headers {
            fields.push((format!("api.headers.{name}"), value, Template::Value));
        }
        if let Some(path) = &d.api.example_path {
            fields.push(("api.example_path".into(), path, Template::RelativePath));
        }
        fields
    }

    fn templates(&mut self, d: &Descriptor) {
        for (path, text, kind) in Self::template_fields(d) {
            let names = match placeholders(text) {
                Ok(names) => names,
                Err(message) => {
                    self.problem(&path, At::Value, message);
                    continue;
                }
            };
            for name in &names {
                self.used
                    .entry(name.clone())
                    .or_default()
                    .push(path.clone());
                self.resolve(d, &path, name);
            }
            if path == "docs_url" && !names.is_empty() {
                self.problem(
                    &path,
                    At::Value,
                    "`docs_url` is shown as it is: it cannot use `{variables}`",
                );
                continue;
            }
            match kind {
                Template::Url => self.url(&path, text, false),
                Template::RedirectUri => self.url(&path, text, true),
                Template::RelativePath => {
                    if text.starts_with('/') || text.contains("://") {
                        self.problem(
                            &path,
                            At::Value,
                            format!(
                                "`{text}` must be a path relative to `endpoints.api_base`, without a leading `/`"
                            ),
                        );
                    } else if d.endpoints.api_base.is_none() {
                        self.problem(
                            &path,
                            At::Key,
                            "`api.example_path` needs `endpoints.api_base` to be joined to",
                        );
                    }
                }
                Template::Value => {
                    if text.contains(['\r', '\n']) {
                        self.problem(&path, At::Value, "the value must be on one line");
                    }
                }
            }
        }
    }

    /// Checks that a `{name}` used at `path` is declared.
    fn resolve(&mut self, d: &Descriptor, path: &str, name: &str) {
        if d.variables.contains_key(name) {
            return;
        }
        let setting: Vec<&str> = d
            .environments
            .iter()
            .filter(|(_, env)| env.values.contains_key(name))
            .map(|(env, _)| env.as_str())
            .collect();
        if !d.environments.is_empty() && setting.len() == d.environments.len() {
            return;
        }
        if setting.is_empty() {
            let known: BTreeSet<&str> = d
                .variables
                .keys()
                .chain(d.environments.values().flat_map(|env| env.values.keys()))
                .map(String::as_str)
                .collect();
            let mut message = format!(
                "`{{{name}}}` is not declared: declare `{name}` under `variables`, or set it in every environment's `values`"
            );
            if let Some(nearest) = nearest(name, known) {
                message = format!("`{{{name}}}` is not declared; did you mean `{{{nearest}}}`?");
                self.suggested.insert(nearest.to_owned());
            }
            self.problem(path, At::Value, message);
        } else {
            let missing: Vec<&str> = d
                .environments
                .keys()
                .map(String::as_str)
                .filter(|env| !setting.contains(env))
                .collect();
            self.problem(
                path,
                At::Value,
                format!(
                    "`{{{name}}}` is set by environment {} but not by {}: set it in every environment or declare it under `variables`",
                    quoted(&setting),
                    quoted(&missing)
                ),
            );
        }
    }

    /// HTTPS, or HTTP on a loopback host; a redirect URI may also be a URN or an app's scheme.
    fn url(&mut self, path: &str, template: &str, redirect: bool) {
        // Placeholders stand for host labels or path segments; fill them in to parse the URL.
        let filled = fill(template, "x");
        let parsed = match url::Url::parse(&filled) {
            Ok(url) => url,
            Err(err) => {
                self.problem(
                    path,
                    At::Value,
                    format!("`{template}` is not a valid URL: {err}"),
                );
                return;
            }
        };
        let host = template
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .map(|authority| authority.rsplit_once('@').map_or(authority, |(_, h)| h))
            .map(|host| match host.strip_prefix('[') {
                Some(v6) => v6
                    .split_once(']')
                    .map_or(host, |(addr, _)| &host[..addr.len() + 2]),
                None => host.split(':').next().unwrap_or(host),
            })
            .unwrap_or("");
        match parsed.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => self.problem(
                path,
                At::Value,
                format!(
                    "`{template}` does not use HTTPS: plain `http://` is allowed only for loopback hosts (127.0.0.1, localhost, [::1])"
                ),
            ),
            _ if redirect => {}
            scheme => self.problem(
                path,
                At::Value,
                format!("`{template}` must be an `https://` URL, not `{scheme}:`"),
            ),
        }
    }

    fn variables(&mut self, d: &Descriptor) {
        for (name, variable) in &d.variables {
            let path = format!("variables.{name}");
            if !is_identifier(name) || KEYWORDS.contains(&name.as_str()) {
                self.problem(
                    &path,
                    At::Key,
                    format!(
                        "invalid variable name `{name}`: use lowercase letters, digits and `_`, starting with a letter, and no Rust keyword (it becomes a Rust field)"
                    ),
                );
            } else if RESERVED_VARIABLES.contains(&name.as_str()) {
                self.problem(
                    &path,
                    At::Key,
                    format!(
                        "variable name `{name}` is reserved for the client's own settings: choose another"
                    ),
                );
            }
            if variable.description.trim().is_empty() {
                self.problem(
                    format!("{path}.description"),
                    At::Value,
                    "the description must not be empty: it documents the config field",
                );
            }
            if let Some(pattern) = &variable.pattern {
                match regex_lite::Regex::new(&format!("^(?:{pattern})$")) {
                    Err(err) => {
                        let reason = err.to_string();
                        let reason = reason.lines().last().unwrap_or_default().trim();
                        self.problem(
                            format!("{path}.pattern"),
                            At::Value,
                            format!("invalid regular expression `{pattern}`: {reason}"),
                        );
                    }
                    Ok(regex) => {
                        if let Some(example) = &variable.example {
                            if !regex.is_match(example) {
                                self.problem(
                                    format!("{path}.example"),
                                    At::Value,
                                    format!(
                                        "the example `{example}` does not match the pattern `{pattern}`"
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            if !self.used.contains_key(name) && !self.suggested.contains(name) {
                self.problem(
                    &path,
                    At::Key,
                    format!(
                        "variable `{name}` is declared but never used as `{{{name}}}` in a URL or parameter value"
                    ),
                );
            }
        }
    }

    fn environments(&mut self, d: &Descriptor) {
        match (&d.default_environment, d.environments.is_empty()) {
            (None, false) => self.problem(
                "default_environment",
                At::Key,
                format!(
                    "missing `default_environment`: it is required when there are environments; name one of {}",
                    quoted_keys(&d.environments)
                ),
            ),
            (Some(name), false) if !d.environments.contains_key(name) => {
                let mut message = format!("unknown environment `{name}`");
                if let Some(nearest) = nearest(name, d.environments.keys().map(String::as_str)) {
                    message.push_str(&format!("; did you mean `{nearest}`?"));
                }
                message.push_str(&format!(
                    " (expected one of {})",
                    quoted_keys(&d.environments)
                ));
                self.problem("default_environment", At::Value, message);
            }
            (Some(_), true) => self.problem(
                "default_environment",
                At::Key,
                "`default_environment` is set but there are no `environments`",
            ),
            _ => {}
        }
        let all_keys: BTreeSet<&str> = d
            .environments
            .values()
            .flat_map(|env| env.values.keys())
            .map(String::as_str)
            .collect();
        for (env_name, env) in &d.environments {
            let path = format!("environments.{env_name}");
            if !is_identifier(env_name) || KEYWORDS.contains(&env_name.as_str()) {
                self.problem(
                    &path,
                    At::Key,
                    format!(
                        "invalid environment name `{env_name}`: use lowercase letters, digits and `_`, starting with a letter, and no Rust keyword (it becomes a Rust enum variant)"
                    ),
                );
            }
            if env.values.is_empty() {
                self.problem(
                    format!("{path}.values"),
                    At::Key,
                    "an environment must set at least one value",
                );
            }
            let missing: Vec<&str> = all_keys
                .iter()
                .copied()
                .filter(|key| !env.values.contains_key(*key))
                .collect();
            if !missing.is_empty() {
                let others: Vec<&str> = d
                    .environments
                    .iter()
                    .filter(|(_, other)| missing.iter().any(|m| other.values.contains_key(*m)))
                    .map(|(name, _)| name.as_str())
                    .collect();
                self.problem(
                    format!("{path}.values"),
                    At::Key,
                    format!(
                        "environment `{env_name}` does not set {}, which environment {} sets: every environment must set the same variables",
                        quoted(&missing),
                        quoted(&others)
                    ),
                );
            }
            for (key, value) in &env.values {
                let value_path = format!("{path}.values.{key}");
                if d.variables.contains_key(key) {
                    self.problem(
                        &value_path,
                        At::Key,
                        format!(
                            "`{key}` is declared under `variables`, which the user sets: an environment sets only values of its own"
                        ),
                    );
                } else if !self.used.contains_key(key) && !self.suggested.contains(key) {
                    self.problem(
                        &value_path,
                        At::Key,
                        format!("`{key}` is set but never used as `{{{key}}}` in a URL or parameter value"),
                    );
                }
                if value.contains(['{', '}']) {
                    self.problem(
                        &value_path,
                        At::Value,
                        "an environment value is used as it is: it cannot use `{variables}`",
                    );
                }
            }
        }
    }

    fn grants(&mut self, d: &Descriptor) {
        let g = &d.grants;
        if g.kinds().is_empty() {
            self.problem(
                "grants",
                At::Key,
                "no grant: name at least one of `client_credentials`, `authorization_code`, `refresh_token`, `legacy_credentials`",
            );
        }
        for kind in g.kinds() {
            let Some(common) = g.common(kind) else {
                continue;
            };
            let path = format!("grants.{kind}");
            if common.grant_type.is_some_and(|t| t.trim().is_empty()) {
                self.problem(
                    format!("{path}.grant_type"),
                    At::Value,
                    "the `grant_type` must not be empty; leave the field out for the RFC 6749 value",
                );
            }
            if common.deprecated.is_some_and(|t| t.trim().is_empty()) {
                self.problem(
                    format!("{path}.deprecated"),
                    At::Value,
                    "the deprecation note must not be empty: say why and what to use instead",
                );
            }
            for name in common.extra_params.keys() {
                if ENGINE_BODY_PARAMS.contains(&name.as_str()) {
                    self.problem(
                        format!("{path}.extra_params.{name}"),
                        At::Key,
                        format!(
                            "`{name}` is set by the engine; use the grant's own settings (`grant_type`, `send_scope`, `redirect_uri`…) instead"
                        ),
                    );
                }
            }
        }
        if let Some(ac) = &g.authorization_code {
            if d.endpoints.authorization.is_none() {
                self.problem(
                    "grants.authorization_code",
                    At::Key,
                    "the `authorization_code` grant needs `endpoints.authorization`, the URL users are sent to",
                );
            }
            if ac.code_lifetime_seconds == Some(0) {
                self.problem(
                    "grants.authorization_code.code_lifetime_seconds",
                    At::Value,
                    "a code lifetime must be at least one second",
                );
            }
            let p = &ac.authorize_params;
            let names = [
                ("response_type", &p.response_type),
                ("client_id", &p.client_id),
                ("redirect_uri", &p.redirect_uri),
                ("scope", &p.scope),
                ("state", &p.state),
            ];
            let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
            for (field, value) in names {
                let path = format!("grants.authorization_code.authorize_params.{field}");
                if value.trim().is_empty() {
                    self.problem(&path, At::Value, "a parameter name must not be empty");
                } else if let Some(other) = seen.insert(value, field) {
                    self.problem(
                        &path,
                        At::Value,
                        format!("`{value}` is already the name of the `{other}` parameter"),
                    );
                }
            }
            for name in ac.extra_authorize_params.keys() {
                let reserved = seen.contains_key(name.as_str())
                    || name == "code_challenge"
                    || name == "code_challenge_method";
                if reserved {
                    self.problem(
                        format!("grants.authorization_code.extra_authorize_params.{name}"),
                        At::Key,
                        format!("`{name}` is set by the engine in every authorize URL"),
                    );
                }
            }
        } else if d.endpoints.authorization.is_some() {
            self.problem(
                "endpoints.authorization",
                At::Key,
                "`endpoints.authorization` is set but there is no `authorization_code` grant to use it",
            );
        }
        if let Some(lc) = &g.legacy_credentials {
            let name = &lc.credentials_endpoint;
            if !d.endpoints.extra.contains_key(name) {
                let mut message = format!("no endpoint `{name}` in `endpoints.extra`");
                if let Some(nearest) = nearest(name, d.endpoints.extra.keys().map(String::as_str)) {
                    message.push_str(&format!("; did you mean `{nearest}`?"));
                }
                if d.endpoints.extra.is_empty() {
                    message.push_str(
                        ": add the credentials URL there, e.g. `extra: { authz: https://… }`",
                    );
                } else {
                    message.push_str(&format!(
                        " (expected one of {})",
                        quoted_keys(&d.endpoints.extra)
                    ));
                }
                self.problem(
                    "grants.legacy_credentials.credentials_endpoint",
                    At::Value,
                    message,
                );
            }
            for name in lc.credentials_params.keys() {
                if ENGINE_CREDENTIALS_PARAMS.contains(&name.as_str()) {
                    self.problem(
                        format!("grants.legacy_credentials.credentials_params.{name}"),
                        At::Key,
                        format!("`{name}` is set by the engine in the credentials request"),
                    );
                }
            }
        }
        if g.refresh_token.is_some()
            && g.authorization_code.is_none()
            && g.legacy_credentials.is_none()
            && g.client_credentials.is_none()
        {
            self.problem(
                "grants.refresh_token",
                At::Key,
                "`refresh_token` alone gets no token to refresh: add the grant that issues refresh tokens",
            );
        }
        if g.refresh_token.is_none() && d.endpoints.refresh.is_some() {
            self.problem(
                "endpoints.refresh",
                At::Key,
                "`endpoints.refresh` is set but there is no `refresh_token` grant to use it",
            );
        }
        if d.client_auth == ClientAuth::None && g.client_credentials.is_some() {
            self.problem(
                "client_auth",
                At::Value,
                "a public client (`client_auth: none`) has no secret, so it cannot use the `client_credentials` grant",
            );
        }
    }

    fn scopes_and_tokens(&mut self, d: &Descriptor) {
        let separator = &d.scopes.separator;
        if separator.is_empty() {
            self.problem(
                "scopes.separator",
                At::Value,
                "the scope separator must not be empty",
            );
        }
        for (i, scope) in d.scopes.default.iter().enumerate() {
            if scope.trim().is_empty()
                || (!separator.is_empty() && scope.contains(separator.as_str()))
            {
                self.problem(
                    format!("scopes.default[{i}]"),
                    At::Value,
                    format!(
                        "`{scope}` is not one scope: scopes are listed one per item, without the separator"
                    ),
                );
            }
        }
        if d.token_response.default_expires_in == Some(0) {
            self.problem(
                "token_response.default_expires_in",
                At::Value,
                "a default lifetime must be at least one second",
            );
        }
        if let (Some(margin), Some(lifetime)) = (
            d.lifecycle.expiry_margin_seconds,
            d.token_response.default_expires_in,
        ) && margin >= lifetime
        {
            self.problem(
                "lifecycle.expiry_margin_seconds",
                At::Value,
                format!(
                    "a margin of {margin} s is not shorter than the default lifetime of {lifetime} s (`token_response.default_expires_in`): every token would count as expired"
                ),
            );
        }
        for (i, key) in d.token_response.token_path.iter().enumerate() {
            if key.is_empty() {
                self.problem(
                    format!("token_response.token_path[{i}]"),
                    At::Value,
                    "a key of the token path must not be empty",
                );
            }
        }
    }

    fn headers(&mut self, d: &Descriptor) {
        for (section, headers, forbidden, why) in [
            (
                "token_request.headers",
                &d.token_request.headers,
                "content-type",
                "it follows from `token_request.encoding`",
            ),
            (
                "api.headers",
                &d.api.headers,
                "authorization",
                "the engine sets it from the token",
            ),
        ] {
            for name in headers.keys() {
                let path = format!("{section}.{name}");
                if !is_header_name(name) {
                    self.problem(
                        &path,
                        At::Key,
                        format!("`{name}` is not a valid HTTP header name"),
                    );
                } else if name.eq_ignore_ascii_case(forbidden) {
                    self.problem(
                        &path,
                        At::Key,
                        format!("`{name}` cannot be set here: {why}"),
                    );
                }
            }
        }
        if let Some(name) = &d.api.request_id_header {
            if !is_header_name(name) {
                self.problem(
                    "api.request_id_header",
                    At::Value,
                    format!("`{name}` is not a valid HTTP header name"),
                );
            }
        }
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn quoted_keys<V>(map: &BTreeMap<String, V>) -> String {
    quoted(&map.keys().map(String::as_str).collect::<Vec<_>>())
}

/// The `{name}` placeholders of a template, in order; an error for unbalanced braces or a name
/// that is not an identifier.
pub(crate) fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("`{template}` has a `}}` without a `{{`"));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("`{template}` has a `{{` without a `}}`"));
        };
        let name = &after[..close];
        if !is_identifier(name) {
            return Err(format!(
                "`{{{name}}}` in `{template}` is not a variable name: use lowercase letters, digits and `_`"
            ));
        }
        names.push(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// The template with every placeholder replaced by `with`.
fn fill(template: &str, with: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str(with);
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
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

    #[test]
    fn placeholder_parsing() {
        assert_eq!(
            placeholders("https://{a}.x/{b_1}/"),
            Ok(vec!["a".to_owned(), "b_1".to_owned()])
        );
        assert!(placeholders("https://{a.x/").is_err());
        assert!(placeholders("https://a}.x/").is_err());
        assert_eq!(fill("https://{a}.x/{b}", "x"), "https://x.x/x");
    }

    #[test]
    fn index_positions() {
        let yaml = "a:\n  b: 1\n  c:\n    - x\n    - y\n? [complex]\n: 3\nd: {e: f}\n";
        let index = Index::build(yaml).map_err(|e| e.to_string());
        let index = match index {
            Ok(index) => index,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(index.key("a.b"), Some((2, 3)));
        assert_eq!(index.value("a.b"), Some((2, 6)));
        assert_eq!(index.value("a.c[1]"), Some((5, 7)));
        assert_eq!(index.value("d.e"), Some((8, 8)));
    }
}
