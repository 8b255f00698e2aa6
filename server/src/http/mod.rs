//! The HTTP surface. Each SEP is one module with its own `router()`; this file merges
//! them behind the tenant-resolving and rate-limiting middleware.

mod admin;
pub mod auth;
mod console;
mod extract;
mod selftest_callback;
mod sep1;
mod sep10;
mod sep12;
mod sep31;
mod sep38;
mod tenant;
mod text;
mod web;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::state::AppState;

pub use crate::client_ip::ClientIpPolicy;
pub use crate::limits::CapGate;
pub use crate::limits::RateLimits;
pub use tenant::TenantCtx;

/// SEP request bodies are small JSON or form documents; only SEP-12 files, sent as
/// multipart, may be larger (and are capped per file).
pub const SEP_BODY_LIMIT: usize = 64 * 1024;

/// Whether reading a body failed because it was over its limit.
pub fn too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Every response says what it is: browsers must not guess a type from the bytes
/// (SEP endpoints keep CORS `*`, as the SEPs require).
async fn nosniff(req: Request, next: middleware::Next) -> axum::response::Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, axum::http::HeaderValue::from_static("nosniff"));
    res
}

pub fn router(state: AppState) -> Router {
    let sep = Router::new()
        .merge(sep1::router())
        .merge(sep10::router())
        .merge(sep12::router(state.cfg.max_upload_bytes))
        .merge(sep31::router())
        .merge(sep38::router())
        .layer(middleware::from_fn_with_state(state.clone(), tenant::rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), tenant::resolve))
        // Outermost of the SEP layers, so errors and preflights get CORS headers too.
        .layer(CorsLayer::permissive());

    Router::new()
        .merge(crate::probes::router())
        .merge(selftest_callback::router())
        .merge(admin::router(state.clone()))
        .merge(sep)
        .layer(DefaultBodyLimit::max(SEP_BODY_LIMIT))
        .layer(middleware::from_fn(nosniff))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // The path only: query strings may carry accounts, and the
                    // Authorization header (a JWT) is never recorded.
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        tenant = tracing::field::Empty,
                        status = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|res: &axum::response::Response, latency: Duration, span: &Span| {
                    span.record("status", res.status().as_u16());
                    tracing::info!(latency_ms = latency.as_secs_f64() * 1000.0, "response");
                }),
        )
        .with_state(state)
}
