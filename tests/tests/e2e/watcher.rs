//! The payment watcher against the Horizon stand-in: streaming, catch-up, matching by
//! memo, exactly-once application across crashes, disconnects, outages and replicas.

use std::time::{Duration, Instant};

use mooring_anchor::leases;
use mooring_anchor::payments::Outcome;
use mooring_entities::{payment, stream_member, transaction, watch_lease};
use mooring_stellar::sep31::Status;
use mooring_stellar::{ClientAccount, Keypair};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::common::{Sa, TestApp, TestEnv, eventually, read_past, unique_domain};
use crate::horizon::{HorizonStandIn, Pay};

pub(crate) async fn tx(env: &TestEnv, id: &str) -> transaction::Model {
    transaction::Entity::find_by_id(id.parse::<Uuid>().unwrap()).one(&env.db).await.unwrap().unwrap()
}

/// A payment that pays `t` exactly, by memo, from some sending-anchor account.
pub(crate) fn pay_for(t: &transaction::Model) -> Pay {
    Pay {
        op_type: "payment",
        from: Keypair::generate().public_key().to_string(),
        to: t.stellar_account_id.clone(),
        to_muxed: None,
        asset: Some((t.asset_code.clone(), t.asset_issuer.clone())),
        amount: mooring_stellar::Amount(t.amount_in).to_string(),
        memo_type: "id",
        memo: Some(t.stellar_memo.clone()),
        successful: true,
    }
}

pub(crate) async fn wait_status(env: &TestEnv, id: &str, status: Status) -> transaction::Model {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let t = tx(env, id).await;
        if t.status == status {
            return t;
        }
        assert!(Instant::now() < deadline, "transaction {id} is {}, expected {status}", t.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn payments_of(env: &TestEnv, operation: &str) -> Vec<payment::Model> {
    payment::Entity::find().filter(payment::Column::Id.eq(operation)).all(&env.db).await.unwrap()
}

/// Waits for the watcher to have stored its starting cursor (it is watching).
async fn watching(env: &TestEnv, tenant: Uuid) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cursors = mooring_entities::watch_cursor::Entity::find()
            .filter(mooring_entities::watch_cursor::Column::TenantId.eq(tenant))
            .count(&env.db)
            .await
            .unwrap();
        if cursors > 0 {
            // Give the stream a moment to connect after the catch-up page.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        }
        assert!(Instant::now() < deadline, "watcher did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn setup(env: &TestEnv, app: &TestApp) -> (crate::common::TestTenant, String) {
    let domain = unique_domain("w");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    watching(env, t.id).await;
    (t, domain)
}

#[tokio::test]
async fn each_payment_type_and_a_muxed_destination_are_matched() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (t, domain) = setup(&env, &app).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    for (op_type, muxed) in [
        ("payment", false),
        ("path_payment_strict_receive", false),
        ("path_payment_strict_send", false),
        ("payment", true),
    ] {
        let id = sa.transaction().await;
        let t = tx(&env, &id).await;
        let mut pay = pay_for(&t);
        pay.op_type = op_type;
        if muxed {
            let key = t.stellar_account_id.parse().unwrap();
            pay.to_muxed = Some((ClientAccount::Muxed { key, id: 42 }.to_string(), 42));
        }
        let op = env.horizon.add_payment(&t.stellar_account_id, &pay);
        let done = wait_status(&env, &id, Status::PendingReceiver).await;
        let stored = &payments_of(&env, &op).await[0];
        assert_eq!(stored.outcome, Outcome::Matched, "{op_type}");
        assert_eq!(stored.transaction_id, Some(t.id));
        assert_eq!(done.stellar_transaction_id.as_deref(), Some(stored.tx_hash.as_str()));
        let (_, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
        assert_eq!(body["transaction"]["status"], "pending_receiver");
        assert_eq!(body["transaction"]["stellar_transaction_id"], stored.tx_hash);
    }
    app.stop().await;
}

#[tokio::test]
async fn wrong_memo_asset_or_amount_failed_and_duplicate_payments() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (t, domain) = setup(&env, &app).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let base = tx(&env, &sa.transaction().await).await;
    let account = base.stellar_account_id.clone();

    // A memo nobody issued, and the right value under the wrong memo type.
    let mut stray = pay_for(&base);
    stray.memo = Some("1".into());
    let stray_op = env.horizon.add_payment(&account, &stray);
    let mut as_text = pay_for(&base);
    as_text.memo_type = "text";
    let text_op = env.horizon.add_payment(&account, &as_text);

    // The wrong asset fails the transaction.
    let wrong_asset = tx(&env, &sa.transaction().await).await;
    let mut p = pay_for(&wrong_asset);
    p.asset = Some(("USDC".into(), Keypair::generate().public_key().to_string()));
    let wrong_asset_op = env.horizon.add_payment(&account, &p);
    let failed = wait_status(&env, &wrong_asset.id.to_string(), Status::Error).await;
    assert!(failed.status_message.unwrap().contains("expected"));

    // Short pays fail; over pays are accepted with the excess kept for refund.
    let short = tx(&env, &sa.transaction().await).await;
    let mut p = pay_for(&short);
    p.amount = "99.9999999".into();
    let short_op = env.horizon.add_payment(&account, &p);
    wait_status(&env, &short.id.to_string(), Status::Error).await;
    let over = tx(&env, &sa.transaction().await).await;
    let mut p = pay_for(&over);
    p.amount = "150".into();
    let over_op = env.horizon.add_payment(&account, &p);
    let accepted = wait_status(&env, &over.id.to_string(), Status::PendingReceiver).await;
    assert!(accepted.status_message.unwrap().contains("refund"));

    // A failed Stellar transaction and the account's own outgoing payment change nothing.
    let mut failed_tx = pay_for(&base);
    failed_tx.successful = false;
    let failed_op = env.horizon.add_payment(&account, &failed_tx);
    let mut outgoing = pay_for(&base);
    (outgoing.from, outgoing.to) = (account.clone(), Keypair::generate().public_key().to_string());
    let outgoing_op = env.horizon.add_payment(&account, &outgoing);

    // Every event delivered twice: applied once.
    env.horizon.duplicate_events(true);
    let twice = tx(&env, &sa.transaction().await).await;
    let twice_op = env.horizon.add_payment(&account, &pay_for(&twice));
    wait_status(&env, &twice.id.to_string(), Status::PendingReceiver).await;
    env.horizon.duplicate_events(false);

    let outcome = |op: String| {
        let env = &env;
        async move { payments_of(env, &op).await.first().map(|p| p.outcome) }
    };
    assert_eq!(outcome(stray_op).await, Some(Outcome::Unmatched));
    assert_eq!(outcome(text_op).await, Some(Outcome::Unmatched));
    assert_eq!(outcome(wrong_asset_op).await, Some(Outcome::Mismatched));
    assert_eq!(outcome(short_op).await, Some(Outcome::Mismatched));
    let over_row = &payments_of(&env, &over_op).await[0];
    assert_eq!(over_row.outcome, Outcome::Overpaid);
    assert_eq!(mooring_stellar::Amount(over_row.excess).to_string(), "50.0000000");
    assert_eq!(outcome(failed_op).await, None);
    assert_eq!(outcome(outgoing_op).await, None);
    assert_eq!(payments_of(&env, &twice_op).await.len(), 1);
    assert_eq!(mooring_anchor::transactions::events(&env.db, twice.id, 1000).await.unwrap().len(), 2);
    assert_eq!(tx(&env, &base.id.to_string()).await.status, Status::PendingSender);
    let unmatched = mooring_anchor::payments::unmatched(&env.db, t.id, 1000).await.unwrap();
    assert_eq!(unmatched.len(), 2);

    // A payment for a transaction that expired is kept as unmatched, for a refund.
    mooring_anchor::transactions::transition(
        &env.db,
        t.id,
        base.id,
        mooring_stellar::sep31::Status::Expired,
        &mooring_anchor::Actor::System,
        None,
        |_| {},
    )
    .await
    .unwrap();
    let late_op = env.horizon.add_payment(&account, &pay_for(&base));
    let deadline = Instant::now() + Duration::from_secs(10);
    while payments_of(&env, &late_op).await.is_empty() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(payments_of(&env, &late_op).await[0].outcome, Outcome::Unmatched);
    app.stop().await;
}

#[tokio::test]
async fn payments_made_while_down_are_applied_once_after_restart() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (t, domain) = setup(&env, &app).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let ids = [sa.transaction().await, sa.transaction().await, sa.transaction().await];
    let first = tx(&env, &ids[0]).await;
    env.horizon.add_payment(&first.stellar_account_id, &pay_for(&first));
    wait_status(&env, &ids[0], Status::PendingReceiver).await;
    app.stop().await;

    let mut last = String::new();
    for id in &ids[1..] {
        let t = tx(&env, id).await;
        last = env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    }
    let restarted = env.start().await;
    for id in &ids {
        wait_status(&env, id, Status::PendingReceiver).await;
    }
    // A double application would have happened before the watcher stored a position
    // past the last payment; once the server has stopped, none can happen later.
    eventually("the watcher's position past the last payment", async || {
        read_past(&env, &last).await.then_some(())
    })
    .await;
    restarted.stop().await;
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 3);
    for id in &ids {
        let events = mooring_anchor::transactions::events(&env.db, id.parse().unwrap(), 1000).await.unwrap();
        assert_eq!(events.len(), 2, "created, then paid: {events:?}");
    }
}

#[tokio::test]
async fn disconnects_outages_and_polling_lose_nothing() {
    let env = TestEnv::new().await;
    let app = env.start_with(|c| c.watch_poll_ms = std::time::Duration::from_millis(100)).await;
    let (t, domain) = setup(&env, &app).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;

    // Every stream drops after one record: each payment needs a reconnection.
    env.horizon.drop_streams_after(Some(1));
    let connects = env.horizon.stream_connects();
    for _ in 0..3 {
        let id = sa.transaction().await;
        let t = tx(&env, &id).await;
        env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
        wait_status(&env, &id, Status::PendingReceiver).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    // Payments made during a reconnection arrive by catch-up paging, not the stream.
    while env.horizon.stream_connects() < connects + 2 {
        assert!(Instant::now() < deadline, "the watcher did not reconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env.horizon.drop_streams_after(None);

    // Horizon answers 500 for a while (streams cut); a payment made meanwhile is caught up.
    env.horizon.set_failing(true);
    env.horizon.disconnect_all();
    let id = sa.transaction().await;
    let t = tx(&env, &id).await;
    let refused = env.horizon.refused_feed_requests();
    env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    // The watcher tried (and was refused) twice more since the payment: it cannot have it.
    let deadline = Instant::now() + Duration::from_secs(15);
    while env.horizon.refused_feed_requests() < refused + 2 {
        assert!(Instant::now() < deadline, "the watcher stopped trying");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tx(&env, &id).await.status, Status::PendingSender);
    env.horizon.set_failing(false);
    wait_status(&env, &id, Status::PendingReceiver).await;

    // A Horizon that does not stream is polled.
    env.horizon.set_streaming(false);
    env.horizon.disconnect_all();
    let id = sa.transaction().await;
    let t = tx(&env, &id).await;
    env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    wait_status(&env, &id, Status::PendingReceiver).await;
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 5);
    app.stop().await;
}

#[tokio::test]
async fn one_replica_watches_and_another_takes_over() {
    let env = TestEnv::new().await;
    let fast = |c: &mut mooring_server::Config| c.watch_lease_secs = std::time::Duration::from_secs(2);
    let a = env.start_with(fast).await;
    let b = env.start_with(fast).await;
    let (t, domain) = setup(&env, &a).await;
    b.server.state.tenants.refresh().await.unwrap();
    let sa = Sa::login(&a, &domain, &t.sender).await;

    let id = sa.transaction().await;
    let first = tx(&env, &id).await;
    env.horizon.add_payment(&first.stellar_account_id, &pay_for(&first));
    wait_status(&env, &id, Status::PendingReceiver).await;
    let lease = watch_lease::Entity::find().one(&env.db).await.unwrap().unwrap();
    let (holder, other) = if lease.holder == a.server.state.instance_id { (a, b) } else { (b, a) };
    assert_eq!(watch_lease::Entity::find().count(&env.db).await.unwrap(), 1, "one lease, one watcher");
    holder.stop().await;

    let sa = Sa::login(&other, &domain, &t.sender).await;
    let ids = [sa.transaction().await, sa.transaction().await];
    for id in &ids {
        let t = tx(&env, id).await;
        env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    }
    for id in &ids {
        wait_status(&env, id, Status::PendingReceiver).await;
    }
    let lease = watch_lease::Entity::find().one(&env.db).await.unwrap().unwrap();
    assert_eq!(lease.holder, other.server.state.instance_id);
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 3);
    other.stop().await;
}

#[tokio::test]
async fn an_expired_lease_passes_to_another_holder() {
    let env = TestEnv::new().await;
    let ttl = chrono::Duration::milliseconds(500);
    assert!(leases::acquire(&env.db, "k", "a", ttl).await.unwrap());
    assert!(!leases::acquire(&env.db, "k", "b", ttl).await.unwrap(), "held by a");
    assert!(leases::acquire(&env.db, "k", "a", ttl).await.unwrap(), "a renews");
    // a dies without releasing; once the lease expires, b takes it and a is fenced off.
    let renewed = Instant::now();
    eventually("b taking the expired lease", async || {
        leases::acquire(&env.db, "k", "b", ttl).await.unwrap().then_some(())
    })
    .await;
    assert!(renewed.elapsed() >= Duration::from_millis(400), "taken before a's lease ran out");
    assert!(!leases::still_held(&env.db, "k", "a").await.unwrap());
    assert!(leases::still_held(&env.db, "k", "b").await.unwrap());
}

#[tokio::test]
async fn a_suspended_tenant_is_not_watched_until_resumed() {
    suspended_tenant(Watch::Shared).await;
}

#[tokio::test]
async fn a_suspended_tenant_on_its_own_horizon_is_not_watched_until_resumed() {
    suspended_tenant(Watch::Own).await;
}

#[derive(Clone, Copy, PartialEq)]
enum Watch {
    /// On the platform's Horizon: a member of its shared stream.
    Shared,
    /// On a Horizon of its own: its own stream, under its own lease.
    Own,
}

async fn suspended_tenant(mode: Watch) {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let own = HorizonStandIn::start().await;
    let horizon = if mode == Watch::Own { &own } else { &env.horizon };
    let domain = unique_domain("w");
    let t = env.tenant(&domain).await;
    if mode == Watch::Own {
        env.db_set_horizon(t.id, &own.url).await;
    }
    app.server.state.tenants.refresh().await.unwrap();
    watching(&env, t.id).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let row = tx(&env, &id).await;

    // While watched, the account holds its own lease or is a member of the shared
    // stream; stopping gives either back.
    let lease = format!("watch:{}:{}", t.id, row.stellar_account_id);
    let watched = async |want: bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = match mode {
                Watch::Own => {
                    leases::still_held(&env.db, &lease, &app.server.state.instance_id).await.unwrap()
                }
                Watch::Shared => {
                    stream_member::Entity::find()
                        .filter(stream_member::Column::TenantId.eq(t.id))
                        .count(&env.db)
                        .await
                        .unwrap()
                        == 1
                }
            };
            if now == want {
                return;
            }
            assert!(Instant::now() < deadline, "the watch never became watched={want}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    watched(true).await;
    mooring_tenants::admin::set_status(&env.db, t.id, true).await.unwrap();
    app.server.state.tenants.refresh().await.unwrap();
    // The supervisor stops the watch on its next round (config_poll_ms = 50 in tests).
    watched(false).await;
    horizon.disconnect_all();
    let op = horizon.add_payment(&row.stellar_account_id, &pay_for(&row));
    match mode {
        // The shared stream goes on for the platform's other tenants: once its stored
        // position is past the payment, it has read the payment and not routed it.
        Watch::Shared => {
            eventually("the shared stream past the payment", async || {
                read_past(&env, &op).await.then_some(())
            })
            .await
        }
        // Its own stream is gone. The supervisor's next round, started by a witness
        // tenant on the same Horizon, watches the witness and not the suspended one.
        Watch::Own => {
            let witness = env.tenant(&unique_domain("witness")).await;
            env.db_set_horizon(witness.id, &own.url).await;
            app.server.state.tenants.refresh().await.unwrap();
            watching(&env, witness.id).await;
            assert!(
                !leases::still_held(&env.db, &lease, &app.server.state.instance_id).await.unwrap(),
                "the suspended tenant's watch started again"
            );
        }
    }
    assert_eq!(tx(&env, &id).await.status, Status::PendingSender, "a suspended tenant is not watched");

    // Resumed, it catches up what was paid meanwhile.
    mooring_tenants::admin::set_status(&env.db, t.id, false).await.unwrap();
    app.server.state.tenants.refresh().await.unwrap();
    wait_status(&env, &id, Status::PendingReceiver).await;
    assert_eq!(payment::Entity::find().count(&env.db).await.unwrap(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_smart_wallets_payment_is_matched_on_horizon_too() {
    // On a network with Horizon only, a contract account's SAC transfer is an
    // `invoke_host_function` record: its `asset_balance_changes` pay the account,
    // with the memo as the destination's muxed id.
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (t, domain) = setup(&env, &app).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let row = tx(&env, &id).await;
    let mut pay = pay_for(&row);
    pay.from = stellar_strkey::Contract([5; 32]).to_string().to_string();
    let op = env.horizon.add_contract_payment(&pay);
    let done = wait_status(&env, &id, Status::PendingReceiver).await;
    let stored = &payments_of(&env, &op).await[0];
    assert_eq!((stored.outcome, stored.op_type.as_str()), (Outcome::Matched, "transfer"));
    assert_eq!(stored.from_account, pay.from);
    assert_eq!(done.stellar_transaction_id.as_deref(), Some(stored.tx_hash.as_str()));
    app.stop().await;
}
