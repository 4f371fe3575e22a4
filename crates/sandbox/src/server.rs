//! The HTTP server: routes and its lifetime on a dedicated thread.

use std::net::TcpListener as StdTcpListener;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get, post};
use tokio::sync::watch;

use crate::state::State;
use crate::vendors::{procore, procountor, procurify, procurios};
use crate::wire;

/// All four vendors under their prefixes.
pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/procurios/l/oauth2/authorize", get(procurios::authorize))
        .route("/procurios/l/oauth2/token", any(procurios::token))
        .route("/procurios/l/{module}/{object}", any(procurios::api))
        .route("/procurify/oauth/token", any(procurify::token))
        .route("/procurify/api/v3/vendors/", any(procurify::vendors))
        .route("/procore/oauth/authorize", get(procore::authorize))
        .route("/procore/oauth/token", any(procore::token))
        .route("/procore/rest/v1.0/me", any(procore::me))
        .route("/procountor/api/oauth/authz", post(procountor::authz))
        .route("/procountor/api/oauth/token", any(procountor::token))
        .route("/procountor/api/sessioninfo", any(procountor::sessioninfo))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            procurios::request_id,
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    wire::json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({"error": "not_found", "error_description": "no such sandbox endpoint"}),
    )
}

/// Serves until `signal` turns true (or its sender is dropped), then lets in-flight requests
/// finish for at most `grace`.
pub(crate) fn run(
    runtime: tokio::runtime::Runtime,
    listener: StdTcpListener,
    app: Router,
    signal: watch::Receiver<bool>,
    grace: Duration,
) {
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(_) => return,
        };
        let mut graceful = signal.clone();
        let mut forced = signal;
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        });
        tokio::select! {
            _ = serve => {}
            _ = async move {
                let _ = forced.wait_for(|stop| *stop).await;
                tokio::time::sleep(grace).await;
            } => {}
        }
    });
    // Dropping the runtime here cancels whatever connection task is still open.
}
