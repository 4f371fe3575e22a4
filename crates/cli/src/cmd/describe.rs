//! `providers` and `describe`: what the descriptors say, never a secret.

use oauth_clients_core::descriptor::Descriptor;
use oauth_clients_core::{GrantKind, Provider, escape_control_characters};
use oauth_clients_descriptor::names::looks_secret;
use serde_json::{Value, json};

use crate::catalog;
use crate::failure::Failure;

/// Which vendors `providers` lists.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    /// Only vendors offering this grant.
    pub grant: Option<GrantKind>,
    /// Only vendors whose id, name, tags or description contain this word (any case).
    pub search: Option<String>,
}

impl Filter {
    fn keeps(&self, provider: &Provider) -> bool {
        let d = provider.descriptor();
        if let Some(grant) = self.grant
            && d.grants.common(grant).is_none()
        {
            return false;
        }
        let Some(word) = &self.search else {
            return true;
        };
        let word = word.to_lowercase();
        [&d.id, &d.name]
            .into_iter()
            .chain(&d.tags)
            .chain(&d.description)
            .any(|text| text.to_lowercase().contains(&word))
    }
}

/// `oauth-clients providers [--grant G] [--search WORD] [--json]`.
pub(crate) fn providers(filter: &Filter, as_json: bool) -> Result<String, Failure> {
    let providers: Vec<Provider> = catalog::builtin()
        .into_iter()
        .filter(|p| filter.keeps(p))
        .collect();
    if as_json {
        let list: Vec<Value> = providers
            .iter()
            .map(|p| {
                let d = p.descriptor();
                json!({
                    "id": d.id,
                    "name": d.name,
                    "tags": d.tags,
                    "grants": grant_ids(p),
                    "variables": d.variables.keys().collect::<Vec<_>>(),
                })
            })
            .collect();
        return pretty(&Value::Array(list));
    }
    if providers.is_empty() {
        return Err(Failure::usage(
            "no vendor matches; `oauth-clients providers` lists them all",
        ));
    }
    let rows: Vec<[String; 4]> = providers
        .iter()
        .map(|p| {
            let d = p.descriptor();
            [
                d.id.clone(),
                d.name.clone(),
                grant_ids(p).join(", "),
                d.variables.keys().cloned().collect::<Vec<_>>().join(", "),
            ]
        })
        .collect();
    Ok(escape_control_characters(&table(
        &["ID", "NAME", "GRANTS", "VARIABLES"],
        &rows,
    )))
}

/// `oauth-clients describe --issuer URL --yaml`: the descriptor the issuer's metadata makes,
/// as a commented file for review (what `cargo xtask import` writes).
pub(crate) async fn imported_yaml(id: Option<&str>, issuer: &str) -> Result<String, Failure> {
    let found =
        oauth_clients_core::discover(issuer, id, oauth_clients_core::ClientOptions::default())
            .await?;
    oauth_clients_descriptor::metadata::imported_yaml(
        found.provider.descriptor(),
        &found.metadata,
        found.metadata_url.as_str(),
    )
    .map_err(|err| Failure::usage(format!("cannot format the descriptor: {err}")))
}

/// The descriptor as YAML (secret-looking environment values masked, as with `--json`).
pub(crate) fn descriptor_yaml(provider: &Provider) -> Result<String, Failure> {
    let mut value = descriptor_json(provider)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("grant_ids");
    }
    serde_yaml::to_string(&value)
        .map_err(|err| Failure::usage(format!("cannot format the descriptor: {err}")))
}

fn grant_ids(provider: &Provider) -> Vec<&'static str> {
    provider
        .descriptor()
        .grants
        .kinds()
        .into_iter()
        .map(GrantKind::as_str)
        .collect()
}

/// A plain text table with columns padded to their widest cell.
pub(crate) fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn pretty(value: &Value) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|err| Failure::usage(format!("cannot format JSON: {err}")))
}

/// The descriptor as JSON, with the values of secret variables (declared `secret`, or with a
/// secret-looking name) masked wherever an environment sets them. Descriptors hold no
/// credentials (those come from the environment at run time).
pub(crate) fn descriptor_json(provider: &Provider) -> Result<Value, Failure> {
    let descriptor = provider.descriptor();
    let mut value = serde_json::to_value(descriptor)
        .map_err(|err| Failure::usage(format!("cannot format descriptor: {err}")))?;
    let declared_secret = |name: &str| descriptor.variables.get(name).is_some_and(|v| v.secret);
    if let Some(envs) = value.get_mut("environments").and_then(Value::as_object_mut) {
        for env in envs.values_mut() {
            if let Some(values) = env.get_mut("values").and_then(Value::as_object_mut) {
                for (name, v) in values.iter_mut() {
                    if declared_secret(name) || looks_secret(name) {
                        *v = Value::String("[redacted]".into());
                    }
                }
            }
        }
    }
    if let Some(object) = value.as_object_mut() {
        object.insert("grant_ids".into(), json!(grant_ids(provider)));
    }
    Ok(value)
}

/// `oauth-clients describe <vendor> [--json]`.
pub(crate) fn describe(provider: &Provider, as_json: bool) -> Result<String, Failure> {
    if as_json {
        return pretty(&descriptor_json(provider)?);
    }
    let d = provider.descriptor();
    let mut out = format!("{} ({})\n", d.name, d.id);
    if let Some(docs) = &d.docs_url {
        out.push_str(&format!("docs: {docs}\n"));
    }
    if let Some(description) = &d.description {
        out.push('\n');
        for line in description.trim_end().lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    describe_endpoints(d, &mut out);
    describe_grants(d, &mut out);
    out.push_str(&format!(
        "\nclient authentication: {}\ntoken request encoding: {}\n",
        d.client_auth
            .methods()
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        enum_name(&d.token_request.encoding)
    ));
    describe_variables(d, &mut out);
    if !d.api.headers.is_empty() {
        out.push_str("\nAPI headers:\n");
        for (name, value) in &d.api.headers {
            out.push_str(&format!("  {name}: {value}\n"));
        }
    }
    if let Some(note) = &d.lifecycle.note {
        out.push_str(&format!("\ncaching: {note}\n"));
    }
    // A descriptor may come from anyone: nothing in it may act on the terminal.
    Ok(escape_control_characters(&out))
}

fn describe_endpoints(d: &Descriptor, out: &mut String) {
    out.push_str("\nendpoints:\n");
    let e = &d.endpoints;
    let endpoints = [
        ("token", Some(&e.token)),
        ("authorization", e.authorization.as_ref()),
        ("refresh", e.refresh.as_ref()),
        ("revocation", e.revocation.as_ref()),
        ("api_base", e.api_base.as_ref()),
    ];
    for (name, url) in endpoints {
        if let Some(url) = url {
            out.push_str(&format!("  {name}: {url}\n"));
        }
    }
    for (name, url) in &e.extra {
        out.push_str(&format!("  {name}: {url}\n"));
    }
}

fn describe_grants(d: &Descriptor, out: &mut String) {
    out.push_str("\ngrants:\n");
    for kind in d.grants.kinds() {
        out.push_str(&format!("  {kind}"));
        let grant_type = d.grants.grant_type(kind);
        if grant_type != kind.default_grant_type() {
            out.push_str(&format!(" (grant_type={grant_type})"));
        }
        out.push('\n');
        if let Some(note) = d.grants.common(kind).and_then(|c| c.deprecated) {
            out.push_str(&format!("    deprecated: {note}\n"));
        }
    }
}

fn describe_variables(d: &Descriptor, out: &mut String) {
    if !d.variables.is_empty() {
        out.push_str("\nvariables (--var NAME=VALUE):\n");
        for (name, var) in &d.variables {
            out.push_str(&format!("  {name}: {}", var.description));
            if let Some(example) = &var.example {
                out.push_str(&format!(" (e.g. {example})"));
            }
            out.push('\n');
        }
    }
    if !d.environments.is_empty() {
        out.push_str("\nenvironments (--env NAME):\n");
        for (name, env) in &d.environments {
            let default = if d.default_environment.as_deref() == Some(name) {
                " [default]"
            } else {
                ""
            };
            out.push_str(&format!("  {name}{default}"));
            if let Some(description) = &env.description {
                out.push_str(&format!(": {description}"));
            }
            out.push('\n');
        }
    }
}

fn enum_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
