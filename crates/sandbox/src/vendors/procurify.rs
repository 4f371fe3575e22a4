//! Procurify (its "Getting access to Procurify API" documentation): a JSON token request with
//! `audience`, 24-hour tokens, and API calls that need `X-Procurify-Client: api`.

use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::Vendor;
use crate::state::{Issued, State, now_unix, random_token};
use crate::wire::{self, Encoding};

const VENDOR: Vendor = Vendor::Procurify;
const AUDIENCE: &str = "https://api.procurify.com/";

/// `POST /procurify/oauth/token`.
pub(crate) async fn token(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    state.begin_token_request(VENDOR).await;
    let headers = request.headers().clone();
    let params = match wire::read_token_body(request, Encoding::Json).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    let client_id = match wire::authenticate_client(&state, &headers, &params) {
        Ok(id) => id,
        Err(response) => return response,
    };
    match super::grant_type(&params) {
        Ok("client_credentials") => {}
        Ok(other) => {
            return wire::oauth_error(
                "unsupported_grant_type",
                format!("grant_type `{other}` is not supported; use client_credentials"),
            );
        }
        Err(response) => return response,
    }
    match wire::require(&params, "audience") {
        Ok(AUDIENCE) => {}
        Ok(other) => {
            return wire::invalid_request(format!(
                "unknown audience `{other}`; expected `{AUDIENCE}`"
            ));
        }
        Err(response) => return response,
    }
    let lifetime = state.lifetime(86_400);
    let access = random_token(48);
    state.remember_access(
        &access,
        Issued {
            vendor: VENDOR,
            client_id,
            expires_at: Some(now_unix() + lifetime),
        },
    );
    let domain = &state.config.procurify_domain;
    wire::json(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": access,
            "scope": format!(
                "urn:procurify-api:domain:{domain} urn:procurify-api:email:sandbox@example.com"
            ),
            "expires_in": lifetime,
            "token_type": "Bearer",
        }),
    )
}

/// `GET /procurify/api/v3/vendors/`.
pub(crate) async fn vendors(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    if request.method() != Method::GET {
        return wire::method_not_allowed("GET");
    }
    if let Err(response) = wire::bearer(&state, VENDOR, request.headers()) {
        return response;
    }
    let client = request
        .headers()
        .get("X-Procurify-Client")
        .and_then(|v| v.to_str().ok());
    if client != Some("api") {
        return wire::json(
            StatusCode::FORBIDDEN,
            &serde_json::json!({
                "error": "forbidden",
                "error_description": "API requests need the header `X-Procurify-Client: api`",
            }),
        );
    }
    wire::json(
        StatusCode::OK,
        &serde_json::json!({"data": [
            {"id": 1, "name": "OTHER", "active": true, "addressLineOne": "OTHER"},
            {"id": 2, "name": "Sandbox Supplies Ltd.", "active": true, "addressLineOne": "1 Loopback Road"},
        ]}),
    )
}
