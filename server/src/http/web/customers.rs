//! The customer review queue and a customer's fields: values (PII) only for roles that
//! may review (OPERATE, ADMIN), decisions through `setCustomerStatus`.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mooring_tenants::api_keys::Role;
use serde_json::json;

use super::pages::{csrf_field, esc, forbidden_csrf, layout, refusal, signed_in_or_sign_in, t};
use super::{IdPath, ListParams, SignedIn};
use crate::state::AppState;

const QUEUES: [(&str, &str); 4] = [
    ("PROCESSING", "Processing"),
    ("NEEDS_INFO", "Needs info"),
    ("ACCEPTED", "Accepted"),
    ("REJECTED", "Rejected"),
];

pub async fn customers(State(state): State<AppState>, headers: HeaderMap, params: ListParams) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    let status =
        params.status.clone().filter(|s| QUEUES.iter().any(|(q, _)| q == s)).unwrap_or("PROCESSING".into());
    let q = "query($t: ID, $s: CustomerStatus) { customers(tenantId: $t, status: $s, first: 50) { totalCount nodes { id saAccount memo createdAt statuses { customerType status } } } }";
    let data = match who.gql(&state, q, json!({ "t": params.tenant, "s": status })).await {
        Ok(d) => d,
        Err(e) => return refusal(&state, &who, e),
    };
    let tenant = params.tenant.as_ref().map(|t| format!("&tenant={}", esc(t))).unwrap_or_default();
    let tabs: Vec<String> = QUEUES
        .iter()
        .map(|(q, label)| {
            let current = if *q == status { r#" aria-current="page""# } else { "" };
            format!(r#"<a href="/console/customers?status={q}{tenant}"{current}>{label}</a>"#)
        })
        .collect();
    let mut rows = String::new();
    for c in data["customers"]["nodes"].as_array().into_iter().flatten() {
        let types: Vec<String> = c["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("{}: {}", t(&s["customerType"]), t(&s["status"]).to_ascii_lowercase()))
            .collect();
        rows += &format!(
            r#"<tr><td><a href="/console/customers/{id}">{id}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            t(&c["saAccount"]),
            types.join(", "),
            t(&c["createdAt"]),
            id = t(&c["id"]),
        );
    }
    let body = format!(
        r#"<nav aria-label="Queues">{}</nav><p>{} customers</p><table><thead><tr><th>Id</th><th>Sending anchor</th><th>Status per type</th><th>Registered</th></tr></thead><tbody>{rows}</tbody></table>"#,
        tabs.join(" · "),
        t(&data["customers"]["totalCount"])
    );
    who.respond(&state, StatusCode::OK, layout(Some(&who), "Customers", &body))
}

pub async fn customer(State(state): State<AppState>, headers: HeaderMap, id: IdPath) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render(&state, &who, &id.0, None).await
}

async fn render(state: &AppState, who: &SignedIn, id: &str, notice: Option<&str>) -> Response {
    // The values are asked for only where the role may see them: the API refuses them
    // to READ keys anyway.
    let reviewer = who.role() >= Role::Operate;
    let value = if reviewer { "value" } else { "" };
    let q = format!(
        "query($id: ID!) {{ customer(id: $id) {{ id saAccount memo message statuses {{ customerType status }} fields {{ name {value} isFile status error }} }} }}"
    );
    let data = match who.gql(state, &q, json!({ "id": id })).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let c = &data["customer"];
    let mut fields = String::new();
    for f in c["fields"].as_array().into_iter().flatten() {
        let shown = if f["isFile"] == true {
            "(file)".to_string()
        } else if reviewer {
            t(&f["value"])
        } else {
            "(hidden: needs OPERATE)".to_string()
        };
        // A reviewer decides field by field: accept it, or send it back with a reason.
        let verdict = if reviewer {
            format!(
                r#"<label class="sr-only" for="verdict-{n}">Verdict on {n}</label><select id="verdict-{n}" name="verdict:{n}" form="review"><option value="">as it is</option><option value="accept">accept</option><option value="reject">send back</option></select> <label class="sr-only" for="reason-{n}">Reason to send back {n}</label><input id="reason-{n}" name="reason:{n}" form="review" placeholder="reason">"#,
                n = t(&f["name"])
            )
        } else {
            String::new()
        };
        fields += &format!(
            "<tr><td>{}</td><td>{shown}</td><td>{}</td><td>{}</td><td>{verdict}</td></tr>",
            t(&f["name"]),
            t(&f["status"]).to_ascii_lowercase(),
            t(&f["error"])
        );
    }
    let decision = if reviewer {
        format!(
            r#"<h2>Decision</h2><form method="post" id="review">{}<p>By field: the fields sent back (each with its reason) go to the sending anchor as needing correction and the accepted ones are kept; with none sent back the customer is accepted.</p><label for="decision">Decision</label><select id="decision" name="decision"><option value="BY_FIELD">By field (the verdicts above)</option><option value="ACCEPTED">Accept every field</option><option value="NEEDS_INFO">Needs info</option><option value="REJECTED">Reject</option></select><label for="message">Message for the sending anchor</label><input id="message" name="message" size="60"> <button type="submit">Record</button></form>"#,
            csrf_field(who)
        )
    } else {
        String::new()
    };
    let statuses: Vec<String> = c["statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| format!("{}: {}", t(&s["customerType"]), t(&s["status"]).to_ascii_lowercase()))
        .collect();
    let notice =
        notice.map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, esc(n))).unwrap_or_default();
    let body = format!(
        r#"{notice}<p>Sending anchor {} · memo {} · {}</p><table><thead><tr><th>Field</th><th>Value</th><th>Review</th><th>Why</th><th>Verdict</th></tr></thead><tbody>{fields}</tbody></table>{decision}"#,
        t(&c["saAccount"]),
        t(&c["memo"]),
        statuses.join(", ")
    );
    who.respond(state, StatusCode::OK, layout(Some(who), &format!("Customer {id}"), &body))
}

pub async fn review_customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    let value = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or_default();
    if !who.csrf_ok(value("csrf")) {
        return forbidden_csrf();
    }
    let message = Some(value("message")).filter(|m| !m.is_empty());
    let verdict = |name: &str| value(&format!("verdict:{name}")).to_string();
    let field_errors: Vec<_> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("reason:")?, v.trim())))
        .filter(|(name, reason)| !reason.is_empty() || verdict(name) == "reject")
        .filter(|(name, _)| verdict(name) != "accept")
        .map(|(name, reason)| json!({ "name": name, "reason": if reason.is_empty() { "please correct this field" } else { reason } }))
        .collect();
    let accepted: Vec<&str> =
        form.iter().filter(|(_, v)| v == "accept").filter_map(|(k, _)| k.strip_prefix("verdict:")).collect();
    let decision = match value("decision") {
        "BY_FIELD" if field_errors.is_empty() => "ACCEPTED",
        "BY_FIELD" => "NEEDS_INFO",
        other => other,
    };
    let accepted = if decision == "REJECTED" { Vec::new() } else { accepted };
    let q = "mutation($id: ID!, $s: ReviewStatus!, $m: String, $e: [FieldReason!]!, $a: [String!]!) { setCustomerStatus(id: $id, status: $s, message: $m, fieldErrors: $e, acceptedFields: $a) { id } }";
    let vars = json!({ "id": id.0, "s": decision, "m": message, "e": field_errors, "a": accepted });
    match who.gql(&state, q, vars).await {
        Ok(_) => render(&state, &who, &id.0, Some("Recorded.")).await,
        Err(e) => refusal(&state, &who, e),
    }
}
