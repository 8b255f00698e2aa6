//! SEP-38 quotes and cross-currency SEP-31, against the spec's rules: the endpoints,
//! the amounts' identities, ownership (another sending anchor's quote is 404), single
//! use, expiry, a late payment under each policy, a rate feed that goes down, and
//! quotes required.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::get;
use mooring_stellar::sep31::Status;
use mooring_stellar::{Amount, Keypair};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{
    Admin, CallbackReceiver, Sa, TestApp, TestEnv, TestTenant, tenant_of, transaction_request, unique_domain,
};
use crate::watcher::{pay_for, tx, wait_status};

pub(crate) const SET_MXN: &str = "mutation($t: ID!) { setOffchainAsset(tenantId: $t, input: {
    code: \"MXN\", decimals: 2, countryCodes: [\"MX\"],
    deliveryMethods: [{ name: \"SPEI\", description: \"Bank transfer to a CLABE\" }] }) { id } }";
pub(crate) const SET_CORRIDOR: &str = "mutation($t: ID!, $input: CorridorInput!) {
    setCorridor(tenantId: $t, input: $input) { corridors { id sellAsset buyAsset } } }";
const CORRIDORS: &str = "query($t: ID!) { tenant(id: $t) { corridors {
    id rate { value asOf stale price } rateFeedError } } }";

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn dec(v: &Value) -> Decimal {
    d(v.as_str().unwrap_or_else(|| panic!("{v} is not a string")))
}

/// The tenant's SRT as a SEP-38 asset.
pub(crate) fn srt(app: &TestApp, domain: &str) -> String {
    let t = tenant_of(app, domain);
    format!("stellar:SRT:{}", t.assets[0].issuer)
}

/// MXN and a corridor SRT → MXN at 20 pesos per SRT less 1 %, a fee of 1 SRT, 10 to
/// 10,000 SRT, quotes good for 60 s, plus `extra` corridor settings.
pub(crate) async fn corridor(app: &TestApp, tenant: &TestTenant, domain: &str, extra: Value) -> String {
    let admin = Admin::operator(app);
    admin.ok(SET_MXN, json!({ "t": tenant.id.to_string() })).await;
    let mut input = json!({
        "sellAsset": srt(app, domain), "buyAsset": "iso4217:MXN", "rate": "20", "spreadBps": 100,
        "feeFixed": "1", "minAmount": "10", "maxAmount": "10000", "quoteLifetimeSecs": 60,
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    if input.get("rateFeedUrl").is_some() {
        input.as_object_mut().unwrap().remove("rate");
    }
    let data = admin.ok(SET_CORRIDOR, json!({ "t": tenant.id.to_string(), "input": input })).await;
    data["setCorridor"]["corridors"][0]["id"].as_str().unwrap().to_string()
}

async fn public_get(app: &TestApp, domain: &str, path: &str) -> (StatusCode, Value) {
    let res = app.get(domain, path).send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Two accepted customers and a quoted transaction body for `quote`.
async fn quoted_request(sa: &Sa<'_>, quote: &Value) -> Value {
    let memo = Uuid::new_v4().simple().to_string();
    let sender = sa.accepted_customer("sep31-sender", &format!("s{memo}")).await;
    let receiver = sa.accepted_customer("sep31-receiver", &format!("r{memo}")).await;
    let mut body = transaction_request(&sender, &receiver);
    body["amount"] = quote["sell_amount"].clone();
    body["quote_id"] = quote["id"].clone();
    body["destination_asset"] = quote["buy_asset"].clone();
    body
}

/// Approves `key` as a sending anchor of `tenant`, seen by `app` once this returns.
async fn approve(env: &TestEnv, app: &TestApp, tenant: Uuid, key: &Keypair) {
    mooring_tenants::admin::approve_sender(&env.db, tenant, &key.public_key().to_string(), "another SA")
        .await
        .unwrap();
    app.server.state.tenants.changed().await.unwrap();
}

async fn firm_quote(sa: &Sa<'_>, sell_asset: &str, sell_amount: &str) -> Value {
    let (status, q) = sa
        .post_json(
            "/sep38/quote",
            &json!({ "sell_asset": sell_asset, "buy_asset": "iso4217:MXN", "sell_amount": sell_amount, "context": "sep31" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    q
}

#[tokio::test]
async fn sep38_endpoints_follow_the_spec() {
    let env = TestEnv::new().await;
    let domain = unique_domain("fx");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;

    // Nothing is offered before a corridor exists.
    assert_eq!(public_get(&app, &domain, "/sep38/info").await.0, StatusCode::NOT_FOUND);
    let toml = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    assert!(!toml.contains("ANCHOR_QUOTE_SERVER"), "{toml}");

    corridor(&app, &tenant, &domain, json!({})).await;
    let srt = srt(&app, &domain);
    let toml = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    let quote_server = format!("ANCHOR_QUOTE_SERVER = \"http://{domain}/sep38\"");
    assert!(toml.contains(&quote_server) || toml.contains("ANCHOR_QUOTE_SERVER = \"https://"), "{toml}");

    let (status, info) = public_get(&app, &domain, "/sep38/info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        info["assets"],
        json!([
            { "asset": srt },
            { "asset": "iso4217:MXN", "country_codes": ["MX"],
              "buy_delivery_methods": [{ "name": "SPEI", "description": "Bank transfer to a CLABE" }] },
        ])
    );

    // GET /prices: 20 × 0.99 = 19.8 MXN per SRT, so one MXN costs 1/19.8 SRT, rounded up.
    let (status, prices) = public_get(
        &app,
        &domain,
        &format!("/sep38/prices?{}", query(&[("sell_asset", &srt), ("sell_amount", "101")])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{prices}");
    assert_eq!(
        prices,
        json!({ "buy_assets": [{ "asset": "iso4217:MXN", "price": "0.0505050506", "decimals": 2 }] })
    );
    let (status, prices) = public_get(
        &app,
        &domain,
        &format!("/sep38/prices?{}", query(&[("buy_asset", "iso4217:MXN"), ("buy_amount", "500")])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{prices}");
    assert_eq!(prices["sell_assets"][0]["asset"], srt.as_str());
    assert_eq!(prices["sell_assets"][0]["decimals"], 7);
    // The optional filters: pesos are paid out in Mexico, by SPEI.
    for (filter, listed) in [
        (("country_code", "MX"), 1),
        (("country_code", "MX-CMX"), 1),
        (("country_code", "BR"), 0),
        (("buy_delivery_method", "SPEI"), 1),
        (("buy_delivery_method", "CASH"), 0),
    ] {
        let q = query(&[("sell_asset", &srt), ("sell_amount", "101"), filter]);
        let (status, prices) = public_get(&app, &domain, &format!("/sep38/prices?{q}")).await;
        assert_eq!(status, StatusCode::OK, "{prices}");
        assert_eq!(prices["buy_assets"].as_array().unwrap().len(), listed, "{filter:?}: {prices}");
    }

    // The other asset narrows the list (SDF's validator asks this way): both sides.
    for (pairs, key, listed) in [
        (
            vec![("sell_asset", srt.as_str()), ("sell_amount", "101"), ("buy_asset", "iso4217:MXN")],
            "buy_assets",
            1,
        ),
        (
            vec![("sell_asset", srt.as_str()), ("sell_amount", "101"), ("buy_asset", "iso4217:BRL")],
            "buy_assets",
            0,
        ),
        (
            vec![("buy_asset", "iso4217:MXN"), ("buy_amount", "500"), ("sell_asset", srt.as_str())],
            "sell_assets",
            1,
        ),
    ] {
        let (status, prices) = public_get(&app, &domain, &format!("/sep38/prices?{}", query(&pairs))).await;
        assert_eq!(status, StatusCode::OK, "{pairs:?}: {prices}");
        assert_eq!(prices[key].as_array().unwrap().len(), listed, "{pairs:?}: {prices}");
    }
    let both = query(&[
        ("sell_asset", &srt),
        ("sell_amount", "1"),
        ("buy_asset", "iso4217:MXN"),
        ("buy_amount", "1"),
    ]);
    assert_eq!(public_get(&app, &domain, &format!("/sep38/prices?{both}")).await.0, StatusCode::BAD_REQUEST);

    // GET /price with sell_amount: the fee in the sell asset, buy_amount rounded down.
    let price_of = |pairs: Vec<(&str, String)>| {
        let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let (app, domain) = (&app, &domain);
        async move { public_get(app, domain, &format!("/sep38/price?{q}")).await }
    };
    let base = |amount: (&'static str, &str)| {
        vec![
            ("sell_asset", srt.clone()),
            ("buy_asset", "iso4217:MXN".to_string()),
            (amount.0, amount.1.to_string()),
            ("context", "sep31".to_string()),
        ]
    };
    let (status, p) = price_of(base(("sell_amount", "101"))).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["sell_amount"], "101");
    assert_eq!(p["buy_amount"], "1979.99");
    assert_eq!(p["price"], "0.0505050506");
    assert_eq!(
        p["fee"],
        json!({ "total": "1", "asset": srt, "details": [{ "name": "fixed fee", "amount": "1" }] })
    );
    // sell_amount − fee ≥ price × buy_amount, short by less than a centavo's worth.
    let (sell, buy, fee, price) =
        (dec(&p["sell_amount"]), dec(&p["buy_amount"]), dec(&p["fee"]["total"]), dec(&p["price"]));
    assert!(price * buy <= sell - fee && price * (buy + d("0.01")) > sell - fee);
    assert!((dec(&p["total_price"]) * buy - sell).abs() < d("0.000001"));

    // With buy_amount: the buy amount is exact and the sell amount covers it.
    let (status, p) = price_of(base(("buy_amount", "1000"))).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["buy_amount"], "1000");
    let (sell, fee) = (dec(&p["sell_amount"]), dec(&p["fee"]["total"]));
    assert_eq!(fee, d("1"));
    let cost = dec(&p["price"]) * d("1000");
    assert!(sell - fee >= cost && sell - fee - cost < d("0.0000001"), "{p}");

    // The spec's 400s, each a good request changed: a value replaced or added, or (None)
    // left out.
    let good = [
        ("sell_asset", srt.as_str()),
        ("buy_asset", "iso4217:MXN"),
        ("sell_amount", "100"),
        ("context", "sep31"),
    ];
    let changed = |changes: &[(&'static str, Option<&str>)]| {
        let mut pairs: Vec<(&str, String)> = good.iter().map(|(k, v)| (*k, v.to_string())).collect();
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if let Some(v) = value {
                pairs.push((key, v.to_string()));
            }
        }
        pairs
    };
    let largest = "79228162514264337593543950335";
    for (changes, why) in [
        (vec![("buy_asset", Some("iso4217:BRL"))], "unknown pair"),
        (vec![("buy_amount", Some("100"))], "both amounts"),
        (vec![("sell_amount", None)], "no amount"),
        (vec![("context", Some("sep6"))], "sep6"),
        (vec![("context", None)], "no context"),
        (vec![("sell_asset", Some("SRT"))], "bad asset"),
        (vec![("sell_amount", Some("20000"))], "over the maximum"),
        (vec![("sell_amount", Some("-5"))], "negative"),
        (vec![("sell_amount", Some(largest))], "Decimal's largest"),
        (vec![("sell_amount", None), ("buy_amount", Some(largest))], "Decimal's largest bought"),
        (vec![("sell_amount", Some("1e30"))], "exponent"),
        (vec![("sell_amount", Some("1.000000001"))], "8 decimals"),
        (vec![("sell_amount", None), ("buy_amount", Some("100.001"))], "3 decimals of MXN"),
        (vec![("buy_delivery_method", Some("CASH"))], "unknown method"),
        (vec![("country_code", Some("BR"))], "other country"),
    ] {
        let pairs = changed(&changes);
        let (status, body) = price_of(pairs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{why}: {body}");
    }
    let (status, _) =
        price_of(changed(&[("buy_delivery_method", Some("SPEI")), ("country_code", Some("MX"))])).await;
    assert_eq!(status, StatusCode::OK);

    // POST /quote needs the token; the quote is firm, 201, and its owner's alone.
    let res = app
        .post(&domain, "/sep38/quote")
        .json(&json!({ "sell_asset": srt, "buy_asset": "iso4217:MXN", "sell_amount": "101", "context": "sep31" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let before = chrono::Utc::now();
    let (status, q) = sa
        .post_json(
            "/sep38/quote",
            &json!({ "sell_asset": srt, "buy_asset": "iso4217:MXN", "buy_amount": 500, "context": "sep31",
                     "buy_delivery_method": "SPEI" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    assert_eq!(
        (q["sell_asset"].as_str(), q["buy_asset"].as_str(), q["buy_amount"].as_str()),
        (Some(srt.as_str()), Some("iso4217:MXN"), Some("500"))
    );
    assert_eq!(q["buy_delivery_method"], "SPEI");
    let expires: chrono::DateTime<chrono::Utc> = q["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires >= before + chrono::Duration::seconds(59)
            && expires <= chrono::Utc::now() + chrono::Duration::seconds(61)
    );
    let (status, again) = sa.get(&format!("/sep38/quote/{}", q["id"].as_str().unwrap())).await;
    assert_eq!((status, &again), (StatusCode::OK, &q));

    let expire_after = |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339();
    let ask = |expire_after: String| json!({ "sell_asset": srt, "buy_asset": "iso4217:MXN", "sell_amount": "50", "context": "sep31", "expire_after": expire_after });
    assert_eq!(sa.post_json("/sep38/quote", &ask(expire_after(30))).await.0, StatusCode::CREATED);
    let (status, body) = sa.post_json("/sep38/quote", &ask(expire_after(3600))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Another sending anchor of the same tenant, and the same account at another tenant.
    let other = Keypair::generate();
    approve(&env, &app, tenant.id, &other).await;
    let other_sa = Sa::login(&app, &domain, &other).await;
    let (status, _) = other_sa.get(&format!("/sep38/quote/{}", q["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let elsewhere = unique_domain("fx-b");
    let tenant_b = env.tenant(&elsewhere).await;
    approve(&env, &app, tenant_b.id, &tenant.sender).await;
    let sa_at_b = Sa::login(&app, &elsewhere, &tenant.sender).await;
    let (status, _) = sa_at_b.get(&format!("/sep38/quote/{}", q["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a quote is worthless at another tenant");
    assert_eq!(sa.get("/sep38/quote/not-a-uuid").await.0, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_quoted_transaction_pays_out_in_the_buy_asset_and_a_quote_backs_one_transaction() {
    let env = TestEnv::new().await;
    let domain = unique_domain("fxt");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;
    corridor(&app, &tenant, &domain, json!({})).await;
    let srt = srt(&app, &domain);
    let sa = Sa::login(&app, &domain, &tenant.sender).await;

    let (_, info) = sa.get("/sep31/info").await;
    assert_eq!(
        (
            info["receive"]["SRT"]["quotes_supported"].as_bool(),
            info["receive"]["SRT"]["quotes_required"].as_bool()
        ),
        (Some(true), Some(false))
    );

    let q = firm_quote(&sa, &srt, "101").await;
    let body = quoted_request(&sa, &q).await;

    // The amount must be the quote's sell amount; another's quote is not usable.
    let mut wrong = body.clone();
    wrong["amount"] = "100".into();
    let (status, res) = sa.post_json("/sep31/transactions", &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    let other = Keypair::generate();
    approve(&env, &app, tenant.id, &other).await;
    let other_sa = Sa::login(&app, &domain, &other).await;
    let theirs = quoted_request(&other_sa, &q).await;
    let (status, res) = other_sa.post_json("/sep31/transactions", &theirs).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    let mut elsewhere = body.clone();
    elsewhere["destination_asset"] = "iso4217:BRL".into();
    assert_eq!(sa.post_json("/sep31/transactions", &elsewhere).await.0, StatusCode::BAD_REQUEST);

    // Two requests race for one quote (different idempotency keys): exactly one wins.
    let send = |key: &'static str| {
        sa.req(reqwest::Method::POST, "/sep31/transactions").header("idempotency-key", key).json(&body).send()
    };
    let (a, b) = tokio::join!(send("race-a"), send("race-b"));
    let mut statuses = [a.unwrap().status(), b.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::BAD_REQUEST]);
    let (status, res) = sa.post_json("/sep31/transactions", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "reuse is refused: {res}");
    assert!(res["error"].as_str().unwrap().contains("already used"), "{res}");

    let stored = mooring_entities::transaction::Entity::find()
        .filter(
            mooring_entities::transaction::Column::QuoteId.eq(q["id"]
                .as_str()
                .unwrap()
                .parse::<Uuid>()
                .unwrap()),
        )
        .all(&env.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let id = stored[0].id.to_string();
    let (_, view) = sa.get(&format!("/sep31/transactions/{id}")).await;
    let t = &view["transaction"];
    assert_eq!(t["quote_id"], q["id"]);
    assert_eq!((t["amount_in"].as_str(), t["amount_in_asset"].as_str()), (Some("101"), Some(srt.as_str())));
    assert_eq!(
        (t["amount_out"].as_str(), t["amount_out_asset"].as_str()),
        (Some("1979.99"), Some("iso4217:MXN"))
    );
    assert_eq!(t["amount_fee"], "1");
    assert_eq!(
        t["fee_details"],
        json!({ "total": "1", "asset": srt, "details": [{ "name": "fixed fee", "amount": "1" }] })
    );

    // Paid in time: received, nothing held; the back office sees what to pay out.
    let model = tx(&env, &id).await;
    env.horizon.add_payment(&model.stellar_account_id, &pay_for(&model));
    let paid = wait_status(&env, &id, Status::PendingReceiver).await;
    assert_eq!(paid.held_reason, None);
    let gql = Admin::operator(&app)
        .ok(
            "query($id: ID!) { transaction(id: $id) { amountOut amountOutAsset heldReason quote { id sellAmount buyAmount buyAsset transactionId } } }",
            json!({ "id": id }),
        )
        .await;
    let gt = &gql["transaction"];
    assert_eq!(
        (gt["amountOut"].as_str(), gt["amountOutAsset"].as_str()),
        (Some("1979.99"), Some("iso4217:MXN"))
    );
    assert_eq!(gt["quote"]["transactionId"], id.as_str());
    assert_eq!(gt["quote"]["buyAmount"], "1979.99");
    let done = Admin::operator(&app)
        .ok("mutation($id: ID!) { completeTransaction(id: $id, externalTransactionId: \"SPEI-1\") { status } }", json!({ "id": id }))
        .await;
    assert_eq!(done["completeTransaction"]["status"], "COMPLETED");

    // An expired quote backs nothing, yet GET /quote/:id still answers (the SEP's MUST).
    let q2 = firm_quote(&sa, &srt, "50").await;
    let q2_id: Uuid = q2["id"].as_str().unwrap().parse().unwrap();
    mooring_entities::quote::Entity::update_many()
        .col_expr(
            mooring_entities::quote::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(mooring_entities::quote::Column::Id.eq(q2_id))
        .exec(&env.db)
        .await
        .unwrap();
    let (status, res) = sa.post_json("/sep31/transactions", &quoted_request(&sa, &q2).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    assert!(res["error"].as_str().unwrap().contains("expired"), "{res}");
    assert_eq!(sa.get(&format!("/sep38/quote/{q2_id}")).await.0, StatusCode::OK);

    // A week past expiry, unused quotes are deleted; a quote behind a transaction stays.
    let q1_id: Uuid = q["id"].as_str().unwrap().parse().unwrap();
    mooring_entities::quote::Entity::update_many()
        .col_expr(
            mooring_entities::quote::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::days(8)),
        )
        .filter(mooring_entities::quote::Column::Id.is_in([q1_id, q2_id]))
        .exec(&env.db)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while mooring_entities::quote::Entity::find_by_id(q2_id).one(&env.db).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the unused quote was not purged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(mooring_entities::quote::Entity::find_by_id(q1_id).one(&env.db).await.unwrap().is_some());
    app.stop().await;
}

#[tokio::test]
async fn quotes_required_and_destination_asset_rules() {
    let env = TestEnv::new().await;
    let domain = unique_domain("fxr");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;
    corridor(&app, &tenant, &domain, json!({})).await;
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let memo = Uuid::new_v4().simple().to_string();
    let sender = sa.accepted_customer("sep31-sender", &format!("s{memo}")).await;
    let receiver = sa.accepted_customer("sep31-receiver", &format!("r{memo}")).await;
    let mut body = transaction_request(&sender, &receiver);
    body["destination_asset"] = "iso4217:MXN".into();
    let (status, res) = sa.post_json("/sep31/transactions", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    assert!(res["error"].as_str().unwrap().contains("quote_id"), "{res}");

    // The guide's SRT, now with quotes required.
    let mut asset = mooring_server::demo::guide_asset(tenant_of(&app, &domain).assets[0].issuer.clone());
    asset.quotes_required = true;
    mooring_tenants::admin::upsert_asset(&env.db, tenant.id, asset).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !tenant_of(&app, &domain).assets[0].quotes_required {
        assert!(Instant::now() < deadline, "config change not seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, info) = sa.get("/sep31/info").await;
    assert_eq!(info["receive"]["SRT"]["quotes_required"], true);
    assert_eq!(
        info["receive"]["SRT"]["quotes_supported"], true,
        "the corridor survives the asset's replacement"
    );
    let (status, res) = sa.post_json("/sep31/transactions", &transaction_request(&sender, &receiver)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    assert!(res["error"].as_str().unwrap().contains("quotes_required"), "{res}");
    let q = firm_quote(&sa, &srt(&app, &domain), "100").await;
    let mut quoted = transaction_request(&sender, &receiver);
    quoted["quote_id"] = q["id"].clone();
    let (status, res) = sa.post_json("/sep31/transactions", &quoted).await;
    assert_eq!(status, StatusCode::CREATED, "{res}");

    // A tenant that keeps /info to authenticated callers keeps its prices to them too.
    assert_eq!(public_get(&app, &domain, "/sep38/info").await.0, StatusCode::OK);
    let private = "mutation($t: ID!) { updateSettings(tenantId: $t, input: { infoRequiresAuth: true }) { infoRequiresAuth } }";
    Admin::operator(&app).ok(private, json!({ "t": tenant.id.to_string() })).await;
    let price = format!(
        "/sep38/price?{}",
        query(&[
            ("sell_asset", &srt(&app, &domain)),
            ("buy_asset", "iso4217:MXN"),
            ("sell_amount", "100"),
            ("context", "sep31")
        ])
    );
    for path in ["/sep38/info", price.as_str()] {
        assert_eq!(public_get(&app, &domain, path).await.0, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(sa.get(path).await.0, StatusCode::OK, "{path}");
    }
    app.stop().await;
}

/// Moves `quote`'s transaction's quote deadline into the past, as if the quote had
/// expired before the payment's ledger closed.
async fn late_payment(env: &TestEnv, id: &str) {
    let t = tx(env, id).await;
    let after = t.quote_expires_at.unwrap() + chrono::Duration::seconds(5);
    env.horizon.add_payment_at(&t.stellar_account_id, &pay_for(&t), after);
}

#[tokio::test]
async fn a_payment_after_its_quote_expired_follows_the_tenants_policy() {
    let env = TestEnv::new().await;
    let domain = unique_domain("late");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;
    corridor(&app, &tenant, &domain, json!({})).await;
    let srt = srt(&app, &domain);
    let receiver = CallbackReceiver::start().await;
    Admin::operator(&app)
        .ok(
            "mutation($t: ID!, $input: WebhookEndpointInput!) { createWebhookEndpoint(tenantId: $t, input: $input) { secret } }",
            json!({ "t": tenant.id.to_string(), "input": { "url": receiver.url, "eventTypes": ["quote.expired_with_payment"] } }),
        )
        .await;
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let quoted = async |sa: &Sa<'_>| {
        let q = firm_quote(sa, &srt, "101").await;
        let (status, res) = sa.post_json("/sep31/transactions", &quoted_request(sa, &q).await).await;
        assert_eq!(status, StatusCode::CREATED, "{res}");
        res["id"].as_str().unwrap().to_string()
    };

    // Default policy: hold. Funds received, payout held until released.
    let held = quoted(&sa).await;
    late_payment(&env, &held).await;
    let t = wait_status(&env, &held, Status::PendingReceiver).await;
    let why = t.held_reason.clone().expect("held for review");
    assert!(why.contains("expired"), "{why}");
    assert_eq!(t.status_message.as_deref(), Some(why.as_str()), "the sending anchor is told why");
    let admin = Admin::operator(&app);
    let complete =
        "mutation($id: ID!) { completeTransaction(id: $id, externalTransactionId: \"SPEI-9\") { status } }";
    assert_eq!(admin.error_code(complete, json!({ "id": held })).await, "CONFLICT");
    let events =
        receiver.wait_for(15, |b| b.iter().any(|e| e["data"]["transaction_id"] == held.as_str())).await;
    let event = events.iter().find(|e| e["data"]["transaction_id"] == held.as_str()).unwrap();
    assert_eq!(
        (event["type"].as_str(), event["data"]["policy"].as_str()),
        (Some("quote.expired_with_payment"), Some("hold"))
    );

    // Another tenant's key can neither see nor release it.
    let other_domain = unique_domain("late-b");
    let (_, other_key) = crate::admin::onboard(&app, &env, &other_domain).await;
    let release = "mutation($id: ID!) { releaseHeldTransaction(id: $id) { heldReason status } }";
    assert_eq!(
        Admin::with_key(&app, &other_key).error_code(release, json!({ "id": held })).await,
        "NOT_FOUND"
    );
    let released = admin.ok(release, json!({ "id": held })).await;
    assert_eq!(
        released["releaseHeldTransaction"],
        json!({ "heldReason": null, "status": "PENDING_RECEIVER" })
    );
    assert_eq!(admin.error_code(release, json!({ "id": held })).await, "CONFLICT", "nothing left to release");
    assert_eq!(admin.ok(complete, json!({ "id": held })).await["completeTransaction"]["status"], "COMPLETED");

    // Policy error: the transaction fails and its funds are refundable.
    let policy = "mutation($t: ID!, $p: ExpiredQuotePolicy!) { setExpiredQuotePolicy(tenantId: $t, policy: $p) { expiredQuotePolicy } }";
    let set = admin.ok(policy, json!({ "t": tenant.id.to_string(), "p": "ERROR" })).await;
    assert_eq!(set["setExpiredQuotePolicy"]["expiredQuotePolicy"], "ERROR");
    let failed = quoted(&sa).await;
    late_payment(&env, &failed).await;
    let t = wait_status(&env, &failed, Status::Error).await;
    assert!(t.status_message.as_deref().unwrap().contains("refunded"));
    assert!(mooring_anchor::refunds::refundable(&t).is_ok());

    // Policy honour: paid out as quoted.
    admin.ok(policy, json!({ "t": tenant.id.to_string(), "p": "HONOUR" })).await;
    let honoured = quoted(&sa).await;
    late_payment(&env, &honoured).await;
    let t = wait_status(&env, &honoured, Status::PendingReceiver).await;
    assert_eq!(t.held_reason, None);
    assert_eq!(Amount(t.amount_out).to_decimal().to_string(), "1979.99");
    app.stop().await;
}

/// A rate feed the test controls: its rate, or failing.
#[derive(Clone, Default)]
struct Feed {
    rate: Arc<Mutex<Option<String>>>,
}

impl Feed {
    async fn start(&self) -> String {
        let rate = self.rate.clone();
        let app = axum::Router::new().route(
            "/rate",
            get(move || {
                let rate = rate.lock().unwrap().clone();
                async move {
                    match rate {
                        Some(r) => (axum::http::StatusCode::OK, json!({ "rate": r }).to_string()),
                        None => (axum::http::StatusCode::BAD_GATEWAY, "upstream down".to_string()),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/rate")
    }

    fn set(&self, rate: Option<&str>) {
        *self.rate.lock().unwrap() = rate.map(str::to_string);
    }
}

async fn corridor_state(app: &TestApp, tenant: Uuid) -> Value {
    let data = Admin::operator(app).ok(CORRIDORS, json!({ "t": tenant.to_string() })).await;
    data["tenant"]["corridors"][0].clone()
}

pub(crate) async fn wait_corridor(
    app: &TestApp,
    tenant: Uuid,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = corridor_state(app, tenant).await;
        if pred(&c) {
            return c;
        }
        assert!(Instant::now() < deadline, "{what}: {c}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_rate_feed_that_goes_down_goes_stale_and_firm_quotes_are_refused() {
    let env = TestEnv::new().await;
    let domain = unique_domain("feed");
    let tenant = env.tenant(&domain).await;
    let feed = Feed::default();
    let url = feed.start().await;
    let app = env.start_with(|c| c.rate_feed_poll_ms = std::time::Duration::from_millis(100)).await;
    corridor(&app, &tenant, &domain, json!({ "rateFeedUrl": url, "maxRateAgeSecs": 1, "spreadBps": 0 }))
        .await;
    let srt = srt(&app, &domain);
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let ask =
        json!({ "sell_asset": srt, "buy_asset": "iso4217:MXN", "sell_amount": "101", "context": "sep31" });

    // No rate yet: nothing can be priced.
    let (status, body) = sa.post_json("/sep38/quote", &ask).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].is_string());

    feed.set(Some("20"));
    wait_corridor(&app, tenant.id, "the feed's rate", |c| c["rate"]["value"] == "20").await;
    let (status, q) = sa.post_json("/sep38/quote", &ask).await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    assert_eq!(q["price"], "0.05");
    assert_eq!(q["buy_amount"], "2000");

    // Down: the last good rate is kept (indicative prices still answer) until it is
    // older than the corridor allows; then firm quotes are refused.
    feed.set(None);
    wait_corridor(&app, tenant.id, "the feed's error", |c| {
        c["rateFeedError"].as_str().is_some_and(|e| e.contains("502"))
    })
    .await;
    let stale = wait_corridor(&app, tenant.id, "stale", |c| c["rate"]["stale"] == true).await;
    assert_eq!(stale["rate"]["value"], "20");
    let (status, body) = sa.post_json("/sep38/quote", &ask).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("stale"), "{body}");
    let price = format!(
        "/sep38/price?{}",
        query(&[
            ("sell_asset", &srt),
            ("buy_asset", "iso4217:MXN"),
            ("sell_amount", "101"),
            ("context", "sep31")
        ])
    );
    assert_eq!(public_get(&app, &domain, &price).await.0, StatusCode::OK);

    // A feed answering garbage is an error too; a good answer brings quotes back.
    feed.set(Some("not a number"));
    wait_corridor(&app, tenant.id, "garbage refused", |c| {
        c["rateFeedError"].as_str().is_some_and(|e| e.contains("decimal"))
    })
    .await;
    feed.set(Some("25"));
    wait_corridor(&app, tenant.id, "fresh again", |c| {
        c["rate"]["value"] == "25" && c["rate"]["stale"] == false
    })
    .await;
    let (status, q) = sa.post_json("/sep38/quote", &ask).await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    assert_eq!(q["price"], "0.04");
    assert_eq!(q["buy_amount"], "2500");
    app.stop().await;
}

#[tokio::test]
async fn corridor_configuration_is_checked_and_scoped() {
    let env = TestEnv::new().await;
    let domain = unique_domain("cfg38");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;
    let admin = Admin::operator(&app);
    let t = tenant.id.to_string();
    let srt = srt(&app, &domain);
    let bad = |input: Value| {
        let mut base = json!({ "sellAsset": srt, "buyAsset": "iso4217:MXN", "rate": "20" });
        for (k, v) in input.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    // No MXN yet.
    assert_eq!(
        admin.error_code(SET_CORRIDOR, json!({ "t": t, "input": bad(json!({})) })).await,
        "INVALID_INPUT"
    );
    admin.ok(SET_MXN, json!({ "t": t })).await;
    for input in [
        json!({ "rate": "-1" }),
        json!({ "rate": "0.00000000000000000001" }),
        json!({ "rate": "abc" }),
        json!({ "rate": null }),
        json!({ "rateFeedUrl": "http://feed.example/x" }),
        json!({ "rateFeedUrl": "ftp://feed.example/x", "rate": null }),
        json!({ "spreadBps": 9000 }),
        json!({ "quoteLifetimeSecs": 1 }),
        json!({ "minAmount": "100", "maxAmount": "10" }),
        json!({ "feePercent": "101" }),
        json!({ "sellAsset": "stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN" }),
        json!({ "buyAsset": "iso4217:BRL" }),
        json!({ "sellAsset": "iso4217:MXN", "buyAsset": srt }),
    ] {
        let code = admin.error_code(SET_CORRIDOR, json!({ "t": t, "input": bad(input.clone()) })).await;
        assert_eq!(code, "INVALID_INPUT", "{input}");
    }
    let bad_currency =
        "mutation($t: ID!) { setOffchainAsset(tenantId: $t, input: { code: \"mxn\", decimals: 2 }) { id } }";
    assert_eq!(admin.error_code(bad_currency, json!({ "t": t })).await, "INVALID_INPUT");
    let data = admin.ok(SET_CORRIDOR, json!({ "t": t, "input": bad(json!({})) })).await;
    let corridor_id = data["setCorridor"]["corridors"][0]["id"].as_str().unwrap().to_string();
    let remove_mxn = "mutation($t: ID!) { removeOffchainAsset(tenantId: $t, code: \"MXN\") }";
    assert_eq!(admin.error_code(remove_mxn, json!({ "t": t })).await, "CONFLICT", "a corridor pays it out");

    // Manual rate with its as-of time, shown as stored.
    let as_of = "2026-11-30T10:00:00Z";
    let set_rate = "mutation($t: ID!, $c: ID!, $r: String!, $a: DateTime) { setCorridorRate(tenantId: $t, corridorId: $c, rate: $r, asOf: $a) { corridors { rate { value asOf } } } }";
    let data = admin.ok(set_rate, json!({ "t": t, "c": corridor_id, "r": "18.25", "a": as_of })).await;
    assert_eq!(data["setCorridorRate"]["corridors"][0]["rate"]["value"], "18.25");

    // Another tenant's key cannot touch this tenant's corridor.
    let (_, other_key) = crate::admin::onboard(&app, &env, &unique_domain("cfg38-b")).await;
    let other = Admin::with_key(&app, &other_key);
    assert_eq!(other.error_code(set_rate, json!({ "t": t, "c": corridor_id, "r": "1" })).await, "NOT_FOUND");
    let remove = "mutation($c: ID!) { removeCorridor(corridorId: $c) }";
    let removed = other.ok(remove, json!({ "c": corridor_id })).await;
    assert_eq!(removed["removeCorridor"], false, "its own tenant has no such corridor");
    assert_eq!(tenant_of(&app, &domain).corridors.len(), 1);
    let removed = admin
        .ok(
            "mutation($t: ID!, $c: ID!) { removeCorridor(tenantId: $t, corridorId: $c) }",
            json!({ "t": t, "c": corridor_id }),
        )
        .await;
    assert_eq!(removed["removeCorridor"], true);
    assert_eq!(public_get(&app, &domain, "/sep38/info").await.0, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn firm_quotes_hold_their_amount_in_reserve_even_when_racing() {
    let env = TestEnv::new().await;
    let domain = unique_domain("reserve");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;
    // 101 SRT buys 1,979.99 MXN: five such quotes fit in a reserve of 10,000 MXN, six do not.
    let corridor_id = corridor(&app, &tenant, &domain, json!({ "maxOutstandingAmount": "10000" })).await;
    let srt = srt(&app, &domain);
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let ask =
        json!({ "sell_asset": srt, "buy_asset": "iso4217:MXN", "sell_amount": "101", "context": "sep31" });
    let results = futures::future::join_all((0..10).map(|_| sa.post_json("/sep38/quote", &ask))).await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(created, 5, "{results:?}");
    let refused: Vec<_> = results.iter().filter(|(s, _)| *s == StatusCode::BAD_REQUEST).collect();
    assert_eq!(refused.len(), 5, "{results:?}");
    assert!(refused[0].1["error"].as_str().unwrap().contains("at most 100.05"), "{:?}", refused[0]);

    let state = "query($t: ID!) { tenant(id: $t) { corridors { maxOutstandingAmount outstandingAmount } } }";
    let shown = Admin::operator(&app).ok(state, json!({ "t": tenant.id.to_string() })).await;
    let c = &shown["tenant"]["corridors"][0];
    assert_eq!((dec(&c["maxOutstandingAmount"]), dec(&c["outstandingAmount"])), (d("10000"), d("9899.95")));

    // What expired is released: the quotes' minute passes (the clock moved on).
    let past = sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1));
    mooring_entities::quote_reserve::Entity::update_many()
        .col_expr(mooring_entities::quote_reserve::Column::Until, past)
        .filter(mooring_entities::quote_reserve::Column::CorridorId.eq(corridor_id.parse::<Uuid>().unwrap()))
        .exec(&env.db)
        .await
        .unwrap();
    let shown = Admin::operator(&app).ok(state, json!({ "t": tenant.id.to_string() })).await;
    assert_eq!(dec(&shown["tenant"]["corridors"][0]["outstandingAmount"]), d("0"));
    assert_eq!(sa.post_json("/sep38/quote", &ask).await.0, StatusCode::CREATED);
    app.stop().await;
}

/// SDF's validator's flow: a quote made with the account's token, its customers under
/// two memos, the transaction posted with a memo token. SEP-31's principal is the
/// account, so it goes through and claims the quote; SEP-38 reads stay memo-scoped.
#[tokio::test]
async fn a_quote_and_customers_of_the_account_serve_a_memo_tokens_transaction() {
    let env = TestEnv::new().await;
    let domain = unique_domain("fxm");
    let tenant = env.tenant(&domain).await;
    let app = env.start().await;
    corridor(&app, &tenant, &domain, json!({})).await;
    let srt = srt(&app, &domain);
    let whole = Sa::login(&app, &domain, &tenant.sender).await;
    let g = tenant.sender.public_key().to_string();
    let memo_token =
        crate::hostile::token_for(&app, &domain, &format!("account={g}&memo=42"), &tenant.sender).await;
    let memo = Sa { app: &app, domain: domain.clone(), token: memo_token };

    let q = firm_quote(&whole, &srt, "101").await;
    // SEP-38 stays memo-scoped: the memo token does not see the account's quote.
    let (status, _) = memo.get(&format!("/sep38/quote/{}", q["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Customers registered under two other memos of the account.
    let body = quoted_request(&whole, &q).await;
    let (status, created) = memo.post_json("/sep31/transactions", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, t) = memo.get(&format!("/sep31/transactions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["transaction"]["quote_id"], q["id"]);
    // Single use still holds across memos.
    let (status, again) = whole.post_json("/sep31/transactions", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    app.stop().await;
}
