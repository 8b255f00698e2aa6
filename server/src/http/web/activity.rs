//! What happened: the tenant's webhook endpoints with their delivery logs (redeliver,
//! send a test event) and the audit log of admin changes.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::form::{Control, Field, FormView, value};
use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use super::{IdPath, SignedIn};
use crate::state::AppState;

pub async fn webhooks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_webhooks(&state, &who, None, None).await
}

const EVENT_TYPES: [(&str, &str); 5] = [
    ("transaction.created", "transaction.created"),
    ("transaction.status_changed", "transaction.status_changed"),
    ("payment.unmatched", "payment.unmatched"),
    ("customer.updated", "customer.updated"),
    ("quote.expired_with_payment", "quote.expired_with_payment"),
];

/// After creating an endpoint: its secret (shown once), or the refusal and what was sent.
enum Created<'a> {
    Secret(String),
    Refused(&'a [(String, String)], String),
}

async fn render_webhooks(
    state: &AppState,
    who: &SignedIn,
    notice: Option<&str>,
    created: Option<Created<'_>>,
) -> Response {
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
            r#"<h2><code>{}</code></h2><p>{state_text} · events: {}</p><div class="actions"><form method="post" action="/console/webhooks/{id}/test">{csrf}<button type="submit">Send a test event</button></form><form method="post" action="/console/webhooks/{id}/{toggle}">{csrf}<button type="submit" aria-label="{toggle_label} the endpoint {url}">{toggle_label}</button></form><form method="post" action="/console/webhooks/{id}/delete">{csrf}<button type="submit" aria-label="Delete the endpoint {url}">Delete</button></form></div>
<table><thead><tr><th>Created</th><th>Event</th><th>Outcome</th><th>Attempts</th><th>Last status</th><th>Last error</th><th></th></tr></thead><tbody>{rows}</tbody></table>"#,
            t(&e["url"]),
            types.join(", "),
            url = t(&e["url"]),
            csrf = csrf_field(who),
            toggle = if e["enabled"] == true { "disable" } else { "enable" },
            toggle_label = if e["enabled"] == true { "Disable" } else { "Enable" },
        );
    }
    if data["webhookEndpoints"].as_array().is_none_or(|a| a.is_empty()) {
        body += "<p>No webhook endpoints yet.</p>";
    }
    let form = FormView {
        id: "endpoint",
        action: "/console/webhooks",
        button: "Add endpoint",
        fields: vec![
            Field::new("url", "URL (https://…)", Control::Text).required(),
            Field::new("event_types", "Events (none ticked: all)", Control::Checks(&EVENT_TYPES))
                .known_as(&["event type"]),
        ],
    };
    let (status, form) = match &created {
        Some(Created::Refused(sent, why)) => (StatusCode::BAD_REQUEST, form.html(who, Some(sent), Some(why))),
        Some(Created::Secret(secret)) => (
            StatusCode::OK,
            format!(
                r#"<p class="notice" role="status">Endpoint added. Its signing secret, shown this once: <code id="new-secret">{}</code></p>{}"#,
                esc(secret),
                form.html(who, None, None)
            ),
        ),
        None => (StatusCode::OK, form.html(who, None, None)),
    };
    body += &format!("<h2>Add an endpoint</h2>{form}");
    who.respond(state, status, layout(Some(who), "Webhooks", &body))
}

pub async fn create_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let types: Vec<&str> = f.iter().filter(|(k, _)| k == "event_types").map(|(_, v)| v.as_str()).collect();
    let q = "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }";
    let vars = json!({ "i": { "url": value(&f, "url"), "eventTypes": types } });
    match who.gql(&state, q, vars).await {
        Ok(d) => {
            let secret = d["createWebhookEndpoint"]["secret"].as_str().unwrap_or_default().to_string();
            render_webhooks(&state, &who, None, Some(Created::Secret(secret))).await
        }
        Err((m, c)) if c == "FORBIDDEN" => refusal(&state, &who, (m, c)),
        Err((m, _)) => render_webhooks(&state, &who, None, Some(Created::Refused(&f, m))).await,
    }
}

pub async fn enable_endpoint(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    let q = "mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: true }) { id } }";
    act(state, headers, id, form, q, "Endpoint enabled.").await
}

pub async fn disable_endpoint(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    let q = "mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id } }";
    act(state, headers, id, form, q, "Endpoint disabled.").await
}

pub async fn delete_endpoint(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    let q = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }";
    act(state, headers, id, form, q, "Endpoint deleted.").await
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
        Ok(_) => render_webhooks(&state, &who, Some(done), None).await,
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
