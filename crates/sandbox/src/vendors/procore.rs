//! Procore (its "Making Your First Call to the Procore API" documentation): authorize page
//! (out-of-band code page or redirect), multipart token requests for the code, client credentials
//! and refresh grants, `created_at` in responses.

use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::Vendor;
use crate::state::{Issued, State, now_unix, random_token};
use crate::wire::{self, Encoding, Params};

const VENDOR: Vendor = Vendor::Procore;

/// `GET /procore/oauth/authorize`.
pub(crate) async fn authorize(
    AxumState(state): AxumState<Arc<State>>,
    request: Request,
) -> Response {
    super::authorize(&state, VENDOR, request.uri().query(), false, true)
}

/// `POST /procore/oauth/token`.
pub(crate) async fn token(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    state.begin_token_request(VENDOR).await;
    let headers = request.headers().clone();
    let params = match wire::read_token_body(request, Encoding::Multipart).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    let client_id = match wire::authenticate_client(&state, &headers, &params) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let grant_type = match super::grant_type(&params) {
        Ok(g) => g,
        Err(response) => return response,
    };
    let result = match grant_type {
        "authorization_code" => {
            wire::redeem_code(&state, VENDOR, &client_id, &params, true).map(|_| ())
        }
        // The document sends redirect_uri with this grant too.
        "client_credentials" => wire::require(&params, "redirect_uri").map(|_| ()),
        "refresh_token" => refresh(&state, &client_id, &params),
        other => Err(wire::oauth_error(
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        )),
    };
    if let Err(response) = result {
        return response;
    }
    issue(&state, &client_id)
}

fn refresh(state: &State, client_id: &str, params: &Params) -> Result<(), Response> {
    let token = wire::require(params, "refresh_token")?;
    match state.peek_refresh(VENDOR, token) {
        Some(issued) if issued.client_id != client_id => Err(wire::oauth_error(
            "invalid_grant",
            "refresh token was issued to another client",
        )),
        Some(_) if state.take_refresh(VENDOR, token).is_some() => Ok(()),
        _ => Err(wire::oauth_error(
            "invalid_grant",
            "refresh token is unknown or already used",
        )),
    }
}

fn issue(state: &State, client_id: &str) -> Response {
    let lifetime = state.lifetime(5400);
    let created_at = now_unix();
    let access = random_token(64);
    let refresh = random_token(64);
    state.remember_access(
        &access,
        Issued {
            vendor: VENDOR,
            client_id: client_id.to_owned(),
            expires_at: Some(created_at + lifetime),
        },
    );
    state.remember_refresh(
        &refresh,
        Issued {
            vendor: VENDOR,
            client_id: client_id.to_owned(),
            expires_at: None,
        },
    );
    wire::json(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": lifetime,
            "refresh_token": refresh,
            "created_at": created_at,
        }),
    )
}

/// `GET /procore/rest/v1.0/me`.
pub(crate) async fn me(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    if request.method() != Method::GET {
        return wire::method_not_allowed("GET");
    }
    if let Err(response) = wire::bearer(&state, VENDOR, request.headers()) {
        return response;
    }
    wire::json(
        StatusCode::OK,
        &serde_json::json!({"id": 1234567, "login": "joe.builder@acme.com", "name": "Joe Builder"}),
    )
}
