//! Tenants on the platform's Horizon share one network-wide payments stream: one
//! connection however many tenants, each payment routed to the tenant it pays, the
//! rest of the network's traffic dropped, new tenants joining without missing what was
//! paid right after onboarding, restarts applying each payment once.

use std::time::{Duration, Instant};

use mooring_entities::{payment, stream_member, tenant, watch_lease};
use mooring_stellar::sep31::Status;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::common::{Sa, TestApp, TestEnv, TestTenant, eventually, read_past, unique_domain};
use crate::horizon::Pay;
use crate::watcher::{pay_for, tx, wait_status};

/// Waits until every one of `tenants` is a caught-up member of the shared stream.
pub(crate) async fn members_caught_up(env: &TestEnv, tenants: &[Uuid]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let caught_up = stream_member::Entity::find()
            .filter(stream_member::Column::TenantId.is_in(tenants.iter().copied()))
            .filter(stream_member::Column::CaughtUp.eq(true))
            .count(&env.db)
            .await
            .unwrap();
        if caught_up == tenants.len() as u64 {
            return;
        }
        assert!(Instant::now() < deadline, "{caught_up} of {} members caught up", tenants.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn tenants(env: &TestEnv, app: &TestApp, n: usize) -> Vec<(TestTenant, String)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let domain = unique_domain("s");
        out.push((env.tenant(&domain).await, domain));
    }
    app.server.state.tenants.refresh().await.unwrap();
    out
}

/// One transaction per tenant; returns their ids.
async fn one_transaction_each(app: &TestApp, tenants: &[(TestTenant, String)]) -> Vec<String> {
    let mut ids = Vec::new();
    for (t, domain) in tenants {
        ids.push(Sa::login(app, domain, &t.sender).await.transaction().await);
    }
    ids
}

#[tokio::test]
async fn fifty_tenants_get_their_payments_over_one_connection() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let all = tenants(&env, &app, 50).await;
    let ids: Vec<Uuid> = all.iter().map(|(t, _)| t.id).collect();
    members_caught_up(&env, &ids).await;
    let transactions = one_transaction_each(&app, &all).await;

    // Each payment among other people's traffic, in a different order than created.
    for id in transactions.iter().rev() {
        env.horizon.add_foreign_traffic(20);
        let t = tx(&env, id).await;
        env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    }
    for id in &transactions {
        let t = wait_status(&env, id, Status::PendingReceiver).await;
        let paid = payment::Entity::find()
            .filter(payment::Column::TransactionId.eq(t.id))
            .one(&env.db)
            .await
            .unwrap()
            .expect("the payment is stored");
        assert_eq!(paid.tenant_id, t.tenant_id, "stored for the tenant it paid");
    }
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 50, "foreign traffic is not stored");
    assert_eq!(env.horizon.stream_connects(), 1, "one stream for fifty tenants");
    assert_eq!(env.horizon.network_stream_connects(), 1);
    let leases = watch_lease::Entity::find().all(&env.db).await.unwrap();
    assert_eq!(leases.len(), 1, "one lease: {leases:?}");
    assert_eq!(leases[0].key, format!("stream:{}", env.horizon.url));
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_onboarded_mid_stream_gets_a_payment_made_right_after() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let first = tenants(&env, &app, 1).await;
    members_caught_up(&env, &[first[0].0.id]).await;
    // The stream is open (after its first pages and its reset check).
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.horizon.network_stream_connects() == 0 {
        assert!(Instant::now() < deadline, "the shared stream never opened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let connects = env.horizon.stream_connects();

    // The stream runs on (other traffic); a tenant is onboarded, and its account is
    // paid at once — before any replica has heard of the tenant.
    env.horizon.add_foreign_traffic(100);
    let domain = unique_domain("late");
    let late = env.tenant(&domain).await;
    let account = tenant::Entity::find_by_id(late.id)
        .one(&env.db)
        .await
        .unwrap()
        .expect("created")
        .distribution_account;
    let early = Pay {
        op_type: "payment",
        from: late.sender.public_key().to_string(),
        to: account.clone(),
        to_muxed: None,
        asset: None,
        amount: "5.0000000".into(),
        memo_type: "text",
        memo: Some("right after onboarding".into()),
        successful: true,
    };
    let early_op = env.horizon.add_payment(&account, &early);
    env.horizon.add_foreign_traffic(100);
    app.server.state.tenants.refresh().await.unwrap();
    members_caught_up(&env, &[late.id]).await;
    let stored = payment::Entity::find()
        .filter(payment::Column::TenantId.eq(late.id))
        .filter(payment::Column::Id.eq(&early_op))
        .count(&env.db)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the payment made before the stream routed to the account is caught up");

    // From then on the shared stream delivers it.
    let id = Sa::login(&app, &domain, &late.sender).await.transaction().await;
    let t = tx(&env, &id).await;
    env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    wait_status(&env, &id, Status::PendingReceiver).await;
    assert_eq!(env.horizon.stream_connects(), connects, "no new connection for a new tenant");
    app.stop().await;
}

#[tokio::test]
async fn a_restart_mid_stream_applies_each_tenants_payment_once() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let all = tenants(&env, &app, 10).await;
    let ids: Vec<Uuid> = all.iter().map(|(t, _)| t.id).collect();
    members_caught_up(&env, &ids).await;
    let transactions = one_transaction_each(&app, &all).await;
    let (before, after) = transactions.split_at(5);
    for id in before {
        let t = tx(&env, id).await;
        env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    }
    for id in before {
        wait_status(&env, id, Status::PendingReceiver).await;
    }
    app.stop().await;

    // While down: the other tenants are paid, amid traffic that is nobody's, and two of
    // the payments already applied show up again (a Horizon replaying).
    for id in after {
        env.horizon.add_foreign_traffic(300);
        let t = tx(&env, id).await;
        env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    }
    let restarted = env.start().await;
    for id in &transactions {
        wait_status(&env, id, Status::PendingReceiver).await;
    }
    env.horizon.duplicate_events(true);
    env.horizon.disconnect_all();
    // Everything the reconnected stream sends now comes twice; once its stored position
    // is past a record added after the reconnect, it has read all of them.
    let after_reconnect = env.horizon.add_foreign_traffic(1);
    eventually("the stream past the replayed records", async || {
        read_past(&env, &after_reconnect).await.then_some(())
    })
    .await;
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 10);
    for id in &transactions {
        let events = mooring_anchor::transactions::events(&env.db, id.parse().unwrap(), 1000).await.unwrap();
        assert_eq!(events.len(), 2, "created, then paid once: {events:?}");
    }
    restarted.stop().await;
}

#[tokio::test]
async fn a_tenant_moved_between_own_and_shared_horizon_misses_nothing() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let all = tenants(&env, &app, 1).await;
    let (t, domain) = &all[0];
    members_caught_up(&env, &[t.id]).await;
    let sa = Sa::login(&app, domain, &t.sender).await;

    // The operator gives it a Horizon of its own (same network, another server): it
    // leaves the shared stream and is watched on its own from its own cursor.
    let own = env.horizon.same_network().await;
    env.db_set_horizon(t.id, &own.url).await;
    app.server.state.tenants.refresh().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while stream_member::Entity::find().count(&env.db).await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "it never left the shared stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let id = sa.transaction().await;
    let paid = tx(&env, &id).await;
    env.horizon.add_payment(&paid.stellar_account_id, &pay_for(&paid));
    wait_status(&env, &id, Status::PendingReceiver).await;

    // Back on the platform's Horizon, paid in the moment of the move (the network
    // moved on meanwhile): joining catches up from the account's own cursor.
    let id = sa.transaction().await;
    let moving = tx(&env, &id).await;
    env.db_set_horizon(t.id, &env.horizon.url).await;
    env.horizon.add_payment(&moving.stellar_account_id, &pay_for(&moving));
    env.horizon.add_foreign_traffic(50);
    app.server.state.tenants.refresh().await.unwrap();
    wait_status(&env, &id, Status::PendingReceiver).await;
    members_caught_up(&env, &[t.id]).await;
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 2);
    assert_eq!(env.horizon.stream_connects(), 2, "the shared stream, and the account's own while away");
    app.stop().await;
}

#[tokio::test]
async fn a_testnet_reset_on_horizon_starts_the_stream_again_without_double_payments() {
    let env = TestEnv::new().await;
    let app = env.start_with(|c| c.reset_check_ms = std::time::Duration::from_millis(200)).await;
    let domain = unique_domain("h-reset");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    members_caught_up(&env, &[t.id]).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let before = sa.transaction().await;
    let before_op = env
        .horizon
        .add_payment(&tx(&env, &before).await.stellar_account_id, &pay_for(&tx(&env, &before).await));
    wait_status(&env, &before, Status::PendingReceiver).await;
    // A reset that keeps the ledger numbers is told by a ledger's hash: the stream must
    // have checked one (every `reset_check_ms`) before the network starts again, or
    // there is nothing to compare with (a race on a loaded machine, not a case).
    eventually("the stream checked a ledger", async || {
        mooring_anchor::ledger::checkpoint(&env.db, &env.horizon.url).await.unwrap().and_then(|c| c.ledger)
    })
    .await;

    // The network starts again: the same ledger numbers with other hashes, operation
    // ids from the start again — the next payment gets the id the last one had.
    env.horizon.reset_network();
    let after = sa.transaction().await;
    let row = tx(&env, &after).await;
    let after_op = env.horizon.add_payment(&row.stellar_account_id, &pay_for(&row));
    assert_eq!(after_op, before_op, "the stand-in reuses the id, as a reset network does");
    wait_status(&env, &after, Status::PendingReceiver).await;
    let stored = payment::Entity::find()
        .filter(payment::Column::TenantId.eq(t.id))
        .filter(payment::Column::Id.eq(format!("{after_op}@1")))
        .one(&env.db)
        .await
        .unwrap()
        .expect("the payment after the reset, under the new epoch");
    assert_eq!(stored.transaction_id, Some(row.id));
    let count =
        payment::Entity::find().filter(payment::Column::TenantId.eq(t.id)).count(&env.db).await.unwrap();
    assert_eq!(count, 2, "the payment before the reset stays, once");
    let cursor = mooring_entities::stream_cursor::Entity::find_by_id(env.horizon.url.clone())
        .one(&env.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cursor.epoch, cursor.resets), (1, 1));
    app.stop().await;
}
