//! The console's configuration and review pages over HTTP: settings, customer types,
//! SEP-38 currencies, corridors and rates, webhook endpoints, the operator's health
//! page; refusals land beside the field they name with what was typed kept; the list's
//! amount and customer filters; a review field by field; callbacks on a transaction.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Admin, CallbackReceiver, OPERATOR_TOKEN, Sa, TestEnv, eventually, unique_domain};
use crate::web_console::{Browser, csrf, paid_transaction};

async fn key(app: &crate::common::TestApp, tenant: uuid::Uuid, roles: &str) -> String {
    let q = format!(
        "mutation($t: ID) {{ createApiKey(tenantId: $t, name: \"{roles}\", roles: [{roles}]) {{ key }} }}"
    );
    Admin::operator(app).ok(&q, json!({ "t": tenant.to_string() })).await["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The part of a page from `marker` on (to look at one form's field).
fn from<'p>(page: &'p str, marker: &str) -> &'p str {
    &page[page.find(marker).unwrap_or_else(|| panic!("{marker} not in {page}"))..]
}

#[tokio::test]
async fn a_tenant_configures_itself_in_the_console_and_refusals_land_beside_their_field() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("console-config");
    let tenant = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let (admin_key, operate_key) =
        (key(&app, tenant.id, "ADMIN").await, key(&app, tenant.id, "OPERATE").await);
    let api = Admin::with_key(&app, &admin_key);
    let mut b = Browser::sign_in(&app, &admin_key).await;
    let (status, page) = b.get("/console/settings").await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf(&page);
    let signing_key = api.ok("{ tenant { signingKey } }", json!({})).await["tenant"]["signingKey"].clone();
    assert!(page.contains(signing_key.as_str().unwrap()), "the settings page shows SIGNING_KEY");

    // Settings: the API's refusal beside the expiry field, the typed values kept.
    let res = b
        .post(
            "/console/settings",
            &[("csrf", &token), ("org_name", "Console Org"), ("transaction_expiry_secs", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    let field = from(&page, r#"id="settings-transaction-expiry-secs""#);
    assert!(field.contains(r#"aria-invalid="true""#), "{page}");
    assert!(field.contains("transaction expiry must be between"), "the message beside the field: {page}");
    assert!(page.contains(r#"value="Console Org""#), "what was typed is kept: {page}");
    let res = b
        .post(
            "/console/settings",
            &[
                ("csrf", &token),
                ("org_name", "Console Org"),
                ("transaction_expiry_secs", "3600"),
                ("info_requires_auth", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Saved."));
    let seen = api.ok("{ tenant { orgName transactionExpirySecs infoRequiresAuth } }", json!({})).await;
    assert_eq!(
        seen["tenant"],
        json!({ "orgName": "Console Org", "transactionExpirySecs": 3600, "infoRequiresAuth": true })
    );

    // Customer types: fields one per line; a name outside SEP-9 must say its type.
    let res = b
        .post(
            "/console/customer-types",
            &[
                ("csrf", &token),
                ("name", "console-receiver"),
                ("fields", "first_name: First name\nnot_sep9: x"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(from(&page, r#"id="type-fields""#).contains("not a SEP-9 field"), "{page}");
    let fields = "first_name: First name\nbank_account_number?: Account\nshoe_size (number): Shoe size";
    let res = b
        .post(
            "/console/customer-types",
            &[("csrf", &token), ("name", "console-receiver"), ("fields", fields)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let types =
        api.ok("{ tenant { customerTypes { name fields { name optional fieldType } } } }", json!({})).await;
    let made =
        types["tenant"]["customerTypes"].as_array().unwrap().iter().find(|t| t["name"] == "console-receiver");
    assert_eq!(
        made.unwrap()["fields"],
        json!([
            { "name": "bank_account_number", "optional": true, "fieldType": "string" },
            { "name": "first_name", "optional": false, "fieldType": "string" },
            { "name": "shoe_size", "optional": false, "fieldType": "number" },
        ])
    );
    let (_, edit) = b.get("/console/customer-types?edit=console-receiver").await;
    assert!(edit.contains("shoe_size (number): Shoe size"), "the edit form reads back: {edit}");

    // SEP-38: a currency, a corridor on it with a manual rate, then a new rate.
    let res = b
        .post(
            "/console/quotes/offchain",
            &[
                ("csrf", &token),
                ("code", "MXN"),
                ("decimals", "2"),
                ("country_codes", "MX"),
                ("delivery_methods", "SPEI: bank transfer"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("SPEI: bank transfer"));
    let assets = api.ok("{ tenant { assets { code issuer } } }", json!({})).await;
    let sell = format!(
        "stellar:{}:{}",
        assets["tenant"]["assets"][0]["code"].as_str().unwrap(),
        assets["tenant"]["assets"][0]["issuer"].as_str().unwrap()
    );
    let corridor = [
        ("csrf", token.as_str()),
        ("sell_asset", sell.as_str()),
        ("buy_asset", "iso4217:MXN"),
        ("rate", "17.05"),
        ("spread_bps", "50"),
        ("quote_lifetime_secs", "300"),
        ("fee_fixed", "0"),
        ("fee_percent", "0"),
        ("enabled", "on"),
    ];
    let res = b.post("/console/quotes/corridors", &corridor).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let seen = api.ok("{ tenant { corridors { id spreadBps enabled rate { value } } } }", json!({})).await;
    let c = &seen["tenant"]["corridors"][0];
    assert_eq!((c["spreadBps"].as_i64(), c["enabled"].as_bool()), (Some(50), Some(true)));
    assert_eq!(c["rate"]["value"], "17.05");
    let id = c["id"].as_str().unwrap().to_string();
    let res =
        b.post(&format!("/console/quotes/corridors/{id}/rate"), &[("csrf", &token), ("rate", "-3")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(from(&page, &format!(r#"id="rate-{id}-rate""#)).contains(r#"aria-invalid="true""#), "{page}");
    let res =
        b.post(&format!("/console/quotes/corridors/{id}/rate"), &[("csrf", &token), ("rate", "18.1")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let seen = api.ok("{ tenant { corridors { rate { value } } } }", json!({})).await;
    assert_eq!(seen["tenant"]["corridors"][0]["rate"]["value"], "18.1");
    // The sending anchor's SEP-38 sees the currency the console added.
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let (_, info) = sa.get("/sep38/info").await;
    assert!(info.to_string().contains("iso4217:MXN") && info.to_string().contains("SPEI"), "{info}");
    let res = b.post("/console/quotes/policy", &[("csrf", &token), ("policy", "HONOUR")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        api.ok("{ tenant { expiredQuotePolicy } }", json!({})).await["tenant"]["expiredQuotePolicy"],
        "HONOUR"
    );

    // Webhook endpoints: a bad URL refused beside the field; a good one's secret once;
    // delete.
    let res = b.post("/console/webhooks", &[("csrf", &token), ("url", "ftp://x")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(from(&page, r#"id="endpoint-url""#).contains(r#"aria-invalid="true""#), "{page}");
    let receiver = CallbackReceiver::start().await;
    let res = b
        .post(
            "/console/webhooks",
            &[("csrf", &token), ("url", &receiver.url), ("event_types", "transaction.created")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"id="new-secret">whsec_"#), "{page}");
    let endpoints = api.ok("{ webhookEndpoints { id url eventTypes } }", json!({})).await;
    assert_eq!(endpoints["webhookEndpoints"][0]["eventTypes"], json!(["transaction.created"]));
    assert!(!b.get("/console/webhooks").await.1.contains("whsec_"), "the secret is shown once");
    let endpoint = endpoints["webhookEndpoints"][0]["id"].as_str().unwrap().to_string();
    let res = b.post(&format!("/console/webhooks/{endpoint}/disable"), &[("csrf", &token)]).await;
    assert!(res.text().await.unwrap().contains("Endpoint disabled."));
    let enabled = || async {
        api.ok("{ webhookEndpoints { enabled } }", json!({})).await["webhookEndpoints"][0]["enabled"].clone()
    };
    assert_eq!(enabled().await, false);
    b.post(&format!("/console/webhooks/{endpoint}/enable"), &[("csrf", &token)]).await;
    assert_eq!(enabled().await, true);
    let res = b.post(&format!("/console/webhooks/{endpoint}/delete"), &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(api.ok("{ webhookEndpoints { id } }", json!({})).await["webhookEndpoints"], json!([]));

    // Configuration is ADMIN's: an OPERATE key's change is refused and changes nothing.
    let mut operator_desk = Browser::sign_in(&app, &operate_key).await;
    let their_token = csrf(&operator_desk.get("/console/settings").await.1);
    let res = operator_desk
        .post(
            "/console/settings",
            &[("csrf", &their_token), ("org_name", "Hijacked"), ("info_requires_auth", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(api.ok("{ tenant { orgName } }", json!({})).await["tenant"]["orgName"], "Console Org");
    let res =
        operator_desk.post("/console/quotes/policy", &[("csrf", &their_token), ("policy", "ERROR")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The operator's health page; a tenant key is not let in.
    let mut op = Browser::sign_in(&app, OPERATOR_TOKEN).await;
    let (status, health) = op.get("/console/health").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(health.contains("Database</th><td>ok") && health.contains(r#"id="attention""#), "{health}");
    assert_eq!(b.get("/console/health").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_list_filters_by_amount_and_customer_the_detail_shows_callbacks_and_review_goes_field_by_field() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("console-review");
    let tenant = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let admin_key = key(&app, tenant.id, "ADMIN").await;
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let (id, t) = paid_transaction(&env, &sa, tenant.id).await;
    let mut b = Browser::sign_in(&app, &admin_key).await;

    // Amount (100) and customer filters.
    let sender = t.sender_id.unwrap().to_string();
    let receiver_id = t.receiver_id.unwrap().to_string();
    for (query, shown) in [
        ("min=1&max=100", true),
        ("min=100.0000001", false),
        ("max=99.9999999", false),
        (&format!("customer={sender}") as &str, true),
        (&format!("customer={receiver_id}"), true),
        (&format!("customer={}", uuid::Uuid::new_v4()), false),
        ("customer=not-a-uuid", false),
    ] {
        let (status, page) = b.get(&format!("/console/transactions?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(page.contains(&id), shown, "{query}: {page}");
    }
    let (status, page) = b.get("/console/transactions?min=lots").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("minAmount"), "{page}");

    // Callbacks to the sending anchor, on the transaction's page.
    let receiver = CallbackReceiver::start().await;
    sa.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({ "url": receiver.url })).await;
    let (_, detail) = b.get(&format!("/console/transactions/{id}")).await;
    let token = csrf(&detail);
    let path = format!("/console/transactions/{id}");
    let res = b.post(&path, &[("csrf", &token), ("action", "pending_external"), ("message", "sent")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    receiver.wait_for(15, |bodies| !bodies.is_empty()).await;
    let page = eventually("the callback is shown delivered", async || {
        let (_, page) = b.get(&path).await;
        page.contains("<td>delivered</td>").then_some(page)
    })
    .await;
    let callbacks = from(&page, "Callbacks to the sending anchor");
    assert!(callbacks.contains("<td>delivered</td><td>1</td><td>200</td>"), "{page}");
    assert!(!callbacks.contains(&receiver.url), "the callback URL stays sealed: {page}");

    // Field by field: first both names sent back, then one accepted and one still wrong.
    let customer_page = format!("/console/customers/{sender}");
    let (_, view) = b.get(&customer_page).await;
    assert!(view.contains(r#"name="verdict:first_name""#), "{view}");
    let both = [
        ("csrf", token.as_str()),
        ("decision", "NEEDS_INFO"),
        ("reason:first_name", "blurred"),
        ("reason:last_name", "blurred"),
    ];
    assert_eq!(b.post(&customer_page, &both).await.status(), StatusCode::OK);
    let by_field = [
        ("csrf", token.as_str()),
        ("decision", "BY_FIELD"),
        ("verdict:first_name", "accept"),
        ("reason:first_name", ""),
        ("verdict:last_name", "reject"),
        ("reason:last_name", "does not match the passport"),
    ];
    let res = b.post(&customer_page, &by_field).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let (_, kyc) = sa.get(&format!("/kyc/customer?id={sender}&type=sep31-sender")).await;
    assert_eq!(kyc["status"], "NEEDS_INFO", "{kyc}");
    assert_eq!(kyc["provided_fields"]["first_name"]["status"], "ACCEPTED", "{kyc}");
    assert_eq!(kyc["provided_fields"]["last_name"]["status"], "REJECTED", "{kyc}");
    assert_eq!(kyc["provided_fields"]["last_name"]["error"], "does not match the passport", "{kyc}");
    // Every field accepted by field: the customer is accepted.
    let all = [
        ("csrf", token.as_str()),
        ("decision", "BY_FIELD"),
        ("verdict:last_name", "accept"),
        ("reason:last_name", ""),
    ];
    assert_eq!(b.post(&customer_page, &all).await.status(), StatusCode::OK);
    let (_, kyc) = sa.get(&format!("/kyc/customer?id={sender}&type=sep31-sender")).await;
    assert_eq!(kyc["status"], "ACCEPTED", "{kyc}");
}
