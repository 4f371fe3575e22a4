//! The rules a schema cannot express: declared `{variables}`, HTTPS, grants that need endpoints,
//! environments, identifiers, regular expressions, headers…

use std::collections::{BTreeMap, BTreeSet};

use url::Url;

use super::nearest;
use crate::names::reserved_header;
use crate::schema::{
    BodyEncoding, Capture, ClientAuth, ClientAuthMethods, Descriptor, HttpMethod, Variable,
};
use crate::template::{Template, is_identifier};
use crate::urls;

/// Where in a field an error points.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At {
    /// At the field's key.
    Key,
    /// At the field's value.
    Value,
}

/// A rule a descriptor breaks.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) path: String,
    /// Where a YAML position points (read only when loading YAML).
    #[cfg_attr(not(feature = "yaml"), allow(dead_code))]
    pub(crate) at: At,
    pub(crate) message: String,
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
    "device_code",
    "assertion",
    "client_assertion",
    "client_assertion_type",
    "subject_token",
    "subject_token_type",
];

/// Token-request parameters a descriptor may rename (`token_request.param_names`).
const RENAMABLE_PARAMS: &[&str] = &[
    "client_id",
    "client_secret",
    "grant_type",
    "code",
    "redirect_uri",
    "refresh_token",
    "scope",
    "code_verifier",
    "device_code",
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
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An endpoint: HTTPS (or HTTP on loopback), a valid URL once filled in.
    Url,
    /// A redirect URI: HTTPS, HTTP on loopback, the out-of-band URN or an app's own scheme.
    RedirectUri,
    /// A parameter or header value: any text.
    Value,
    /// An API path relative to `endpoints.api_base`.
    RelativePath,
    /// A claim of a JWT assertion: a value that may also use the assertion's own values.
    Claim,
}

/// Values the engine provides itself, usable in parameter and header values.
const ENGINE_VALUES: &[&str] = &["client_id"];

/// Values the engine provides to the claims of JWT assertions.
const CLAIM_VALUES: &[&str] = &["client_id", "subject", "token_endpoint", "scope"];

#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) problems: Vec<Problem>,
    /// Placeholder name → every path that uses it.
    used: BTreeMap<String, Vec<String>>,
    /// Names offered as "did you mean" for an undeclared placeholder: their "never used"
    /// problem would only repeat that typo.
    suggested: BTreeSet<String>,
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

impl Checker {
    fn problem(&mut self, path: impl Into<String>, at: At, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            at,
            message: message.into(),
        });
    }

    pub(crate) fn check(&mut self, d: &Descriptor) {
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
    fn template_fields<'d>(d: &'d Descriptor) -> Vec<(String, &'d str, Kind)> {
        let mut fields: Vec<(String, &str, Kind)> = Vec::new();
        let mut push = |path: String, text: &'d str, kind: Kind| fields.push((path, text, kind));
        if let Some(url) = &d.docs_url {
            push("docs_url".into(), url, Kind::Url);
        }
        if let Some(issuer) = &d.issuer {
            push("issuer".into(), issuer, Kind::Url);
        }
        let e = &d.endpoints;
        push("endpoints.token".into(), &e.token, Kind::Url);
        for (name, url) in [
            ("authorization", &e.authorization),
            ("refresh", &e.refresh),
            ("revocation", &e.revocation),
            ("introspection", &e.introspection),
            ("device_authorization", &e.device_authorization),
            ("userinfo", &e.userinfo),
            ("jwks", &e.jwks),
            ("api_base", &e.api_base),
        ] {
            if let Some(url) = url {
                push(format!("endpoints.{name}"), url, Kind::Url);
            }
        }
        for (name, url) in &e.extra {
            push(format!("endpoints.extra.{name}"), url, Kind::Url);
        }
        Self::grant_template_fields(d, &mut push);
        for (name, value) in &d.token_request.headers {
            push(format!("token_request.headers.{name}"), value, Kind::Value);
        }
        for (name, value) in &d.token_request.query_params {
            push(
                format!("token_request.query_params.{name}"),
                value,
                Kind::Value,
            );
        }
        for (name, value) in &d.api.headers {
            push(format!("api.headers.{name}"), value, Kind::Value);
        }
        if let Some(path) = &d.api.example_path {
            push("api.example_path".into(), path, Kind::RelativePath);
        }

        fields
    }

    /// The templates of the grants' settings.
    fn grant_template_fields<'d>(d: &'d Descriptor, push: &mut impl FnMut(String, &'d str, Kind)) {
        let g = &d.grants;
        for kind in g.kinds() {
            let Some(common) = g.common(kind) else {
                continue;
            };
            for (name, value) in common.extra_params {
                push(
                    format!("grants.{kind}.extra_params.{name}"),
                    value,
                    Kind::Value,
                );
            }
            if let Some(endpoint) = common.endpoint {
                push(format!("grants.{kind}.endpoint"), endpoint, Kind::Url);
            }
            for (name, value) in common.token_request.iter().flat_map(|t| &t.headers) {
                push(
                    format!("grants.{kind}.token_request.headers.{name}"),
                    value,
                    Kind::Value,
                );
            }
        }
        if let Some(uri) = g
            .client_credentials
            .as_ref()
            .and_then(|c| c.redirect_uri.as_ref())
        {
            push(
                "grants.client_credentials.redirect_uri".into(),
                uri,
                Kind::RedirectUri,
            );
        }
        if let Some(ac) = &g.authorization_code {
            if let Some(uri) = &ac.default_redirect_uri {
                push(
                    "grants.authorization_code.default_redirect_uri".into(),
                    uri,
                    Kind::RedirectUri,
                );
            }
            for (name, value) in &ac.extra_authorize_params {
                push(
                    format!("grants.authorization_code.extra_authorize_params.{name}"),
                    value,
                    Kind::Value,
                );
            }
        }
        if let Some(lc) = &g.legacy_credentials {
            if let Some(uri) = &lc.default_redirect_uri {
                push(
                    "grants.legacy_credentials.default_redirect_uri".into(),
                    uri,
                    Kind::RedirectUri,
                );
            }
            for (name, value) in &lc.credentials_params {
                push(
                    format!("grants.legacy_credentials.credentials_params.{name}"),
                    value,
                    Kind::Value,
                );
            }
        }
        for (name, value) in g.jwt_bearer.iter().flat_map(|j| &j.claims) {
            push(
                format!("grants.jwt_bearer.claims.{name}"),
                value,
                Kind::Claim,
            );
        }
    }

    fn templates(&mut self, d: &Descriptor) {
        for (path, text, kind) in Self::template_fields(d) {
            let template = match Template::parse(text) {
                Ok(template) => template,
                Err(err) => {
                    self.problem(&path, At::Value, err.to_string());
                    continue;
                }
            };
            let names: Vec<String> = template.names().map(str::to_owned).collect();
            for name in &names {
                self.used
                    .entry(name.clone())
                    .or_default()
                    .push(path.clone());
                let provided = match kind {
                    Kind::Value => ENGINE_VALUES.contains(&name.as_str()),
                    Kind::Claim => CLAIM_VALUES.contains(&name.as_str()),
                    _ => false,
                };
                if !provided {
                    self.resolve(d, &path, name);
                }
            }
            if path == "docs_url" && !names.is_empty() {
                self.problem(
                    &path,
                    At::Value,
                    "`docs_url` is shown as it is: it cannot use `{variables}`",
                );
                continue;
            }
            if kind == Kind::Url
                && let Some(first) = names.first().filter(|_| template.starts_with_placeholder())
            {
                let origin_pattern = d
                    .variables
                    .get(first)
                    .and_then(|v| v.pattern.as_deref())
                    .is_some_and(|p| p.starts_with("https://"));
                if !origin_pattern {
                    self.problem(
                        &path,
                        At::Value,
                        format!(
                            "`{text}` starts with `{{{first}}}`, which must then be a variable whose `pattern` starts with `https://`, so that only the vendor's own origins can take its place"
                        ),
                    );
                }
            }
            match kind {
                Kind::Url => self.url(&path, &template, text, false),
                Kind::RedirectUri => self.url(&path, &template, text, true),
                Kind::RelativePath => {
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
                Kind::Value | Kind::Claim => {
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

    /// HTTPS, or HTTP on a loopback host ([`urls::is_secure`]); a redirect URI may also be a
    /// URN or an app's own scheme. No user info, no fragment.
    fn url(&mut self, path: &str, template: &Template, text: &str, redirect: bool) {
        // Placeholders stand for host labels, ports or path segments: fill them in to parse. A
        // template may start with a variable that holds a whole origin (`{instance_url}/x`).
        let filled = |with: &str| {
            let text = template.fill(with);
            if template.starts_with_placeholder() {
                format!("https://origin.example{}", &text[with.len()..])
            } else {
                text
            }
        };
        let parsed = Url::parse(&filled("x")).or_else(|_| Url::parse(&filled("1")));
        let parsed = match parsed {
            Ok(url) => url,
            Err(err) => {
                self.problem(
                    path,
                    At::Value,
                    format!("`{text}` is not a valid URL: {err}"),
                );
                return;
            }
        };
        match parsed.scheme() {
            "https" | "http" if !parsed.username().is_empty() || parsed.password().is_some() => {
                self.problem(
                    path,
                    At::Value,
                    format!("`{text}` carries user info (`user@`): credentials never go in URLs"),
                )
            }
            "https" | "http" if parsed.fragment().is_some() && path != "docs_url" => self.problem(
                path,
                At::Value,
                format!("`{text}` has a fragment (`#…`), which is never sent"),
            ),
            "https" => {}
            "http" if urls::is_secure(&parsed) => {}
            "http" => self.problem(
                path,
                At::Value,
                format!(
                    "`{text}` does not use HTTPS: plain `http://` is allowed only for loopback hosts (127.0.0.0/8, localhost, [::1])"
                ),
            ),
            _ if redirect => {}
            scheme => self.problem(
                path,
                At::Value,
                format!("`{text}` must be an `https://` URL, not `{scheme}:`"),
            ),
        }
    }

    fn variables(&mut self, d: &Descriptor) {
        for (i, tag) in d.tags.iter().enumerate() {
            if !is_identifier(tag) {
                self.problem(
                    format!("tags[{i}]"),
                    At::Value,
                    format!("`{tag}` is not a tag: use lowercase letters, digits and `_`"),
                );
            }
        }
        for (name, variable) in &d.variables {
            self.captured_variable(d, name, variable);
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
                        if let Some(example) = &variable.example
                            && !regex.is_match(example)
                        {
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

    /// A captured variable's source, and a default's pattern.
    fn captured_variable(&mut self, d: &Descriptor, name: &str, variable: &Variable) {
        let path = format!("variables.{name}");
        if let (Some(default), Some(pattern)) = (&variable.default, &variable.pattern) {
            let matches = regex_lite::Regex::new(&format!("^(?:{pattern})$"))
                .is_ok_and(|regex| regex.is_match(default));
            if !matches {
                self.problem(
                    format!("{path}.default"),
                    At::Value,
                    format!("the default `{default}` does not match the pattern `{pattern}`"),
                );
            }
        }
        let Some(from) = &variable.from else {
            return;
        };
        let valid = match variable.capture() {
            Some(Capture::TokenResponse(keys)) => keys.iter().all(|k| !k.is_empty()),
            Some(Capture::Callback(param)) => !param.is_empty(),
            _ => false,
        };
        if !valid {
            self.problem(
                format!("{path}.from"),
                At::Value,
                format!(
                    "`{from}` is not a source: use `token_response.<field>` (dotted for nested fields) or `callback.<parameter>`"
                ),
            );
        }
        if variable.default.is_some() {
            self.problem(
                format!("{path}.default"),
                At::Key,
                "a captured variable takes its value from the vendor: it has no default",
            );
        }
        let in_url = self.used.get(name).is_some_and(|paths| {
            paths
                .iter()
                .any(|p| p.starts_with("endpoints.") || p == "issuer")
        });
        if in_url && variable.pattern.is_none() {
            self.problem(
                &path,
                At::Key,
                format!(
                    "`{name}` comes from the vendor's answer and shapes URLs: give it a `pattern` that only matches the vendor's own hosts"
                ),
            );
        }
        let _ = d;
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
                    || name == "code_challenge_method"
                    || name == "nonce";
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
        if let Some(cc) = &g.client_credentials {
            let methods = cc.client_auth.as_ref().unwrap_or(&d.client_auth);
            if methods.methods() == [ClientAuth::None] {
                self.problem(
                    "client_auth",
                    At::Value,
                    "a public client (`client_auth: none`) has no secret, so it cannot use the `client_credentials` grant",
                );
            }
        }
        self.new_grants(d);
    }

    /// The device code, JWT-bearer and token exchange grants, and what every grant shares.
    fn new_grants(&mut self, d: &Descriptor) {
        let g = &d.grants;
        match (&g.device_code, &d.endpoints.device_authorization) {
            (Some(_), None) => self.problem(
                "grants.device_code",
                At::Key,
                "the `device_code` grant needs `endpoints.device_authorization`, where devices ask for a user code",
            ),
            (None, Some(_)) => self.problem(
                "endpoints.device_authorization",
                At::Key,
                "`endpoints.device_authorization` is set but there is no `device_code` grant to use it",
            ),
            _ => {}
        }
        if let Some(jwt) = &g.jwt_bearer {
            if jwt.claims.is_empty() {
                self.problem(
                    "grants.jwt_bearer.claims",
                    At::Key,
                    "a JWT assertion needs claims: at least `iss`, `sub` and `aud`",
                );
            }
            if !(1..=86_400).contains(&jwt.lifetime_seconds) {
                self.problem(
                    "grants.jwt_bearer.lifetime_seconds",
                    At::Value,
                    "an assertion lives between 1 second and a day",
                );
            }
        }
        if let Some(te) = &g.token_exchange
            && te.subject_token_param.trim().is_empty()
        {
            self.problem(
                "grants.token_exchange.subject_token_param",
                At::Value,
                "the parameter that carries the token must have a name",
            );
        }
        self.client_auth_methods("client_auth", &d.client_auth);
        for kind in g.kinds() {
            let Some(common) = g.common(kind) else {
                continue;
            };
            if let Some(methods) = common.client_auth {
                self.client_auth_methods(&format!("grants.{kind}.client_auth"), methods);
            }
            if let Some(request) = common.token_request {
                self.param_names(
                    &format!("grants.{kind}.token_request"),
                    &request.param_names,
                );
                self.request_headers(
                    &format!("grants.{kind}.token_request.headers"),
                    request.headers.keys(),
                );
            }
        }
    }

    fn client_auth_methods(&mut self, path: &str, methods: &ClientAuthMethods) {
        let list = methods.methods();
        if list.is_empty() {
            self.problem(
                path,
                At::Value,
                "name at least one client authentication method",
            );
        }
        let unique: BTreeSet<&str> = list.iter().map(|m| m.as_str()).collect();
        if unique.len() != list.len() {
            self.problem(path, At::Value, "a method is listed twice");
        }
    }

    fn param_names(&mut self, path: &str, names: &BTreeMap<String, String>) {
        for (standard, renamed) in names {
            let at = format!("{path}.param_names.{standard}");
            if !RENAMABLE_PARAMS.contains(&standard.as_str()) {
                self.problem(
                    &at,
                    At::Key,
                    format!(
                        "`{standard}` is not a parameter the engine sends (expected one of {})",
                        quoted(RENAMABLE_PARAMS)
                    ),
                );
            } else if renamed.trim().is_empty() {
                self.problem(&at, At::Value, "a parameter name must not be empty");
            }
        }
    }

    fn request_headers<'a>(&mut self, section: &str, names: impl Iterator<Item = &'a String>) {
        for name in names {
            let path = format!("{section}.{name}");
            if !is_header_name(name) {
                self.problem(
                    &path,
                    At::Key,
                    format!("`{name}` is not a valid HTTP header name"),
                );
            } else if let Some(why) = reserved_header(name) {
                self.problem(
                    &path,
                    At::Key,
                    format!("`{name}` cannot be set here: {why}"),
                );
            } else if name.eq_ignore_ascii_case("content-type") {
                self.problem(
                    &path,
                    At::Key,
                    format!(
                        "`{name}` cannot be set here: it follows from `token_request.encoding`"
                    ),
                );
            }
        }
    }

    fn scopes_and_tokens(&mut self, d: &Descriptor) {
        if d.authorization_response_iss && d.issuer.is_none() {
            self.problem(
                "authorization_response_iss",
                At::Key,
                "`authorization_response_iss` needs `issuer`: the `iss` of callbacks is checked against it",
            );
        }
        for (i, kind) in d.token_response.token_types.iter().enumerate() {
            if kind.trim().is_empty() || kind.contains(char::is_whitespace) {
                self.problem(
                    format!("token_response.token_types[{i}]"),
                    At::Value,
                    format!("`{kind}` is not a token type: one word, such as `bot`"),
                );
            }
        }
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
        self.request_headers("token_request.headers", d.token_request.headers.keys());
        for name in d.api.headers.keys() {
            let path = format!("api.headers.{name}");
            if !is_header_name(name) {
                self.problem(
                    &path,
                    At::Key,
                    format!("`{name}` is not a valid HTTP header name"),
                );
            } else if let Some(why) = reserved_header(name) {
                self.problem(
                    &path,
                    At::Key,
                    format!("`{name}` cannot be set here: {why}"),
                );
            }
        }
        if let Some(name) = &d.api.request_id_header
            && !is_header_name(name)
        {
            self.problem(
                "api.request_id_header",
                At::Value,
                format!("`{name}` is not a valid HTTP header name"),
            );
        }
        if let Some(name) = &d.api.token_header {
            let credential = name.eq_ignore_ascii_case("authorization");
            if !is_header_name(name) {
                self.problem(
                    "api.token_header",
                    At::Value,
                    format!("`{name}` is not a valid HTTP header name"),
                );
            } else if !credential && reserved_header(name).is_some() {
                self.problem(
                    "api.token_header",
                    At::Value,
                    format!("`{name}` cannot carry the token: it is a connection-level or credential header of its own"),
                );
            }
        }
        if d.api.token_query_param.is_some()
            && (d.api.token_header.is_some() || d.api.token_scheme.is_some())
        {
            self.problem(
                "api.token_query_param",
                At::Key,
                "the token goes either in a query parameter or in a header, not both",
            );
        }
        self.token_request(d);
    }

    fn token_request(&mut self, d: &Descriptor) {
        let request = &d.token_request;
        self.param_names("token_request", &request.param_names);
        let methods = d.grants.kinds().into_iter().filter_map(|kind| {
            let common = d.grants.common(kind)?;
            let merged = request.with(common.token_request);
            Some((kind, merged))
        });
        for (kind, merged) in methods {
            if merged.method == HttpMethod::Get && merged.encoding != BodyEncoding::Form {
                self.problem(
                    format!("grants.{kind}.token_request"),
                    At::Key,
                    "a GET token request sends its parameters in the query: `encoding` must stay `form`",
                );
            }
        }
        let q = &d.token_response;
        if q.never_expires && q.default_expires_in.is_some() {
            self.problem(
                "token_response.never_expires",
                At::Key,
                "`never_expires` and `default_expires_in` contradict each other",
            );
        }
        for (field, value) in [
            ("expires_in_field", &q.expires_in_field),
            ("expires_at_field", &q.expires_at_field),
            ("refresh_expires_in_field", &q.refresh_expires_in_field),
            ("success_field", &q.success_field),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                self.problem(
                    format!("token_response.{field}"),
                    At::Value,
                    "a field name must not be empty",
                );
            }
        }
        for (name, path) in &q.additional_tokens {
            if path.is_empty() || path.iter().any(|key| key.is_empty()) {
                self.problem(
                    format!("token_response.additional_tokens.{name}"),
                    At::Value,
                    "give the keys leading to the token's object, e.g. `[authed_user]`",
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
