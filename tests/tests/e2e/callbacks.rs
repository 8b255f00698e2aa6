//! Signed callbacks from the persisted outbox: to the sending anchor on every status
//! change, and on SEP-12 status changes; none lost across a restart, none doubled.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use base64::Engine;
use mooring_anchor::{Actor, transactions};
use mooring_entities::outbox;
use mooring_stellar::PublicKey;
use mooring_stellar::sep31::Status;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{CallbackReceiver, Sa, TestEnv, eventually, tenant_of, unique_domain};

/// Checks a callback's `Signature` header the way a sending anchor must.
fn verify_signature(key: &PublicKey, headers: &reqwest::header::HeaderMap, url: &str, body: &str) {
    let header = headers["signature"].to_str().unwrap();
    assert_eq!(headers["x-stellar-signature"].to_str().unwrap(), header);
    let (t, s) = header.split_once(", ").unwrap();
    let t: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - t).abs() < 60, "signed just before sending");
    let sig = base64::engine::general_purpose::STANDARD.decode(s.strip_prefix("s=").unwrap()).unwrap();
    let host = url::Url::parse(url).unwrap();
    let host = format!("{}:{}", host.host_str().unwrap(), host.port().unwrap());
    assert!(key.verify(format!("{t}.{host}.{body}").as_bytes(), &sig), "bad callback signature");
    assert!(!key.verify(format!("{t}.{host}.{body} ").as_bytes(), &sig));
}

#[tokio::test]
async fn status_changes_are_called_back_signed() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let receiver = CallbackReceiver::start().await;
    let id: Uuid = sa.transaction().await.parse().unwrap();

    let (status, _) =
        sa.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({"url": "ftp://x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        sa.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({"url": receiver.url})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    transactions::transition(&env.db, t.id, id, Status::PendingReceiver, &Actor::System, None, |_| {})
        .await
        .unwrap();
    transactions::transition(&env.db, t.id, id, Status::Completed, &Actor::Operator, None, |_| {})
        .await
        .unwrap();
    let bodies = receiver.wait_for(10, |b| b.len() >= 2).await;
    let statuses: Vec<_> =
        bodies.iter().map(|b| b["transaction"]["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, ["pending_receiver", "completed"]);
    // The body is the GET body at that moment.
    let (_, now) = sa.get(&format!("/sep31/transactions/{id}")).await;
    assert_eq!(bodies[1], now);

    let key = tenant_of(&app, &domain).signing_key.public_key();
    for (headers, body) in receiver.received.lock().unwrap().iter() {
        verify_signature(&key, headers, &receiver.url, body);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_pending_callback_survives_a_restart_and_is_delivered_once() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let receiver = CallbackReceiver::start().await;
    receiver.set_status(503);
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id: Uuid = sa.transaction().await.parse().unwrap();
    sa.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({"url": receiver.url})).await;
    transactions::transition(&env.db, t.id, id, Status::PendingReceiver, &Actor::System, None, |_| {})
        .await
        .unwrap();

    // Wait for a failed attempt, then stop the app with the callback still pending.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = outbox::Entity::find().all(&env.db).await.unwrap();
        if rows.len() == 1 && rows[0].attempts >= 1 {
            assert!(rows[0].delivered_at.is_none());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no delivery attempt: {rows:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    app.stop().await;

    receiver.set_status(200);
    let restarted = env.start().await;
    receiver.wait_for(15, |b| !b.is_empty()).await;
    // Once delivered no claim can start, and once the server has stopped no send is in
    // flight: whatever arrived by then is everything that ever will.
    eventually("the callback recorded as delivered", async || {
        let rows = outbox::Entity::find().all(&env.db).await.unwrap();
        rows[0].delivered_at.is_some().then_some(())
    })
    .await;
    restarted.stop().await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["transaction"]["status"], "pending_receiver");
    let row = &outbox::Entity::find().all(&env.db).await.unwrap()[0];
    assert!(row.delivered_at.is_some());
}

#[tokio::test]
async fn customer_status_changes_are_called_back() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let receiver = CallbackReceiver::start().await;
    let id: Uuid = sa.transaction().await.parse().unwrap();
    let tx = transactions::get_for_tenant(&env.db, t.id, id).await.unwrap().unwrap();
    let customer = tx.receiver_id.unwrap();

    let (status, _) = sa
        .put_json(
            "/kyc/customer/callback",
            &json!({"id": customer, "type": "sep31-receiver", "url": receiver.url}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    transactions::transition(&env.db, t.id, id, Status::PendingReceiver, &Actor::System, None, |_| {})
        .await
        .unwrap();
    transactions::request_customer_info(
        &env.db,
        &tenant_of(&app, &domain),
        id,
        customer,
        &[("bank_number".into(), "unknown bank".into())],
        "fix the bank",
        &Actor::Operator,
    )
    .await
    .unwrap();
    let bodies = receiver.wait_for(10, |b| !b.is_empty()).await;
    let first: &Value = &bodies[0];
    assert_eq!(first["id"], customer.to_string());
    assert_eq!(first["status"], "NEEDS_INFO");
    assert_eq!(first["provided_fields"]["bank_number"]["error"], "unknown bank");

    sa.put_json(
        "/kyc/customer",
        &json!({"id": customer, "type": "sep31-receiver", "bank_number": "026009593"}),
    )
    .await;
    let bodies = receiver.wait_for(10, |b| b.len() >= 2).await;
    assert_eq!(bodies[1]["status"], "ACCEPTED");
    let key = tenant_of(&app, &domain).signing_key.public_key();
    let (headers, body) = receiver.received.lock().unwrap()[1].clone();
    verify_signature(&key, &headers, &receiver.url, &body);
    app.stop().await;
}

/// A receiver that accepts connections and never answers (nor closes them); it counts
/// the connections it holds.
async fn tarpit() -> (String, tokio::task::JoinHandle<()>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let held_count = Arc::new(AtomicUsize::new(0));
    let count = held_count.clone();
    let handle = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            count.fetch_add(1, Ordering::Relaxed);
        }
    });
    (url, handle, held_count)
}

#[tokio::test]
async fn slow_receivers_only_delay_their_own_callbacks() {
    let env = TestEnv::new().await;
    let (a_domain, b_domain) = (unique_domain("a"), unique_domain("b"));
    let a = env.tenant(&a_domain).await;
    let b = env.tenant(&b_domain).await;
    let app = env.start().await;

    // Tenant B's sending anchor points callbacks at eight receivers that never answer.
    let sb = Sa::login(&app, &b_domain, &b.sender).await;
    let mut tarpits = Vec::new();
    let mut holding = Vec::new();
    for _ in 0..8 {
        let (url, handle, held) = tarpit().await;
        tarpits.push(handle);
        holding.push(held);
        for _ in 0..2 {
            let id: Uuid = sb.transaction().await.parse().unwrap();
            let (status, _) =
                sb.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({ "url": url })).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            transactions::transition(
                &env.db,
                b.id,
                id,
                Status::PendingReceiver,
                &Actor::System,
                None,
                |_| {},
            )
            .await
            .unwrap();
        }
    }
    // Those deliveries have started (and hang): every receiver holds one.
    eventually("a delivery hanging at every slow receiver", async || {
        holding.iter().all(|h| h.load(Ordering::Relaxed) >= 1).then_some(())
    })
    .await;

    let sa = Sa::login(&app, &a_domain, &a.sender).await;
    let receiver = CallbackReceiver::start().await;
    let id: Uuid = sa.transaction().await.parse().unwrap();
    sa.put_json(&format!("/sep31/transactions/{id}/callback"), &json!({ "url": receiver.url })).await;
    let started = std::time::Instant::now();
    transactions::transition(&env.db, a.id, id, Status::PendingReceiver, &Actor::System, None, |_| {})
        .await
        .unwrap();
    receiver.wait_for(2, |b| !b.is_empty()).await;
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());

    // B's rows are claimed by one delivery each and none was sent twice.
    let rows = outbox::Entity::find().all(&env.db).await.unwrap();
    assert!(rows.iter().all(|r| r.attempts <= 1), "{rows:?}");
    for t in tarpits {
        t.abort();
    }
    app.stop().await;
}
