//! The GraphQL admin API: authentication, onboarding and configuring a tenant end to
//! end, driving transactions, isolation between tenants, and live events.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mooring_stellar::Keypair;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    ADMIN_HOST, Admin, CallbackReceiver, Sa, TestApp, TestEnv, graphql_ws, unique_domain, ws_message,
};
use crate::horizon::Pay;

const CREATE_TENANT: &str = r#"mutation($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { id signingKey domains } apiKey { key apiKey { id prefix } } }
}"#;

/// Onboards a tenant through the API; returns (tenant id, its API key).
pub(crate) async fn onboard(app: &TestApp, env: &TestEnv, domain: &str) -> (String, String) {
    let data = Admin::operator(app)
        .ok(
            CREATE_TENANT,
            json!({ "input": {
                "name": "GraphQL Anchor", "domains": [domain], "network": "TESTNET",
                "horizonUrl": env.horizon.url, "distributionAccount": Keypair::generate().public_key().to_string(),
            }}),
        )
        .await;
    let created = &data["createTenant"];
    (
        created["tenant"]["id"].as_str().unwrap().to_string(),
        created["apiKey"]["key"].as_str().unwrap().to_string(),
    )
}

const SET_TYPE: &str =
    r#"mutation($input: CustomerTypeInput!) { setCustomerType(input: $input) { customerTypes { name } } }"#;
const UPSERT_ASSET: &str =
    r#"mutation($input: AssetInput!) { upsertAsset(input: $input) { assets { code feeFixed feePercent } } }"#;

/// Configures the guide's asset, types and a sending anchor, through the API only.
pub(crate) async fn configure(tenant: &Admin<'_>, sender: &Keypair, fee_fixed: &str) -> String {
    for (name, extra) in [
        ("sep31-sender", json!([])),
        (
            "sep31-receiver",
            json!([
                { "name": "bank_number", "description": "routing number" },
                { "name": "bank_account_number", "description": "account number" },
            ]),
        ),
    ] {
        let mut fields = vec![
            json!({ "name": "first_name", "description": "first name" }),
            json!({ "name": "last_name", "description": "last name" }),
            json!({ "name": "email_address", "description": "email" }),
        ];
        fields.extend(extra.as_array().unwrap().iter().cloned());
        tenant
            .ok(
                SET_TYPE,
                json!({ "input": { "name": name, "description": format!("{name} KYC"), "fields": fields } }),
            )
            .await;
    }
    let issuer = Keypair::generate().public_key().to_string();
    tenant.ok(UPSERT_ASSET, asset_input(&issuer, fee_fixed)).await;
    tenant
        .ok(
            r#"mutation($a: String!) { approveSender(account: $a, name: "SA") { senders { account enabled } } }"#,
            json!({ "a": sender.public_key().to_string() }),
        )
        .await;
    issuer
}

fn asset_input(issuer: &str, fee_fixed: &str) -> Value {
    json!({ "input": {
        "code": "SRT", "issuer": issuer, "minAmount": "10", "maxAmount": "10000",
        "feeFixed": fee_fixed, "feePercent": "1", "memoType": "ID",
        "senderSep12Type": "sep31-sender", "receiverSep12Type": "sep31-receiver",
        "fundingMethods": ["SEPA"],
        "fields": [{ "name": "routing_number", "description": "routing number" }],
    }})
}

#[tokio::test]
async fn authentication_and_where_the_api_lives() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("t");
    env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();

    let none =
        app.post(ADMIN_HOST, "/graphql").json(&json!({ "query": "{ me { kind } }" })).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let wrong = Admin::with_key(&app, "mk_0000").gql("{ me { kind } }", json!({})).await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(Admin::operator(&app).ok("{ me { kind } }", json!({})).await["me"]["kind"], "OPERATOR");

    let graphiql = app.get(ADMIN_HOST, "/graphql").send().await.unwrap();
    assert_eq!(graphiql.status(), StatusCode::OK);
    assert!(graphiql.text().await.unwrap().to_lowercase().contains("graphiql"));
    // Never on a tenant's domain; SEP endpoints never on the admin host.
    let on_tenant = app
        .post(&domain, "/graphql")
        .bearer_auth(crate::common::OPERATOR_TOKEN)
        .json(&json!({ "query": "{ me { kind } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(on_tenant.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(ADMIN_HOST, "/.well-known/stellar.toml").send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Limits: page size, depth.
    let op = Admin::operator(&app);
    assert_eq!(op.error_code("{ tenants(first: 1000) { totalCount } }", json!({})).await, "INVALID_INPUT");
    let fine =
        "{ tenants { edges { node { assets { fields { name } } customerTypes { fields { name } } } } } }";
    assert!(op.gql(fine, json!({})).await.get("errors").is_none());
    // Introspection alone may nest 20 levels (GraphiQL's own query needs ~13, issue 26);
    // anything that reads data, 10.
    let too_deep = "{ me { kind } __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }";
    let body = op.gql(too_deep, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("too deep"), "{body}");
    let deep_introspection =
        format!("{{ __schema {{ types {{ {}name{} }} }} }}", "ofType { ".repeat(20), " }".repeat(20));
    let body = op.gql(&deep_introspection, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("too deep"), "{body}");
    let aliases: String = (0..9).map(|i| format!("e{i}: events {{ actor }} ")).collect();
    let too_wide =
        format!("{{ transactions(tenantId: \"x\", first: 100) {{ edges {{ node {{ {aliases} }} }} }} }}");
    let too_wide = too_wide.as_str();
    let body = op.gql(too_wide, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("complex"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_configured_only_through_graphql_runs_the_sep_flow() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("g");
    let (tenant_id, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let me = tenant.ok("{ me { kind tenantId } }", json!({})).await;
    assert_eq!(me["me"], json!({ "kind": "TENANT", "tenantId": tenant_id }));
    let sender = Keypair::generate();
    let issuer = configure(&tenant, &sender, "1").await;

    let sa = Sa::login(&app, &domain, &sender).await;
    let (_, info) = sa.get("/sep31/info").await;
    assert_eq!(info["receive"]["SRT"]["fee_fixed"], json!(1));
    let first = sa.transaction().await;
    let (_, body) = sa.get(&format!("/sep31/transactions/{first}")).await;
    assert_eq!(body["transaction"]["amount_fee"], "2");

    // A fee change is live at once.
    let data = tenant.ok(UPSERT_ASSET, asset_input(&issuer, "5")).await;
    assert_eq!(data["upsertAsset"]["assets"][0]["feeFixed"], "5");
    let (_, info) = sa.get("/sep31/info").await;
    assert_eq!(info["receive"]["SRT"]["fee_fixed"], json!(5));
    let second = sa.transaction().await;
    let (_, body) = sa.get(&format!("/sep31/transactions/{second}")).await;
    assert_eq!(body["transaction"]["amount_fee"], "6");

    // Bad input is refused with a code, and nothing changes.
    let mut bad = asset_input("GNOTANISSUER", "1");
    bad["input"]["feeFixed"] = json!("5");
    assert_eq!(tenant.error_code(UPSERT_ASSET, bad).await, "INVALID_INPUT");
    let mut bad = asset_input(&issuer, "1");
    bad["input"]["feeFixed"] = json!("1.00000001");
    assert_eq!(tenant.error_code(UPSERT_ASSET, bad).await, "INVALID_INPUT");
    let custom =
        json!({ "input": { "name": "x", "fields": [{ "name": "favourite_colour", "description": "?" }] } });
    assert_eq!(tenant.error_code(SET_TYPE, custom).await, "INVALID_INPUT");
    let (_, info) = sa.get("/sep31/info").await;
    assert_eq!(info["receive"]["SRT"]["fee_fixed"], json!(5));
    let taken = Admin::operator(&app)
        .error_code(CREATE_TENANT, json!({ "input": { "name": "dup", "domains": [domain], "network": "TESTNET", "horizonUrl": env.horizon.url, "distributionAccount": Keypair::generate().public_key().to_string() } }))
        .await;
    assert_eq!(taken, "CONFLICT");

    // Removing the sender stops SEP-10 at once.
    tenant
        .ok(
            r#"mutation($a: String!) { removeSender(account: $a) }"#,
            json!({ "a": sender.public_key().to_string() }),
        )
        .await;
    let (status, _) = app.challenge(&domain, &format!("account={}", sender.public_key())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sa.get("/sep31/info").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn driving_a_paid_transaction_to_completed() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("d");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;
    let sa = Sa::login(&app, &domain, &sender).await;
    let receiver = CallbackReceiver::start().await;
    let id = sa.transaction().await;
    sa.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({ "url": receiver.url })).await;

    // The sending anchor pays; the watcher matches it.
    let t = mooring_anchor::transactions::get_for_tenant(
        &env.db,
        app.server.state.tenants.resolve(&domain).unwrap().id,
        id.parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let pay = Pay {
        op_type: "payment",
        from: Keypair::generate().public_key().to_string(),
        to: t.stellar_account_id.clone(),
        to_muxed: None,
        asset: Some((t.asset_code.clone(), t.asset_issuer.clone())),
        amount: "100".into(),
        memo_type: "id",
        memo: Some(t.stellar_memo.clone()),
        successful: true,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut paid = false;
    while !paid {
        // The watcher starts on the tenant's first poll; pay once it stored its cursor.
        if mooring_anchor::payments::cursor(&env.db, t.tenant_id, &t.stellar_account_id)
            .await
            .unwrap()
            .is_some()
        {
            env.horizon.add_payment(&t.stellar_account_id, &pay);
            paid = true;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    receiver.wait_for(15, |b| b.iter().any(|b| b["transaction"]["status"] == "pending_receiver")).await;

    let vars = json!({ "id": id });
    let q = r#"mutation($id: ID!) { markPendingExternal(id: $id) { status } }"#;
    assert_eq!(tenant.ok(q, vars.clone()).await["markPendingExternal"]["status"], "PENDING_EXTERNAL");
    let q = r#"mutation($id: ID!) { completeTransaction(id: $id, externalTransactionId: "wire-77") { status externalTransactionId completedAt } }"#;
    let done = tenant.ok(q, vars.clone()).await;
    assert_eq!(done["completeTransaction"]["status"], "COMPLETED");
    // Illegal moves are refused.
    let q = r#"mutation($id: ID!) { failTransaction(id: $id, message: "late") { status } }"#;
    assert_eq!(tenant.error_code(q, vars.clone()).await, "CONFLICT");

    let bodies = receiver.wait_for(15, |b| b.iter().any(|b| b["transaction"]["status"] == "completed")).await;
    let statuses: Vec<_> = bodies.iter().map(|b| b["transaction"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pending_receiver", "pending_external", "completed"]);
    let (_, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
    assert_eq!(body["transaction"]["status"], "completed");
    assert_eq!(body["transaction"]["external_transaction_id"], "wire-77");

    let q = r#"query($id: ID!) { transaction(id: $id) { status events { toStatus actor } sender { statuses { customerType status } } payments { outcome amount } } }"#;
    let view = tenant.ok(q, vars).await;
    let trail: Vec<_> = view["transaction"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["toStatus"].as_str().unwrap())
        .collect();
    assert_eq!(trail, ["PENDING_SENDER", "PENDING_RECEIVER", "PENDING_EXTERNAL", "COMPLETED"]);
    assert_eq!(view["transaction"]["events"][2]["actor"], "tenant");
    assert_eq!(view["transaction"]["payments"][0]["outcome"], "MATCHED");
    let list = tenant
        .ok(
            r#"{ transactions(filter: { status: COMPLETED }) { totalCount edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(list["transactions"]["totalCount"], 1);
    app.stop().await;
}

#[tokio::test]
async fn tenant_keys_see_and_change_nothing_of_another_tenant() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (a_domain, b_domain) = (unique_domain("a"), unique_domain("b"));
    let (a_id, a_key) = onboard(&app, &env, &a_domain).await;
    let (_, b_key) = onboard(&app, &env, &b_domain).await;
    let a = Admin::with_key(&app, &a_key);
    let b = Admin::with_key(&app, &b_key);
    let sender = Keypair::generate();
    configure(&a, &sender, "1").await;
    let sa = Sa::login(&app, &a_domain, &sender).await;
    let tx = sa.transaction().await;
    let customer =
        mooring_anchor::transactions::get_for_tenant(&env.db, a_id.parse().unwrap(), tx.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .sender_id
            .unwrap()
            .to_string();
    let a_key_id =
        a.ok("{ apiKeys { id } }", json!({})).await["apiKeys"][0]["id"].as_str().unwrap().to_string();
    let account = sender.public_key().to_string();
    let issuer = Keypair::generate().public_key().to_string();

    let v = |extra: Value| {
        let mut base = json!({ "t": a_id, "tx": tx, "c": customer, "k": a_key_id, "acct": account });
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        base
    };
    let not_found: Vec<(&str, Value)> = vec![
        ("query($t: ID) { tenant(id: $t) { id } }", v(json!({}))),
        ("query($t: ID) { transactions(tenantId: $t) { totalCount } }", v(json!({}))),
        ("query($tx: ID!) { transaction(id: $tx) { id } }", v(json!({}))),
        ("query($t: ID) { customers(tenantId: $t) { totalCount } }", v(json!({}))),
        ("query($c: ID!) { customer(id: $c) { id } }", v(json!({}))),
        ("query($t: ID) { unmatchedPayments(tenantId: $t) { id } }", v(json!({}))),
        ("query($t: ID) { apiKeys(tenantId: $t) { id } }", v(json!({}))),
        (
            "mutation($t: ID, $i: String!) { upsertAsset(tenantId: $t, input: { code: \"SRT\", issuer: $i, feeFixed: \"99\" }) { id } }",
            v(json!({ "i": issuer })),
        ),
        ("mutation($t: ID) { removeAsset(tenantId: $t, code: \"SRT\") }", v(json!({}))),
        (
            "mutation($t: ID) { setCustomerType(tenantId: $t, input: { name: \"sep31-sender\", fields: [] }) { id } }",
            v(json!({})),
        ),
        (
            "mutation($t: ID, $acct: String!) { approveSender(tenantId: $t, account: $acct, name: \"x\") { id } }",
            v(json!({})),
        ),
        (
            "mutation($t: ID, $acct: String!) { setSenderEnabled(tenantId: $t, account: $acct, enabled: false) { id } }",
            v(json!({})),
        ),
        ("mutation($t: ID, $acct: String!) { removeSender(tenantId: $t, account: $acct) }", v(json!({}))),
        (
            "mutation($t: ID) { updateSettings(tenantId: $t, input: { name: \"pwned\" }) { id } }",
            v(json!({})),
        ),
        ("mutation($t: ID) { createApiKey(tenantId: $t, name: \"x\") { key } }", v(json!({}))),
        ("mutation($k: ID!) { revokeApiKey(id: $k) { id } }", v(json!({}))),
        ("mutation($tx: ID!) { markPendingExternal(id: $tx) { id } }", v(json!({}))),
        (
            "mutation($tx: ID!) { completeTransaction(id: $tx, externalTransactionId: \"x\") { id } }",
            v(json!({})),
        ),
        ("mutation($tx: ID!) { failTransaction(id: $tx, message: \"x\") { id } }", v(json!({}))),
        (
            "mutation($tx: ID!) { requestTransactionInfo(id: $tx, fields: [\"routing_number\"], message: \"x\") { id } }",
            v(json!({})),
        ),
        (
            "mutation($tx: ID!, $c: ID!) { requestCustomerInfo(id: $tx, customerId: $c, fields: [{ name: \"first_name\", reason: \"x\" }], message: \"x\") { id } }",
            v(json!({})),
        ),
        (
            "mutation($tx: ID!) { refundTransaction(id: $tx, amount: \"1\", stellarTransactionId: \"h\", reason: \"x\") { id } }",
            v(json!({})),
        ),
        (
            "mutation($c: ID!) { setCustomerStatus(id: $c, status: REJECTED, message: \"x\") { id } }",
            v(json!({})),
        ),
        (
            "mutation($t: ID) { createWebhookEndpoint(tenantId: $t, input: { url: \"http://127.0.0.1:9/x\" }) { secret } }",
            v(json!({})),
        ),
        ("query($t: ID) { webhookEndpoints(tenantId: $t) { id } }", v(json!({}))),
        ("query($t: ID) { auditLog(tenantId: $t) { mutation } }", v(json!({}))),
        ("query($t: ID) { exportTransactions(tenantId: $t, format: JSON) }", v(json!({}))),
    ];
    for (query, vars) in &not_found {
        assert_eq!(b.error_code(query, vars.clone()).await, "NOT_FOUND", "{query}");
    }
    let operator_only: Vec<(&str, Value)> = vec![
        ("{ tenants { totalCount } }", json!({})),
        ("mutation($t: ID!) { suspendTenant(tenantId: $t) { id } }", v(json!({}))),
        ("mutation($t: ID!) { rotateSigningKey(tenantId: $t) }", v(json!({}))),
        ("mutation($t: ID!) { addDomain(tenantId: $t, domain: \"evil.example\") { id } }", v(json!({}))),
        ("mutation { createOperatorKey(name: \"x\") { key } }", json!({})),
        ("mutation($t: ID!) { deleteTenant(tenantId: $t, confirm: \"x\") }", v(json!({}))),
        ("mutation($t: ID!) { setConformanceMode(tenantId: $t, enabled: true) { id } }", v(json!({}))),
    ];
    for (query, vars) in &operator_only {
        assert_eq!(b.error_code(query, vars.clone()).await, "FORBIDDEN", "{query}");
    }

    // Tenant A is exactly as it was.
    let state = a
        .ok("{ tenant { name status assets { feeFixed } senders { enabled } } transactions { edges { node { status } } } apiKeys { revokedAt } }", json!({}))
        .await;
    assert_eq!(state["tenant"]["name"], "GraphQL Anchor");
    assert_eq!(state["tenant"]["status"], "ACTIVE");
    assert_eq!(state["tenant"]["assets"][0]["feeFixed"], "1");
    assert_eq!(state["tenant"]["senders"][0]["enabled"], true);
    assert_eq!(state["transactions"]["edges"][0]["node"]["status"], "PENDING_SENDER");
    assert_eq!(state["apiKeys"][0]["revokedAt"], Value::Null);
    let (_, view) = sa.get(&format!("/kyc/customer?id={customer}&type=sep31-sender")).await;
    assert_eq!(view["status"], "ACCEPTED");
    app.stop().await;
}

#[tokio::test]
async fn suspension_revocation_and_key_rotation() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("s");
    let (tenant_id, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;
    let op = Admin::operator(&app);
    let vars = json!({ "t": tenant_id });

    op.ok("mutation($t: ID!) { suspendTenant(tenantId: $t) { status } }", vars.clone()).await;
    let res = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    op.ok("mutation($t: ID!) { resumeTenant(tenantId: $t) { status } }", vars.clone()).await;
    assert_eq!(app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().status(), StatusCode::OK);

    // Rotation: new challenges use the new key; tokens already issued keep working.
    let sa = Sa::login(&app, &domain, &sender).await;
    let old_key = app.signing_key(&domain).to_string();
    let new_key =
        op.ok("mutation($t: ID!) { rotateSigningKey(tenantId: $t) }", vars.clone()).await["rotateSigningKey"]
            .as_str()
            .unwrap()
            .to_string();
    assert_ne!(old_key, new_key);
    let toml = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    assert!(toml.contains(&new_key) && !toml.contains(&old_key));
    assert_eq!(sa.get("/sep31/info").await.0, StatusCode::OK);
    Sa::login(&app, &domain, &sender).await;

    // A revoked key stops working at once; a new one works.
    let fresh = tenant.ok(r#"mutation { createApiKey(name: "ci") { key apiKey { id } } }"#, json!({})).await;
    let fresh_key = fresh["createApiKey"]["key"].as_str().unwrap().to_string();
    let fresh_id = fresh["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_string();
    let second = Admin::with_key(&app, &fresh_key);
    second.ok("{ me { kind } }", json!({})).await;
    tenant.ok("mutation($k: ID!) { revokeApiKey(id: $k) { revokedAt } }", json!({ "k": fresh_id })).await;
    assert_eq!(second.error_code("{ me { kind } }", json!({})).await, "UNAUTHENTICATED");
    // Keys are stored hashed: the key itself is nowhere in the database.
    let stored: Vec<mooring_entities::api_key::Model> =
        <mooring_entities::api_key::Entity as sea_orm::EntityTrait>::find().all(&env.db).await.unwrap();
    assert!(stored.iter().all(|k| k.key_hash != fresh_key && !k.key_hash.contains(&fresh_key[3..])));
    app.stop().await;
}

#[tokio::test]
async fn customer_review_on_a_public_network_tenant() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("p");
    let data = Admin::operator(&app)
        .ok(
            CREATE_TENANT,
            json!({ "input": { "name": "Public Anchor", "domains": [domain], "network": "PUBLIC", "horizonUrl": env.horizon.url, "distributionAccount": Keypair::generate().public_key().to_string() } }),
        )
        .await;
    let tenant = Admin::with_key(&app, data["createTenant"]["apiKey"]["key"].as_str().unwrap());
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;
    // The SA's challenge must be signed for the public network.
    let (_, body) = app.challenge(&domain, &format!("account={}", sender.public_key())).await;
    let signed = mooring_stellar::challenge::sign(
        body["transaction"].as_str().unwrap(),
        &mooring_stellar::Network::public(),
        &sender,
    )
    .unwrap();
    let token = app.exchange(&domain, &signed).await.1["token"].as_str().unwrap().to_string();
    let sa = Sa { app: &app, domain: domain.clone(), token };
    let (_, put) = sa
        .put_json("/kyc/customer", &json!({"type": "sep31-sender", "memo": "1", "first_name": "A", "last_name": "B", "email_address": "a@b.co"}))
        .await;
    let id = put["id"].as_str().unwrap().to_string();
    let (_, view) = sa.get(&format!("/kyc/customer?id={id}&type=sep31-sender")).await;
    assert_eq!(view["status"], "PROCESSING", "public-network customers wait for review");

    let list = tenant.ok(r#"{ customers(status: "PROCESSING") { totalCount edges { node { id fields { name status } } } } }"#, json!({})).await;
    assert_eq!(list["customers"]["totalCount"], 1);
    let q = r#"mutation($id: ID!) { setCustomerStatus(id: $id, status: NEEDS_INFO, message: "blurry", fieldErrors: [{ name: "last_name", reason: "does not match the ID" }]) { statuses { status } } }"#;
    tenant.ok(q, json!({ "id": id })).await;
    let (_, view) = sa.get(&format!("/kyc/customer?id={id}&type=sep31-sender")).await;
    assert_eq!(view["status"], "NEEDS_INFO");
    assert_eq!(view["provided_fields"]["last_name"]["error"], "does not match the ID");
    sa.put_json("/kyc/customer", &json!({"id": id, "type": "sep31-sender", "last_name": "C"})).await;
    let q = r#"mutation($id: ID!) { setCustomerStatus(id: $id, status: ACCEPTED) { id } }"#;
    tenant.ok(q, json!({ "id": id })).await;
    let (_, view) = sa.get(&format!("/kyc/customer?id={id}&type=sep31-sender")).await;
    assert_eq!(view["status"], "ACCEPTED");
    app.stop().await;
}

#[tokio::test]
async fn transaction_events_arrive_over_websocket() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("ws");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;

    let mut ws = graphql_ws(&app, &key).await;
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    // From a time before anything happens: however long the subscription takes to
    // start, it replays from there, so no wait for it to be "live" is needed.
    let since = chrono::Utc::now().to_rfc3339();
    ws.send(ws_message(json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($s: DateTime) { transactionEvents(since: $s) { transactionId toStatus actor } }",
        "variables": { "s": since },
    } })))
    .await
    .unwrap();

    let sa = Sa::login(&app, &domain, &sender).await;
    let mut next_event = async || {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let msg = ws.next().await.unwrap().unwrap();
                let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
                if v["type"] == "next" {
                    return v["payload"]["data"]["transactionEvents"].clone();
                }
            }
        })
        .await
        .expect("an event")
    };
    // Each event once, in order, including several created back to back.
    let ids = [sa.transaction().await, sa.transaction().await, sa.transaction().await];
    for id in &ids {
        let event = next_event().await;
        assert_eq!(event["transactionId"], id.as_str());
        assert_eq!(event["toStatus"], "PENDING_SENDER");
    }

    // A wrong key is refused at connection_init.
    let mut bad = graphql_ws(&app, "mk_nope").await;
    let reply = tokio::time::timeout(Duration::from_secs(5), bad.next()).await.unwrap();
    let acked = matches!(&reply, Some(Ok(m)) if m.to_text().is_ok_and(|t| t.contains("connection_ack")));
    assert!(!acked, "{reply:?}");
    app.stop().await;
}

#[tokio::test]
async fn fees_tiered_by_amount() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("f");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    let issuer = configure(&tenant, &sender, "1").await;
    let mut tiered = asset_input(&issuer, "1");
    tiered["input"]["feeTiers"] = json!([{ "minAmount": "1000", "feeFixed": "3", "feePercent": "0.5" }]);
    let data = tenant.ok(r#"mutation($input: AssetInput!) { upsertAsset(input: $input) { assets { feeTiers { minAmount feeFixed feePercent } } } }"#, tiered).await;
    assert_eq!(
        data["upsertAsset"]["assets"][0]["feeTiers"],
        json!([{ "minAmount": "1000", "feeFixed": "3", "feePercent": "0.5" }])
    );
    let mut bad = asset_input(&issuer, "1");
    bad["input"]["feeTiers"] = json!([{ "minAmount": "0", "feeFixed": "3" }]);
    assert_eq!(tenant.error_code(UPSERT_ASSET, bad).await, "INVALID_INPUT");

    let sa = Sa::login(&app, &domain, &sender).await;
    let (_, info) = sa.get("/sep31/info").await;
    let srt = &info["receive"]["SRT"];
    assert!(
        srt.get("fee_fixed").is_none() && srt.get("fee_percent").is_none(),
        "tiers do not fit /info's fee fields: {srt}"
    );
    let s = sa.accepted_customer("sep31-sender", "1").await;
    let r = sa.accepted_customer("sep31-receiver", "2").await;
    let mut fees = Vec::new();
    for amount in ["100", "2000"] {
        let body = json!({ "amount": amount, "asset_code": "SRT", "sender_id": s, "receiver_id": r, "fields": { "transaction": { "routing_number": "1" } } });
        let (status, created) = sa.post_json("/sep31/transactions", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (_, tx) = sa.get(&format!("/sep31/transactions/{}", created["id"].as_str().unwrap())).await;
        fees.push(tx["transaction"]["fee_details"].clone());
    }
    // Below the first tier: the flat 1 + 1 %. From 1000 up: 3 + 0.5 %.
    assert_eq!(fees[0]["total"], "2");
    assert_eq!(fees[1]["total"], "13");
    let names: Vec<_> = fees[1]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.iter().all(|n| n.contains("from 1000")), "{names:?}");
    let parts: Vec<String> = fees[1]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["amount"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(parts, ["3", "10"]);
    app.stop().await;
}
