//! The operator's pages: every tenant, onboarding one (its first API key shown once),
//! suspending and resuming. Tenant keys are refused by the API (FORBIDDEN).

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use super::{IdPath, SignedIn};
use crate::state::AppState;

pub async fn tenants(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render(&state, &who, None, None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    who: &SignedIn,
    created: Option<&Value>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let q = "{ tenants(first: 100) { nodes { id name domains status networkPassphrase conformanceMode } } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let mut rows = String::new();
    for tenant in data["tenants"]["nodes"].as_array().into_iter().flatten() {
        let id = t(&tenant["id"]);
        let suspended = tenant["status"] == "SUSPENDED";
        let (action, label) = if suspended { ("resume", "Resume") } else { ("suspend", "Suspend") };
        let testnet = !tenant["networkPassphrase"].as_str().is_some_and(|p| p.starts_with("Public"));
        // Conformance mode (SEP-10 lets any account in, for an anchor validator): testnet only.
        let conformance = if testnet {
            let on = tenant["conformanceMode"] == true;
            let (to, text) = if on {
                ("off", "Conformance mode: on — turn off")
            } else {
                ("on", "Conformance mode: off — turn on")
            };
            format!(
                r#"<form method="post" action="/console/tenants/{id}/conformance-{to}">{}<button type="submit">{text}</button></form>"#,
                csrf_field(who)
            )
        } else {
            String::new()
        };
        rows += &format!(
            r#"<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td><a href="/console/transactions?tenant={id}">Transactions</a> · <a href="/console/customers?tenant={id}">Customers</a></td><td><form method="post" action="/console/tenants/{id}/{action}">{}<button type="submit" aria-label="{label} {name}">{label}</button></form>{conformance}</td></tr>"#,
            t(&tenant["domains"][0]),
            t(&tenant["status"]).to_ascii_lowercase(),
            if testnet { "testnet" } else { "public" },
            csrf_field(who),
            name = t(&tenant["name"]),
        );
    }
    let created = created
        .map(|c| {
            format!(
                r#"<p class="notice" role="status">Tenant “{}” created. Its first API key (ADMIN): <code id="new-key">{}</code> — hand it over now, it is not shown again.</p>"#,
                t(&c["tenant"]["name"]),
                esc(c["apiKey"]["key"].as_str().unwrap_or_default())
            )
        })
        .unwrap_or_default();
    let error = error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    let body = format!(
        r#"{created}<table><thead><tr><th>Name</th><th>Domain</th><th>Status</th><th>Network</th><th></th><th></th></tr></thead><tbody>{rows}</tbody></table>
<h2>Onboard a tenant</h2>{error}<form method="post" action="/console/tenants">{}
<label for="tenant-name">Name</label><input id="tenant-name" name="name" required>
<label for="domain">Domain</label><input id="domain" name="domain" required>
<label for="network">Network</label><select id="network" name="network"><option value="TESTNET">testnet</option><option value="PUBLIC">public</option></select>
<label for="distribution">Distribution account (G…; empty on testnet: Mooring generates one)</label><input id="distribution" name="distribution_account" size="60">
<p><button type="submit">Create tenant</button></p></form>"#,
        csrf_field(who)
    );
    who.respond(state, status, layout(Some(who), "Tenants", &body))
}

#[derive(serde::Deserialize)]
pub struct NewTenantForm {
    #[serde(default)]
    csrf: String,
    name: String,
    domain: String,
    network: String,
    #[serde(default)]
    distribution_account: String,
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<NewTenantForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&f.csrf) {
        return forbidden_csrf();
    }
    let account = Some(f.distribution_account.trim()).filter(|a| !a.is_empty());
    let input = json!({ "name": f.name.trim(), "domains": [f.domain.trim()], "network": f.network, "distributionAccount": account });
    let q =
        "mutation($i: CreateTenantInput!) { createTenant(input: $i) { tenant { id name } apiKey { key } } }";
    match who.gql(&state, q, json!({ "i": input })).await {
        Ok(data) => render(&state, &who, Some(&data["createTenant"]), None, StatusCode::OK).await,
        Err((message, code)) => {
            let status = if code == "FORBIDDEN" { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
            render(&state, &who, None, Some(&message), status).await
        }
    }
}

pub async fn suspend(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    operate(state, headers, id, form, "mutation($t: ID!) { suspendTenant(tenantId: $t) { id } }").await
}

pub async fn resume(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    operate(state, headers, id, form, "mutation($t: ID!) { resumeTenant(tenantId: $t) { id } }").await
}

pub async fn conformance_on(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    let q = "mutation($t: ID!) { setConformanceMode(tenantId: $t, enabled: true) { id } }";
    operate(state, headers, id, form, q).await
}

pub async fn conformance_off(
    state: State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    form: Form<super::CsrfForm>,
) -> Response {
    let q = "mutation($t: ID!) { setConformanceMode(tenantId: $t, enabled: false) { id } }";
    operate(state, headers, id, form, q).await
}

/// Runs an operator mutation `q` on tenant `id`, then shows the tenants again.
async fn operate(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    Form(form): Form<super::CsrfForm>,
    q: &str,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&form.csrf) {
        return forbidden_csrf();
    }
    match who.gql(&state, q, json!({ "t": id.0 })).await {
        Ok(_) => render(&state, &who, None, None, StatusCode::OK).await,
        Err(e) => refusal(&state, &who, e),
    }
}
