//! The outbound fence, for every kind of call Mooring makes on someone else's behalf:
//! tenant webhooks, rate feeds, SEP-12/31 callbacks, SEP-10 `client_domain` and a
//! tenant's own Horizon. Internal addresses are refused at registration in every
//! spelling, and a public-looking name that resolves to loopback (through the fence's
//! test resolver) is never dialled. No traffic leaves loopback: the "internal service"
//! is a local listener that counts the connections it gets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::common::{Admin, Sa, TestEnv, eventually, unique_domain};
use crate::sep38::{SET_CORRIDOR, SET_MXN, srt, wait_corridor};

/// Every spelling of an internal address the red team used, and the rest of the table.
const INTERNAL: [&str; 20] = [
    "127.0.0.1:6379",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
    "0.0.0.0",
    "0",
    "[::ffff:127.0.0.1]",
    "[::1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b::a9fe:a9fe]",
    "169.254.169.254",
    "[fe80::1]",
    "[fd00::1]",
    "10.0.0.1",
    "192.168.1.1",
    "224.0.0.1",
    "localhost",
    "metadata",
    "metadata.google.internal",
];

const CREATE_WEBHOOK: &str = "mutation($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } } }";

/// A tenant API key for `tenant`, made by the operator.
async fn tenant_key(app: &crate::common::TestApp, tenant: uuid::Uuid) -> String {
    let data = Admin::operator(app)
        .ok(
            "mutation($t: ID) { createApiKey(tenantId: $t, name: \"fence\") { key } }",
            json!({ "t": tenant.to_string() }),
        )
        .await;
    data["createApiKey"]["key"].as_str().unwrap().to_string()
}

/// A loopback "internal service" that counts connections.
async fn internal_service() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, hits)
}

#[tokio::test]
async fn internal_urls_are_refused_at_registration_for_every_outbound_kind() {
    let env = TestEnv::new().await;
    let domain = unique_domain("fence");
    let t = env.tenant(&domain).await;
    let app = env.start_with(|c| c.allow_private_outbound = false).await;
    let key = tenant_key(&app, t.id).await;
    let tenant = Admin::with_key(&app, &key);
    let admin = Admin::operator(&app);
    admin.ok(SET_MXN, json!({ "t": t.id.to_string() })).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let customer =
        sa.put_json("/kyc/customer", &json!({ "type": "sep31-sender", "first_name": "A" })).await.1;
    let tx = sa.transaction().await;
    let feed = |url: &str| {
        json!({ "t": t.id.to_string(), "input": {
            "sellAsset": srt(&app, &domain), "buyAsset": "iso4217:MXN", "rateFeedUrl": url,
            "spreadBps": 0, "feeFixed": "0", "quoteLifetimeSecs": 60 } })
    };

    for host in INTERNAL {
        for scheme in ["https", "http"] {
            let url = format!("{scheme}://{host}/hook");
            let body = tenant.gql(CREATE_WEBHOOK, json!({ "input": { "url": url } })).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "webhook {url}: {body}");
            let body = tenant.gql(SET_CORRIDOR, feed(&url)).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "feed {url}: {body}");
            let (status, body) =
                sa.put_json("/kyc/customer/callback", &json!({ "id": customer["id"], "url": url })).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "SEP-12 callback {url}: {body}");
            let (status, body) =
                sa.put_json(&format!("/sep31/transactions/{tx}/callback"), &json!({ "url": url })).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "SEP-31 callback {url}: {body}");
        }
        let (status, body) =
            app.challenge(&domain, &format!("account={}&client_domain={host}", t.sender.public_key())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "client_domain {host}: {body}");
    }
    // Public, but plain http: refused on the public network's rules, with the reason.
    let body = tenant.gql(CREATE_WEBHOOK, json!({ "input": { "url": "http://hooks.example.com/x" } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("https"), "{body}");
    // Nothing was stored.
    let hooks = tenant.ok("{ webhookEndpoints { id } }", json!({})).await;
    assert_eq!(hooks["webhookEndpoints"], json!([]));
    let corridors = admin
        .ok("query($t: ID!) { tenant(id: $t) { corridors { id } } }", json!({ "t": t.id.to_string() }))
        .await;
    assert_eq!(corridors["tenant"]["corridors"], json!([]));
    // Public https is fine.
    tenant.ok(CREATE_WEBHOOK, json!({ "input": { "url": "https://hooks.example.com/x" } })).await;
    app.stop().await;

    // An operator may allow plain http for testnet tenants (public addresses still).
    let app = env
        .start_with(|c| {
            c.allow_private_outbound = false;
            c.testnet_allow_http = true;
        })
        .await;
    let tenant = Admin::with_key(&app, &key);
    tenant.ok(CREATE_WEBHOOK, json!({ "input": { "url": "http://hooks.example.com/y" } })).await;
    let body = tenant.gql(CREATE_WEBHOOK, json!({ "input": { "url": "http://127.0.0.1/y" } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_public_name_that_resolves_to_an_internal_address_is_never_dialled() {
    let env = TestEnv::new().await;
    let domain = unique_domain("rebind");
    let t = env.tenant(&domain).await;
    let (port, hits) = internal_service().await;
    let loopback = vec!["127.0.0.1".parse().unwrap()];
    let app = env
        .start_with(|c| {
            c.allow_private_outbound = false;
            c.rate_feed_poll_ms = std::time::Duration::from_millis(50);
            for name in [
                "hooks.rebind.example",
                "feed.rebind.example",
                "wallet.rebind.example",
                "horizon.rebind.example",
                "rpc.rebind.example",
            ] {
                c.outbound_static_hosts.insert(name.into(), loopback.clone());
            }
        })
        .await;
    let key = tenant_key(&app, t.id).await;
    let tenant = Admin::with_key(&app, &key);

    // A webhook: accepted (the name is public-looking), its delivery refused by the fence.
    let hook = format!("https://hooks.rebind.example:{port}/hook");
    let created = tenant.ok(CREATE_WEBHOOK, json!({ "input": { "url": hook } })).await;
    let id = created["createWebhookEndpoint"]["endpoint"]["id"].as_str().unwrap().to_string();
    tenant.ok("mutation($id: ID!) { sendTestWebhook(id: $id) { id } }", json!({ "id": id })).await;
    let error = eventually("the webhook attempt", async || {
        let data = tenant.ok("{ webhookEndpoints { deliveries { lastError lastStatus } } }", json!({})).await;
        let d = data["webhookEndpoints"][0]["deliveries"][0].clone();
        d["lastError"].as_str().map(|e| (e.to_string(), d["lastStatus"].clone()))
    })
    .await;
    assert!(error.0.contains("non-public"), "{error:?}");
    assert_eq!(error.1, Value::Null, "no status: nothing answered");

    // A rate feed: its poll is refused, and says why.
    Admin::operator(&app).ok(SET_MXN, json!({ "t": t.id.to_string() })).await;
    let input = json!({ "sellAsset": srt(&app, &domain), "buyAsset": "iso4217:MXN",
        "rateFeedUrl": format!("https://feed.rebind.example:{port}/rate"), "spreadBps": 0, "feeFixed": "0",
        "quoteLifetimeSecs": 60 });
    tenant.ok(SET_CORRIDOR, json!({ "t": t.id.to_string(), "input": input })).await;
    let corridor = wait_corridor(&app, t.id, "the feed's refusal", |c| c["rateFeedError"].is_string()).await;
    assert!(corridor["rateFeedError"].as_str().unwrap().contains("non-public"), "{corridor}");
    assert_eq!(corridor["rate"], Value::Null, "no rate from an internal answer");

    // SEP-10 client_domain.
    let (status, body) = app
        .challenge(
            &domain,
            &format!("account={}&client_domain=wallet.rebind.example:{port}", t.sender.public_key()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A Horizon an operator gave this one tenant: SEP-10's signer look-up is refused.
    env.db_set_horizon(t.id, &format!("https://horizon.rebind.example:{port}")).await;
    let tenant_horizon = format!("https://horizon.rebind.example:{port}");
    eventually("the tenant's new Horizon", async || {
        (crate::common::tenant_of(&app, &domain).horizon_url == tenant_horizon).then_some(())
    })
    .await;
    let signed = app.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_ne!(status, StatusCode::OK, "{body}");

    // An RPC an operator gave this one tenant: its follower and SEP-10's ledger-entry
    // look-up are refused alike.
    let tenant_rpc = format!("https://rpc.rebind.example:{port}");
    mooring_tenants::admin::set_rpc_url(&env.db, t.id, Some(&tenant_rpc)).await.unwrap();
    eventually("the tenant's RPC", async || {
        (crate::common::tenant_of(&app, &domain).rpc_url.as_deref() == Some(tenant_rpc.as_str()))
            .then_some(())
    })
    .await;
    let signed = app.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("RPC"), "{body}");

    assert_eq!(hits.load(Ordering::SeqCst), 0, "the internal service was dialled");
    app.stop().await;
}
