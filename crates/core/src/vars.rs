//! The variable values of one client, and `{variable}` substitution with the one template
//! grammar of [`oauth_clients_descriptor::template`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use oauth_clients_descriptor::template::Template;
use oauth_clients_descriptor::{Provider, nearest};

use crate::error::Error;

/// How a substituted value is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// Percent-encode every byte except RFC 3986 unreserved characters and `:` (so a host with
    /// a port still works); a value can never add a path, query, fragment or user part.
    Url,
    /// Insert as is (body parameters and headers are encoded by their own encoders).
    Plain,
}

/// The variable values a client uses: the chosen environment's, then the user's for the
/// variables the descriptor declares. Every value is checked against its pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Vars {
    vendor: Box<str>,
    values: VarValues,
}

/// Name → value, sorted by name: a client has a handful, and a map's node would cost half a
/// kilobyte per client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct VarValues(Vec<(String, String)>);

impl VarValues {
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.as_str().cmp(name))
    }

    fn get(&self, name: &str) -> Option<&String> {
        self.position(name).ok().map(|at| &self.0[at].1)
    }

    fn insert(&mut self, name: String, value: String) {
        match self.position(&name) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => {
                // Exactly one more: a client keeps its values for its whole life.
                self.0.reserve_exact(1);
                self.0.insert(at, (name, value));
            }
        }
    }
}

impl From<BTreeMap<String, String>> for VarValues {
    fn from(map: BTreeMap<String, String>) -> VarValues {
        // A map iterates in key order: already sorted.
        VarValues(map.into_iter().collect())
    }
}

impl Vars {
    /// Resolves the environment and the user's values.
    ///
    /// A user value for a name the descriptor does not declare is an error (an environment's
    /// values, such as hosts, cannot be replaced through a misspelt or undeclared name), and
    /// every value must match its variable's pattern.
    pub(crate) fn resolve(
        provider: &Provider,
        user: &BTreeMap<String, String>,
        environment: Option<&str>,
    ) -> Result<Vars, Error> {
        let descriptor = provider.descriptor();
        let vendor = descriptor.id.as_str();
        let mut values = match environment.or(descriptor.default_environment.as_deref()) {
            Some(name) => match descriptor.environments.get(name) {
                Some(env) => env.values.clone(),
                None => {
                    let known: Vec<&str> =
                        descriptor.environments.keys().map(String::as_str).collect();
                    return Err(Error::config(
                        vendor,
                        format!(
                            "unknown environment `{name}`; the descriptor has: {}",
                            list_or_none(&known)
                        ),
                    ));
                }
            },
            None => BTreeMap::new(),
        };
        for (name, variable) in &descriptor.variables {
            if let (Some(default), None) = (&variable.default, user.get(name)) {
                values.insert(name.clone(), default.clone());
            }
        }
        for (name, value) in user {
            if descriptor
                .variables
                .get(name)
                .is_some_and(|v| v.from.is_some())
            {
                return Err(Error::config(
                    vendor,
                    format!(
                        "variable `{name}` is captured from the vendor's answers; it cannot be set"
                    ),
                ));
            }
            if !descriptor.variables.contains_key(name) {
                let declared: Vec<&str> = descriptor.variables.keys().map(String::as_str).collect();
                let mut message = format!("unknown variable `{name}`");
                if let Some(near) = nearest(name, declared.iter().copied()) {
                    let _ = write!(message, "; did you mean `{near}`?");
                }
                let _ = write!(
                    message,
                    " (the descriptor's variables are: {})",
                    list_or_none(&declared)
                );
                return Err(Error::config(vendor, message));
            }
            values.insert(name.clone(), value.clone());
        }
        check_patterns(provider, &values)?;
        Ok(Vars {
            vendor: vendor.into(),
            values: values.into(),
        })
    }

    /// The value of a variable.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Sets a value the engine provides itself (`client_id`, a claim's `subject`…).
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), value.into());
    }

    /// These values without `name`.
    pub(crate) fn without(&self, name: &str) -> Vars {
        let mut vars = self.clone();
        if let Ok(at) = vars.values.position(name) {
            vars.values.0.remove(at);
        }
        vars
    }

    /// These values with more on top (values captured with a token, checked when captured).
    pub(crate) fn overlay(&self, more: &BTreeMap<String, String>) -> Vars {
        let mut vars = self.clone();
        for (name, value) in more {
            vars.values.insert(name.clone(), value.clone());
        }
        vars
    }

    /// Substitutes every `{name}` of a parsed template.
    pub(crate) fn render(
        &self,
        template: &Template,
        used_by: &str,
        escape: Escape,
    ) -> Result<String, Error> {
        let origin_first = escape == Escape::Url && template.starts_with_placeholder();
        template.render(|name, out| {
            let value = self.get(name).ok_or_else(|| Error::MissingVariable {
                vendor: self.vendor.clone(),
                variable: name.into(),
                used_by: used_by.into(),
            })?;
            match escape {
                // A URL template that starts with a variable takes a whole origin from it.
                Escape::Url if origin_first && out.is_empty() => {
                    out.push_str(&self.origin(name, value, used_by)?);
                }
                Escape::Url => url_escape(value, out),
                Escape::Plain => out.push_str(value),
            }
            Ok(())
        })
    }

    /// Parses and renders a descriptor template (validated, so it parses).
    pub(crate) fn render_text(
        &self,
        text: &str,
        used_by: &str,
        escape: Escape,
    ) -> Result<String, Error> {
        let template = Template::parse(text).map_err(|err| {
            Error::config(
                &self.vendor,
                format!("`{used_by}` is not a valid template: {err}"),
            )
        })?;
        self.render(&template, used_by, escape)
    }
}

impl Vars {
    /// A value that stands for an origin: an `http(s)` URL with nothing but a host (and port),
    /// without its trailing `/`.
    fn origin(&self, name: &str, value: &str, used_by: &str) -> Result<String, Error> {
        let trimmed = value.trim_end_matches('/');
        let is_origin = url::Url::parse(trimmed).is_ok_and(|url| {
            matches!(url.scheme(), "https" | "http")
                && url.has_host()
                && url.username().is_empty()
                && url.password().is_none()
                && url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
        });
        if is_origin {
            Ok(trimmed.to_owned())
        } else {
            Err(Error::refused(
                &self.vendor,
                format!(
                    "the value of `{name}` (used by {used_by}) is not an origin such as `https://host`"
                ),
            ))
        }
    }
}

/// Every value must match its variable's pattern.
fn check_patterns(provider: &Provider, values: &BTreeMap<String, String>) -> Result<(), Error> {
    let descriptor = provider.descriptor();
    for (name, value) in values {
        if !provider.value_matches(name, value) {
            let pattern = descriptor
                .variables
                .get(name)
                .and_then(|v| v.pattern.as_deref())
                .unwrap_or_default();
            return Err(Error::InvalidVariable {
                vendor: descriptor.id.as_str().into(),
                variable: name.as_str().into(),
                pattern: pattern.into(),
            });
        }
    }
    Ok(())
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn url_escape(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Provider {
        Provider::from_yaml_str(
            r#"
id: t
name: T
variables:
  company:
    description: Company id.
    pattern: '[0-9]+'
  odd:
    description: Anything.
environments:
  test:
    values: { host: test.example.com }
  other:
    values: { host: other.example.com }
default_environment: test
endpoints:
  token: https://{host}/token/{company}/{odd}
grants:
  client_credentials: {}
"#,
            "t.yaml",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn user(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn environments_patterns_and_escaping() {
        let p = provider();
        let vars =
            Vars::resolve(&p, &user(&[("company", "7"), ("odd", "a/b?c#d e@f")]), None).unwrap();
        assert_eq!(vars.get("host"), Some("test.example.com"));
        let template = Template::parse("https://{host}/{company}/{odd}").unwrap();
        assert_eq!(
            vars.render(&template, "t", Escape::Url).unwrap(),
            "https://test.example.com/7/a%2Fb%3Fc%23d%20e%40f"
        );
        let vars = Vars::resolve(&p, &user(&[]), Some("other")).unwrap();
        assert_eq!(vars.get("host"), Some("other.example.com"));
        // Anchored: a value with more than the pattern is refused.
        assert!(matches!(
            Vars::resolve(&p, &user(&[("company", "7; x")]), None),
            Err(Error::InvalidVariable { .. })
        ));
        let err = Vars::resolve(&p, &user(&[]), Some("nope")).unwrap_err();
        assert!(err.to_string().contains("other, test"), "{err}");
    }

    #[test]
    fn undeclared_variables_are_refused() {
        let p = provider();
        // `host` is the environment's: it cannot be replaced through the configuration.
        let err = Vars::resolve(&p, &user(&[("host", "evil.example")]), None).unwrap_err();
        assert!(err.to_string().contains("unknown variable `host`"), "{err}");
        let err = Vars::resolve(&p, &user(&[("compnay", "7")]), None).unwrap_err();
        assert!(err.to_string().contains("did you mean `company`"), "{err}");
    }

    #[test]
    fn missing_variable_is_a_distinct_error() {
        let vars = Vars::resolve(&provider(), &user(&[]), None).unwrap();
        let template = Template::parse("https://{company}/").unwrap();
        let err = vars
            .render(&template, "endpoints.token", Escape::Url)
            .unwrap_err();
        assert!(
            matches!(err, Error::MissingVariable { ref variable, .. } if &**variable == "company")
        );
        assert!(err.to_string().contains("endpoints.token"));
    }
}
