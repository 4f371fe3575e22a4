//! `{variable}` substitution in descriptor templates (URLs, parameter values, headers).

use std::collections::BTreeMap;

use crate::descriptor::Descriptor;
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

/// The variable values a client uses: the user's, then the chosen environment's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    pub(crate) vendor: String,
    pub(crate) user: BTreeMap<String, String>,
    pub(crate) environment: BTreeMap<String, String>,
}

impl Vars {
    /// The value of a variable: the user's value wins over the environment's.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.user
            .get(name)
            .or_else(|| self.environment.get(name))
            .map(String::as_str)
    }

    /// Substitutes every `{name}` of `template`. A `{` that does not start a `{name}` with a
    /// name of ASCII letters, digits and `_` is kept literally.
    pub(crate) fn render(
        &self,
        template: &str,
        used_by: &str,
        escape: Escape,
    ) -> Result<String, Error> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if name_len > 0 && after.as_bytes().get(name_len) == Some(&b'}') {
                let name = &after[..name_len];
                let value = self.get(name).ok_or_else(|| Error::MissingVariable {
                    vendor: self.vendor.clone(),
                    variable: name.to_owned(),
                    used_by: used_by.to_owned(),
                })?;
                match escape {
                    Escape::Url => url_escape(value, &mut out),
                    Escape::Plain => out.push_str(value),
                }
                rest = &after[name_len + 1..];
            } else {
                out.push('{');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn url_escape(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Resolves the environment and checks every value against its variable's pattern.
pub(crate) fn resolve_vars(
    descriptor: &Descriptor,
    user: &BTreeMap<String, String>,
    environment: Option<&str>,
) -> Result<Vars, Error> {
    let vendor = descriptor.id.clone();
    let env_name = environment.or(descriptor.default_environment.as_deref());
    let env_values = match env_name {
        Some(name) => match descriptor.environments.get(name) {
            Some(env) => env.values.clone(),
            None => {
                let known: Vec<&str> = descriptor.environments.keys().map(String::as_str).collect();
                return Err(Error::Config {
                    vendor,
                    message: format!(
                        "unknown environment `{name}`; the descriptor has: {}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            }
        },
        None => BTreeMap::new(),
    };
    let vars = Vars {
        vendor,
        user: user.clone(),
        environment: env_values,
    };
    for (name, variable) in &descriptor.variables {
        let (Some(pattern), Some(value)) = (&variable.pattern, vars.get(name)) else {
            continue;
        };
        let anchored = format!("^(?:{pattern})$");
        let regex = regex_lite::Regex::new(&anchored).map_err(|err| Error::Config {
            vendor: vars.vendor.clone(),
            message: format!("variable `{name}` has an invalid pattern `{pattern}`: {err}"),
        })?;
        if !regex.is_match(value) {
            return Err(Error::InvalidVariable {
                vendor: vars.vendor.clone(),
                variable: name.clone(),
                pattern: pattern.clone(),
            });
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            vendor: "v".into(),
            user: [
                ("domain".to_owned(), "acme".to_owned()),
                ("odd".to_owned(), "a/b?c#d e@f".to_owned()),
            ]
            .into_iter()
            .collect(),
            environment: [
                ("host".to_owned(), "h.example:8443".to_owned()),
                ("domain".to_owned(), "env".to_owned()),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn substitutes_user_then_environment() {
        let v = vars();
        assert_eq!(
            v.render("https://{domain}.x.com/{host}", "t", Escape::Url)
                .unwrap(),
            "https://acme.x.com/h.example:8443"
        );
    }

    #[test]
    fn escapes_url_values() {
        let v = vars();
        assert_eq!(
            v.render("{odd}", "t", Escape::Url).unwrap(),
            "a%2Fb%3Fc%23d%20e%40f"
        );
        assert_eq!(
            v.render("{odd}", "t", Escape::Plain).unwrap(),
            "a/b?c#d e@f"
        );
    }

    #[test]
    fn keeps_braces_that_are_not_placeholders() {
        let v = vars();
        assert_eq!(
            v.render("{\"a\":1} {} {x", "t", Escape::Plain).unwrap(),
            "{\"a\":1} {} {x"
        );
    }

    fn descriptor() -> Descriptor {
        serde_yaml::from_str(
            r#"
id: t
name: T
variables:
  company:
    description: Company id.
    pattern: '[0-9]+'
environments:
  test:
    values: { host: test.example.com, company: '42' }
  bad:
    values: { host: bad.example.com, company: 'x42' }
default_environment: test
endpoints:
  token: https://{host}/token
grants:
  client_credentials: {}
"#,
        )
        .unwrap()
    }

    #[test]
    fn environments_and_patterns() {
        let d = descriptor();
        let vars = resolve_vars(&d, &BTreeMap::new(), None).unwrap();
        assert_eq!(vars.get("host"), Some("test.example.com"));
        assert_eq!(vars.get("company"), Some("42"));
        let user: BTreeMap<String, String> = [("company".to_owned(), "7".to_owned())].into();
        let vars = resolve_vars(&d, &user, Some("test")).unwrap();
        assert_eq!(vars.get("company"), Some("7"));
        // Anchored: a value with more than the pattern is refused.
        let user: BTreeMap<String, String> = [("company".to_owned(), "7; x".to_owned())].into();
        assert!(matches!(
            resolve_vars(&d, &user, None),
            Err(Error::InvalidVariable { .. })
        ));
        // Environment values are checked too.
        assert!(matches!(
            resolve_vars(&d, &BTreeMap::new(), Some("bad")),
            Err(Error::InvalidVariable { .. })
        ));
        let err = resolve_vars(&d, &BTreeMap::new(), Some("nope")).unwrap_err();
        assert!(err.to_string().contains("bad, test"), "{err}");
    }

    #[test]
    fn missing_variable_is_a_distinct_error() {
        let err = vars()
            .render("https://{nope}/", "endpoints.token", Escape::Url)
            .unwrap_err();
        assert!(matches!(err, Error::MissingVariable { ref variable, .. } if variable == "nope"));
        assert!(err.to_string().contains("endpoints.token"));
    }
}
