//! Prometheus metrics, on a listener of their own (`MOORING_METRICS_BIND`), never on a
//! tenant's domain. The `metrics` facade records from anywhere in the process; the
//! exporter renders the text format. Labels stay bounded: route templates (never raw
//! paths), status classes, tenant ids.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Request latency buckets, in seconds: hot reads are sub-millisecond, token exchanges
/// wait for Horizon.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder. One per process: every server started in it (tests start
/// many) records into the same registry.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder in this process")
    })
}

/// Serves `GET /metrics` on `bind` until `shutdown`; returns the bound address.
pub async fn serve(
    bind: SocketAddr,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(bind).await.with_context(|| format!("metrics listener on {bind}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(|| async { handle().render() }));
    tasks.spawn(async move {
        let served =
            axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await });
        if let Err(e) = served.await {
            tracing::warn!(error = %e, "metrics listener stopped");
        }
    });
    tracing::info!(%addr, "metrics at /metrics");
    Ok(addr)
}

/// The tenant a response was for, left by the tenant middleware for [`track`].
#[derive(Clone, Copy)]
pub struct ServedTenant(pub uuid::Uuid);

/// Counts every request by route template, method, status class and tenant, and
/// times it by route.
pub async fn track(req: Request, next: Next) -> Response {
    // Off unless a metrics listener was configured: then a request pays nothing here.
    if HANDLE.get().is_none() {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let res = next.run(req).await;
    let tenant = res.extensions().get::<ServedTenant>().map(|t| t.0.to_string()).unwrap_or_default();
    let status = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("mooring_http_requests_total",
        "route" => route.clone(), "method" => method.clone(), "status" => status, "tenant" => tenant)
    .increment(1);
    metrics::histogram!("mooring_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    res
}
