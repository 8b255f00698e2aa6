//! Prometheus metrics, on a listener of their own (`MOORING_METRICS_BIND`), never on a
//! tenant's domain. The `metrics` facade records from anywhere in the process; the
//! exporter renders the text format. Labels stay bounded: route templates (never raw
//! paths), status classes, tenant ids.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use dashmap::DashMap;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Request latency buckets, in seconds: hot reads are sub-millisecond, token exchanges
/// wait for Horizon.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder. One per process: every server started in it (tests start
/// many) records into the same registry.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("buckets are not empty")
            .set_buckets_for_metric(
                Matcher::Full("mooring_transaction_create_batch_size".into()),
                &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
            )
            .expect("buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder in this process");
        crate::metrics_catalog::describe();
        handle
    })
}

/// Serves `GET /metrics` on `bind` until `shutdown`; returns the bound address.
/// `/metrics`, and the probes (`/livez`, `/readyz`) for orchestrators that reach pods
/// on this port rather than through the admin host.
pub fn serve(
    listener: TcpListener,
    state: &AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route(
            "/metrics",
            get(|| async {
                crate::metrics_catalog::sample_process();
                handle().render()
            }),
        )
        .merge(crate::probes::probes())
        .with_state(state.clone());
    let tasks = &state.tasks;
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

/// The tenant a response was for (its id as text), left by the tenant middleware for
/// [`track`].
#[derive(Clone)]
pub struct ServedTenant(pub Arc<str>);

/// Route templates as `&'static str`: the router has a handful, so after the first
/// request of each, labelling borrows instead of allocating.
fn route_label(path: Option<&MatchedPath>) -> &'static str {
    static ROUTES: OnceLock<DashMap<String, &'static str>> = OnceLock::new();
    let Some(path) = path else { return "unmatched" };
    let routes = ROUTES.get_or_init(DashMap::new);
    if let Some(known) = routes.get(path.as_str()) {
        return *known;
    }
    *routes
        .entry(path.as_str().to_owned())
        .or_insert_with(|| Box::leak(path.as_str().to_owned().into_boxed_str()))
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Counts every request by route template, method, status class and tenant, and
/// times it by route.
pub async fn track(req: Request, next: Next) -> Response {
    // Off unless a metrics listener was configured: then a request pays nothing here.
    if HANDLE.get().is_none() {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = method_label(req.method());
    let route = route_label(req.extensions().get::<MatchedPath>());
    let res = next.run(req).await;
    let tenant = match res.extensions().get::<ServedTenant>() {
        Some(t) => metrics::SharedString::from_shared(t.0.clone()),
        None => metrics::SharedString::const_str(""),
    };
    let status = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("mooring_http_requests_total",
        "route" => route, "method" => method, "status" => status, "tenant" => tenant)
    .increment(1);
    metrics::histogram!("mooring_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    res
}

/// Samples what no request or event reports by itself, every `every`: the outbox's
/// backlog and the database pool. Only where metrics are served.
pub fn spawn_samplers(
    state: crate::state::AppState,
    every: std::time::Duration,
    shutdown: CancellationToken,
) {
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        loop {
            match mooring_anchor::outbox::backlog(&state.db).await {
                Ok((pending, oldest)) => {
                    metrics::gauge!("mooring_outbox_pending").set(pending as f64);
                    let age = oldest
                        .map_or(0.0, |t| (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
                    metrics::gauge!("mooring_outbox_oldest_pending_seconds").set(age);
                }
                Err(e) => tracing::warn!(error = %e, "sampling the outbox failed"),
            }
            let (stale, unpriced) = corridor_health(&state);
            metrics::gauge!("mooring_corridors_stale").set(stale as f64);
            metrics::gauge!("mooring_corridors_without_rate").set(unpriced as f64);
            let (size, idle) = pool_sizes(&state.db);
            metrics::gauge!("mooring_db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("mooring_db_pool_connections", "state" => "in_use")
                .set(size.saturating_sub(idle) as f64);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// (corridors whose rate is too old for firm quotes, corridors with no rate at all)
/// among active tenants' enabled corridors: what refuses firm quotes right now.
fn corridor_health(state: &crate::state::AppState) -> (usize, usize) {
    let now = chrono::Utc::now();
    let snapshot = state.tenants.snapshot();
    let (mut stale, mut unpriced) = (0, 0);
    for c in snapshot
        .tenants()
        .filter(|t| t.status == mooring_tenants::TenantStatus::Active)
        .flat_map(|t| t.corridors.iter())
        .filter(|c| c.enabled)
    {
        match state.rates.rate(c) {
            None => unpriced += 1,
            Some(rate) if mooring_anchor::quotes::check_fresh(c, rate, now).is_err() => stale += 1,
            Some(_) => {}
        }
    }
    (stale, unpriced)
}

/// (open connections, idle ones) of the database pool.
fn pool_sizes(db: &sea_orm::DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle() as u32)
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle() as u32)
        }
        _ => (0, 0),
    }
}
