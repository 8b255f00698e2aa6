//! Two replicas on one database: a configuration change made anywhere is served by
//! every replica, without a restart.

use std::time::{Duration, Instant};

use mooring_stellar::Keypair;
use mooring_tenants::admin;
use reqwest::StatusCode;

use crate::common::{TestApp, TestEnv, unique_domain};

/// Polls until `check` holds, failing after `limit`. Returns how long it took.
async fn within<F, Fut>(limit: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "change not seen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn toml_status(app: &TestApp, domain: &str) -> StatusCode {
    app.get(domain, "/.well-known/stellar.toml").send().await.unwrap().status()
}

#[tokio::test]
async fn changes_reach_every_replica() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let (a, b) = (env.start().await, env.start().await);
    // Poll interval is 50 ms in tests: allow generous slack for a loaded CI machine.
    let limit = Duration::from_secs(3);

    // A new tenant appears on both.
    let new_domain = unique_domain("new");
    assert_eq!(toml_status(&b, &new_domain).await, StatusCode::NOT_FOUND);
    env.tenant(&new_domain).await;
    for app in [&a, &b] {
        within(limit, || async { toml_status(app, &new_domain).await == StatusCode::OK }).await;
    }

    // A newly approved sending anchor can authenticate at both.
    let newcomer = Keypair::generate();
    let query = format!("account={}", newcomer.public_key());
    assert_eq!(b.challenge(&domain, &query).await.0, StatusCode::FORBIDDEN);
    admin::approve_sender(&env.db, t.id, &newcomer.public_key().to_string(), "late").await.unwrap();
    for app in [&a, &b] {
        within(limit, || async { app.challenge(&domain, &query).await.0 == StatusCode::OK }).await;
    }

    // A suspended tenant stops answering on both, and comes back when resumed.
    admin::set_status(&env.db, t.id, true).await.unwrap();
    for app in [&a, &b] {
        within(limit, || async { toml_status(app, &domain).await == StatusCode::SERVICE_UNAVAILABLE }).await;
    }
    admin::set_status(&env.db, t.id, false).await.unwrap();
    for app in [&a, &b] {
        within(limit, || async { toml_status(app, &domain).await == StatusCode::OK }).await;
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_second_domain_serves_the_same_tenant() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let alias = unique_domain("alias");
    admin::add_domain(&env.db, t.id, &alias).await.unwrap();
    // A domain belongs to one tenant only.
    let other = env.tenant(&unique_domain("b")).await;
    assert!(admin::add_domain(&env.db, other.id, &alias).await.is_err());
    app.server.state.tenants.refresh().await.unwrap();
    let key_a = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    let key_b = app.get(&alias, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    let signing = |t: &str| t.lines().find(|l| l.starts_with("SIGNING_KEY")).unwrap().to_string();
    assert_eq!(signing(&key_a), signing(&key_b));
    // A token's home domain may be either of the tenant's domains.
    let (status, _) =
        app.challenge(&domain, &format!("account={}&home_domain={alias}", t.sender.public_key())).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn with_redis_a_change_is_pushed_to_the_other_replicas() {
    if !crate::common::redis_only("with_redis_a_change_is_pushed_to_the_other_replicas") {
        return;
    }
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    // Polling so slow that only the push can explain a quick change.
    let slow = |c: &mut mooring_server::Config| c.config_poll_ms = std::time::Duration::from_millis(600_000);
    let (a, b) = (env.start_with(slow).await, env.start_with(slow).await);
    for replica in [&a, &b] {
        within(Duration::from_secs(5), || async {
            let health: serde_json::Value =
                replica.get("localhost", "/health").send().await.unwrap().json().await.unwrap();
            health["config_push"] == "subscribed"
        })
        .await;
    }
    let newcomer = Keypair::generate();
    let query = format!("account={}", newcomer.public_key());
    assert_eq!(b.challenge(&domain, &query).await.0, StatusCode::FORBIDDEN);
    crate::common::Admin::operator(&a)
        .ok(
            r#"mutation($t: ID, $a: String!) { approveSender(tenantId: $t, account: $a, name: "late") { id } }"#,
            serde_json::json!({ "t": t.id, "a": newcomer.public_key().to_string() }),
        )
        .await;
    let took =
        within(Duration::from_secs(3), || async { b.challenge(&domain, &query).await.0 == StatusCode::OK })
            .await;
    assert!(took < Duration::from_secs(3));
    a.stop().await;
    b.stop().await;
}

/// A change to one of many tenants replaces that tenant in the cache and nothing else
/// (the others are the very same objects), and a domain moves between tenants.
#[tokio::test]
async fn a_change_reloads_only_the_tenant_it_touched() {
    let env = TestEnv::new().await;
    let (a_domain, b_domain, c_domain) = (unique_domain("a"), unique_domain("b"), unique_domain("c"));
    let a = env.tenant(&a_domain).await;
    let b = env.tenant(&b_domain).await;
    env.tenant(&c_domain).await;
    let app = env.start().await;
    let dir = &app.server.state.tenants;
    let operator = crate::common::Admin::operator(&app);
    let (a_before, c_before) = (dir.resolve(&a_domain).unwrap(), dir.resolve(&c_domain).unwrap());

    let newcomer = Keypair::generate();
    operator
        .ok(
            r#"mutation($t: ID, $a: String!) { approveSender(tenantId: $t, account: $a, name: "new") { id } }"#,
            serde_json::json!({ "t": a.id, "a": newcomer.public_key().to_string() }),
        )
        .await;
    // The writing replica serves the change as soon as the mutation answers.
    let a_after = dir.resolve(&a_domain).unwrap();
    assert!(a_after.approved_senders.contains(&newcomer.public_key()));
    assert!(!std::sync::Arc::ptr_eq(&a_before, &a_after));
    assert!(std::sync::Arc::ptr_eq(&c_before, &dir.resolve(&c_domain).unwrap()), "C was not reloaded");

    // A domain moves from A to B.
    let moving = unique_domain("moving");
    let domain_op =
        |op: &str| format!("mutation($t: ID!, $d: String!) {{ {op}(tenantId: $t, domain: $d) {{ id }} }}");
    let vars = |t: uuid::Uuid| serde_json::json!({ "t": t, "d": moving });
    operator.ok(&domain_op("addDomain"), vars(a.id)).await;
    assert_eq!(dir.resolve(&moving).unwrap().id, a.id);
    operator.ok(&domain_op("removeDomain"), vars(a.id)).await;
    assert!(dir.resolve(&moving).is_none());
    assert_eq!(toml_status(&app, &moving).await, StatusCode::NOT_FOUND);
    operator.ok(&domain_op("addDomain"), vars(b.id)).await;
    assert_eq!(dir.resolve(&moving).unwrap().id, b.id);
    assert_eq!(toml_status(&app, &moving).await, StatusCode::OK);
    assert_eq!(dir.resolve(&a_domain).unwrap().id, a.id, "A keeps its own domain");
    assert_eq!(dir.snapshot().len(), 3);
    app.stop().await;
}
