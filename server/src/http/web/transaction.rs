//! One transaction's page: its facts, history, payments, refunds and the callbacks
//! sent about it, with the actions its status allows for roles that may operate.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mooring_tenants::api_keys::Role;
use serde_json::{Value, json};

use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use super::{IdPath, SignedIn};
use crate::state::AppState;

pub async fn transaction(State(state): State<AppState>, headers: HeaderMap, id: IdPath) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_transaction(&state, &who, &id.0, None).await
}

async fn render_transaction(state: &AppState, who: &SignedIn, id: &str, notice: Option<String>) -> Response {
    let q = "query($id: ID!) { transaction(id: $id) { id status statusMessage amountIn amountFee amountOut amountOutAsset assetCode stellarMemo stellarTransactionId externalTransactionId heldReason startedAt events { at fromStatus toStatus actor message } payments { opType fromAccount amount assetCode txHash outcome note } refunds sender { id } receiver { id } callbacks { attempts lastStatus lastError deliveredAt failedAt createdAt } } }";
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
    for (label, key) in [("Sender", "sender"), ("Receiver", "receiver")] {
        if let Some(id) = tx[key]["id"].as_str() {
            facts += &format!(
                r#"<tr><th scope="row">{label}</th><td><a href="/console/customers/{id}">the {key}</a></td></tr>"#,
                id = esc(id)
            );
        }
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
    let mut callbacks = String::new();
    for c in tx["callbacks"].as_array().into_iter().flatten() {
        let outcome = if !c["deliveredAt"].is_null() {
            "delivered"
        } else if !c["failedAt"].is_null() {
            "given up"
        } else {
            "pending"
        };
        callbacks += &format!(
            "<tr><td>{}</td><td>{outcome}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t(&c["createdAt"]),
            t(&c["attempts"]),
            t(&c["lastStatus"]),
            t(&c["lastError"])
        );
    }
    let callbacks = if callbacks.is_empty() {
        "<p>None (the sending anchor gave no callback URL, or nothing changed yet).</p>".to_string()
    } else {
        format!(
            "<table><thead><tr><th>Written</th><th>Outcome</th><th>Attempts</th><th>Last status</th><th>Last error</th></tr></thead><tbody>{callbacks}</tbody></table>"
        )
    };
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
        "{notice}<table>{facts}</table>{actions}<h2>History</h2><table><thead><tr><th>At</th><th>From</th><th>To</th><th>By</th><th>Message</th></tr></thead><tbody>{events}</tbody></table><h2>Payments</h2><table><thead><tr><th>Kind</th><th>Amount</th><th>From</th><th>Stellar transaction</th><th>Outcome</th><th>Note</th></tr></thead><tbody>{payments}</tbody></table>{refunds}<h2>Callbacks to the sending anchor</h2>{callbacks}"
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
