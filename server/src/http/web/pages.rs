//! The console's pages: each reads or changes through the GraphQL API as the signed-in
//! key (`SignedIn::gql`) and renders plain HTML. Every value is escaped; every form
//! that changes something carries the session's CSRF token and is checked first.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mooring_tenants::api_keys::Role;
use serde_json::{Value, json};

use super::{IdPath, ListParams, SignedIn};
use crate::state::AppState;

pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value as escaped text ("" for null).
pub(super) fn t(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => esc(s),
        other => esc(&other.to_string()),
    }
}

pub(super) fn layout(who: Option<&SignedIn>, title: &str, body: &str) -> String {
    let nav = match who {
        None => String::new(),
        Some(w) => {
            let links = if w.is_operator() {
                r#"<a href="/console/tenants">Tenants</a><a href="/console/keys">API keys</a><a href="/console/audit">Audit log</a>"#
            } else {
                r#"<a href="/console/transactions">Transactions</a><a href="/console/customers">Customers</a><a href="/console/assets">Assets</a><a href="/console/senders">Senders</a><a href="/console/webhooks">Webhooks</a><a href="/console/keys">API keys</a><a href="/console/audit">Audit log</a>"#
            };
            format!(
                r#"<nav aria-label="Console">{links}</nav><span>Role: {}</span><form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="{}"><button type="submit">Sign out</button></form>"#,
                w.role().as_str().to_ascii_uppercase(),
                esc(w.csrf())
            )
        }
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · Mooring console</title>\
         <link rel=\"stylesheet\" href=\"/console/style.css\"></head><body><header><strong>Mooring</strong>{nav}</header>\
         <main><h1>{}</h1>{body}</main></body></html>\n",
        esc(title),
        esc(title)
    )
}

pub fn sign_in_page(error: Option<&str>) -> String {
    let error = error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    layout(
        None,
        "Sign in",
        &format!(
            r#"{error}<form method="post" action="/console/sign-in"><label for="token">API key or operator token</label><input id="token" name="token" type="password" autocomplete="off" required size="60"> <button type="submit">Sign in</button></form>"#
        ),
    )
}

pub fn forbidden_csrf() -> Response {
    let page = layout(
        None,
        "Refused",
        r#"<p class="error">The form's CSRF token is missing or wrong; reload the page and try again.</p>"#,
    );
    (StatusCode::FORBIDDEN, axum::response::Html(page)).into_response()
}

/// The page for an API refusal: not found, forbidden (the role), or invalid.
pub(super) fn refusal(state: &AppState, who: &SignedIn, (message, code): (String, String)) -> Response {
    let status = match code.as_str() {
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "INVALID_INPUT" | "CONFLICT" => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body =
        format!(r#"<p class="error" role="alert">{}</p><p><a href="/console">Back</a></p>"#, esc(&message));
    who.respond(state, status, layout(Some(who), "Refused", &body))
}

pub(super) fn csrf_field(who: &SignedIn) -> String {
    format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(who.csrf()))
}

macro_rules! signed_in_or_sign_in {
    ($state:expr, $headers:expr) => {
        match super::admitted(&$state, &$headers).await {
            Ok(who) => who,
            Err(None) => return axum::response::Redirect::to("/console").into_response(),
            Err(Some(too_many)) => return too_many,
        }
    };
}
pub(super) use signed_in_or_sign_in;

const STATUSES: [&str; 10] = [
    "PENDING_SENDER",
    "PENDING_STELLAR",
    "PENDING_RECEIVER",
    "PENDING_EXTERNAL",
    "PENDING_CUSTOMER_INFO_UPDATE",
    "PENDING_TRANSACTION_INFO_UPDATE",
    "COMPLETED",
    "REFUNDED",
    "EXPIRED",
    "ERROR",
];

pub async fn transactions(State(state): State<AppState>, headers: HeaderMap, params: ListParams) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    let status = params.status.clone().filter(|s| STATUSES.contains(&s.as_str()));
    let day = |d: &Option<String>| {
        d.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
    };
    let (from, to) = (day(&params.from), day(&params.to));
    let sender = params.sender.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let filter = json!({
        "status": status,
        "createdAfter": from.map(|d| format!("{d}T00:00:00Z")),
        "createdBefore": to.map(|d| format!("{}T00:00:00Z", d.succ_opt().unwrap_or(d))),
        "senderAccount": sender,
    });
    let q = "query($t: ID, $f: TransactionFilter, $a: String) { transactions(tenantId: $t, filter: $f, first: 50, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id status amountIn assetCode saAccount startedAt } } }";
    let data = match who.gql(&state, q, json!({ "t": params.tenant, "f": filter, "a": params.after })).await {
        Ok(d) => d,
        Err(e) => return refusal(&state, &who, e),
    };
    let mut options = String::from(r#"<option value="">any</option>"#);
    for s in STATUSES {
        let selected = if status.as_deref() == Some(s) { " selected" } else { "" };
        options += &format!(r#"<option value="{s}"{selected}>{}</option>"#, s.to_ascii_lowercase());
    }
    let tenant_field = params
        .tenant
        .as_ref()
        .map(|t| format!(r#"<input type="hidden" name="tenant" value="{}">"#, esc(t)))
        .unwrap_or_default();
    let mut rows = String::new();
    for n in data["transactions"]["nodes"].as_array().into_iter().flatten() {
        rows += &format!(
            r#"<tr><td><a href="/console/transactions/{id}">{id}</a></td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>"#,
            t(&n["status"]).to_ascii_lowercase(),
            t(&n["amountIn"]),
            t(&n["assetCode"]),
            t(&n["saAccount"]),
            t(&n["startedAt"]),
            id = t(&n["id"]),
        );
    }
    // The next page keeps the filters.
    let next = match data["transactions"]["pageInfo"]["endCursor"].as_str() {
        Some(cursor) if data["transactions"]["pageInfo"]["hasNextPage"] == true => {
            let mut query: Vec<(&str, String)> = vec![("after", cursor.to_string())];
            for (k, v) in
                [("status", &status), ("tenant", &params.tenant), ("from", &params.from), ("to", &params.to)]
            {
                if let Some(v) = v {
                    query.push((k, v.clone()));
                }
            }
            if let Some(s) = sender {
                query.push(("sender", s.to_string()));
            }
            let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
            format!(r#"<p><a href="/console/transactions?{}">Next page</a></p>"#, esc(&query))
        }
        _ => String::new(),
    };
    let value = |v: &Option<String>| esc(v.as_deref().unwrap_or_default());
    let body = format!(
        r#"<form method="get" action="/console/transactions">{tenant_field}<label for="status">Status</label><select id="status" name="status">{options}</select>
<label for="from">Created from (YYYY-MM-DD)</label><input id="from" name="from" value="{}" placeholder="2026-12-01">
<label for="to">Created to (inclusive)</label><input id="to" name="to" value="{}">
<label for="sender">Sending anchor account</label><input id="sender" name="sender" value="{}" size="60"> <button type="submit">Filter</button></form>
<p>{} transactions</p><table><thead><tr><th>Id</th><th>Status</th><th>Amount</th><th>Sending anchor</th><th>Created</th></tr></thead><tbody id="transactions">{rows}</tbody></table>{next}<script src="/console/live.js" defer></script>"#,
        value(&params.from),
        value(&params.to),
        value(&params.sender),
        t(&data["transactions"]["totalCount"])
    );
    who.respond(&state, StatusCode::OK, layout(Some(&who), "Transactions", &body))
}

pub async fn transaction(State(state): State<AppState>, headers: HeaderMap, id: IdPath) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_transaction(&state, &who, &id.0, None).await
}

async fn render_transaction(state: &AppState, who: &SignedIn, id: &str, notice: Option<String>) -> Response {
    let q = "query($id: ID!) { transaction(id: $id) { id status statusMessage amountIn amountFee amountOut amountOutAsset assetCode stellarMemo stellarTransactionId externalTransactionId heldReason startedAt events { at fromStatus toStatus actor message } payments { opType fromAccount amount assetCode txHash outcome note } refunds sender { id } receiver { id } } }";
    let data = match who.gql(state, q, json!({ "id": id })).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let tx = &data["transaction"];
    let mut facts = String::new();
    for (label, key) in [
        ("Status", "status"),
        ("Message", "statusMessage"),
        ("Amount in", "amountIn"),
        ("Fee", "amountFee"),
        ("Amount out", "amountOut"),
        ("Paid out in", "amountOutAsset"),
        ("Memo", "stellarMemo"),
        ("Stellar transaction", "stellarTransactionId"),
        ("External id", "externalTransactionId"),
        ("Held", "heldReason"),
        ("Created", "startedAt"),
    ] {
        facts += &format!("<tr><th scope=\"row\">{label}</th><td>{}</td></tr>", t(&tx[key]));
    }
    let mut events = String::new();
    for e in tx["events"].as_array().into_iter().flatten() {
        events += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t(&e["at"]),
            t(&e["fromStatus"]).to_ascii_lowercase(),
            t(&e["toStatus"]).to_ascii_lowercase(),
            t(&e["actor"]),
            t(&e["message"])
        );
    }
    let status = tx["status"].as_str().unwrap_or_default();
    let mut actions = String::new();
    if who.role() >= Role::Operate {
        let form = |action: &str, label: &str, extra: &str| {
            format!(
                r#"<form method="post">{}<input type="hidden" name="action" value="{action}">{extra}<button type="submit">{label}</button></form>"#,
                csrf_field(who)
            )
        };
        let held = !tx["heldReason"].is_null();
        if status == "PENDING_RECEIVER" && !held {
            actions += &form(
                "pending_external",
                "Mark pending external",
                r#"<label for="m">Message</label><input id="m" name="message"> "#,
            );
        }
        if (status == "PENDING_RECEIVER" || status == "PENDING_EXTERNAL") && !held {
            actions += &form(
                "complete",
                "Complete",
                r#"<label for="x">External transaction id</label><input id="x" name="external_id" required> "#,
            );
        }
        if held {
            actions += &form("release", "Release the hold", "");
        }
        if ["PENDING_RECEIVER", "PENDING_EXTERNAL"].contains(&status) && !held {
            actions += &form(
                "request_info",
                "Ask for transaction info",
                r#"<label for="fields">Fields (comma-separated)</label><input id="fields" name="fields"><label for="why">What is wrong</label><input id="why" name="message"> "#,
            );
        }
        if ["PENDING_RECEIVER", "PENDING_EXTERNAL"].contains(&status) && !held {
            let mut whom = String::new();
            for (label, key) in [("sender", "sender"), ("receiver", "receiver")] {
                if let Some(id) = tx[key]["id"].as_str() {
                    whom += &format!(r#"<option value="{}">the {label}</option>"#, esc(id));
                }
            }
            if !whom.is_empty() {
                let extra = format!(
                    r#"<label for="who">Customer</label><select id="who" name="customer_id">{whom}</select><label for="cfields">Fields and reasons (name: reason, one per line)</label><textarea id="cfields" name="fields" rows="2"></textarea><label for="cwhy">Message</label><input id="cwhy" name="message"> "#
                );
                actions += &form("customer_info", "Ask for customer info", &extra);
            }
        }
        if !["PENDING_SENDER", "COMPLETED", "REFUNDED", "EXPIRED"].contains(&status) {
            actions += &form(
                "refund",
                "Record a refund",
                r#"<label for="refund-amount">Amount</label><input id="refund-amount" name="amount" inputmode="decimal"><label for="refund-fee">Fee</label><input id="refund-fee" name="fee" value="0" inputmode="decimal"><label for="refund-tx">Stellar transaction</label><input id="refund-tx" name="stellar_transaction_id"><label for="refund-why">Reason</label><input id="refund-why" name="reason"> "#,
            );
        }
    }
    let mut payments = String::new();
    for p in tx["payments"].as_array().into_iter().flatten() {
        payments += &format!(
            "<tr><td>{}</td><td>{} {}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            t(&p["opType"]),
            t(&p["amount"]),
            t(&p["assetCode"]),
            t(&p["fromAccount"]),
            t(&p["txHash"]),
            t(&p["outcome"]).to_ascii_lowercase(),
            t(&p["note"])
        );
    }
    let refunds = match tx["refunds"].as_str() {
        Some(r) => format!("<h2>Refunds</h2><pre>{}</pre>", esc(r)),
        None => String::new(),
    };
    let actions = if actions.is_empty() {
        String::new()
    } else {
        format!(r#"<h2>Actions</h2><div class="actions">{actions}</div>"#)
    };
    let notice =
        notice.map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, esc(&n))).unwrap_or_default();
    let body = format!(
        "{notice}<table>{facts}</table>{actions}<h2>History</h2><table><thead><tr><th>At</th><th>From</th><th>To</th><th>By</th><th>Message</th></tr></thead><tbody>{events}</tbody></table><h2>Payments</h2><table><thead><tr><th>Kind</th><th>Amount</th><th>From</th><th>Stellar transaction</th><th>Outcome</th><th>Note</th></tr></thead><tbody>{payments}</tbody></table>{refunds}"
    );
    who.respond(state, StatusCode::OK, layout(Some(who), &format!("Transaction {id}"), &body))
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    fields: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    fee: String,
    #[serde(default)]
    stellar_transaction_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    customer_id: String,
}

/// Runs the action through the API, which checks the role and the status again.
pub async fn act_on_transaction(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    Form(form): Form<ActionForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&form.csrf) {
        return forbidden_csrf();
    }
    let message = Some(form.message.trim()).filter(|m| !m.is_empty());
    let (q, vars) = match form.action.as_str() {
        "pending_external" => (
            "mutation($id: ID!, $m: String) { markPendingExternal(id: $id, message: $m) { id } }",
            json!({ "id": id.0, "m": message }),
        ),
        "complete" => (
            "mutation($id: ID!, $x: String!) { completeTransaction(id: $id, externalTransactionId: $x) { id } }",
            json!({ "id": id.0, "x": form.external_id.trim() }),
        ),
        "release" => ("mutation($id: ID!) { releaseHeldTransaction(id: $id) { id } }", json!({ "id": id.0 })),
        "request_info" => {
            let fields: Vec<&str> = form.fields.split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
            let q = "mutation($id: ID!, $f: [String!]!, $m: String!) { requestTransactionInfo(id: $id, fields: $f, message: $m) { id } }";
            (q, json!({ "id": id.0, "f": fields, "m": form.message.trim() }))
        }
        "customer_info" => {
            // One "name: reason" per line; a bare name gets a general reason.
            let fields: Vec<Value> = form
                .fields
                .lines()
                .filter_map(|l| {
                    let (name, reason) = l.split_once(':').unwrap_or((l, "please check"));
                    let name = name.trim();
                    (!name.is_empty()).then(|| json!({ "name": name, "reason": reason.trim() }))
                })
                .collect();
            let q = "mutation($id: ID!, $c: ID!, $f: [FieldReason!]!, $m: String!) { requestCustomerInfo(id: $id, customerId: $c, fields: $f, message: $m) { id } }";
            (q, json!({ "id": id.0, "c": form.customer_id, "f": fields, "m": form.message.trim() }))
        }
        "refund" => {
            let fee = Some(form.fee.trim()).filter(|f| !f.is_empty()).unwrap_or("0");
            let q = "mutation($id: ID!, $a: String!, $f: String!, $s: String!, $r: String!) { refundTransaction(id: $id, amount: $a, fee: $f, stellarTransactionId: $s, reason: $r) { id } }";
            let vars = json!({ "id": id.0, "a": form.amount.trim(), "f": fee, "s": form.stellar_transaction_id.trim(), "r": form.reason.trim() });
            (q, vars)
        }
        _ => return refusal(&state, &who, ("unknown action".into(), "INVALID_INPUT".into())),
    };
    match who.gql(&state, q, vars).await {
        Ok(_) => render_transaction(&state, &who, &id.0, Some("Done.".into())).await,
        Err(e) => refusal(&state, &who, e),
    }
}
