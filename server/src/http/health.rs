use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::AppState;

/// Served on every host, so a load balancer can probe any replica by IP.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = state.db.ping().await.is_ok();
    let redis = match &state.redis {
        None => None,
        Some(conn) => {
            let mut conn = conn.clone();
            let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
            Some(pong.is_ok())
        }
    };
    let ok = database && redis.unwrap_or(true);
    let mut body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "database": if database { "ok" } else { "down" },
    });
    if let Some(up) = redis {
        body["redis"] = json!(if up { "ok" } else { "down" });
        // Not a failure: without the push, config changes still arrive by polling.
        let live = state.config_push_live.load(std::sync::atomic::Ordering::Relaxed);
        body["config_push"] = json!(if live { "subscribed" } else { "reconnecting" });
    }
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}
