//! SEP-38 in the console: the currencies a tenant pays out off-chain, its corridors
//! (sell asset → buy currency, with spread, fees, limits, quote lifetime), each
//! corridor's manual rate, and what happens to a payment after its quote expired.

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::form::{Control, Field, FormView, opt, value};
use super::pages::{esc, layout, refusal, signed_in_or_sign_in, t};
use super::settings::{coded, outcome_status, saved};
use super::{IdPath, SignedIn};
use crate::state::AppState;

type Sent = Vec<(String, String)>;

/// Which form a write came from, what it sent, and how it went.
struct Posted<'a> {
    form: &'a str,
    sent: &'a Sent,
    outcome: Result<(), String>,
}

pub async fn quoting(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = signed_in_or_sign_in!(state, headers);
    render(&state, &who, None).await
}

async fn render(state: &AppState, who: &SignedIn, posted: Option<Posted<'_>>) -> Response {
    let q = "{ tenant { expiredQuotePolicy assets { code issuer } offchainAssets { asset code decimals countryCodes deliveryMethods { name description } } corridors { id sellAsset buyAsset enabled spreadBps quoteLifetimeSecs minAmount maxAmount feeFixed feePercent rateFeedUrl rateFeedError rate { value asOf stale price } } } }";
    let data = match who.gql(state, q, json!({})).await {
        Ok(d) => d,
        Err(e) => return refusal(state, who, e),
    };
    let tn = &data["tenant"];
    let outcome = posted.as_ref().map(|p| p.outcome.clone());
    let for_form = |id: &str| match &posted {
        Some(p) if p.form == id => {
            (p.outcome.is_err().then_some(p.sent.as_slice()), p.outcome.as_ref().err())
        }
        _ => (None, None),
    };

    let mut currencies = String::new();
    let mut buy_options = Vec::new();
    for o in tn["offchainAssets"].as_array().into_iter().flatten() {
        let methods: Vec<String> = o["deliveryMethods"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| format!("{}: {}", t(&m["name"]), t(&m["description"])))
            .collect();
        currencies += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t(&o["code"]),
            t(&o["decimals"]),
            o["countryCodes"].as_array().into_iter().flatten().map(t).collect::<Vec<_>>().join(", "),
            methods.join("<br>")
        );
        buy_options.push((o["asset"].as_str().unwrap_or_default().to_string(), t(&o["code"])));
    }
    let currency_form = FormView {
        id: "offchain",
        action: "/console/quotes/offchain",
        button: "Save currency",
        fields: vec![
            Field::new("code", "ISO 4217 code", Control::Text).required().known_as(&["currency"]),
            Field::new("decimals", "Decimals", Control::Number).value("2"),
            Field::new("country_codes", "Countries (ISO 3166-1 alpha-2, comma-separated)", Control::Text)
                .known_as(&["country", "countries"]),
            Field::new(
                "delivery_methods",
                "Delivery methods, one per line: name: description",
                Control::Lines,
            )
            .known_as(&["delivery method", "method"]),
        ],
    };

    let mut corridors = String::new();
    for c in tn["corridors"].as_array().into_iter().flatten() {
        let rate = match &c["rate"] {
            Value::Null => "none yet".to_string(),
            r => format!(
                "{} (as of {}){}",
                t(&r["value"]),
                t(&r["asOf"]),
                if r["stale"] == true { " — stale: firm quotes refused" } else { "" }
            ),
        };
        let id = t(&c["id"]);
        let (rate_sent, rate_error) = for_form(&format!("rate-{id}"));
        let rate_form = FormView {
            id: &format!("rate-{id}"),
            action: &format!("/console/quotes/corridors/{id}/rate"),
            button: "Set rate",
            fields: vec![Field::new("rate", "New market rate", Control::Decimal).required()],
        }
        .html(who, rate_sent, rate_error.map(String::as_str));
        corridors += &format!(
            "<tr><td><code>{}</code> → {}</td><td>{rate}{}</td><td>{} bps · {} s</td><td>{} – {}</td><td>{} + {} %</td><td>{}</td><td>{rate_form}</td></tr>",
            t(&c["sellAsset"]),
            t(&c["buyAsset"]),
            c["rateFeedError"].as_str().map(|e| format!(" (feed: {})", esc(e))).unwrap_or_default(),
            t(&c["spreadBps"]),
            t(&c["quoteLifetimeSecs"]),
            t(&c["minAmount"]),
            t(&c["maxAmount"]),
            t(&c["feeFixed"]),
            t(&c["feePercent"]),
            if c["enabled"] == true { "quoted" } else { "off" },
        );
    }
    let sell_options: Vec<(String, String)> = tn["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = format!(
                "stellar:{}:{}",
                a["code"].as_str().unwrap_or_default(),
                a["issuer"].as_str().unwrap_or_default()
            );
            (id, a["code"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let corridor_form = FormView {
        id: "corridor",
        action: "/console/quotes/corridors",
        button: "Save corridor",
        fields: vec![
            Field::new("sell_asset", "Sell asset (Stellar)", Control::Select(sell_options)),
            Field::new("buy_asset", "Buy asset (off-chain)", Control::Select(buy_options)),
            Field::new("rate", "Market rate (buy units per sell unit)", Control::Decimal)
                .known_as(&["as_of"]),
            Field::new("spread_bps", "Spread (basis points)", Control::Number)
                .value("0")
                .known_as(&["spread"]),
            Field::new("quote_lifetime_secs", "Firm quote lifetime (seconds)", Control::Number)
                .value("300")
                .known_as(&["lifetime"]),
            Field::new("min_amount", "Smallest sell amount", Control::Decimal),
            Field::new("max_amount", "Largest sell amount", Control::Decimal),
            Field::new("fee_fixed", "Fixed fee (sell asset)", Control::Decimal)
                .value("0")
                .known_as(&["fees"]),
            Field::new("fee_percent", "Percentage fee", Control::Decimal).value("0"),
            Field::new("enabled", "Quoted", Control::Check).value("true"),
        ],
    };
    let policy = tn["expiredQuotePolicy"].as_str().unwrap_or("HOLD");
    let policy_form = FormView {
        id: "policy",
        action: "/console/quotes/policy",
        button: "Save policy",
        fields: vec![
            Field::new(
                "policy",
                "A payment after its quote expired",
                Control::Select(vec![
                    ("HOLD".into(), "hold the payout until released".into()),
                    ("HONOUR".into(), "pay out at the quoted amount".into()),
                    ("ERROR".into(), "move to error (refund)".into()),
                ]),
            )
            .value(policy),
        ],
    };
    let html = |f: &FormView<'_>| {
        let (sent, error) = for_form(f.id);
        f.html(who, sent, error.map(String::as_str))
    };
    let (_, status) = outcome_status(&outcome);
    let body = format!(
        r#"{}<h2>Off-chain currencies</h2><table><thead><tr><th>Code</th><th>Decimals</th><th>Countries</th><th>Delivery methods</th></tr></thead><tbody>{currencies}</tbody></table><h3>Add or replace a currency</h3>{}
<h2>Corridors</h2><table><thead><tr><th>Corridor</th><th>Rate</th><th>Spread · quote lifetime</th><th>Sell limits</th><th>Fee</th><th>State</th><th>Manual rate</th></tr></thead><tbody>{corridors}</tbody></table><h3>Add or replace a corridor</h3>{}
<h2>Expired quotes</h2>{}"#,
        saved(&outcome),
        html(&currency_form),
        html(&corridor_form),
        html(&policy_form),
    );
    who.respond(state, status, layout(Some(who), "Quotes and corridors", &body))
}

/// Runs the write, then the page with its outcome beside the form that sent it.
async fn written(
    state: &AppState,
    who: &SignedIn,
    form: &str,
    sent: &Sent,
    q: &str,
    vars: Value,
) -> Response {
    let outcome = who.gql(state, q, vars).await.map(drop).map_err(|(m, c)| coded(m, &c));
    render(state, who, Some(Posted { form, sent, outcome })).await
}

fn list(text: &str, by: char) -> Vec<String> {
    text.split(by).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn int(sent: &Sent, name: &str) -> Value {
    value(sent, name).parse::<i64>().map(Value::from).unwrap_or(Value::Null)
}

pub async fn set_offchain(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Sent>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let methods: Vec<Value> = list(value(&f, "delivery_methods"), '\n')
        .iter()
        .map(|l| {
            let (name, description) = l.split_once(':').unwrap_or((l, ""));
            json!({ "name": name.trim(), "description": description.trim() })
        })
        .collect();
    let input = json!({
        "code": value(&f, "code"),
        "decimals": int(&f, "decimals"),
        "countryCodes": list(value(&f, "country_codes"), ','),
        "deliveryMethods": methods,
    });
    let q = "mutation($i: OffchainAssetInput!) { setOffchainAsset(input: $i) { id } }";
    written(&state, &who, "offchain", &f, q, json!({ "i": input })).await
}

pub async fn set_corridor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Sent>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let or_zero = |name: &str| Some(value(&f, name)).filter(|v| !v.is_empty()).unwrap_or("0").to_string();
    let input = json!({
        "sellAsset": value(&f, "sell_asset"),
        "buyAsset": value(&f, "buy_asset"),
        "rate": opt(&f, "rate"),
        "spreadBps": int(&f, "spread_bps"),
        "quoteLifetimeSecs": int(&f, "quote_lifetime_secs"),
        "minAmount": opt(&f, "min_amount"),
        "maxAmount": opt(&f, "max_amount"),
        "feeFixed": or_zero("fee_fixed"),
        "feePercent": or_zero("fee_percent"),
        "enabled": !value(&f, "enabled").is_empty(),
    });
    let q = "mutation($i: CorridorInput!) { setCorridor(input: $i) { id } }";
    written(&state, &who, "corridor", &f, q, json!({ "i": input })).await
}

pub async fn set_rate(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: IdPath,
    Form(f): Form<Sent>,
) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let q = "mutation($c: ID!, $r: String!) { setCorridorRate(corridorId: $c, rate: $r) { id } }";
    let form = format!("rate-{}", id.0);
    written(&state, &who, &form, &f, q, json!({ "c": id.0, "r": value(&f, "rate") })).await
}

pub async fn set_policy(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<Sent>) -> Response {
    let who = super::pages::signed_in_with_form!(state, headers, f);
    let q = "mutation($p: ExpiredQuotePolicy!) { setExpiredQuotePolicy(policy: $p) { id } }";
    written(&state, &who, "policy", &f, q, json!({ "p": value(&f, "policy") })).await
}
