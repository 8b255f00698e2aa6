//! Tenant webhooks: signed per the Standard Webhooks spec and verified here by an
//! independent receiver, rotated with an overlap, retried with backoff without
//! holding up anyone else, disabled after failing too long, delivered once across a
//! restart.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use mooring_entities::outbox;
use mooring_stellar::sep31::Status;
use reqwest::header::HeaderMap;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{Admin, CallbackReceiver, Sa, TestApp, TestEnv, eventually, unique_domain};
use crate::watcher::{pay_for, tx, wait_status};

/// A receiver's check, written from the spec: `whsec_` + base64 secret; HMAC-SHA256 of
/// `id.timestamp.body`; any of the space-separated `v1,` signatures; a recent timestamp.
fn verifies(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let key = B64.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).unwrap();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    header("webhook-signature").split(' ').any(|s| s == expected)
}

const CREATE: &str = "mutation($t: ID, $input: WebhookEndpointInput!) {
  createWebhookEndpoint(tenantId: $t, input: $input) { secret endpoint { id eventTypes enabled } } }";
const ROTATE: &str = "mutation($t: ID, $id: ID!, $o: Int!) {
  rotateWebhookSecret(tenantId: $t, id: $id, overlapSeconds: $o) { secret endpoint { previousSecretUntil } } }";
const TEST: &str = "mutation($t: ID, $id: ID!) { sendTestWebhook(tenantId: $t, id: $id) { id eventType } }";
const ENDPOINTS: &str = "query($t: ID) { webhookEndpoints(tenantId: $t) { id enabled disabledReason failingSince
  deliveries { id eventType attempts lastStatus lastLatencyMs lastError nextAttemptAt deliveredAt failedAt } } }";

/// Registers an endpoint for `tenant` at `url`; returns (endpoint id, secret).
async fn endpoint(app: &TestApp, tenant: uuid::Uuid, url: &str, types: &[&str]) -> (String, String) {
    let data = Admin::operator(app)
        .ok(CREATE, json!({ "t": tenant.to_string(), "input": { "url": url, "eventTypes": types } }))
        .await;
    let created = &data["createWebhookEndpoint"];
    (created["endpoint"]["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string())
}

/// The deliveries received of `event_type`, as (headers, raw body, parsed body).
fn received(r: &CallbackReceiver, event_type: &str) -> Vec<(HeaderMap, String, Value)> {
    r.received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(h, b)| {
            let v: Value = serde_json::from_str(b).ok()?;
            (v["type"] == event_type).then(|| (h.clone(), b.clone(), v))
        })
        .collect()
}

async fn wait_received(r: &CallbackReceiver, event_type: &str, n: usize) -> Vec<(HeaderMap, String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = received(r, event_type);
        if got.len() >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "{} of {n} {event_type} events", got.len());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn deliveries(app: &TestApp, tenant: uuid::Uuid) -> Vec<Value> {
    let data = Admin::operator(app).ok(ENDPOINTS, json!({ "t": tenant.to_string() })).await;
    data["webhookEndpoints"][0]["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn events_are_signed_for_an_independent_receiver_and_a_rotated_secret_overlaps() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("wh");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let all = CallbackReceiver::start().await;
    let unmatched_only = CallbackReceiver::start().await;
    let (id, secret) = endpoint(&app, t.id, &all.url, &[]).await;
    endpoint(&app, t.id, &unmatched_only.url, &["payment.unmatched"]).await;

    // A transaction is created and paid: the back office hears both, signed.
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let tx_id = sa.transaction().await;
    let created = wait_received(&all, "transaction.created", 1).await;
    let (headers, body, event) = &created[0];
    assert!(verifies(&secret, headers, body), "signature does not verify: {headers:?}");
    assert!(!verifies("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", headers, body));
    assert_eq!(event["data"]["transaction"]["id"], tx_id.as_str());
    assert_eq!(event["data"]["to_status"], "pending_sender");
    // Deliveries run concurrently, so the customers' events may land after the transaction's.
    let customers = wait_received(&all, "customer.updated", 2).await;
    assert!(customers.len() >= 2, "the two customers' writes");
    assert!(customers.iter().all(|(_, b, _)| !b.contains("Silva")), "no PII in webhooks");
    let paid = tx(&env, &tx_id).await;
    env.horizon.add_payment(&paid.stellar_account_id, &pay_for(&paid));
    wait_status(&env, &tx_id, Status::PendingReceiver).await;
    let moved = wait_received(&all, "transaction.status_changed", 1).await;
    assert_eq!(moved[0].2["data"]["to_status"], "pending_receiver");
    assert!(verifies(&secret, &moved[0].0, &moved[0].1));

    // A payment nobody's memo matches: only the endpoints that want it hear of it.
    let mut stray = pay_for(&paid);
    stray.memo = Some("424242".into());
    env.horizon.add_payment(&paid.stellar_account_id, &stray);
    wait_received(&unmatched_only, "payment.unmatched", 1).await;
    wait_received(&all, "payment.unmatched", 1).await;
    assert!(received(&unmatched_only, "transaction.created").is_empty(), "subscriptions filter");

    // Rotation with an overlap: both secrets sign; a receiver knowing either verifies.
    let admin = Admin::operator(&app);
    let vars = json!({ "t": t.id.to_string(), "id": id, "o": 3600 });
    let rotated = admin.ok(ROTATE, vars).await;
    let new_secret = rotated["rotateWebhookSecret"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert!(!rotated["rotateWebhookSecret"]["endpoint"]["previousSecretUntil"].is_null());
    admin.ok(TEST, json!({ "t": t.id.to_string(), "id": id })).await;
    let test = wait_received(&all, "webhook.test", 1).await;
    let (headers, body, _) = &test[0];
    assert!(verifies(&secret, headers, body) && verifies(&new_secret, headers, body));

    // Without an overlap the old secret stops at once.
    let newest = admin.ok(ROTATE, json!({ "t": t.id.to_string(), "id": id, "o": 0 })).await;
    let newest = newest["rotateWebhookSecret"]["secret"].as_str().unwrap().to_string();
    admin.ok(TEST, json!({ "t": t.id.to_string(), "id": id })).await;
    let test = wait_received(&all, "webhook.test", 2).await;
    let (headers, body, _) = &test[1];
    assert!(verifies(&newest, headers, body));
    assert!(!verifies(&new_secret, headers, body) && !verifies(&secret, headers, body));

    // The delivery log has every one, answered 200 on the first attempt.
    let log = deliveries(&app, t.id).await;
    assert!(log.len() >= 6, "{log:?}");
    for d in &log {
        assert_eq!((d["attempts"].as_i64(), d["lastStatus"].as_i64()), (Some(1), Some(200)), "{d}");
        assert!(!d["deliveredAt"].is_null() && d["nextAttemptAt"].is_null());
    }

    // Another tenant's key sees none of it.
    let other = env.tenant(&unique_domain("other")).await;
    app.server.state.tenants.refresh().await.unwrap();
    let data = admin.ok(ENDPOINTS, json!({ "t": other.id.to_string() })).await;
    assert_eq!(data["webhookEndpoints"], json!([]));
    let code = admin.error_code(TEST, json!({ "t": other.id.to_string(), "id": id })).await;
    assert_eq!(code, "NOT_FOUND");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_endpoint_backs_off_without_delaying_another_tenants() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (a, b) = (env.tenant(&unique_domain("a")).await, env.tenant(&unique_domain("b")).await);
    app.server.state.tenants.refresh().await.unwrap();
    let (down, up) = (CallbackReceiver::start().await, CallbackReceiver::start().await);
    down.set_status(500);
    let (a_endpoint, _) = endpoint(&app, a.id, &down.url, &[]).await;
    let (b_endpoint, _) = endpoint(&app, b.id, &up.url, &[]).await;
    let admin = Admin::operator(&app);
    for _ in 0..5 {
        admin.ok(TEST, json!({ "t": a.id.to_string(), "id": a_endpoint })).await;
    }
    let started = Instant::now();
    admin.ok(TEST, json!({ "t": b.id.to_string(), "id": b_endpoint })).await;
    wait_received(&up, "webhook.test", 1).await;
    assert!(started.elapsed() < Duration::from_secs(3), "B waited {:?} behind A", started.elapsed());

    // A's deliveries failed (logged with the answer) or, once A's receiver was seen
    // failing, wait without an attempt while it is paused: none delivered, none given
    // up, every one due later.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = deliveries(&app, a.id).await;
        let failed: Vec<&Value> = log.iter().filter(|d| d["lastStatus"] == 500).collect();
        let waiting = log.iter().all(|d| {
            d["deliveredAt"].is_null()
                && d["failedAt"].is_null()
                && d["nextAttemptAt"]
                    .as_str()
                    .and_then(|n| n.parse::<chrono::DateTime<chrono::Utc>>().ok())
                    .is_some_and(|n| n > chrono::Utc::now())
        });
        if !failed.is_empty() && waiting && log.len() == 5 {
            assert!(failed.iter().all(|d| d["lastError"] == "receiver answered 500"), "{failed:?}");
            break;
        }
        assert!(Instant::now() < deadline, "A's failures were not logged: {log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let data = admin.ok(ENDPOINTS, json!({ "t": a.id.to_string() })).await;
    assert!(!data["webhookEndpoints"][0]["failingSince"].is_null());

    // Back up: the retries deliver every one, once.
    down.set_status(200);
    let got = wait_received(&down, "webhook.test", 5).await;
    let mut ids: Vec<String> =
        got.iter().map(|(h, _, _)| h["webhook-id"].to_str().unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    let data = admin.ok(ENDPOINTS, json!({ "t": a.id.to_string() })).await;
    assert!(data["webhookEndpoints"][0]["failingSince"].is_null(), "a success ends the streak");
    app.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_too_long_is_disabled_with_the_reason_and_can_redeliver() {
    let env = TestEnv::new().await;
    let app = env.start_with(|c| c.webhook_disable_after_secs = std::time::Duration::from_secs(1)).await;
    let t = env.tenant(&unique_domain("d")).await;
    app.server.state.tenants.refresh().await.unwrap();
    let down = CallbackReceiver::start().await;
    down.set_status(503);
    let (id, _) = endpoint(&app, t.id, &down.url, &[]).await;
    let admin = Admin::operator(&app);
    admin.ok(TEST, json!({ "t": t.id.to_string(), "id": id })).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let delivery = loop {
        let data = admin.ok(ENDPOINTS, json!({ "t": t.id.to_string() })).await;
        let e = &data["webhookEndpoints"][0];
        if e["enabled"] == false {
            assert!(e["disabledReason"].as_str().unwrap().contains("503"), "{e}");
            let d = e["deliveries"][0].clone();
            assert!(!d["failedAt"].is_null(), "pending deliveries are given up: {d}");
            break d;
        }
        assert!(Instant::now() < deadline, "never disabled: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let redeliver = "mutation($t: ID, $id: ID!) { redeliverWebhook(tenantId: $t, id: $id) { id } }";
    let vars = json!({ "t": t.id.to_string(), "id": delivery["id"] });
    assert_eq!(admin.error_code(redeliver, vars.clone()).await, "CONFLICT", "disabled: enable first");

    // The tenant fixes its receiver, enables the endpoint and asks for it again.
    down.set_status(200);
    let enable = "mutation($t: ID, $id: ID!) { updateWebhookEndpoint(tenantId: $t, id: $id, input: { enabled: true }) { enabled disabledReason } }";
    let enabled = admin.ok(enable, json!({ "t": t.id.to_string(), "id": id })).await;
    assert_eq!(enabled["updateWebhookEndpoint"], json!({ "enabled": true, "disabledReason": null }));
    admin.ok(redeliver, vars).await;
    let got = wait_received(&down, "webhook.test", 1).await;
    let webhook_id = got[0].0["webhook-id"].to_str().unwrap().to_string();
    assert_eq!(webhook_id, format!("msg_{}", delivery["id"].as_str().unwrap().replace('-', "")));
    app.stop().await;
}

#[tokio::test]
async fn an_event_committed_before_a_stop_is_delivered_once_after_restart() {
    let env = TestEnv::new().await;
    // This replica commits events but never gets to send them (as if killed first).
    let app = env.start_with(|c| c.outbox_poll_ms = std::time::Duration::from_millis(3_600_000)).await;
    let domain = unique_domain("r");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let receiver = CallbackReceiver::start().await;
    endpoint(&app, t.id, &receiver.url, &["transaction.created"]).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let tx_id = sa.transaction().await;
    app.stop().await;
    let pending = outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(outbox::Kind::Webhook))
        .filter(outbox::Column::DeliveredAt.is_null())
        .count(&env.db)
        .await
        .unwrap();
    assert_eq!(pending, 1, "written with the transaction, not sent");
    assert!(receiver.received.lock().unwrap().is_empty());

    let restarted = env.start().await;
    let got = wait_received(&receiver, "transaction.created", 1).await;
    assert_eq!(got[0].2["data"]["transaction"]["id"], tx_id.as_str());
    // Once recorded as delivered no claim can start, and once the server has stopped
    // no send is in flight: a second delivery would have arrived by then.
    eventually("the event recorded as delivered", async || {
        let rows = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(outbox::Kind::Webhook))
            .filter(outbox::Column::DeliveredAt.is_null())
            .count(&env.db)
            .await
            .unwrap();
        (rows == 0).then_some(())
    })
    .await;
    restarted.stop().await;
    assert_eq!(received(&receiver, "transaction.created").len(), 1, "delivered once");
}

/// A tenant without an enabled endpoint writes no webhook row and does not look for
/// endpoints when a transaction is created (its snapshot says none is enabled: the hot
/// path's saving). Its first endpoint, or one enabled again, moves the config version:
/// every replica learns of it, and the next transaction created on any of them is heard.
#[tokio::test]
async fn a_first_endpoint_hears_the_next_transaction_created_on_every_replica() {
    let env = TestEnv::new().await;
    let domain = unique_domain("wh-first");
    let t = env.tenant(&domain).await;
    let (a, b) = (env.start().await, env.start().await);
    let hooked = |app: &TestApp| app.server.state.tenants.resolve(&domain).unwrap().has_webhooks;
    assert!(!hooked(&a) && !hooked(&b));
    let sa = Sa::login(&b, &domain, &t.sender).await;
    let before = sa.transaction().await;
    let rows = || async {
        outbox::Entity::find()
            .filter(outbox::Column::TenantId.eq(t.id))
            .filter(outbox::Column::Kind.eq(outbox::Kind::Webhook))
            .count(&env.db)
            .await
            .unwrap()
    };
    assert_eq!(rows().await, 0, "no endpoint, no webhook row");

    let receiver = CallbackReceiver::start().await;
    let (id, _) = endpoint(&a, t.id, &receiver.url, &["transaction.created"]).await;
    assert!(hooked(&a), "the replica that wrote it knows at once");
    eventually("the other replica learns of the endpoint", async || hooked(&b).then_some(())).await;
    let after = sa.transaction().await;
    let got = wait_received(&receiver, "transaction.created", 1).await;
    assert_eq!(got[0].2["data"]["transaction"]["id"], after.as_str());
    assert!(
        !received(&receiver, "transaction.created")
            .iter()
            .any(|e| e.2["data"]["transaction"]["id"] == before)
    );

    // Disabled, then enabled again: the snapshot follows.
    let update = "mutation($t: ID, $id: ID!, $on: Boolean) { updateWebhookEndpoint(tenantId: $t, id: $id, input: { enabled: $on }) { id } }";
    Admin::operator(&a).ok(update, json!({ "t": t.id.to_string(), "id": id, "on": false })).await;
    eventually("both see none enabled", async || (!hooked(&a) && !hooked(&b)).then_some(())).await;
    Admin::operator(&a).ok(update, json!({ "t": t.id.to_string(), "id": id, "on": true })).await;
    eventually("both see it enabled", async || (hooked(&a) && hooked(&b)).then_some(())).await;
    a.stop().await;
    b.stop().await;
}
