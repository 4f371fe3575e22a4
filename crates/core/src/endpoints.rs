//! A descriptor's endpoints, resolved once per client: variables substituted, HTTPS checked.

use std::fmt;

use oauth_clients_descriptor::Descriptor;
use url::Url;

use crate::error::Error;
use crate::target::check_secure;
use crate::vars::{Escape, Vars};

/// An endpoint of a descriptor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum EndpointKind {
    /// `endpoints.authorization`.
    Authorization,
    /// `endpoints.token`.
    Token,
    /// `endpoints.refresh`, falling back to the token endpoint.
    Refresh,
    /// `endpoints.revocation`.
    Revocation,
    /// `endpoints.introspection`.
    Introspection,
    /// `endpoints.device_authorization`.
    DeviceAuthorization,
    /// `endpoints.userinfo`.
    Userinfo,
    /// `endpoints.jwks`.
    Jwks,
    /// `endpoints.api_base`.
    ApiBase,
    /// `endpoints.extra.<name>`.
    Extra(String),
}

impl fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointKind::Authorization => f.write_str("authorization"),
            EndpointKind::Token => f.write_str("token"),
            EndpointKind::Refresh => f.write_str("refresh"),
            EndpointKind::Revocation => f.write_str("revocation"),
            EndpointKind::Introspection => f.write_str("introspection"),
            EndpointKind::DeviceAuthorization => f.write_str("device_authorization"),
            EndpointKind::Userinfo => f.write_str("userinfo"),
            EndpointKind::Jwks => f.write_str("jwks"),
            EndpointKind::ApiBase => f.write_str("api_base"),
            EndpointKind::Extra(name) => write!(f, "extra.{name}"),
        }
    }
}

/// Every endpoint template of a descriptor, with the field that holds it.
pub(crate) fn templates(descriptor: &Descriptor) -> Vec<(EndpointKind, &str, String)> {
    let e = &descriptor.endpoints;
    let mut templates: Vec<(EndpointKind, &str, String)> = vec![(
        EndpointKind::Token,
        e.token.as_str(),
        "endpoints.token".to_owned(),
    )];
    let optional = [
        (
            EndpointKind::Authorization,
            &e.authorization,
            "authorization",
        ),
        (EndpointKind::Refresh, &e.refresh, "refresh"),
        (EndpointKind::Revocation, &e.revocation, "revocation"),
        (
            EndpointKind::Introspection,
            &e.introspection,
            "introspection",
        ),
        (
            EndpointKind::DeviceAuthorization,
            &e.device_authorization,
            "device_authorization",
        ),
        (EndpointKind::Userinfo, &e.userinfo, "userinfo"),
        (EndpointKind::Jwks, &e.jwks, "jwks"),
        (EndpointKind::ApiBase, &e.api_base, "api_base"),
    ];
    for (kind, template, name) in optional {
        if let Some(template) = template {
            templates.push((kind, template, format!("endpoints.{name}")));
        }
    }
    for (name, template) in &e.extra {
        templates.push((
            EndpointKind::Extra(name.clone()),
            template,
            format!("endpoints.extra.{name}"),
        ));
    }
    templates
}

/// One endpoint rendered with `vars` (values captured with a token or from a callback on top
/// of the client's): `Ok(None)` when the descriptor has no such endpoint (the refresh endpoint
/// falls back to the token endpoint).
pub(crate) fn resolve_one(
    descriptor: &Descriptor,
    vars: &Vars,
    kind: &EndpointKind,
) -> Result<Option<Url>, Error> {
    let found = templates(descriptor)
        .into_iter()
        .find(|(k, _, _)| k == kind);
    match found {
        Some((_, template, used_by)) => {
            url_from_template(&descriptor.id, vars, template, &used_by).map(Some)
        }
        None if *kind == EndpointKind::Refresh => {
            resolve_one(descriptor, vars, &EndpointKind::Token)
        }
        None => Ok(None),
    }
}

/// Every endpoint of a descriptor with its URL, or why it has none (a missing variable).
pub(crate) struct Endpoints {
    /// In `EndpointKind` order. A few entries, looked up by a scan: a map's node would cost a
    /// kilobyte or more per client, and clients are many.
    resolved: Box<[(EndpointKind, Result<Url, Error>)]>,
}

impl Endpoints {
    /// Resolves every endpoint the descriptor names.
    pub(crate) fn resolve(descriptor: &Descriptor, vars: &Vars) -> Endpoints {
        let mut resolved: Vec<_> = templates(descriptor)
            .into_iter()
            .map(|(kind, template, used_by)| {
                (
                    kind,
                    url_from_template(&descriptor.id, vars, template, &used_by),
                )
            })
            .collect();
        // A later template of the same kind wins, as it would in a map.
        resolved.reverse();
        resolved.sort_by(|a, b| a.0.cmp(&b.0));
        resolved.dedup_by(|a, b| a.0 == b.0);
        Endpoints {
            resolved: resolved.into_boxed_slice(),
        }
    }

    /// The URL of an endpoint: `Ok(None)` when the descriptor has no such endpoint (the refresh
    /// endpoint falls back to the token endpoint).
    pub(crate) fn get(&self, kind: &EndpointKind) -> Result<Option<&Url>, Error> {
        match self
            .resolved
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v)
        {
            Some(Ok(url)) => Ok(Some(url)),
            Some(Err(err)) => Err(err.clone()),
            None if *kind == EndpointKind::Refresh => self.get(&EndpointKind::Token),
            None => Ok(None),
        }
    }

    /// Every endpoint the descriptor names, with its URL or the reason it has none.
    pub(crate) fn all(&self) -> impl Iterator<Item = (&EndpointKind, &Result<Url, Error>)> {
        self.resolved.iter().map(|(kind, url)| (kind, url))
    }
}

/// Substitutes variables into a URL template and checks the result is secure.
fn url_from_template(
    vendor: &str,
    vars: &Vars,
    template: &str,
    used_by: &str,
) -> Result<Url, Error> {
    let text = vars.render_text(template, used_by, Escape::Url)?;
    let url = Url::parse(&text).map_err(|err| {
        Error::config(
            vendor,
            format!("`{used_by}` does not give a valid URL: {err}"),
        )
    })?;
    check_secure(vendor, &url)?;
    Ok(url)
}
