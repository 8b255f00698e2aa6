//! API keys: the list with roles, a new key with roles (its secret shown once, on the
//! page that created it), revocation.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use super::{IdPath, SignedIn};
use crate::state::AppState;

pub async fn keys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render(&state, &who, None).await
}

async fn render(state: &AppState, who: &SignedIn, created: Option<&Value>) -> Response {
    let q = "{ apiKeys(first: 100) { id name prefix roles createdAt lastUsedAt revokedAt } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let mut rows = String::new();
    for k in data["apiKeys"].as_array().into_iter().flatten() {
        let roles: Vec<String> = k["roles"].as_array().into_iter().flatten().map(t).collect();
        let revoke = if k["revokedAt"].is_null() {
            format!(
                r#"<form method="post" action="/console/keys/{}/revoke">{}<button type="submit" aria-label="Revoke {}">Revoke</button></form>"#,
                t(&k["id"]),
                csrf_field(who),
                t(&k["name"])
            )
        } else {
            format!("revoked {}", t(&k["revokedAt"]))
        };
        rows += &format!(
            "<tr><td>{}</td><td><code>{}…</code></td><td>{}</td><td>{}</td><td>{}</td><td>{revoke}</td></tr>",
            t(&k["name"]),
            t(&k["prefix"]),
            roles.join(", "),
            t(&k["createdAt"]),
            t(&k["lastUsedAt"]),
        );
    }
    let created = created
        .map(|c| {
            format!(
                r#"<p class="notice" role="status">New key “{}”: <code id="new-key">{}</code> — copy it now, it is not shown again.</p>"#,
                t(&c["apiKey"]["name"]),
                esc(c["key"].as_str().unwrap_or_default())
            )
        })
        .unwrap_or_default();
    let form = if who.is_operator() {
        String::new() // operator keys are made with createOperatorKey; tenants' from their own console
    } else {
        format!(
            r#"<h2>New key</h2><form method="post" action="/console/keys">{}<label for="name">Name</label><input id="name" name="name" required>
<fieldset><legend>Roles</legend><input type="checkbox" id="role_read" name="role_read" value="on" checked><label for="role_read">Read</label>
<input type="checkbox" id="role_operate" name="role_operate" value="on"><label for="role_operate">Operate</label>
<input type="checkbox" id="role_admin" name="role_admin" value="on"><label for="role_admin">Admin</label></fieldset><button type="submit">Create</button></form>"#,
            csrf_field(who)
        )
    };
    let body = format!(
        "{created}<table><thead><tr><th>Name</th><th>Prefix</th><th>Roles</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>{rows}</tbody></table>{form}"
    );
    who.respond(state, StatusCode::OK, layout(Some(who), "API keys", &body))
}

#[derive(serde::Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    csrf: String,
    name: String,
    role_read: Option<String>,
    role_operate: Option<String>,
    role_admin: Option<String>,
}

pub async fn create_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<NewKeyForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&form.csrf) {
        return forbidden_csrf();
    }
    let roles: Vec<&str> =
        [("READ", &form.role_read), ("OPERATE", &form.role_operate), ("ADMIN", &form.role_admin)]
            .into_iter()
            .filter(|(_, on)| on.is_some())
            .map(|(r, _)| r)
            .collect();
    let q = "mutation($n: String!, $r: [ApiKeyRole!]) { createApiKey(name: $n, roles: $r) { key apiKey { name } } }";
    match who.gql(&state, q, json!({ "n": form.name, "r": roles })).await {
        Ok(data) => render(&state, &who, Some(&data["createApiKey"])).await,
        Err(e) => refusal(&state, &who, e),
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    if !who.csrf_ok(&form.csrf) {
        return forbidden_csrf();
    }
    match who.gql(&state, "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", json!({ "id": id.0 })).await
    {
        Ok(_) => render(&state, &who, None).await,
        Err(e) => refusal(&state, &who, e),
    }
}
