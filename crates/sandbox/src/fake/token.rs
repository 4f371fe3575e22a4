//! Token endpoints and the device authorization endpoint: where the parameters are, how they
//! are encoded, the headers, the names, `grant_type`, the grant's extra parameters; then the
//! client ([`super::client_auth`]) and the grant ([`super::grants`]).
//!
//! Every parameter the request carries must be one the descriptor explains: an unexpected one
//! is refused, naming it.

use std::collections::BTreeSet;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{BodyEncoding, HttpMethod, ParamsIn, TokenRequest};
use url::Url;

use super::answer::Grant;
use super::{Fake, Refusal, client_auth, grants};
use crate::state::State;
use crate::wire::{self, Params};

/// Largest request body read.
const BODY_LIMIT: usize = 64 * 1024;

/// A token request as it came: method, headers, query and body parameters.
pub(crate) struct Incoming {
    pub method: Method,
    pub headers: HeaderMap,
    pub query: Params,
    pub body: Params,
    /// The body's media type, when there is a body.
    pub body_type: Option<String>,
}

/// Reads a request's parameters whatever their encoding (form, JSON, multipart).
pub(crate) async fn read(request: Request) -> Result<Incoming, Refusal> {
    let (parts, body) = request.into_parts();
    let query = wire::parse_query(parts.uri.query())
        .map_err(|_| Refusal::request("a query parameter is repeated"))?;
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| Refusal::request("request body too large or unreadable"))?;
    let media = wire::media_type(&parts.headers);
    let mut incoming = Incoming {
        method: parts.method.clone(),
        headers: parts.headers.clone(),
        query,
        body: Params::new(),
        body_type: None,
    };
    if bytes.is_empty() {
        return Ok(incoming);
    }
    let unreadable = |_| Refusal::request("the body cannot be read as its Content-Type says");
    incoming.body = match media.as_deref() {
        Some("application/x-www-form-urlencoded") => wire::read_form(Body::from(bytes))
            .await
            .map_err(unreadable)?,
        Some("application/json") => wire::read_json(Body::from(bytes))
            .await
            .map_err(|_| Refusal::request("the body is not a JSON object of strings"))?,
        Some("multipart/form-data") => {
            let request = Request::from_parts(parts, Body::from(bytes));
            wire::read_multipart(request).await.map_err(unreadable)?
        }
        other => {
            return Err(Refusal::request(format!(
                "cannot read a body of Content-Type {}",
                other.unwrap_or("none")
            )));
        }
    };
    incoming.body_type = media;
    Ok(incoming)
}

/// The parameters of a request in the place the descriptor says, taken one by one; what is
/// left at the end was not expected.
pub(crate) struct Fields {
    params: Params,
    place: &'static str,
    taken: BTreeSet<String>,
}

impl Fields {
    /// Whether a parameter is there (taken or not).
    pub fn has(&self, name: &str) -> bool {
        self.params.contains_key(name)
    }

    /// Takes an optional parameter.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.taken.insert(name.to_owned());
        self.params.get(name).cloned()
    }

    /// Takes a required, non-empty parameter; `why` says where the descriptor asks for it.
    pub fn require(&mut self, name: &str, why: &str) -> Result<String, Refusal> {
        match self.take(name) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(Refusal::request(format!(
                "missing parameter `{name}` in the {} ({why})",
                self.place
            ))),
        }
    }

    /// A required parameter with this value.
    pub fn expect(&mut self, name: &str, value: &str, why: &str) -> Result<(), Refusal> {
        let got = self.require(name, why)?;
        if got == value {
            Ok(())
        } else {
            Err(Refusal::request(format!(
                "parameter `{name}` must be `{value}` ({why}), got `{got}`"
            )))
        }
    }

    /// A parameter that must not be there.
    pub fn refuse(&mut self, name: &str, why: &str) -> Result<(), Refusal> {
        if self.params.contains_key(name) {
            Err(Refusal::request(format!(
                "parameter `{name}` must not be sent ({why})"
            )))
        } else {
            Ok(())
        }
    }

    /// Refuses the first parameter nobody took.
    pub fn finish(&self) -> Result<(), Refusal> {
        match self.params.keys().find(|name| !self.taken.contains(*name)) {
            Some(name) => Err(Refusal::request(format!(
                "unexpected parameter `{name}` in the {}: the descriptor does not ask for it \
                 here (a standard name the vendor renames, or a setting the grant does not have?)",
                self.place
            ))),
            None => Ok(()),
        }
    }
}

/// The vendor's name of a standard parameter (`token_request.param_names`).
pub(crate) fn rename<'a>(settings: &'a TokenRequest, name: &'a str) -> &'a str {
    settings.param_names.get(name).map_or(name, String::as_str)
}

fn encoding_name(encoding: BodyEncoding) -> (&'static str, &'static str) {
    match encoding {
        BodyEncoding::Form => ("form", "application/x-www-form-urlencoded"),
        BodyEncoding::Json => ("json", "application/json"),
        BodyEncoding::Multipart => ("multipart", "multipart/form-data"),
    }
}

impl Fake {
    /// Checks the method, the place and encoding of the parameters, the fixed query parameters
    /// and the headers; the parameters to take.
    fn placed(
        &self,
        settings: &TokenRequest,
        incoming: &Incoming,
        client_id: &str,
    ) -> Result<Fields, Refusal> {
        let (want, method_name) = match settings.method {
            HttpMethod::Post => (Method::POST, "post"),
            HttpMethod::Get => (Method::GET, "get"),
        };
        if incoming.method != want {
            return Err(Refusal::request(format!(
                "this endpoint takes {want} (token_request.method: {method_name}), not {}",
                incoming.method
            )));
        }
        let in_query = settings.method == HttpMethod::Get || settings.params_in == ParamsIn::Query;
        let mut query = Fields {
            params: incoming.query.clone(),
            place: "query",
            taken: BTreeSet::new(),
        };
        for (name, template) in &settings.query_params {
            let value = self.plain(template, client_id)?;
            query.expect(name, &value, "token_request.query_params")?;
        }
        for (name, template) in &settings.headers {
            let value = self.plain(template, client_id)?;
            let got = incoming.headers.get(name).and_then(|v| v.to_str().ok());
            if got != Some(value.as_str()) {
                return Err(Refusal::request(format!(
                    "header `{name}` must be `{value}` (token_request.headers)"
                )));
            }
        }
        if in_query {
            if !incoming.body.is_empty() {
                return Err(Refusal::request(
                    "parameters go in the URL query here (token_request.params_in: query, or \
                     method: get), not in the body",
                ));
            }
            return Ok(query);
        }
        let (name, media) = encoding_name(settings.encoding);
        if incoming.body_type.as_deref() != Some(media) {
            return Err(Refusal::request(format!(
                "Content-Type must be {media} (token_request.encoding: {name}), got {}",
                incoming.body_type.as_deref().unwrap_or("no body")
            )));
        }
        query.finish().map_err(|_| {
            Refusal::request(format!(
                "unexpected query parameter `{}`: parameters go in the body here",
                incoming
                    .query
                    .keys()
                    .find(|n| !settings.query_params.contains_key(*n))
                    .map_or("", String::as_str)
            ))
        })?;
        Ok(Fields {
            params: incoming.body.clone(),
            place: "body",
            taken: BTreeSet::new(),
        })
    }

    /// Which of the grants served here the request is for.
    fn identify(&self, kinds: &[GrantKind], incoming: &Incoming) -> Result<GrantKind, Refusal> {
        let grants = &self.descriptor().grants;
        let param = |kind: GrantKind, name: &str| -> Option<String> {
            let settings = self.settings(kind);
            let name = rename(&settings, name);
            incoming
                .body
                .get(name)
                .or_else(|| incoming.query.get(name))
                .cloned()
        };
        let sends = |kind: GrantKind| grants.common(kind).is_some_and(|c| c.send_grant_type);
        let matching: Vec<GrantKind> = kinds
            .iter()
            .copied()
            .filter(|k| {
                sends(*k) && param(*k, "grant_type").as_deref() == Some(grants.grant_type(*k))
            })
            .collect();
        match matching.as_slice() {
            [one] => return Ok(*one),
            [first, ..] => {
                // Codes of the legacy flow and of the authorization code grant share a
                // `grant_type`: the code says which issued it.
                let by_code = param(*first, "code").and_then(|c| self.store.code_grant(&c));
                return Ok(by_code.filter(|k| matching.contains(k)).unwrap_or(*first));
            }
            [] => {}
        }
        let silent = kinds.iter().copied().find(|k| {
            !sends(*k) && grants::key_param(self, *k).is_none_or(|p| param(*k, &p).is_some())
        });
        if let Some(kind) = silent {
            return Ok(kind);
        }
        let sent = kinds.iter().find_map(|k| param(*k, "grant_type"));
        let served: Vec<&str> = kinds
            .iter()
            .filter(|k| sends(**k))
            .map(|k| grants.grant_type(*k))
            .collect();
        match sent {
            Some(value) => Err(Refusal::other(
                "unsupported_grant_type",
                format!(
                    "grant_type `{value}` is not served at this endpoint; it takes: {}",
                    served.join(", ")
                ),
            )),
            None => Err(Refusal::request(format!(
                "missing parameter `grant_type` (this endpoint takes: {})",
                served.join(", ")
            ))),
        }
    }

    /// Everything of a token request up to the grant's own checks.
    fn token_request(
        &self,
        shared: &State,
        kind: GrantKind,
        url: &Url,
        incoming: &Incoming,
    ) -> Result<(String, Fields), Refusal> {
        let settings = self.settings(kind);
        let mut fields = self.placed(&settings, incoming, &shared.config.client_id)?;
        let client_id =
            client_auth::authenticate(self, shared, kind, &settings, incoming, &mut fields, url)?;
        let grants = &self.descriptor().grants;
        let common = grants.common(kind);
        let name = rename(&settings, "grant_type");
        if common.is_some_and(|c| c.send_grant_type) {
            let value = grants.grant_type(kind);
            fields.expect(name, value, &format!("grants.{kind}"))?;
        } else {
            fields.refuse(name, &format!("grants.{kind}.send_grant_type is false"))?;
        }
        for (param, template) in common.map(|c| c.extra_params).into_iter().flatten() {
            let value = self.plain(template, &client_id)?;
            let why = format!("grants.{kind}.extra_params");
            fields.expect(rename(&settings, param), &value, &why)?;
        }
        Ok((client_id, fields))
    }
}

/// A token endpoint serving `kinds`, whose vendor URL is `url`.
pub(crate) async fn token(
    fake: &Fake,
    shared: &State,
    kinds: &[GrantKind],
    url: &Url,
    request: Request,
) -> Response {
    let outcome = async {
        let incoming = read(request).await?;
        let kind = fake.identify(kinds, &incoming)?;
        let (client_id, mut fields) = fake.token_request(shared, kind, url, &incoming)?;
        let ask = grants::ask(fake, kind, &mut fields, url, &client_id)?;
        fields.finish()?;
        grants::redeem(fake, kind, client_id, ask)
    }
    .await;
    match outcome {
        Ok(grant) => fake.answer(shared, grant),
        Err(refusal) => fake.refuse(refusal),
    }
}

/// The device authorization endpoint (RFC 8628 §3.1), with the device grant's request settings
/// and client authentication; answers `interval: 1`.
pub(crate) async fn device_authorization(
    fake: &Fake,
    shared: &State,
    url: &Url,
    request: Request,
) -> Response {
    let outcome = async {
        let incoming = read(request).await?;
        let kind = GrantKind::DeviceCode;
        let settings = fake.settings(kind);
        let mut fields = fake.placed(&settings, &incoming, &shared.config.client_id)?;
        let client_id =
            client_auth::authenticate(fake, shared, kind, &settings, &incoming, &mut fields, url)?;
        let scope = grants::scope(fake, kind, &settings, &mut fields)?;
        fields.finish()?;
        Ok::<_, Refusal>((client_id, scope))
    }
    .await;
    match outcome {
        Ok((client_id, scope)) => grants::start_device(fake, shared, url, client_id, scope),
        Err(refusal) => fake.refuse(refusal),
    }
}

/// A grant that earned a token, for [`Fake::answer`].
pub(crate) fn earned(kind: GrantKind, client_id: String, scope: Option<String>) -> Grant {
    Grant {
        kind,
        client_id,
        scope,
        nonce: None,
    }
}
