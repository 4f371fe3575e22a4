//! The authorization endpoint (auto-approved), and the legacy flow's credentials endpoint.
//!
//! The authorize request must carry, under the names of `authorize_params`:
//! `response_type=code`, the client id, `redirect_uri`, `state`, and the scope only when the
//! grant sends one (joined with `scopes.separator`); every `extra_authorize_params` with its
//! value; PKCE as the descriptor says (`required`: an S256 challenge; `unsupported`: none). The
//! code is bound to the client, the redirect URI and the challenge, and lives
//! `code_lifetime_seconds` (ten minutes by default). The redirect carries the code and state
//! under the names of `callback_params`, `iss` when the descriptor has an `issuer` and
//! `authorization_response_iss`, and every value captured with `from: callback.<param>`.
//!
//! Errors about the client or the redirect URI are shown on a page, never redirected (RFC 6749
//! §4.1.2.1); others are redirected with `error` and `error_description`.

use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{AuthorizationCodeGrant, Capture, Pkce};

use super::Fake;
use super::store::Code;
use super::token::read;
use crate::state::{State, random_token};
use crate::vendors::{OOB, error_page};
use crate::wire::{self, Params};

/// Codes live ten minutes unless the descriptor says otherwise.
const CODE_LIFETIME: u64 = 600;

/// What an authorize request asked for, once checked.
struct Approved {
    redirect_uri: String,
    state: String,
    scope: Option<String>,
    challenge: Option<String>,
    /// The OpenID Connect nonce, which the ID token carries back.
    nonce: Option<String>,
}

/// `GET` of the authorization endpoint.
pub(crate) fn authorize(fake: &Fake, shared: &State, request: Request) -> Response {
    if request.method() != Method::GET {
        return wire::method_not_allowed("GET");
    }
    let Some(grant) = fake.descriptor().grants.authorization_code.clone() else {
        return error_page("unsupported_response_type", "no authorization code grant");
    };
    let Ok(params) = wire::parse_query(request.uri().query()) else {
        return error_page("invalid_request", "a query parameter is repeated");
    };
    let names = &grant.authorize_params;
    let client_id = params.get(&names.client_id).map_or("", String::as_str);
    if client_id.is_empty() {
        let why = format!("missing parameter `{}` (the client id)", names.client_id);
        return error_page("invalid_request", &why);
    }
    if client_id != shared.config.client_id {
        return error_page("unauthorized_client", "unknown client id");
    }
    let Some(redirect_uri) = params.get(&names.redirect_uri).filter(|r| !r.is_empty()) else {
        let why = format!("missing parameter `{}`", names.redirect_uri);
        return error_page("invalid_request", &why);
    };
    let oob = redirect_uri == OOB;
    if oob && !grant.out_of_band {
        return error_page(
            "invalid_request",
            "this vendor has no out-of-band redirect URI",
        );
    }
    if !oob && !is_http_url(redirect_uri) {
        return error_page(
            "invalid_request",
            "redirect_uri must be an absolute http(s) URL",
        );
    }
    let state = params.get(&names.state).cloned();
    let checked = check(fake, &grant, &params, redirect_uri, state, client_id);
    let approved = match checked {
        Ok(approved) => approved,
        Err((code, description)) => {
            let mut pairs = vec![("error", code), ("error_description", description.as_str())];
            let state = params.get(&names.state);
            if let Some(state) = state {
                pairs.push((grant.callback_params.state.as_str(), state));
            }
            return redirect(redirect_uri, &pairs, oob);
        }
    };
    let lifetime = grant.code_lifetime_seconds.unwrap_or(CODE_LIFETIME);
    let code = random_token(40);
    fake.store.add_code(
        &code,
        Code {
            grant: GrantKind::AuthorizationCode,
            client_id: client_id.to_owned(),
            redirect_uri: Some(approved.redirect_uri.clone()),
            challenge: approved.challenge,
            scope: approved.scope,
            nonce: approved.nonce,
            expires: Instant::now() + Duration::from_secs(lifetime),
        },
    );
    if oob {
        let page = format!(
            "<p>Copy this code into your application.</p><p><code id=\"code\">{}</code></p>",
            wire::html_escape(&code)
        );
        return wire::html(StatusCode::OK, "Authorization code", &page);
    }
    let callback = &grant.callback_params;
    let mut pairs: Vec<(String, String)> = vec![
        (callback.code.clone(), code),
        (callback.state.clone(), approved.state),
    ];
    if fake.descriptor().authorization_response_iss
        && let Some(issuer) = fake.issuer()
    {
        pairs.push(("iss".into(), issuer));
    }
    pairs.extend(fake.callback_captures());
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    redirect(&approved.redirect_uri, &pairs, false)
}

/// The checks that are redirected when they fail: `(error, description)`.
fn check(
    fake: &Fake,
    grant: &AuthorizationCodeGrant,
    params: &Params,
    redirect_uri: &str,
    state: Option<String>,
    client_id: &str,
) -> Result<Approved, (&'static str, String)> {
    let names = &grant.authorize_params;
    let invalid = |why: String| ("invalid_request", why);
    match params.get(&names.response_type).map(String::as_str) {
        Some("code") => {}
        Some(_) => {
            let why = format!("`{}` must be `code`", names.response_type);
            return Err(("unsupported_response_type", why));
        }
        None => {
            return Err(invalid(format!(
                "missing parameter `{}`",
                names.response_type
            )));
        }
    }
    let Some(state) = state.filter(|s| !s.is_empty()) else {
        return Err(invalid(format!(
            "missing parameter `{}` (the state the callback returns)",
            names.state
        )));
    };
    let scope = params.get(&names.scope).cloned();
    match (&scope, grant.send_scope) {
        (Some(_), false) => {
            let why = format!(
                "parameter `{}` must not be sent (grants.authorization_code.send_scope is false)",
                names.scope
            );
            return Err(invalid(why));
        }
        (Some(scope), true) => fake.check_scope(scope).map_err(invalid)?,
        (None, _) => {}
    }
    for (name, template) in &grant.extra_authorize_params {
        let value = fake
            .plain(template, client_id)
            .map_err(|r| invalid(r.description))?;
        if params.get(name) != Some(&value) {
            return Err(invalid(format!(
                "parameter `{name}` must be `{value}` \
                 (grants.authorization_code.extra_authorize_params)"
            )));
        }
    }
    let challenge = pkce(grant.pkce, params).map_err(invalid)?;
    Ok(Approved {
        redirect_uri: redirect_uri.to_owned(),
        state,
        scope,
        challenge,
        nonce: params.get("nonce").cloned(),
    })
}

/// PKCE as the descriptor says: the S256 challenge, when one is sent (and it must be when
/// `required`; it must not be when `unsupported`).
fn pkce(pkce: Pkce, params: &Params) -> Result<Option<String>, String> {
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method").map(String::as_str);
    match (pkce, challenge) {
        (Pkce::Unsupported, None) if method.is_none() => Ok(None),
        (Pkce::Unsupported, _) => Err(
            "code_challenge must not be sent: this vendor does not support PKCE \
             (grants.authorization_code.pkce: unsupported)"
                .into(),
        ),
        (Pkce::Required, None) => Err(
            "missing code_challenge: this vendor requires PKCE with S256 \
             (grants.authorization_code.pkce: required)"
                .into(),
        ),
        (Pkce::Supported, None) if method.is_some() => {
            Err("code_challenge_method sent without code_challenge".into())
        }
        (Pkce::Supported, None) => Ok(None),
        (_, Some(challenge)) => {
            if method != Some("S256") {
                return Err("code_challenge_method must be S256".into());
            }
            let well_formed = (43..=128).contains(&challenge.len())
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return Err("code_challenge must be 43 to 128 base64url characters".into());
            }
            Ok(Some(challenge.clone()))
        }
    }
}

impl Fake {
    /// The values the callback carries for variables captured with `from: callback.<param>`.
    fn callback_captures(&self) -> Vec<(String, String)> {
        self.descriptor()
            .variables
            .iter()
            .filter_map(|(name, variable)| match variable.capture() {
                Some(Capture::Callback(param)) => self
                    .values
                    .captured
                    .get(name)
                    .map(|value| (param.to_owned(), value.clone())),
                _ => None,
            })
            .collect()
    }
}

fn is_http_url(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn redirect(redirect_uri: &str, pairs: &[(&str, &str)], oob: bool) -> Response {
    if oob {
        let code = pairs.first().map_or("", |p| p.1);
        let description = pairs.get(1).map_or("", |p| p.1);
        return error_page(code, description);
    }
    match wire::redirect_with(redirect_uri, pairs) {
        Some(location) => wire::found(&location),
        None => error_page("invalid_request", "redirect_uri is not a valid URL"),
    }
}

/// `POST` of the legacy flow's credentials endpoint: `response_type=code`, the client id and
/// `state` in the query; `username`, `password`, `redirect_uri` and the descriptor's
/// `credentials_params` in a form body. Answers `302` to the redirect URI with the code.
pub(crate) async fn credentials(fake: &Fake, shared: &State, request: Request) -> Response {
    if request.method() != Method::POST {
        return wire::method_not_allowed("POST");
    }
    let incoming = match read(request).await {
        Ok(incoming) => incoming,
        Err(refusal) => return wire::invalid_request(refusal.description),
    };
    let (query, body) = (&incoming.query, &incoming.body);
    let config = &shared.config;
    if query.get("client_id") != Some(&config.client_id) {
        return wire::oauth_error("unauthorized_client", "unknown or missing client_id");
    }
    if incoming.body_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return wire::invalid_request("Content-Type must be application/x-www-form-urlencoded");
    }
    let Some(redirect_uri) = body.get("redirect_uri").filter(|r| is_http_url(r)) else {
        return wire::invalid_request("missing or invalid `redirect_uri` in the body");
    };
    let state = query.get("state").map(String::as_str);
    let mut failure = None;
    if query.get("response_type").map(String::as_str) != Some("code") {
        failure = Some((
            "unsupported_response_type",
            "response_type=code in the query".into(),
        ));
    }
    let Some(grant) = &fake.descriptor().grants.legacy_credentials else {
        return wire::invalid_request("no legacy credentials grant");
    };
    for (name, template) in &grant.credentials_params {
        let value = fake.plain(template, &config.client_id).unwrap_or_default();
        if failure.is_none() && body.get(name) != Some(&value) {
            failure = Some((
                "invalid_request",
                format!(
                    "`{name}` must be `{value}` (grants.legacy_credentials.credentials_params)"
                ),
            ));
        }
    }
    let user_ok = body.get("username") == Some(&config.username)
        && body.get("password") == Some(&config.password);
    if failure.is_none() && !user_ok {
        failure = Some(("access_denied", "invalid username or password".into()));
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let code = random_token(40);
    match &failure {
        Some((error, description)) => {
            pairs.push(("error", error));
            pairs.push(("error_description", description));
        }
        None => {
            fake.store.add_code(
                &code,
                Code {
                    grant: GrantKind::LegacyCredentials,
                    client_id: config.client_id.clone(),
                    redirect_uri: Some(redirect_uri.clone()),
                    challenge: None,
                    scope: None,
                    nonce: None,
                    expires: Instant::now() + Duration::from_secs(CODE_LIFETIME),
                },
            );
            pairs.push(("code", &code));
        }
    }
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect(redirect_uri, &pairs, false)
}
