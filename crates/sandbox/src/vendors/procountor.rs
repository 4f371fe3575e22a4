//! Procountor (its "Legacy Authentication" documentation, a flow the vendor deprecated): the user's
//! credentials posted to `/api/oauth/authz` answer `302 Found` with the code in `Location`; the
//! code and refresh token are exchanged at `/api/oauth/token` for JWT tokens.

use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt as _;

use crate::Vendor;
use crate::state::{CODE_LIFETIME, CodeGrant, Issued, State, now_unix, random_token};
use crate::wire::{self, Encoding, Params};

const VENDOR: Vendor = Vendor::Procountor;
const ISSUER: &str = "https://api-test.procountor.com";
const USER_ID: u64 = 26535;
/// Refresh tokens live 180 days.
const REFRESH_LIFETIME: u64 = 180 * 24 * 3600;

/// `POST /procountor/api/oauth/authz?response_type=code&client_id=…&state=…` with the user's
/// credentials in a form body.
pub(crate) async fn authz(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    let query = match wire::parse_query(request.uri().query()) {
        Ok(query) => query,
        Err(response) => return response,
    };
    if wire::media_type(request.headers()).as_deref() != Some("application/x-www-form-urlencoded") {
        return wire::invalid_request("Content-Type must be application/x-www-form-urlencoded");
    }
    let body = match wire::read_form(request.into_body()).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let client_id = match wire::require(&query, "client_id") {
        Ok(id) => id,
        Err(response) => return response,
    };
    if client_id != state.config.client_id {
        return wire::oauth_error("unauthorized_client", "unknown client_id");
    }
    let redirect_uri = match wire::require(&body, "redirect_uri") {
        Ok(uri) => uri,
        Err(response) => return response,
    };
    if url::Url::parse(redirect_uri).is_err() {
        return wire::invalid_request("redirect_uri is not an absolute URL");
    }
    let state_param = query.get("state").map(String::as_str);
    let redirect = |pairs: &[(&str, &str)]| redirect_to(redirect_uri, state_param, pairs);
    if query.get("response_type").map(String::as_str) != Some("code") {
        return redirect(&[
            ("error", "unsupported_response_type"),
            (
                "error_description",
                "response_type must be `code` (in the query string)",
            ),
        ]);
    }
    for name in ["username", "password", "company"] {
        if body.get(name).is_none_or(|v| v.is_empty()) {
            return redirect(&[
                ("error", "invalid_request"),
                ("error_description", &format!("missing parameter `{name}`")),
            ]);
        }
    }
    let config = &state.config;
    let user_ok = body.get("username") == Some(&config.username)
        && body.get("password") == Some(&config.password);
    if !user_ok {
        return redirect(&[
            ("error", "access_denied"),
            ("error_description", "invalid username or password"),
        ]);
    }
    if body.get("company") != Some(&config.company) {
        return redirect(&[
            ("error", "access_denied"),
            (
                "error_description",
                "the user has no access to this company",
            ),
        ]);
    }
    let code = state.issue_code(CodeGrant {
        vendor: VENDOR,
        client_id: client_id.to_owned(),
        redirect_uri: Some(redirect_uri.to_owned()),
        pkce: None,
        expires: std::time::Instant::now() + CODE_LIFETIME,
    });
    redirect(&[("code", &code)])
}

fn redirect_to(redirect_uri: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> Response {
    let mut pairs = pairs.to_vec();
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    match wire::redirect_with(redirect_uri, &pairs) {
        Some(location) => wire::found(&location),
        None => wire::invalid_request("redirect_uri is not an absolute URL"),
    }
}

/// `POST /procountor/api/oauth/token`.
pub(crate) async fn token(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    state.begin_token_request(VENDOR).await;
    let headers = request.headers().clone();
    let params = match wire::read_token_body(request, Encoding::Form).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    let client_id = match wire::authenticate_client(&state, &headers, &params) {
        Ok(id) => id,
        Err(response) => return response,
    };
    match super::grant_type(&params) {
        Ok("authorization_code") => {
            if let Err(response) = wire::require(&params, "redirect_uri") {
                return response;
            }
            if let Err(response) = wire::redeem_code(&state, VENDOR, &client_id, &params, true) {
                return response;
            }
            let (access, lifetime) = access_token(&state, &client_id);
            let refresh = jwt(&state, &client_id, REFRESH_LIFETIME);
            state.remember_refresh(
                &refresh,
                Issued {
                    vendor: VENDOR,
                    client_id: client_id.clone(),
                    expires_at: Some(now_unix() + REFRESH_LIFETIME),
                },
            );
            wire::json(
                StatusCode::OK,
                &serde_json::json!({
                    "access_token": access,
                    "refresh_token": refresh,
                    "expires_in": lifetime,
                }),
            )
        }
        Ok("refresh_token") => match refresh(&state, &client_id, &params) {
            Ok(()) => {
                let (access, lifetime) = access_token(&state, &client_id);
                wire::json(
                    StatusCode::OK,
                    &serde_json::json!({"access_token": access, "expires_in": lifetime}),
                )
            }
            Err(response) => response,
        },
        Ok(other) => wire::oauth_error(
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        ),
        Err(response) => response,
    }
}

fn refresh(state: &State, client_id: &str, params: &Params) -> Result<(), Response> {
    let token = wire::require(params, "refresh_token")?;
    match state.peek_refresh(VENDOR, token) {
        Some(issued)
            if issued.client_id == client_id
                && issued.expires_at.is_none_or(|e| e > now_unix()) =>
        {
            Ok(())
        }
        _ => Err(wire::oauth_error(
            "invalid_grant",
            "refresh token is unknown, expired or issued to another client",
        )),
    }
}

fn access_token(state: &State, client_id: &str) -> (String, u64) {
    let lifetime = state.lifetime(3600);
    let token = jwt(state, client_id, lifetime);
    state.remember_access(
        &token,
        Issued {
            vendor: VENDOR,
            client_id: client_id.to_owned(),
            expires_at: Some(now_unix() + lifetime),
        },
    );
    (token, lifetime)
}

/// A well-formed JWT like Procountor's (`iss`, `aud`, `sub`, `cid`, `jti`, `auth_time`, `iat`,
/// `exp`); its signature is random bytes, not a real HMAC.
fn jwt(state: &State, client_id: &str, lifetime: u64) -> String {
    let now = now_unix();
    let company: serde_json::Value = state
        .config
        .company
        .parse::<u64>()
        .map(Into::into)
        .unwrap_or_else(|_| state.config.company.clone().into());
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
    let payload = serde_json::json!({
        "iss": ISSUER,
        "aud": client_id,
        "sub": USER_ID,
        "cid": company,
        "jti": random_token(32),
        "auth_time": now,
        "iat": now,
        "exp": now + lifetime,
    });
    let signature: [u8; 32] = rand::rng().random();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// `GET /procountor/api/sessioninfo`.
pub(crate) async fn sessioninfo(
    AxumState(state): AxumState<Arc<State>>,
    request: Request,
) -> Response {
    if request.method() != Method::GET {
        return wire::method_not_allowed("GET");
    }
    if let Err(response) = wire::bearer(&state, VENDOR, request.headers()) {
        return response;
    }
    wire::json(
        StatusCode::OK,
        &serde_json::json!({
            "userId": USER_ID,
            "userName": state.config.username,
            "companyId": state.config.company.parse::<u64>().ok(),
            "companyName": "Sandbox Oy",
            "environment": "TEST",
        }),
    )
}
