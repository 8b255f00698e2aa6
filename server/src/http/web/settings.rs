//! A tenant's settings (stellar.toml's organisation, expiry, whether /info needs a
//! token) and its SEP-12 customer types with their fields. ADMIN writes, through the
//! API's own mutations; a refusal lands beside the field it names.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::form::{Control, Field, FormView, opt, value};
use super::pages::{esc, layout, refusal, signed_in_or_sign_in, t};
use super::{ListParams, SignedIn};
use crate::state::AppState;

type Sent = Vec<(String, String)>;

pub async fn settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_settings(&state, &who, None, None).await
}

async fn render_settings(
    state: &AppState,
    who: &SignedIn,
    sent: Option<&Sent>,
    outcome: Option<Result<(), String>>,
) -> Response {
    let q = "{ tenant { name orgName orgUrl orgDescription transactionExpirySecs infoRequiresAuth signingKey distributionAccount networkPassphrase domains } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let tn = &data["tenant"];
    let form = FormView {
        id: "settings",
        action: "/console/settings",
        button: "Save settings",
        fields: vec![
            Field::new("name", "Display name", Control::Text).json(&tn["name"]),
            Field::new("org_name", "Organisation name (ORG_NAME)", Control::Text).json(&tn["orgName"]),
            Field::new("org_url", "Organisation URL (ORG_URL)", Control::Text).json(&tn["orgUrl"]),
            Field::new("org_description", "Description (ORG_DESCRIPTION)", Control::Text)
                .json(&tn["orgDescription"]),
            Field::new("org_support_email", "Support email (ORG_SUPPORT_EMAIL)", Control::Text),
            Field::new("transaction_expiry_secs", "Seconds a transaction waits for funds", Control::Number)
                .json(&tn["transactionExpirySecs"])
                .known_as(&["transaction expiry", "expiry"]),
            Field::new("info_requires_auth", "/info needs a SEP-10 token", Control::Check)
                .json(&tn["infoRequiresAuth"]),
        ],
    };
    let (error, status) = outcome_status(&outcome);
    let notice = saved(&outcome);
    let body = format!(
        r#"{notice}<table><tr><th scope="row">Domains</th><td>{}</td></tr><tr><th scope="row">Network</th><td>{}</td></tr><tr><th scope="row">SIGNING_KEY</th><td><code>{}</code></td></tr><tr><th scope="row">Distribution account</th><td><code>{}</code></td></tr></table><p>Blank fields are left as they are.</p>{}"#,
        tn["domains"].as_array().into_iter().flatten().map(t).collect::<Vec<_>>().join(", "),
        t(&tn["networkPassphrase"]),
        t(&tn["signingKey"]),
        t(&tn["distributionAccount"]),
        form.html(who, sent.map(Vec::as_slice), error)
    );
    who.respond(state, status, layout(Some(who), "Settings", &body))
}

pub async fn update_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Sent>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let expiry = match value(&f, "transaction_expiry_secs") {
        "" => Value::Null,
        n => match n.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => {
                let why = "transaction expiry must be a whole number of seconds".to_string();
                return render_settings(&state, &who, Some(&f), Some(Err(why))).await;
            }
        },
    };
    let input = json!({
        "name": opt(&f, "name"),
        "orgName": opt(&f, "org_name"),
        "orgUrl": opt(&f, "org_url"),
        "orgDescription": opt(&f, "org_description"),
        "orgSupportEmail": opt(&f, "org_support_email"),
        "transactionExpirySecs": expiry,
        "infoRequiresAuth": !value(&f, "info_requires_auth").is_empty(),
    });
    let q = "mutation($i: SettingsInput!) { updateSettings(input: $i) { id } }";
    let result = who.gql(&state, q, json!({ "i": input })).await;
    let sent = result.is_err().then_some(&f);
    render_settings(&state, &who, sent, Some(result.map(drop).map_err(|(m, c)| coded(m, &c)))).await
}

pub async fn customer_types(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: ListParams,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render_types(&state, &who, params.edit.as_deref(), None, None).await
}

async fn render_types(
    state: &AppState,
    who: &SignedIn,
    edit: Option<&str>,
    sent: Option<&Sent>,
    outcome: Option<Result<(), String>>,
) -> Response {
    let q = "{ tenant { customerTypes { name description fields { name fieldType description optional choices } } } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let mut rows = String::new();
    let mut editing = None;
    for ty in data["tenant"]["customerTypes"].as_array().into_iter().flatten() {
        let lines: Vec<String> = ty["fields"].as_array().into_iter().flatten().map(field_line).collect();
        if edit == ty["name"].as_str() {
            editing = Some((ty, lines.join("\n")));
        }
        rows += &format!(
            r#"<tr><td>{n}</td><td>{}</td><td><pre>{}</pre></td><td><a href="/console/customer-types?edit={n}" aria-label="Edit {n}">Edit</a></td></tr>"#,
            t(&ty["description"]),
            esc(&lines.join("\n")),
            n = t(&ty["name"]),
        );
    }
    let (name, description, fields) = match &editing {
        Some((ty, lines)) => (t(&ty["name"]), t(&ty["description"]), lines.clone()),
        None => Default::default(),
    };
    let form = FormView {
        id: "type",
        action: "/console/customer-types",
        button: "Save type",
        fields: vec![
            Field::new("name", "Type name (e.g. sep31-receiver)", Control::Text)
                .required()
                .value(name)
                .known_as(&["customer type", "type name"]),
            Field::new("description", "Description for sending anchors", Control::Text).value(description),
            Field::new(
                "fields",
                "Fields, one per line: name[?][ (string|number|date|binary)]: description — ? marks it optional, a type marks a custom (non SEP-9) field",
                Control::Lines,
            )
            .value(fields)
            .known_as(&["field"]),
        ],
    };
    let (error, status) = outcome_status(&outcome);
    let body = format!(
        r#"{}<table><thead><tr><th>Type</th><th>Description</th><th>Fields</th><th></th></tr></thead><tbody>{rows}</tbody></table><h2>Add or replace a type</h2>{}"#,
        saved(&outcome),
        form.html(who, sent.map(Vec::as_slice), error)
    );
    who.respond(state, status, layout(Some(who), "Customer types", &body))
}

/// A field as the form writes it: `name?: description`, `name (number): description`
/// (a type only on custom fields: a SEP-9 field has its own).
fn field_line(f: &Value) -> String {
    let name = f["name"].as_str().unwrap_or_default();
    let optional = if f["optional"] == true { "?" } else { "" };
    let kind = match f["fieldType"].as_str() {
        Some(k) if !mooring_stellar::sep9::is_standard(name) => format!(" ({k})"),
        _ => String::new(),
    };
    format!("{name}{optional}{kind}: {}", f["description"].as_str().unwrap_or_default())
}

/// The form's lines as `CustomerFieldInput`s.
fn parse_fields(text: &str) -> Result<Vec<Value>, String> {
    let mut fields = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, description) = line.split_once(':').unwrap_or((line, ""));
        let (head, kind) = match head.split_once('(') {
            Some((h, rest)) => (h.trim(), Some(rest.trim_end_matches(')').trim().to_ascii_uppercase())),
            None => (head.trim(), None),
        };
        let (name, optional) = match head.strip_suffix('?') {
            Some(n) => (n.trim(), true),
            None => (head, false),
        };
        if let Some(k) = &kind
            && !["STRING", "NUMBER", "DATE", "BINARY"].contains(&k.as_str())
        {
            return Err(format!(
                "field {name}: type {:?} is not string, number, date or binary",
                k.to_ascii_lowercase()
            ));
        }
        let description = Some(description.trim()).filter(|d| !d.is_empty()).unwrap_or(name);
        fields.push(json!({
            "name": name, "description": description, "optional": optional,
            "custom": kind.is_some(), "type": kind,
        }));
    }
    Ok(fields)
}

pub async fn set_customer_type(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Sent>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let fields = match parse_fields(value(&f, "fields")) {
        Ok(fields) => fields,
        Err(why) => return render_types(&state, &who, None, Some(&f), Some(Err(why))).await,
    };
    let input =
        json!({ "name": value(&f, "name"), "description": value(&f, "description"), "fields": fields });
    let q = "mutation($i: CustomerTypeInput!) { setCustomerType(input: $i) { id } }";
    let result = who.gql(&state, q, json!({ "i": input })).await;
    let sent = result.is_err().then_some(&f);
    render_types(&state, &who, None, sent, Some(result.map(drop).map_err(|(m, c)| coded(m, &c)))).await
}

/// A refusal for the page: FORBIDDEN keeps its code in front so the status follows.
pub(super) fn coded(message: String, code: &str) -> String {
    if code == "FORBIDDEN" { format!("FORBIDDEN: {message}") } else { message }
}

/// The message and the page's status for a write's outcome (200 when none or saved).
pub(super) fn outcome_status(outcome: &Option<Result<(), String>>) -> (Option<&str>, StatusCode) {
    match outcome {
        Some(Err(m)) if m.starts_with("FORBIDDEN: ") => (Some(m.as_str()), StatusCode::FORBIDDEN),
        Some(Err(m)) => (Some(m.as_str()), StatusCode::BAD_REQUEST),
        _ => (None, StatusCode::OK),
    }
}

pub(super) fn saved(outcome: &Option<Result<(), String>>) -> &'static str {
    match outcome {
        Some(Ok(())) => r#"<p class="notice" role="status">Saved.</p>"#,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lines_read_as_the_api_inputs() {
        let f = parse_fields("first_name: First name\nemail_address?\n\nshoe_size? (number): For the gift")
            .unwrap();
        assert_eq!(
            f[0],
            json!({"name":"first_name","description":"First name","optional":false,"custom":false,"type":null})
        );
        assert_eq!(f[1]["name"], "email_address");
        assert_eq!(
            (f[1]["optional"].as_bool(), f[1]["description"].as_str()),
            (Some(true), Some("email_address"))
        );
        assert_eq!((f[2]["name"].as_str(), f[2]["type"].as_str()), (Some("shoe_size"), Some("NUMBER")));
        assert_eq!(f[2]["custom"], true);
        assert!(parse_fields("x (colour): y").unwrap_err().contains("colour"));
        // What the page shows reads back the same.
        let shown = field_line(
            &json!({"name": "email_address", "optional": true, "fieldType": "string", "description": "Email"}),
        );
        assert_eq!(shown, "email_address?: Email", "a SEP-9 field has its own type");
        assert_eq!(parse_fields(&shown).unwrap()[0]["optional"], true);
        let custom = field_line(
            &json!({"name": "shoe_size", "optional": false, "fieldType": "number", "description": "x"}),
        );
        assert_eq!(parse_fields(&custom).unwrap()[0]["type"], "NUMBER");
    }
}
