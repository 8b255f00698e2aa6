//! Health: `/health` (kept for compatibility, on every host, so a load balancer can
//! probe any replica by IP) and the Kubernetes-style probes, answered only on the admin
//! host and the metrics listener — never on a tenant's domain:
//! - `/livez`: the process is alive and serving; touches nothing (a database blip
//!   must not get every pod restarted);
//! - `/readyz`: it should get traffic: the database and Redis (when configured) answer,
//!   the tenant configuration is loaded, and it is not draining after SIGTERM (503
//!   from then on, while in-flight and late requests are still served).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::AppState;

/// Whether the database and Redis (when configured) answer.
pub(crate) async fn dependencies(state: &AppState) -> (bool, Option<bool>) {
    let database = state.db.ping().await.is_ok();
    let redis = match &state.redis {
        None => None,
        Some(conn) => {
            let mut conn = conn.clone();
            let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
            Some(pong.is_ok())
        }
    };
    (database, redis)
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, redis) = dependencies(&state).await;
    let ok = database && redis.unwrap_or(true);
    let mut body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "database": if database { "ok" } else { "down" },
    });
    if let Some(up) = redis {
        body["redis"] = json!(if up { "ok" } else { "down" });
        // Not a failure: without the push, config changes still arrive by polling.
        let live = state.config_push_live.load(Ordering::Relaxed);
        body["config_push"] = json!(if live { "subscribed" } else { "reconnecting" });
    }
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}

async fn livez() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let draining = state.draining.load(Ordering::Relaxed);
    let (database, redis) = dependencies(&state).await;
    // The tenant configuration is loaded before the listener opens, so a replica that
    // answers has it; its version is shown to compare replicas.
    let ready = !draining && database && redis.unwrap_or(true);
    let mut body = json!({
        "status": if ready { "ready" } else if draining { "draining" } else { "unavailable" },
        "database": if database { "ok" } else { "down" },
        "config_version": state.tenants.version(),
    });
    if let Some(up) = redis {
        body["redis"] = json!(if up { "ok" } else { "down" });
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}

/// `/health`, on every host.
pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// `/livez` and `/readyz`: merged into the admin host's router and served on the
/// metrics listener.
pub fn probes() -> Router<AppState> {
    Router::new().route("/livez", get(livez)).route("/readyz", get(readyz))
}
