//! What happened: the tenant's webhook endpoints with their delivery logs (redeliver,
//! send a test event) and the audit log of admin changes.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use super::{IdPath, SignedIn};
use crate::state::AppState;

pub async fn webhooks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_webhooks(&state, &who, None).await
}

async fn render_webhooks(state: &AppState, who: &SignedIn, notice: Option<&str>) -> Response {
    let q = "{ webhookEndpoints { id url eventTypes enabled disabledReason deliveries(first: 20) { id eventType attempts lastStatus lastError deliveredAt failedAt createdAt } } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let mut body =
        notice.map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, esc(n))).unwrap_or_default();
    for e in data["webhookEndpoints"].as_array().into_iter().flatten() {
        let id = t(&e["id"]);
        let state_text = if e["enabled"] == true {
            "enabled".to_string()
        } else {
            format!("disabled: {}", t(&e["disabledReason"]))
        };
        let types: Vec<String> = e["eventTypes"].as_array().into_iter().flatten().map(t).collect();
        let mut rows = String::new();
        for d in e["deliveries"].as_array().into_iter().flatten() {
            let outcome = if !d["deliveredAt"].is_null() {
                "delivered"
            } else if !d["failedAt"].is_null() {
                "failed"
            } else {
                "pending"
            };
            rows += &format!(
                r#"<tr><td>{}</td><td>{}</td><td>{outcome}</td><td>{}</td><td>{}</td><td>{}</td><td><form method="post" action="/console/webhooks/deliveries/{did}/redeliver">{}<button type="submit" aria-label="Redeliver {did}">Redeliver</button></form></td></tr>"#,
                t(&d["createdAt"]),
                t(&d["eventType"]),
                t(&d["attempts"]),
                t(&d["lastStatus"]),
                t(&d["lastError"]),
                csrf_field(who),
                did = t(&d["id"]),
            );
        }
        body += &format!(
            r#"<h2><code>{}</code></h2><p>{state_text} · events: {}</p><form method="post" action="/console/webhooks/{id}/test">{}<button type="submit">Send a test event</button></form>
<table><thead><tr><th>Created</th><th>Event</th><th>Outcome</th><th>Attempts</th><th>Last status</th><th>Last error</th><th></th></tr></thead><tbody>{rows}</tbody></table>"#,
            t(&e["url"]),
            types.join(", "),
            csrf_field(who),
        );
    }
    if data["webhookEndpoints"].as_array().is_none_or(|a| a.is_empty()) {
        body += "<p>No webhook endpoints yet (the API's <code>createWebhookEndpoint</code> adds one).</p>";
    }
    who.respond(state, StatusCode::OK, layout(Some(who), "Webhooks", &body))
}

pub async fn send_test(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    let q = "mutation($id: ID!) { sendTestWebhook(id: $id) { id } }";
    act(state, headers, id, form, q, "Test event queued.").await
}

pub async fn redeliver(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    act(state, headers, id, form, "mutation($id: ID!) { redeliverWebhook(id: $id) { id } }", "Queued again.")
        .await
}

/// Runs `mutation` on the endpoint or delivery `id`, then shows the page again.
async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    Form(f): Form<super::CsrfForm>,
    mutation: &str,
    done: &str,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    match who.gql(&state, mutation, json!({ "id": id.0 })).await {
        Ok(_) => render_webhooks(&state, &who, Some(done)).await,
        Err(e) => refusal(&state, &who, e),
    }
}

pub async fn audit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    let q =
        "{ auditLog(first: 100) { at actor keyName keyRoles mutation targetId summary outcome requestId } }";
    let data = match who.gql(&state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(&state, &who, e),
    };
    let mut rows = String::new();
    for e in data["auditLog"].as_array().into_iter().flatten() {
        let by = if e["keyName"].is_null() { "operator token".to_string() } else { t(&e["keyName"]) };
        let roles: Vec<String> = e["keyRoles"].as_array().into_iter().flatten().map(t).collect();
        rows += &format!(
            "<tr><td>{}</td><td>{by} {}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            t(&e["at"]),
            if roles.is_empty() { String::new() } else { format!("({})", roles.join(", ")) },
            t(&e["mutation"]),
            t(&e["targetId"]),
            t(&e["outcome"]),
            t(&e["summary"]),
        );
    }
    let body = format!(
        "<table><thead><tr><th>At</th><th>By</th><th>Change</th><th>On</th><th>Outcome</th><th>Arguments (redacted)</th></tr></thead><tbody>{rows}</tbody></table>"
    );
    who.respond(&state, StatusCode::OK, layout(Some(&who), "Audit log", &body))
}
