//! The HTTP server: routes and its lifetime on a dedicated thread.

use std::net::TcpListener as StdTcpListener;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get, post};
use tokio::sync::watch;

use crate::state::State;
use crate::vendors::{procore, procountor, procurify, procurios};
use crate::wire;

/// The seed vendors under their prefixes (when the configuration serves them), and every
/// descriptor fake under `/<id>/<host>/…`.
pub(crate) fn router(state: Arc<State>) -> Router {
    let router = if state.config.seed_vendors {
        seed_routes(Router::new())
    } else {
        Router::new()
    };
    router
        .fallback(descriptor_fake)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            procurios::request_id,
        ))
        .with_state(state)
}

fn seed_routes(router: Router<Arc<State>>) -> Router<Arc<State>> {
    router
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
}

/// `/<id>/<host>/<path>` of a descriptor fake, else 404.
async fn descriptor_fake(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let mut segments = path.trim_start_matches('/').splitn(3, '/');
    let (Some(id), Some(host)) = (segments.next(), segments.next()) else {
        return not_found().await;
    };
    let rest = format!("/{}", segments.next().unwrap_or_default());
    match state.fakes.get(id) {
        Some(fake) => fake.handle(&state, host, &rest, request).await,
        None => not_found().await,
    }
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
