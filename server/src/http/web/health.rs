//! The operator's view of the platform's health: this replica's dependencies (as its
//! readiness probe sees them) and, per tenant from the API, what needs a look — a
//! suspended tenant, a ledger gap, transactions waiting or in error.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::pages::{layout, refusal, signed_in_or_sign_in, t};
use crate::state::AppState;

/// Statuses that wait on the tenant, or went wrong.
const WATCHED: [(&str, &str); 4] = [
    ("PENDING_RECEIVER", "waiting to be paid out"),
    ("PENDING_EXTERNAL", "paid out, not yet confirmed"),
    ("PENDING_CUSTOMER_INFO_UPDATE", "waiting on the sending anchor"),
    ("ERROR", "in error"),
];

/// At most this many pages of 10 tenants.
const MAX_PAGES: usize = 50;

pub async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.is_operator() {
        let refused = ("the platform's health is the operator's".to_string(), "FORBIDDEN".to_string());
        return refusal(&state, &who, refused);
    }
    // Page by page: each page is one request within the API's cost budget.
    let q = "query($a: String) { tenants(first: 10, after: $a) { pageInfo { hasNextPage endCursor } nodes { id name status ledgerSource ledgerGap { fromLedger toLedger detectedAt } transactionCounts { status count } } } }";
    let mut nodes = Vec::new();
    let mut after = serde_json::Value::Null;
    for _ in 0..MAX_PAGES {
        let data = match who.gql(&state, q, json!({ "a": after })).await {
            Ok(d) => d,
            Err(e) => return refusal(&state, &who, e),
        };
        nodes.extend(data["tenants"]["nodes"].as_array().cloned().unwrap_or_default());
        if data["tenants"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["tenants"]["pageInfo"]["endCursor"].clone();
    }
    let (database, redis) = crate::probes::dependencies(&state).await;
    let up = |ok: bool| if ok { "ok" } else { "DOWN" };
    let draining = state.draining.load(Ordering::Relaxed);
    let mut rows = String::new();
    let mut attention = 0;
    for tn in &nodes {
        let counts = tn["transactionCounts"].as_array().cloned().unwrap_or_default();
        let count =
            |s: &str| counts.iter().find(|c| c["status"] == s).and_then(|c| c["count"].as_i64()).unwrap_or(0);
        let waiting: Vec<String> = WATCHED
            .iter()
            .filter(|(s, _)| count(s) > 0)
            .map(|(s, what)| format!("{} {what}", count(s)))
            .collect();
        let gap = match &tn["ledgerGap"] {
            serde_json::Value::Null => String::new(),
            g => format!(
                "ledgers {}–{} unread since {}",
                t(&g["fromLedger"]),
                t(&g["toLedger"]),
                t(&g["detectedAt"])
            ),
        };
        let suspended = tn["status"] == "SUSPENDED";
        if suspended || !gap.is_empty() || count("ERROR") > 0 {
            attention += 1;
        }
        rows += &format!(
            r#"<tr><td><a href="/console/transactions?tenant={}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            t(&tn["id"]),
            t(&tn["name"]),
            t(&tn["status"]).to_ascii_lowercase(),
            t(&tn["ledgerSource"]).to_ascii_lowercase(),
            if gap.is_empty() { "none".to_string() } else { gap },
            waiting.join("; "),
        );
    }
    let body = format!(
        r#"<h2>This replica</h2><table><tr><th scope="row">Database</th><td>{}</td></tr><tr><th scope="row">Redis</th><td>{}</td></tr><tr><th scope="row">Readiness</th><td>{}</td></tr><tr><th scope="row">Tenant configuration version</th><td>{}</td></tr></table>
<h2>Tenants</h2><p id="attention">{attention} need a look (suspended, a ledger gap, or transactions in error).</p><table><thead><tr><th>Tenant</th><th>Status</th><th>Ledger source</th><th>Ledger gap</th><th>Transactions</th></tr></thead><tbody>{rows}</tbody></table>"#,
        up(database),
        redis.map(up).unwrap_or("not configured (in-process stores)"),
        if draining {
            "draining (SIGTERM)"
        } else if database && redis.unwrap_or(true) {
            "ready"
        } else {
            "not ready"
        },
        state.tenants.version(),
    );
    who.respond(&state, StatusCode::OK, layout(Some(&who), "Platform health", &body))
}
