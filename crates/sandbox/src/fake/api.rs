//! API requests under `endpoints.api_base`: the access token where `api` says (the
//! `token_header` with its `token_scheme`, `Authorization: Bearer` by default, or the
//! `token_query_param`), every `api.headers` with its value; `example_path` answers 200 with
//! JSON, any other path 404. An unknown or expired token gets 401 (RFC 6750 §3).

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::Response;

use super::Fake;
use super::values::{Escape, render};
use crate::wire;

/// An API request.
pub(crate) fn api(fake: &Fake, path: &str, request: Request) -> Response {
    let api = &fake.descriptor().api;
    let Ok(query) = wire::parse_query(request.uri().query()) else {
        return wire::invalid_request("a query parameter is repeated");
    };
    let token = match &api.token_query_param {
        Some(param) => match query.get(param) {
            Some(token) => token.clone(),
            None => {
                let why = format!("missing access token in query parameter `{param}`");
                return wire::invalid_token(&why);
            }
        },
        None => match bearer(fake, &request) {
            Ok(token) => token,
            Err(why) => return wire::invalid_token(&why),
        },
    };
    let Some(issued) = fake.store.access(&token) else {
        return wire::invalid_token("access token is unknown or expired");
    };
    for (name, template) in &api.headers {
        let Ok(value) = render(
            template,
            &fake.values.with_client_id(&issued.client_id),
            Escape::Plain,
        ) else {
            return wire::invalid_request(format!("sandbox: cannot render api.headers.{name}"));
        };
        let got = request.headers().get(name).and_then(|v| v.to_str().ok());
        if got != Some(value.as_str()) {
            return wire::invalid_request(format!(
                "header `{name}` must be `{value}` (api.headers)"
            ));
        }
    }
    let rest: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| Some(*name) != api.token_query_param.as_ref())
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    if fake.is_example(path, &rest) {
        return wire::json(
            StatusCode::OK,
            &serde_json::json!({
                "sandbox": true,
                "vendor": fake.id(),
                "client_id": issued.client_id,
                "scope": issued.scope,
            }),
        );
    }
    wire::json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({
            "error": "not_found",
            "error_description": "the sandbox answers only the descriptor's api.example_path",
        }),
    )
}

/// The token of the `token_header` with the `token_scheme` (`Authorization: Bearer` by default;
/// an empty scheme for the bare token).
fn bearer(fake: &Fake, request: &Request) -> Result<String, String> {
    let api = &fake.descriptor().api;
    let name = api
        .token_header
        .as_deref()
        .unwrap_or(header::AUTHORIZATION.as_str());
    let scheme = api.token_scheme.as_deref().unwrap_or("Bearer");
    let Some(value) = request.headers().get(name).and_then(|v| v.to_str().ok()) else {
        return Err(format!("missing access token in header `{name}`"));
    };
    if scheme.is_empty() {
        return Ok(value.trim().to_owned());
    }
    match value.split_once(' ') {
        Some((got, token)) if got.eq_ignore_ascii_case(scheme) => Ok(token.trim().to_owned()),
        _ => Err(format!(
            "header `{name}` must be `{scheme} <token>` (api.token_scheme)"
        )),
    }
}

impl Fake {
    /// Whether `path` and `query` are the descriptor's `example_path` (variables substituted)
    /// under the API base.
    fn is_example(&self, path: &str, query: &[(String, String)]) -> bool {
        let (Some(base), Some(example)) = (&self.api_base, &self.descriptor().api.example_path)
        else {
            return false;
        };
        let Ok(example) = render(example, &self.values.all, Escape::Plain) else {
            return false;
        };
        let Ok(url) = base.join(example.trim_start_matches('/')) else {
            return false;
        };
        let mut want: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let mut got = query.to_vec();
        want.sort();
        got.sort();
        path == url.path() && want == got
    }
}
