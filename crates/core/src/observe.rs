//! What the engine tells operators about its requests to token endpoints: one tracing span per
//! request, and (with the `metrics` feature) counters and a histogram through the `metrics`
//! facade.
//!
//! The span is `oauth.token_request` (level INFO) with the fields `vendor`, `grant` (a grant's
//! name, or `device_authorization`, `revocation`, `introspection`) and `endpoint` (the URL
//! contacted, without query), then `status`, `request_id` (the vendor's, sanitized) and `duration_ms` when it completes, or
//! `error` (the error's `Display`, which is sanitized). A DEBUG event closes it. Nothing here
//! is a secret: no parameter, header or body is recorded.
//!
//! The metrics are `oauth_clients_token_requests_total{vendor,grant,outcome}`,
//! `oauth_clients_token_request_seconds{vendor,grant,outcome}` and
//! `oauth_clients_refreshes_total{vendor,outcome}`, and `oauth_clients_token_cache_hits_total{vendor}`
//! for tokens a manager served from its cache (one recorder lookup per cached read).

use std::future::Future;
use std::time::Instant;

use futures_util::FutureExt as _;
use tracing::field::Empty;
use tracing::{Instrument as _, Span};

use crate::error::Error;

/// One request to a token, revocation or introspection endpoint being observed.
pub(crate) struct TokenRequestObserver<'a> {
    span: Span,
    /// Borrowed from the client: a request copies nothing for its metrics.
    vendor: &'a str,
    grant: &'static str,
}

impl<'a> TokenRequestObserver<'a> {
    /// Opens the span of a request of `grant` (or `revocation`, `introspection`).
    pub(crate) fn new(vendor: &'a str, grant: &'static str) -> TokenRequestObserver<'a> {
        let span = tracing::info_span!(
            "oauth.token_request",
            vendor = %vendor,
            grant = %grant,
            endpoint = Empty,
            status = Empty,
            request_id = Empty,
            duration_ms = Empty,
            error = Empty,
        );
        TokenRequestObserver {
            span,
            vendor,
            grant,
        }
    }

    /// Records where the request goes (a display URL: no user info, query or fragment).
    pub(crate) fn endpoint(&self, endpoint: &str) {
        self.span
            .record("endpoint", tracing::field::display(endpoint));
    }

    /// Records the answer's status and the vendor's request id (sanitized).
    pub(crate) fn answered(&self, status: u16, request_id: Option<&str>) {
        self.span.record("status", status);
        if let Some(id) = request_id {
            self.span.record("request_id", tracing::field::display(id));
        }
    }

    /// Runs `request` inside the span, then records how it ended.
    ///
    /// A combinator, not an `async fn`, which would keep `request` twice in its future (the
    /// argument, and the moved copy it awaits).
    pub(crate) fn run<'s, T>(
        &'s self,
        request: impl Future<Output = Result<T, Error>> + 's,
    ) -> impl Future<Output = Result<T, Error>> + 's {
        let started = Instant::now();
        request
            .instrument(self.span.clone())
            .map(move |result| self.finished(started, result))
    }

    /// Records how a request that started at `started` ended.
    fn finished<T>(&self, started: Instant, result: Result<T, Error>) -> Result<T, Error> {
        let elapsed = started.elapsed();
        let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        self.span.record("duration_ms", duration_ms);
        let outcome = outcome(&result);
        match &result {
            Ok(_) => tracing::debug!(parent: &self.span, outcome, "token request finished"),
            Err(err) => {
                self.span.record("error", tracing::field::display(err));
                tracing::debug!(parent: &self.span, outcome, "token request failed");
            }
        }
        metrics::token_request(self.vendor, self.grant, outcome, elapsed.as_secs_f64());
        result
    }
}

/// The `outcome` label of a request's result.
fn outcome<T>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(Error::OAuth { .. }) => "oauth_error",
        Err(Error::Transport { .. }) => "transport_error",
        Err(Error::Timeout { .. }) => "timeout",
        Err(Error::InvalidResponse { .. }) => "invalid_response",
        Err(_) => "error",
    }
}

/// Counts one refresh of a token (`Client::refresh`, `Client::refresh_token_of`).
pub(crate) fn refresh<T>(vendor: &str, result: &Result<T, Error>) {
    let outcome = match result {
        Ok(_) => "success",
        Err(err) if err.is_invalid_grant() => "invalid_grant",
        Err(_) => "error",
    };
    metrics::refresh(vendor, outcome);
}

/// Counts a token served from a manager's cache, without a request.
pub(crate) fn cache_hit(vendor: &str) {
    metrics::cache_hit(vendor);
}

#[cfg(feature = "metrics")]
mod metrics {
    //! The counters and the histogram, through the `metrics` facade.

    pub(super) fn token_request(vendor: &str, grant: &'static str, outcome: &'static str, s: f64) {
        let labels = [
            ("vendor", vendor.to_owned()),
            ("grant", grant.to_owned()),
            ("outcome", outcome.to_owned()),
        ];
        ::metrics::counter!("oauth_clients_token_requests_total", &labels).increment(1);
        ::metrics::histogram!("oauth_clients_token_request_seconds", &labels).record(s);
    }

    pub(super) fn refresh(vendor: &str, outcome: &'static str) {
        let labels = [
            ("vendor", vendor.to_owned()),
            ("outcome", outcome.to_owned()),
        ];
        ::metrics::counter!("oauth_clients_refreshes_total", &labels).increment(1);
    }

    pub(super) fn cache_hit(vendor: &str) {
        let labels = [("vendor", vendor.to_owned())];
        ::metrics::counter!("oauth_clients_token_cache_hits_total", &labels).increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
mod metrics {
    //! Without the `metrics` feature: nothing.

    pub(super) fn token_request(_: &str, _: &'static str, _: &'static str, _: f64) {}

    pub(super) fn refresh(_: &str, _: &'static str) {}

    #[inline(always)]
    pub(super) fn cache_hit(_: &str) {}
}
