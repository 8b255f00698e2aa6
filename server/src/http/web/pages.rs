//! The console's pages: each reads or changes through the GraphQL API as the signed-in
//! key (`SignedIn::gql`) and renders plain HTML. Every value is escaped; every form
//! that changes something carries the session's CSRF token and is checked first.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ListParams, SignedIn};
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

/// The console's own files, pinned by SHA-384 like GraphiQL's (`integrity`): the
/// browser runs only these exact bytes. A test recomputes them from the files.
pub(super) const STYLE_PIN: &str = "sha384-P4EAr/B7WFe7CVVT7WFHgbTQgVV8ziwCP/THmSYeGaEFIpTyeoPz+l4PdgU3XSZM";
pub(super) const LIVE_PIN: &str = "sha384-zEoqCeLHXIWczhleC/vJE3mflw9uHkiqSLJiXH+c/BGezpHjvPIhWCX3YZ9ojfao";

pub(super) fn layout(who: Option<&SignedIn>, title: &str, body: &str) -> String {
    let nav = match who {
        None => String::new(),
        Some(w) => {
            let links = if w.is_operator() {
                r#"<a href="/console/tenants">Tenants</a><a href="/console/health">Health</a><a href="/console/keys">API keys</a><a href="/console/audit">Audit log</a>"#
            } else {
                r#"<a href="/console/transactions">Transactions</a><a href="/console/customers">Customers</a><a href="/console/assets">Assets</a><a href="/console/customer-types">Customer types</a><a href="/console/quotes">Quotes</a><a href="/console/senders">Senders</a><a href="/console/settings">Settings</a><a href="/console/webhooks">Webhooks</a><a href="/console/keys">API keys</a><a href="/console/audit">Audit log</a>"#
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
         <link rel=\"stylesheet\" href=\"/console/style.css\" integrity=\"{STYLE_PIN}\"></head><body><header><strong>Mooring</strong>{nav}</header>\
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

/// The signed-in caller for a posted form (as pairs, `web::form`) whose CSRF token is
/// the session's; otherwise the sign-in page, a 429 or a 403.
macro_rules! signed_in_with_form {
    ($state:expr, $headers:expr, $form:expr) => {{
        let who = super::pages::signed_in_or_sign_in!($state, $headers);
        if !who.csrf_ok(super::form::value(&$form, "csrf")) {
            return super::pages::forbidden_csrf();
        }
        who
    }};
}
pub(super) use signed_in_with_form;

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
    let given =
        |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (sender, min, max, customer) =
        (given(&params.sender), given(&params.min), given(&params.max), given(&params.customer));
    let filter = json!({
        "status": status,
        "createdAfter": from.map(|d| format!("{d}T00:00:00Z")),
        "createdBefore": to.map(|d| format!("{}T00:00:00Z", d.succ_opt().unwrap_or(d))),
        "senderAccount": sender,
        "minAmount": min,
        "maxAmount": max,
        "customerId": customer,
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
            for (k, v) in [
                ("status", &status),
                ("tenant", &params.tenant),
                ("from", &params.from),
                ("to", &params.to),
                ("sender", &sender),
                ("min", &min),
                ("max", &max),
                ("customer", &customer),
            ] {
                if let Some(v) = v {
                    query.push((k, v.clone()));
                }
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
<label for="sender">Sending anchor account</label><input id="sender" name="sender" value="{}" size="60">
<label for="min">Amount from</label><input id="min" name="min" value="{}" inputmode="decimal">
<label for="max">Amount to</label><input id="max" name="max" value="{}" inputmode="decimal">
<label for="customer">Customer id (sender or receiver)</label><input id="customer" name="customer" value="{}" size="40"> <button type="submit">Filter</button></form>
<p>{} transactions</p><table><thead><tr><th>Id</th><th>Status</th><th>Amount</th><th>Sending anchor</th><th>Created</th></tr></thead><tbody id="transactions">{rows}</tbody></table>{next}<script src="/console/live.js" integrity="{LIVE_PIN}" defer></script>"#,
        value(&params.from),
        value(&params.to),
        value(&params.sender),
        value(&params.min),
        value(&params.max),
        value(&params.customer),
        t(&data["transactions"]["totalCount"])
    );
    who.respond(&state, StatusCode::OK, layout(Some(&who), "Transactions", &body))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sha2::{Digest, Sha384};

    #[test]
    fn the_console_files_match_their_pins() {
        let pin = |bytes: &str| {
            format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
        };
        assert_eq!(super::STYLE_PIN, pin(include_str!("style.css")));
        assert_eq!(super::LIVE_PIN, pin(include_str!("live.js")));
    }
}
