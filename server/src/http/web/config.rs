//! A tenant's configuration in the console: approved sending anchors and assets. Every
//! write is the API's own mutation (ADMIN only, checked there); a refusal is shown above
//! the form with the API's message, which names the field.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::SignedIn;
use super::form::{Control, Field, FormView, opt, value};
use super::pages::{csrf_field, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use crate::state::AppState;

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
        r#"<table><thead><tr><th>Account</th><th>Name</th><th>State</th><th></th></tr></thead><tbody>{rows}</tbody></table>
<h2>Approve a sending anchor</h2>{}"#,
        FormView {
            id: "sender",
            action: "/console/senders",
            button: "Approve",
            fields: vec![
                Field::new("account", "Stellar account (G…)", Control::Text).required(),
                Field::new("name", "Name", Control::Text).required(),
            ],
        }
        .html(who, None, error)
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
    render_assets_with(state, who, None, error, status).await
}

async fn render_assets_with(
    state: &AppState,
    who: &SignedIn,
    sent: Option<&[(String, String)]>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let q = "{ tenant { assets { code issuer minAmount maxAmount feeFixed feePercent memoType quotesRequired fundingMethods senderSep12Type receiverSep12Type } customerTypes { name } } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let mut rows = String::new();
    for a in data["tenant"]["assets"].as_array().into_iter().flatten() {
        let methods: Vec<String> = a["fundingMethods"].as_array().into_iter().flatten().map(t).collect();
        rows += &format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{} – {}</td><td>{} + {} %</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
            t(&a["code"]),
            t(&a["issuer"]),
            t(&a["minAmount"]),
            t(&a["maxAmount"]),
            t(&a["feeFixed"]),
            t(&a["feePercent"]),
            t(&a["memoType"]).to_ascii_lowercase(),
            t(&a["senderSep12Type"]),
            t(&a["receiverSep12Type"]),
            methods.join(", "),
            if a["quotesRequired"] == true { "required" } else { "optional" },
        );
    }
    let mut types = vec![(String::new(), "none".to_string())];
    for c in data["tenant"]["customerTypes"].as_array().into_iter().flatten() {
        let n = c["name"].as_str().unwrap_or_default().to_string();
        types.push((n.clone(), n));
    }
    let memo = ["ID", "TEXT", "HASH"].map(|m| (m.to_string(), m.to_ascii_lowercase())).to_vec();
    let form = FormView {
        id: "asset",
        action: "/console/assets",
        button: "Save asset",
        fields: vec![
            Field::new("code", "Code", Control::Text).required().known_as(&["asset code"]),
            Field::new("issuer", "Issuer (G…)", Control::Text).required(),
            Field::new("min_amount", "Smallest amount", Control::Decimal).known_as(&["min amount", "limits"]),
            Field::new("max_amount", "Largest amount", Control::Decimal).known_as(&["max amount"]),
            Field::new("fee_fixed", "Fixed fee", Control::Decimal).value("0").known_as(&["fees", "fee"]),
            Field::new("fee_percent", "Percentage fee", Control::Decimal).value("0"),
            Field::new("memo_type", "Memo type", Control::Select(memo)),
            Field::new("sender_type", "SEP-12 type of senders", Control::Select(types.clone()))
                .known_as(&["senderSep12Type"]),
            Field::new("receiver_type", "SEP-12 type of receivers", Control::Select(types))
                .known_as(&["receiverSep12Type", "customer type"]),
            Field::new("funding_methods", "Payout methods (comma-separated, e.g. WIRE, SEPA)", Control::Text)
                .known_as(&["funding method"]),
            Field::new("quotes_required", "Needs a SEP-38 quote", Control::Check),
        ],
    };
    let body = format!(
        r#"<table><thead><tr><th>Code</th><th>Issuer</th><th>Limits</th><th>Fee</th><th>Memo</th><th>SEP-12 sender / receiver</th><th>Payout methods</th><th>Quote</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Add or replace an asset</h2>{}"#,
        form.html(who, sent, error)
    );
    who.respond(state, status, layout(Some(who), "Assets", &body))
}

pub async fn upsert_asset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let or = |name: &str, default: &str| {
        Some(value(&f, name)).filter(|v| !v.is_empty()).unwrap_or(default).to_string()
    };
    let methods: Vec<&str> =
        value(&f, "funding_methods").split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
    let input = json!({
        "code": value(&f, "code"),
        "issuer": value(&f, "issuer"),
        "minAmount": opt(&f, "min_amount"),
        "maxAmount": opt(&f, "max_amount"),
        "feeFixed": or("fee_fixed", "0"),
        "feePercent": or("fee_percent", "0"),
        "memoType": or("memo_type", "ID"),
        "senderSep12Type": opt(&f, "sender_type"),
        "receiverSep12Type": opt(&f, "receiver_type"),
        "fundingMethods": methods,
        "quotesRequired": !value(&f, "quotes_required").is_empty(),
    });
    let q = "mutation($i: AssetInput!) { upsertAsset(input: $i) { id } }";
    match who.gql(&state, q, json!({ "i": input })).await {
        Ok(_) => render_assets_with(&state, &who, None, None, StatusCode::OK).await,
        Err((m, c)) => {
            let status = if c == "FORBIDDEN" { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
            render_assets_with(&state, &who, Some(&f), Some(&m), status).await
        }
    }
}
