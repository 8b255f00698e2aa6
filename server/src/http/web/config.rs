//! A tenant's configuration in the console: approved sending anchors and assets. Every
//! write is the API's own mutation (ADMIN only, checked there); a refusal is shown above
//! the form with the API's message, which names the field.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::SignedIn;
use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use crate::state::AppState;

fn alert(error: Option<&str>) -> String {
    error
        .map(|e| format!(r#"<p class="error" role="alert" id="form-error">{}</p>"#, esc(e)))
        .unwrap_or_default()
}

pub async fn senders(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_senders(&state, &who, None, StatusCode::OK).await
}

async fn render_senders(
    state: &AppState,
    who: &SignedIn,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let data =
        match who.gql(state, "{ tenant { senders(first: 1000) { account name enabled } } }", json!({})).await
        {
            Ok(d) => d,
            Err(e) => return refusal(state, who, e),
        };
    let mut rows = String::new();
    for s in data["tenant"]["senders"].as_array().into_iter().flatten() {
        let enabled = s["enabled"] == true;
        let (label, to) = if enabled { ("Disable", "false") } else { ("Enable", "true") };
        rows += &format!(
            r#"<tr><td><code>{account}</code></td><td>{}</td><td>{}</td><td><form method="post" action="/console/senders/enabled">{}<input type="hidden" name="account" value="{account}"><input type="hidden" name="enabled" value="{to}"><button type="submit" aria-label="{label} {account}">{label}</button></form></td></tr>"#,
            t(&s["name"]),
            if enabled { "enabled" } else { "disabled" },
            csrf_field(who),
            account = t(&s["account"]),
        );
    }
    let body = format!(
        r#"{}<table><thead><tr><th>Account</th><th>Name</th><th>State</th><th></th></tr></thead><tbody>{rows}</tbody></table>
<h2>Approve a sending anchor</h2><form method="post" action="/console/senders">{}<label for="account">Stellar account (G…)</label><input id="account" name="account" required size="60"><label for="sender-name">Name</label><input id="sender-name" name="name" required> <button type="submit">Approve</button></form>"#,
        alert(error),
        csrf_field(who)
    );
    who.respond(state, status, layout(Some(who), "Sending anchors", &body))
}

#[derive(serde::Deserialize)]
pub struct SenderForm {
    #[serde(default)]
    csrf: String,
    account: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    enabled: Option<String>,
}

pub async fn approve_sender(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SenderForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    let q = "mutation($a: String!, $n: String!) { approveSender(account: $a, name: $n) { id } }";
    written(
        &state,
        &who,
        who.gql(&state, q, json!({ "a": f.account.trim(), "n": f.name.trim() })).await,
        render_senders,
    )
    .await
}

pub async fn set_sender_enabled(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SenderForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    let on = f.enabled.as_deref() == Some("true");
    let q = "mutation($a: String!, $e: Boolean!) { setSenderEnabled(account: $a, enabled: $e) { id } }";
    written(&state, &who, who.gql(&state, q, json!({ "a": f.account, "e": on })).await, render_senders).await
}

/// After a write: the page again, with the API's refusal above its form (400/403).
async fn written<F>(
    state: &AppState,
    who: &SignedIn,
    result: Result<Value, (String, String)>,
    page: F,
) -> Response
where
    F: AsyncFnOnce(&AppState, &SignedIn, Option<&str>, StatusCode) -> Response,
{
    match result {
        Ok(_) => page(state, who, None, StatusCode::OK).await,
        Err((message, code)) => {
            let status = if code == "FORBIDDEN" { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
            page(state, who, Some(&message), status).await
        }
    }
}

pub async fn assets(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_assets(&state, &who, None, StatusCode::OK).await
}

async fn render_assets(
    state: &AppState,
    who: &SignedIn,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let q = "{ tenant { assets { code issuer minAmount maxAmount feeFixed feePercent memoType quotesRequired } customerTypes { name } } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let mut rows = String::new();
    for a in data["tenant"]["assets"].as_array().into_iter().flatten() {
        rows += &format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{} – {}</td><td>{} + {} %</td><td>{}</td></tr>",
            t(&a["code"]),
            t(&a["issuer"]),
            t(&a["minAmount"]),
            t(&a["maxAmount"]),
            t(&a["feeFixed"]),
            t(&a["feePercent"]),
            t(&a["memoType"]).to_ascii_lowercase(),
        );
    }
    let mut types = String::from(r#"<option value="">none</option>"#);
    for c in data["tenant"]["customerTypes"].as_array().into_iter().flatten() {
        types += &format!(r#"<option value="{n}">{n}</option>"#, n = t(&c["name"]));
    }
    let body = format!(
        r#"{}<table><thead><tr><th>Code</th><th>Issuer</th><th>Limits</th><th>Fee</th><th>Memo</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Add or replace an asset</h2><form method="post" action="/console/assets">{}
<label for="code">Code</label><input id="code" name="code" required maxlength="12">
<label for="issuer">Issuer (G…)</label><input id="issuer" name="issuer" required size="60">
<label for="min">Smallest amount</label><input id="min" name="min_amount" inputmode="decimal">
<label for="max">Largest amount</label><input id="max" name="max_amount" inputmode="decimal">
<label for="fee-fixed">Fixed fee</label><input id="fee-fixed" name="fee_fixed" value="0" inputmode="decimal">
<label for="fee-percent">Percentage fee</label><input id="fee-percent" name="fee_percent" value="0" inputmode="decimal">
<label for="sender-type">SEP-12 type of senders</label><select id="sender-type" name="sender_type">{types}</select>
<label for="receiver-type">SEP-12 type of receivers</label><select id="receiver-type" name="receiver_type">{types}</select>
<p><button type="submit">Save asset</button></p></form>"#,
        alert(error),
        csrf_field(who)
    );
    who.respond(state, status, layout(Some(who), "Assets", &body))
}

#[derive(serde::Deserialize)]
pub struct AssetForm {
    #[serde(default)]
    csrf: String,
    code: String,
    issuer: String,
    #[serde(default)]
    min_amount: String,
    #[serde(default)]
    max_amount: String,
    #[serde(default)]
    fee_fixed: String,
    #[serde(default)]
    fee_percent: String,
    #[serde(default)]
    sender_type: String,
    #[serde(default)]
    receiver_type: String,
}

pub async fn upsert_asset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<AssetForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = json!({
        "code": f.code.trim(),
        "issuer": f.issuer.trim(),
        "minAmount": opt(&f.min_amount),
        "maxAmount": opt(&f.max_amount),
        "feeFixed": opt(&f.fee_fixed).unwrap_or("0".into()),
        "feePercent": opt(&f.fee_percent).unwrap_or("0".into()),
        "senderSep12Type": opt(&f.sender_type),
        "receiverSep12Type": opt(&f.receiver_type),
    });
    let q = "mutation($i: AssetInput!) { upsertAsset(input: $i) { id } }";
    written(&state, &who, who.gql(&state, q, json!({ "i": input })).await, render_assets).await
}
