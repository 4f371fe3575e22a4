//! The variable values a descriptor fake uses, and `{placeholder}` rendering with them.
//!
//! The rule, for every variable the descriptor declares: its `default`, else its `example`,
//! else the default environment's value, else a placeholder: the shortest text that matches its
//! `pattern`, or `https://<name>.sandbox.example` for a variable that starts a URL template (an
//! origin), or `sandbox`. A candidate that does not match the variable's `pattern` is skipped.
//! Names that only the default environment sets (typically hosts) take the environment's value.

use std::collections::BTreeMap;

use oauth_clients_descriptor::Provider;
use oauth_clients_descriptor::schema::Descriptor;
use oauth_clients_descriptor::template::Template;
use regex_syntax::hir::{Class, Hir, HirKind};

/// The values a fake uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Values {
    /// Every value, by name: the environment's, the declared variables', the captured ones'.
    pub all: BTreeMap<String, String>,
    /// The declared variables a client sets (`from` absent): what tests pass to the client.
    pub settable: BTreeMap<String, String>,
    /// The variables the engine captures (`from: …`): what the fake puts in its answers.
    pub captured: BTreeMap<String, String>,
}

impl Values {
    /// The values of `provider`'s descriptor, by the rule of this module.
    pub(crate) fn choose(provider: &Provider) -> Values {
        let descriptor = provider.descriptor();
        let environment = descriptor
            .default_environment
            .as_deref()
            .and_then(|name| descriptor.environments.get(name))
            .map(|env| env.values.clone())
            .unwrap_or_default();
        let mut values = Values {
            all: environment.clone(),
            ..Values::default()
        };
        for (name, variable) in &descriptor.variables {
            let candidates = [
                variable.default.as_deref(),
                variable.example.as_deref(),
                environment.get(name).map(String::as_str),
            ];
            let value = candidates
                .into_iter()
                .flatten()
                .find(|value| provider.value_matches(name, value))
                .map(str::to_owned)
                .unwrap_or_else(|| placeholder(provider, descriptor, name));
            values.all.insert(name.clone(), value.clone());
            if variable.from.is_some() {
                values.captured.insert(name.clone(), value);
            } else {
                values.settable.insert(name.clone(), value);
            }
        }
        values
    }

    /// These values and the client id (templates may use `{client_id}`).
    pub(crate) fn with_client_id(&self, client_id: &str) -> BTreeMap<String, String> {
        let mut all = self.all.clone();
        all.insert("client_id".into(), client_id.into());
        all
    }
}

/// A value for a variable that has no default, example or environment value.
fn placeholder(provider: &Provider, descriptor: &Descriptor, name: &str) -> String {
    let pattern = descriptor
        .variables
        .get(name)
        .and_then(|v| v.pattern.as_deref());
    if let Some(sample) = pattern.and_then(shortest_match)
        && provider.value_matches(name, &sample)
    {
        return sample;
    }
    let starts_url = url_templates(descriptor).any(|template| {
        Template::parse(template)
            .ok()
            .and_then(|t| {
                t.names()
                    .next()
                    .map(|n| n == name && t.starts_with_placeholder())
            })
            .unwrap_or(false)
    });
    if starts_url {
        format!("https://{}.sandbox.example", name.replace('_', "-"))
    } else {
        "sandbox".to_owned()
    }
}

/// Every URL template of a descriptor.
pub(crate) fn url_templates(descriptor: &Descriptor) -> impl Iterator<Item = &str> {
    let e = &descriptor.endpoints;
    let grants = &descriptor.grants;
    let own = oauth_clients_descriptor::GrantKind::ALL
        .into_iter()
        .filter_map(|kind| grants.common(kind).and_then(|c| c.endpoint));
    [
        Some(e.token.as_str()),
        e.authorization.as_deref(),
        e.refresh.as_deref(),
        e.revocation.as_deref(),
        e.introspection.as_deref(),
        e.device_authorization.as_deref(),
        e.userinfo.as_deref(),
        e.jwks.as_deref(),
        e.api_base.as_deref(),
    ]
    .into_iter()
    .flatten()
    .chain(e.extra.values().map(String::as_str))
    .chain(own.collect::<Vec<_>>())
}

/// The shortest text the regular expression matches (anchored), when one is easy to find.
fn shortest_match(pattern: &str) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut out = Vec::new();
    sample(&hir, &mut out)?;
    String::from_utf8(out).ok()
}

fn sample(hir: &Hir, out: &mut Vec<u8>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.extend_from_slice(&literal.0),
        HirKind::Class(Class::Bytes(class)) => {
            let ranges: Vec<(u8, u8)> = class
                .ranges()
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect();
            out.push(pick(&ranges)?);
        }
        HirKind::Class(Class::Unicode(class)) => {
            let ranges: Vec<(u32, u32)> = class
                .ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect();
            let ascii: Vec<(u8, u8)> = ranges
                .iter()
                .filter(|(start, _)| *start < 128)
                .filter_map(|(s, e)| {
                    Some((u8::try_from(*s).ok()?, u8::try_from((*e).min(127)).ok()?))
                })
                .collect();
            out.push(pick(&ascii)?);
        }
        HirKind::Repetition(repetition) => {
            for _ in 0..repetition.min.min(64) {
                sample(&repetition.sub, out)?;
            }
        }
        HirKind::Capture(capture) => sample(&capture.sub, out)?,
        HirKind::Concat(parts) => {
            for part in parts {
                sample(part, out)?;
            }
        }
        HirKind::Alternation(choices) => sample(choices.first()?, out)?,
    }
    Some(())
}

/// A readable byte of a class: a lowercase letter, a digit or an uppercase letter when the class
/// has one, else its first printable byte.
fn pick(ranges: &[(u8, u8)]) -> Option<u8> {
    let has = |b: u8| ranges.iter().any(|(s, e)| (*s..=*e).contains(&b));
    (b'a'..=b'z')
        .chain(b'0'..=b'9')
        .chain(b'A'..=b'Z')
        .chain(0x21..=0x7e)
        .find(|b| has(*b))
}

/// How a substituted value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// In a URL: percent-encoded (RFC 3986 unreserved characters and `:` kept), except a value
    /// that starts the template, which is an origin and goes in whole (without a final `/`).
    Url,
    /// As it is (parameters, headers, claims).
    Plain,
}

/// Renders a template with `values`; `Err` names a placeholder without a value, or why the text
/// is not a template.
pub(crate) fn render(
    text: &str,
    values: &BTreeMap<String, String>,
    escape: Escape,
) -> Result<String, String> {
    let template = Template::parse(text).map_err(|err| err.to_string())?;
    template.render(|name, out| {
        let value = values
            .get(name)
            .ok_or_else(|| format!("no value for `{{{name}}}` in `{text}`"))?;
        match escape {
            Escape::Url if out.is_empty() => out.push_str(value.trim_end_matches('/')),
            Escape::Url => {
                for byte in value.bytes() {
                    if byte.is_ascii_alphanumeric() || b"-._~:".contains(&byte) {
                        out.push(char::from(byte));
                    } else {
                        out.push_str(&format!("%{byte:02X}"));
                    }
                }
            }
            Escape::Plain => out.push_str(value),
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_matches_of_real_patterns() {
        for (pattern, expected) in [
            ("[A-Z0-9]{13}", "0000000000000"),
            ("[0-9]+", "0"),
            ("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}", "aaaaaaaa-aaaa"),
            (
                r"https://[a-z0-9][a-z0-9-]*\.api\.gong\.io",
                "https://a.api.gong.io",
            ),
            (r"((login|test)\.salesforce\.com|x)", "login.salesforce.com"),
            (r"\d{3}", "000"),
        ] {
            assert_eq!(
                shortest_match(pattern).as_deref(),
                Some(expected),
                "{pattern}"
            );
        }
    }

    #[test]
    fn rendering_escapes_inside_urls_and_keeps_origins() {
        let values: BTreeMap<String, String> = [
            ("origin".to_owned(), "https://a.example/".to_owned()),
            ("id".to_owned(), "a b/c".to_owned()),
        ]
        .into();
        assert_eq!(
            render("{origin}/x/{id}", &values, Escape::Url).unwrap(),
            "https://a.example/x/a%20b%2Fc"
        );
        assert_eq!(render("{id}", &values, Escape::Plain).unwrap(), "a b/c");
        assert!(render("{nope}", &values, Escape::Plain).is_err());
    }
}
