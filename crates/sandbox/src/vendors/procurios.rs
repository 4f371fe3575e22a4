//! Procurios (its "Get started" and "Getting started with the Procurios API" documentation):
//! form-encoded token requests with the client in the body,
//! `grant_type=code` for the code exchange, `"scope":"null"`, and a `ProbaseRequestId` header on
//! every response.

use std::sync::Arc;

use axum::extract::{Path, Request, State as AxumState};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::Vendor;
use crate::state::{Issued, State, now_unix, random_token};
use crate::wire::{self, Encoding};

const VENDOR: Vendor = Vendor::Procurios;
const API_MEDIA_TYPE: &str = "application/vnd.procurios.application+json";

/// `GET /procurios/l/oauth2/authorize`.
pub(crate) async fn authorize(
    AxumState(state): AxumState<Arc<State>>,
    request: Request,
) -> Response {
    super::authorize(&state, VENDOR, request.uri().query(), true, false)
}

/// `POST /procurios/l/oauth2/token`.
pub(crate) async fn token(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    state.begin_token_request(VENDOR).await;
    let accepts_json = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") || v.contains("*/*"));
    let headers = request.headers().clone();
    let params = match wire::read_token_body(request, Encoding::Form).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    if !accepts_json {
        return wire::invalid_request("the token endpoint needs `Accept: application/json`");
    }
    let client_id = match wire::authenticate_client(&state, &headers, &params) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let grant_type = match super::grant_type(&params) {
        Ok(g) => g,
        Err(response) => return response,
    };
    let lifetime = state.lifetime(3600);
    let issue = |client_id: &str| {
        let access = random_token(40);
        state.remember_access(
            &access,
            Issued {
                vendor: VENDOR,
                client_id: client_id.to_owned(),
                expires_at: Some(now_unix() + lifetime),
            },
        );
        access
    };
    match grant_type {
        "client_credentials" => {
            if let Err(response) = wire::require(&params, "scope") {
                return response;
            }
            let access = issue(&client_id);
            wire::json(
                StatusCode::OK,
                &serde_json::json!({
                    "access_token": access,
                    "token_type": "bearer",
                    "expires_in": lifetime,
                    "scope": "null",
                }),
            )
        }
        "code" => {
            // 001's exchange body has no redirect_uri, so the code is not bound to one.
            if let Err(response) = wire::redeem_code(&state, VENDOR, &client_id, &params, false) {
                return response;
            }
            let access = issue(&client_id);
            // Documented as the access token alone: no token_type, no expires_in.
            wire::json(StatusCode::OK, &serde_json::json!({"access_token": access}))
        }
        "authorization_code" => wire::oauth_error(
            "unsupported_grant_type",
            "Procurios exchanges codes with grant_type=code",
        ),
        other => wire::oauth_error(
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        ),
    }
}

/// `GET|POST /procurios/l/{module_api}/{object}`: needs the bearer token and the vendor's media
/// type in `Accept`.
pub(crate) async fn api(
    AxumState(state): AxumState<Arc<State>>,
    Path((module, object)): Path<(String, String)>,
    request: Request,
) -> Response {
    if let Err(response) = wire::bearer(&state, VENDOR, request.headers()) {
        return response;
    }
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !accept.contains(API_MEDIA_TYPE) {
        return wire::json(
            StatusCode::NOT_ACCEPTABLE,
            &serde_json::json!({
                "error": "not_acceptable",
                "error_description": format!("Accept must be `{API_MEDIA_TYPE}; version=1`"),
            }),
        );
    }
    let method = request.method().clone();
    if method == Method::GET {
        return wire::json(
            StatusCode::OK,
            &serde_json::json!({
                "module": module,
                "object": object,
                "data": [{"id": 1, "name": "Craft Brouwers"}],
            }),
        );
    }
    if method == Method::POST || method == Method::PUT || method == Method::PATCH {
        let body = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
            Ok(body) => body,
            Err(_) => return wire::invalid_request("request body too large or unreadable"),
        };
        let received: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(_) if body.is_empty() => serde_json::Value::Null,
            Err(err) => return wire::invalid_request(format!("body is not valid JSON: {err}")),
        };
        return wire::json(
            StatusCode::OK,
            &serde_json::json!({"module": module, "object": object, "saved": received}),
        );
    }
    wire::method_not_allowed("GET, POST, PUT, PATCH")
}

/// Adds `ProbaseRequestId` to every response under `/procurios/`.
pub(crate) async fn request_id(
    AxumState(state): AxumState<Arc<State>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let procurios = request.uri().path().starts_with("/procurios/");
    let mut response = next.run(request).await;
    if procurios {
        let id = format!("sandbox-{:08}", state.next_request_id());
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("ProbaseRequestId", value);
        }
    }
    response
}
