//! Request parsing and response building shared by the vendor fakes.

use std::collections::BTreeMap;

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::Vendor;
use crate::state::{CodeGrant, Issued, State};

/// Largest request body the sandbox reads.
const BODY_LIMIT: usize = 64 * 1024;

/// Parameters of a request, one value per name.
pub(crate) type Params = BTreeMap<String, String>;

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An RFC 6749 §5.2 error response; `invalid_client` answers 401, other codes 400.
pub(crate) fn oauth_error(code: &str, description: impl Into<String>) -> Response {
    let status = match code {
        "invalid_client" => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    json(
        status,
        &serde_json::json!({"error": code, "error_description": description.into()}),
    )
}

/// `invalid_request` for a missing or malformed parameter.
pub(crate) fn invalid_request(description: impl Into<String>) -> Response {
    oauth_error("invalid_request", description)
}

/// A 401 for an API call without a valid bearer token (RFC 6750 §3).
pub(crate) fn invalid_token(description: &str) -> Response {
    let mut response = json(
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({"error": "invalid_token", "error_description": description}),
    );
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// A 405 naming the allowed method.
pub(crate) fn method_not_allowed(allowed: &'static str) -> Response {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("this endpoint takes {allowed}"),
        }),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

/// The media type of a request, lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    Some(essence)
}

/// How a vendor wants its token request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Form,
    Json,
    Multipart,
}

impl Encoding {
    fn media_type(self) -> &'static str {
        match self {
            Encoding::Form => "application/x-www-form-urlencoded",
            Encoding::Json => "application/json",
            Encoding::Multipart => "multipart/form-data",
        }
    }
}

/// Checks the method is POST and the content type is the vendor's, then reads the fields.
pub(crate) async fn read_token_body(
    request: Request,
    encoding: Encoding,
) -> Result<Params, Response> {
    if request.method() != Method::POST {
        return Err(method_not_allowed("POST"));
    }
    let got = media_type(request.headers());
    if got.as_deref() != Some(encoding.media_type()) {
        return Err(invalid_request(format!(
            "Content-Type must be {}, got {}",
            encoding.media_type(),
            got.as_deref().unwrap_or("none")
        )));
    }
    match encoding {
        Encoding::Form => read_form(request.into_body()).await,
        Encoding::Json => read_json(request.into_body()).await,
        Encoding::Multipart => read_multipart(request).await,
    }
}

/// Reads an `application/x-www-form-urlencoded` body; a repeated parameter is an error
/// (RFC 6749 §3.2).
pub(crate) async fn read_form(body: Body) -> Result<Params, Response> {
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| invalid_request("request body too large or unreadable"))?;
    parse_pairs(url::form_urlencoded::parse(&bytes))
}

/// Parses a query string like a form body.
pub(crate) fn parse_query(query: Option<&str>) -> Result<Params, Response> {
    parse_pairs(url::form_urlencoded::parse(
        query.unwrap_or_default().as_bytes(),
    ))
}

fn parse_pairs<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<Params, Response> {
    let mut params = Params::new();
    for (name, value) in pairs {
        if params
            .insert(name.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(invalid_request(format!("parameter `{name}` is repeated")));
        }
    }
    Ok(params)
}

pub(crate) async fn read_json(body: Body) -> Result<Params, Response> {
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| invalid_request("request body too large or unreadable"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|err| invalid_request(format!("body is not valid JSON: {err}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(invalid_request("body must be a JSON object"));
    };
    let mut params = Params::new();
    for (name, value) in object {
        let serde_json::Value::String(value) = value else {
            return Err(invalid_request(format!("`{name}` must be a string")));
        };
        params.insert(name, value);
    }
    Ok(params)
}

pub(crate) async fn read_multipart(request: Request) -> Result<Params, Response> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|err| invalid_request(format!("malformed multipart body: {err}")))?;
    let mut params = Params::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(invalid_request(format!("malformed multipart body: {err}"))),
        };
        let Some(name) = field.name().map(str::to_owned) else {
            return Err(invalid_request("a multipart field has no name"));
        };
        let value = field
            .text()
            .await
            .map_err(|err| invalid_request(format!("unreadable multipart field: {err}")))?;
        if params.insert(name.clone(), value).is_some() {
            return Err(invalid_request(format!("parameter `{name}` is repeated")));
        }
    }
    Ok(params)
}

/// A required, non-empty parameter.
pub(crate) fn require<'a>(params: &'a Params, name: &str) -> Result<&'a str, Response> {
    match params.get(name).map(String::as_str) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(invalid_request(format!("missing parameter `{name}`"))),
    }
}

/// Checks `client_id` and `client_secret` in the body (client_secret_post).
pub(crate) fn authenticate_client(
    state: &State,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, Response> {
    let (Some(id), Some(secret)) = (params.get("client_id"), params.get("client_secret")) else {
        let hint = if headers.contains_key(header::AUTHORIZATION) {
            "; this vendor takes client_id and client_secret in the body, not in an Authorization header"
        } else {
            ""
        };
        return Err(oauth_error(
            "invalid_client",
            format!("client_id and client_secret are required in the request body{hint}"),
        ));
    };
    if id != &state.config.client_id {
        return Err(oauth_error("invalid_client", "unknown client_id"));
    }
    if !constant_time_eq(secret.as_bytes(), state.config.client_secret.as_bytes()) {
        return Err(oauth_error(
            "invalid_client",
            "client authentication failed",
        ));
    }
    Ok(id.clone())
}

/// Compares without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Redeems an authorization code: single use, same vendor and client, same redirect URI when
/// `check_redirect` (RFC 6749 §4.1.3), PKCE verifier when a challenge was sent (RFC 7636 §4.6).
pub(crate) fn redeem_code(
    state: &State,
    vendor: Vendor,
    client_id: &str,
    params: &Params,
    check_redirect: bool,
) -> Result<CodeGrant, Response> {
    let code = require(params, "code")?;
    let Some(grant) = state.take_code(vendor, code) else {
        return Err(oauth_error(
            "invalid_grant",
            "authorization code is unknown, expired or already used",
        ));
    };
    if grant.client_id != client_id {
        return Err(oauth_error(
            "invalid_grant",
            "authorization code was issued to another client",
        ));
    }
    if check_redirect && params.get("redirect_uri") != grant.redirect_uri.as_ref() {
        return Err(oauth_error(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&grant.pkce, params.get("code_verifier")) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(oauth_error(
                "invalid_grant",
                "code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        (Some(_), None) => {
            return Err(oauth_error("invalid_grant", "missing code_verifier (PKCE)"));
        }
        (Some((method, challenge)), Some(verifier)) => {
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.clone()
            };
            if !constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(oauth_error(
                    "invalid_grant",
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
    }
    Ok(grant)
}

/// Validates PKCE parameters of an authorize request: `(method, challenge)` when present.
pub(crate) fn authorize_pkce(params: &Params) -> Result<Option<(String, String)>, &'static str> {
    match params.get("code_challenge") {
        None => Ok(None),
        Some(challenge) => {
            let method = params
                .get("code_challenge_method")
                .map(String::as_str)
                .unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return Err("code_challenge_method must be S256 or plain");
            }
            if !(43..=128).contains(&challenge.len()) {
                return Err("code_challenge must be 43 to 128 characters");
            }
            Ok(Some((method.to_owned(), challenge.clone())))
        }
    }
}

/// Checks `Authorization: Bearer <token>` for an API call of this vendor.
pub(crate) fn bearer(
    state: &State,
    vendor: Vendor,
    headers: &HeaderMap,
) -> Result<Issued, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(invalid_token("missing Authorization header"));
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(invalid_token("malformed Authorization header"));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid_token("Authorization scheme must be Bearer"));
    }
    state
        .check_access(vendor, token.trim())
        .ok_or_else(|| invalid_token("access token is unknown or expired"))
}

/// Escapes text for HTML.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small HTML page.
pub(crate) fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>\n",
        title = html_escape(title)
    );
    let mut response = (status, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A `302 Found` to `location`.
pub(crate) fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => invalid_request("redirect_uri cannot be used in a Location header"),
    }
}

/// `redirect_uri` with query parameters appended.
pub(crate) fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(redirect_uri).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    Some(url.into())
}
