//! A local stand-in for Horizon, serving the real JSON shapes of the endpoints Mooring
//! reads. Tests register accounts and can make it fail or slow down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

#[derive(Default)]
struct Inner {
    /// account id → (signers as (key, weight), medium threshold)
    accounts: HashMap<String, (Vec<(String, u32)>, u32)>,
    failing: bool,
    delay: Duration,
}

#[derive(Clone)]
pub struct HorizonStandIn {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl HorizonStandIn {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/accounts/{id}", get(account)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}"), inner }
    }

    /// An account with these signers (key, weight) and medium threshold.
    pub fn set_account(&self, id: &str, signers: Vec<(String, u32)>, med_threshold: u32) {
        self.inner.lock().unwrap().accounts.insert(id.to_string(), (signers, med_threshold));
    }

    /// Answer every request with 500 (as a Horizon having a bad time does).
    pub fn set_failing(&self, failing: bool) {
        self.inner.lock().unwrap().failing = failing;
    }

    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }
}

async fn account(State(inner): State<Arc<Mutex<Inner>>>, Path(id): Path<String>) -> Response {
    let (found, failing, delay) = {
        let inner = inner.lock().unwrap();
        (inner.accounts.get(&id).cloned(), inner.failing, inner.delay)
    };
    tokio::time::sleep(delay).await;
    if failing {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({
                "type": "https://stellar.org/horizon-errors/server_error",
                "title": "Internal Server Error",
                "status": 500,
            })),
        )
            .into_response();
    }
    let Some((signers, med)) = found else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({
                "type": "https://stellar.org/horizon-errors/not_found",
                "title": "Resource Missing",
                "status": 404,
                "detail": "The resource at the url requested was not found.",
            })),
        )
            .into_response();
    };
    let signers: Vec<_> = signers
        .iter()
        .map(|(key, weight)| json!({ "weight": weight, "key": key, "type": "ed25519_public_key" }))
        .collect();
    Json(json!({
        "_links": { "self": { "href": format!("/accounts/{id}") } },
        "id": id,
        "account_id": id,
        "sequence": "3298702387052545",
        "subentry_count": 0,
        "last_modified_ledger": 768061,
        "last_modified_time": "2024-05-01T10:00:00Z",
        "thresholds": { "low_threshold": 0, "med_threshold": med, "high_threshold": med },
        "flags": { "auth_required": false, "auth_revocable": false, "auth_immutable": false, "auth_clawback_enabled": false },
        "balances": [{ "balance": "9999.9999900", "buying_liabilities": "0.0000000", "selling_liabilities": "0.0000000", "asset_type": "native" }],
        "signers": signers,
        "data": {},
        "num_sponsoring": 0,
        "num_sponsored": 0,
        "paging_token": id,
    }))
    .into_response()
}
