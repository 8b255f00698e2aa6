//! Hostile input and hostile tenants: bodies meant to exhaust memory, tokens for one
//! user of a shared account probing another's records, concurrent writers, control
//! characters, private addresses, bad configuration, revoked keys, and public /info.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mooring_entities::customer;
use mooring_stellar::{ClientAccount, Keypair, challenge};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::admin::{configure, onboard};
use crate::common::{
    ADMIN_HOST, Admin, OPERATOR_TOKEN, Sa, TestApp, TestEnv, graphql_ws, network, transaction_request,
    unique_domain, ws_message,
};

/// Peak resident memory of this process (the test binary runs the server in-process).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A body of `total` bytes, made as it is sent (the test itself holds 64 KiB of it).
fn streamed_body(prefix: &'static str, total: usize) -> reqwest::Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = total / CHUNK;
    let stream = futures::stream::iter((0..chunks).map(move |i| {
        let mut chunk = if i == 0 { prefix.as_bytes().to_vec() } else { Vec::new() };
        chunk.resize(CHUNK, b'1');
        for b in chunk.iter_mut().skip(if i == 0 { prefix.len() } else { 0 }).step_by(2) {
            *b = b',';
        }
        Ok::<_, std::io::Error>(chunk)
    }));
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test]
async fn big_bodies_cost_nothing_before_authentication_and_are_capped_after() {
    let env = TestEnv::new().await;
    let domain = unique_domain("big");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let before = peak_rss_kb();

    // 100 MB to the admin API with no credentials: refused from the headers alone.
    let started = Instant::now();
    let res = app
        .post(ADMIN_HOST, "/graphql")
        .header("content-type", "application/json")
        .body(streamed_body(r#"{"query":"{ me { kind } }","variables":{"a":[1"#, 100 * 1024 * 1024))
        .send()
        .await;
    let elapsed = started.elapsed();
    assert_eq!(res.expect("an answer before the body is sent").status(), StatusCode::UNAUTHORIZED);
    assert!(elapsed < Duration::from_secs(1), "answered after {elapsed:?}");

    // Authenticated, the GraphQL body is capped (256 KiB by default).
    let res = app
        .post(ADMIN_HOST, "/graphql")
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body(streamed_body(r#"{"query":"{ me { kind } }","variables":{"a":[1"#, 20 * 1024 * 1024))
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    // A SEP-12 JSON body is not a file: the small SEP limit applies, not the upload cap.
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let res = sa
        .req(reqwest::Method::PUT, "/kyc/customer")
        .header("content-type", "application/json")
        .body(streamed_body(r#"{"type":"sep31-sender","first_name":"1"#, 20 * 1024 * 1024))
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let grown_mb = (peak_rss_kb().saturating_sub(before)) / 1024;
    assert!(grown_mb < 50, "peak RSS grew by {grown_mb} MB");
    assert_eq!(customer::Entity::find().count(&env.db).await.unwrap(), 0);

    // The admin API still answers normally.
    Admin::operator(&app).ok("{ me { kind } }", json!({})).await;
    app.stop().await;
}

/// A SEP-10 token for `account` (G…, with an optional memo, or M…), signed by `key`.
pub(crate) async fn token_for(app: &TestApp, domain: &str, query: &str, key: &Keypair) -> String {
    let (status, body) = app.challenge(domain, query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signed = challenge::sign(body["transaction"].as_str().unwrap(), &network(), key).unwrap();
    let (status, body) = app.exchange(domain, &signed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// Every SEP-12 and SEP-31 call on user 1's customer and transaction, by id.
async fn probes(sa: &Sa<'_>, sender: &str, tx: &str) -> Vec<StatusCode> {
    let cb = "http://127.0.0.1:9/cb";
    vec![
        sa.get(&format!("/kyc/customer?id={sender}&type=sep31-sender")).await.0,
        sa.put_json("/kyc/customer", &json!({ "id": sender, "type": "sep31-sender", "first_name": "Eve" }))
            .await
            .0,
        sa.put_json("/kyc/customer/callback", &json!({ "id": sender, "type": "sep31-sender", "url": cb }))
            .await
            .0,
        sa.get(&format!("/sep31/transactions/{tx}")).await.0,
        sa.patch_json(&format!("/sep31/transactions/{tx}"), &json!({ "fields": { "transaction": {} } }))
            .await
            .0,
        sa.put_json(&format!("/sep31/transactions/{tx}/callback"), &json!({ "url": cb })).await.0,
    ]
}

#[tokio::test]
async fn a_memo_or_muxed_token_reaches_only_its_own_records() {
    let env = TestEnv::new().await;
    let domain = unique_domain("memo");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let g = t.sender.public_key().to_string();
    let login = async |query: String| Sa {
        app: &app,
        domain: domain.clone(),
        token: token_for(&app, &domain, &query, &t.sender).await,
    };
    let one = login(format!("account={g}&memo=1")).await;
    let two = login(format!("account={g}&memo=2")).await;
    let muxed =
        login(format!("account={}", ClientAccount::Muxed { key: t.sender.public_key(), id: 3 })).await;
    let whole = login(format!("account={g}")).await;

    // User 1 of the shared account registers its customers and a transaction.
    let sender = one.accepted_customer("sep31-sender", "1").await;
    let receiver = one.accepted_customer("sep31-receiver", "1").await;
    let (status, created) =
        one.post_json("/sep31/transactions", &transaction_request(&sender, &receiver)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let tx = created["id"].as_str().unwrap().to_string();

    for (who, sa) in [("G:2", &two), ("M id 3", &muxed)] {
        assert!(
            probes(sa, &sender, &tx).await.iter().all(|s| *s == StatusCode::NOT_FOUND),
            "{who}: {:?}",
            probes(sa, &sender, &tx).await
        );
    }
    // Their own view and the whole account's (no memo) still work; PATCH is refused
    // for its status, not hidden.
    for (who, sa) in [("G:1", &one), ("G", &whole)] {
        let statuses = probes(sa, &sender, &tx).await;
        assert_eq!(statuses[0], StatusCode::OK, "{who}: {statuses:?}");
        assert_eq!(statuses[1], StatusCode::ACCEPTED, "{who}: {statuses:?}");
        assert_eq!(statuses[2], StatusCode::OK, "{who}: {statuses:?}");
        assert_eq!(statuses[3], StatusCode::OK, "{who}: {statuses:?}");
        assert_ne!(statuses[4], StatusCode::NOT_FOUND, "{who}: {statuses:?}");
        assert_eq!(statuses[5], StatusCode::NO_CONTENT, "{who}: {statuses:?}");
    }
    // In SEP-31 the principal is the sending anchor's account (issue 26): user 2's token
    // may name customers the account registered under memo 1 — the transaction is then
    // memo 2's — while SEP-12 above kept them out of its reach.
    let (status, body) = two.post_json("/sep31/transactions", &transaction_request(&sender, &receiver)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let theirs = body["id"].as_str().unwrap();
    assert_eq!(one.get(&format!("/sep31/transactions/{theirs}")).await.0, StatusCode::NOT_FOUND);
    // Another account's customers are still refused.
    let stranger = Keypair::generate();
    mooring_tenants::admin::approve_sender(&env.db, t.id, &stranger.public_key().to_string(), "other SA")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !crate::common::tenant_of(&app, &domain).approved_senders.contains(&stranger.public_key()) {
        assert!(Instant::now() < deadline, "the new sender never reached the snapshot");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let other = Sa::login(&app, &domain, &stranger).await;
    let (status, body) =
        other.post_json("/sep31/transactions", &transaction_request(&sender, &receiver)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "customer_info_needed", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_kyc_writes_all_succeed() {
    let env = TestEnv::new().await;
    let domain = unique_domain("race");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let bodies: Vec<Value> = (0..20)
        .map(|i| json!({ "type": "sep31-sender", "memo": "77", "first_name": format!("Ana{i}") }))
        .collect();
    let created =
        futures::future::join_all(bodies[..10].iter().map(|b| sa.put_json("/kyc/customer", b))).await;
    assert!(created.iter().all(|(s, _)| *s == StatusCode::ACCEPTED), "{created:?}");
    let ids: std::collections::HashSet<_> = created.iter().map(|(_, b)| b["id"].clone()).collect();
    assert_eq!(ids.len(), 1, "one customer: {ids:?}");
    let updated =
        futures::future::join_all(bodies[10..].iter().map(|b| sa.put_json("/kyc/customer", b))).await;
    assert!(updated.iter().all(|(s, _)| *s == StatusCode::ACCEPTED), "{updated:?}");
    assert_eq!(customer::Entity::find().count(&env.db).await.unwrap(), 1);
    app.stop().await;
}

#[tokio::test]
async fn control_characters_are_a_400_naming_the_field_and_write_nothing() {
    let env = TestEnv::new().await;
    let domain = unique_domain("nul");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;

    let (status, body) =
        sa.put_json("/kyc/customer", &json!({ "type": "sep31-sender", "first_name": "Ada\u{0}" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("first_name"), "{body}");
    let (status, _) =
        sa.put_json("/kyc/customer", &json!({ "type": "sep31-sender", "memo": "1\u{0}" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = sa.get("/kyc/customer?type=sep31-sender&lang=en%00").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("lang"), "{body}");
    let res = sa
        .req(reqwest::Method::PUT, "/kyc/customer")
        .form(&[("type", "sep31-sender"), ("last_name", "Love\u{1b}lace")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(customer::Entity::find().count(&env.db).await.unwrap(), 0);

    let (status, body) = sa
        .post_json(
            "/sep31/transactions",
            &json!({ "amount": "100", "asset_code": "SRT", "lang": "en",
                     "fields": { "transaction": { "routing_number": "0260\u{0}09593" } } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("fields.transaction.routing_number"), "{body}");
    let (status, _) = sa
        .post_json("/sep31/transactions", &json!({ "amount": "100", "asset_code": "SRT", "lang": "\u{0}" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let operator = Admin::operator(&app);
    let body = operator.gql(r#"mutation { createOperatorKey(name: "a\u0000b") { key } }"#, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("name"), "{body}");
    let body = operator
        .gql("mutation($n: String!) { createOperatorKey(name: $n) { key } }", json!({ "n": "a\u{0}b" }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{body}");
    let keys = operator.ok("{ apiKeys { name } }", json!({})).await;
    assert_eq!(keys["apiKeys"], json!([]), "nothing was created");
    app.stop().await;
}

#[tokio::test]
async fn callback_urls_to_special_purpose_addresses_are_refused() {
    let env = TestEnv::new().await;
    let domain = unique_domain("ssrf");
    let t = env.tenant(&domain).await;
    // As in production: no private outbound calls.
    let app = env.start_with(|c| c.allow_private_outbound = false).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let customer =
        sa.put_json("/kyc/customer", &json!({ "type": "sep31-sender", "first_name": "A" })).await.1;
    for host in [
        "[64:ff9b::a9fe:a9fe]",
        "[::ffff:0:7f00:1]",
        "[2002:7f00:1::]",
        "[::127.0.0.1]",
        "[fec0::1]",
        "[ff02::1]",
        "198.18.0.1",
        "240.0.0.1",
        "224.0.0.1",
        "169.254.169.254",
    ] {
        let url = format!("https://{host}/cb");
        let (status, body) =
            sa.put_json("/kyc/customer/callback", &json!({ "id": customer["id"], "url": url })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
    }
    app.stop().await;
}

const SET_TYPE: &str =
    r#"mutation($input: CustomerTypeInput!) { setCustomerType(input: $input) { customerTypes { name } } }"#;
const UPSERT_ASSET: &str =
    r#"mutation($input: AssetInput!) { upsertAsset(input: $input) { assets { code } } }"#;

#[tokio::test]
async fn bad_configuration_is_invalid_input_and_bad_hosts_are_refused() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("cfg");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    configure(&tenant, &Keypair::generate(), "1").await;

    let twice = json!({ "input": { "name": "dup", "fields": [
        { "name": "first_name", "description": "a" }, { "name": "first_name", "description": "b" } ] } });
    assert_eq!(tenant.error_code(SET_TYPE, twice).await, "INVALID_INPUT");
    let issuer = Keypair::generate().public_key().to_string();
    let asset = |extra: Value| {
        let mut input =
            json!({ "code": "BAD", "issuer": issuer, "feeFixed": "0", "feePercent": "0", "memoType": "ID" });
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "input": input })
    };
    for (what, extra) in [
        ("negative min", json!({ "minAmount": "-5" })),
        ("negative decimals", json!({ "displayDecimals": -3 })),
        (
            "duplicate fields",
            json!({ "fields": [{ "name": "a", "description": "" }, { "name": "a", "description": "" }] }),
        ),
    ] {
        assert_eq!(tenant.error_code(UPSERT_ASSET, asset(extra)).await, "INVALID_INPUT", "{what}");
    }
    // Statuses and memo types are enums: the schema refuses anything else before any
    // resolver runs.
    for extra in [json!({ "status": "bogus" }), json!({ "memoType": "id" })] {
        let body = tenant.gql(UPSERT_ASSET, asset(extra.clone())).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("{extra}: {body}"));
        assert!(message.contains("enumeration type"), "{extra}: {body}");
    }
    let assets = tenant.ok("{ tenant { assets { code } } }", json!({})).await;
    assert!(!assets.to_string().contains("BAD"), "{assets}");

    for host in ["localhost:1@evil.example", "user@localhost", "localhost:8000/x"] {
        let res = app.get(host, "/.well-known/stellar.toml").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{host}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_key_loses_its_subscription() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("rev");
    let (tenant_id, _) = onboard(&app, &env, &domain).await;
    let data = Admin::operator(&app)
        .ok(
            "mutation($t: ID!) { createApiKey(tenantId: $t, name: \"watcher\") { key apiKey { id } } }",
            json!({ "t": tenant_id }),
        )
        .await;
    let key = data["createApiKey"]["key"].as_str().unwrap().to_string();
    let key_id = data["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_string();

    let mut ws = graphql_ws(&app, &key).await;
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    ws.send(ws_message(json!({ "id": "1", "type": "subscribe",
        "payload": { "query": "subscription { transactionEvents { transactionId } }" } })))
        .await
        .unwrap();

    Admin::operator(&app)
        .ok("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", json!({ "id": key_id }))
        .await;
    let revoked = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(msg)) => {
                    if msg.is_close() || msg.to_text().is_ok_and(|t| t.contains("\"complete\"")) {
                        return;
                    }
                }
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the subscription outlived its key");
    assert!(revoked.elapsed() < Duration::from_secs(5));
    app.stop().await;
}

#[tokio::test]
async fn info_is_public_unless_the_tenant_asks_for_a_token() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("info");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;

    let res = app.get(&domain, "/sep31/info").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["receive"]["SRT"]["enabled"].as_bool().unwrap());
    let res = app.get(&domain, "/sep31/info").bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a token that is sent must be valid");

    let data = tenant
        .ok("mutation { updateSettings(input: { infoRequiresAuth: true }) { infoRequiresAuth } }", json!({}))
        .await;
    assert_eq!(data["updateSettings"]["infoRequiresAuth"], true);
    let res = app.get(&domain, "/sep31/info").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let sa = Sa::login(&app, &domain, &sender).await;
    assert_eq!(sa.get("/sep31/info").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn organisation_fields_are_public_https_an_image_and_e_mail_addresses() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("org");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    const UPDATE: &str = "mutation($input: SettingsInput!) { updateSettings(input: $input) { id } }";
    for bad in [
        json!({ "orgUrl": "javascript:alert(document.cookie)" }),
        json!({ "orgUrl": "http://org.example.com/" }),
        json!({ "orgUrl": "https://127.0.0.1/" }),
        json!({ "orgLogo": "file:///etc/passwd" }),
        json!({ "orgLogo": "https://org.example.com/index.html" }),
        json!({ "orgLogo": "data:image/png;base64,AAAA" }),
        json!({ "orgOfficialEmail": "not an e-mail" }),
        json!({ "orgOfficialEmail": "a@b" }),
        json!({ "orgSupportEmail": "support@@org.example.com" }),
        json!({ "orgSupportEmail": "\"x\"@org.example.com" }),
        json!({ "orgName": "x".repeat(201) }),
    ] {
        let body = tenant.gql(UPDATE, json!({ "input": bad })).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{bad}: {body}");
    }
    let toml = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    assert!(
        !toml.contains("javascript") && !toml.contains("file:") && !toml.contains("not an e-mail"),
        "{toml}"
    );

    let good = json!({ "orgUrl": "https://org.example.com", "orgLogo": "https://org.example.com/logo.png",
        "orgOfficialEmail": "compliance@org.example.com", "orgSupportEmail": "help+sep31@org.example.com" });
    tenant.ok(UPDATE, json!({ "input": good })).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let toml = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
        if toml.contains("ORG_LOGO = \"https://org.example.com/logo.png\"") {
            assert!(toml.contains("ORG_SUPPORT_EMAIL = \"help+sep31@org.example.com\""), "{toml}");
            break;
        }
        assert!(Instant::now() < deadline, "{toml}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    app.stop().await;
}
