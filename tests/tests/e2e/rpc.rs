//! The payment watcher on Stellar RPC (CAP-67 asset events), against the RPC stand-in
//! serving real XDR: every kind of wallet's payment, look-alike contracts, the
//! first-watch rule, exactly once across restarts, retention gaps, testnet resets,
//! SEP-10 signers from ledger entries.

use std::time::{Duration, Instant};

use mooring_anchor::payments::Outcome;
use mooring_entities::{ledger_gap, payment, stream_cursor, stream_member};
use mooring_stellar::Keypair;
use mooring_stellar::sep31::Status;
use mooring_tests::rpc_standin::{Addr, Memo, Movement, RpcStandIn};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::common::{Admin, CallbackReceiver, Sa, TestApp, TestEnv, TestTenant, unique_domain};
use crate::watcher::{pay_for, tx, wait_status};

/// The app with `rpc` as the platform's testnet RPC (the Horizon stand-in stays the
/// platform's testnet Horizon: history older than RPC keeps comes from it).
async fn start(env: &TestEnv, rpc: &RpcStandIn) -> TestApp {
    let url = rpc.url.clone();
    env.start_with(move |c| {
        c.rpc_testnet_url = Some(url);
        c.rpc_poll_ms = std::time::Duration::from_millis(50);
        c.reset_check_ms = std::time::Duration::from_millis(200);
    })
    .await
}

fn stream(rpc: &RpcStandIn) -> String {
    format!("rpc:{}", rpc.url)
}

/// Waits until the tenant's account is a caught-up member of the RPC stream.
pub(crate) async fn member(env: &TestEnv, rpc: &RpcStandIn, tenant: Uuid) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready = stream_member::Entity::find()
            .filter(stream_member::Column::Stream.eq(stream(rpc)))
            .filter(stream_member::Column::TenantId.eq(tenant))
            .filter(stream_member::Column::CaughtUp.eq(true))
            .count(&env.db)
            .await
            .unwrap();
        if ready == 1 {
            return;
        }
        assert!(Instant::now() < deadline, "tenant {tenant} never joined the RPC stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn setup(env: &TestEnv, app: &TestApp, rpc: &RpcStandIn) -> (TestTenant, String) {
    let domain = unique_domain("rpc");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    member(env, rpc, t.id).await;
    (t, domain)
}

async fn payment_row(env: &TestEnv, tenant: Uuid, id: &str) -> Option<payment::Model> {
    payment::Entity::find()
        .filter(payment::Column::TenantId.eq(tenant))
        .filter(payment::Column::Id.eq(id))
        .one(&env.db)
        .await
        .unwrap()
}

async fn payment_count(env: &TestEnv, tenant: Uuid) -> u64 {
    payment::Entity::find().filter(payment::Column::TenantId.eq(tenant)).count(&env.db).await.unwrap()
}

fn sep11(t: &mooring_entities::transaction::Model) -> String {
    format!("{}:{}", t.asset_code, t.asset_issuer)
}

fn id_memo(t: &mooring_entities::transaction::Model) -> Memo {
    Memo::Id(t.stellar_memo.parse().unwrap())
}

/// Pays `t` exactly from a fresh `G…` sending-anchor account, with its (id) memo.
fn classic(t: &mooring_entities::transaction::Model) -> Movement {
    classic_with(t, id_memo(t))
}

fn classic_with(t: &mooring_entities::transaction::Model, memo: Memo) -> Movement {
    let from = Addr::Account(Keypair::generate().public_key().to_string());
    Movement::transfer(from, &t.stellar_account_id, &sep11(t), i128::from(t.amount_in), memo)
}

/// Polls until `check` holds (it proves something happened, never that nothing did).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn every_kind_of_wallets_payment_is_matched_from_rpc_events() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (t, domain) = setup(&env, &app, &rpc).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let source = Admin::operator(&app)
        .ok(
            "query($t: ID!) { tenant(id: $t) { ledgerSource ledgerGap { fromLedger } } }",
            json!({ "t": t.id.to_string() }),
        )
        .await;
    assert_eq!(source["tenant"], json!({ "ledgerSource": "RPC", "ledgerGap": null }));

    // A classic payment (memo id), a path payment (memo on its final hop only), a
    // smart wallet's SAC transfer from a `C…` address, and the issuer minting straight
    // to the distribution account.
    type Pays<'a> = Box<dyn Fn(&mooring_entities::transaction::Model) -> Vec<String> + 'a>;
    let kinds: [(&str, Pays); 4] = [
        ("classic payment", Box::new(|t| rpc.add(&[classic(t)]))),
        (
            "path payment",
            Box::new(|t| {
                vec![rpc.add_path_payment(&Keypair::generate().public_key().to_string(), &classic(t))]
            }),
        ),
        (
            "smart wallet",
            Box::new(|t| {
                let mut m = classic(t);
                m.from = Addr::Contract(stellar_strkey::Contract([7; 32]).to_string().to_string());
                rpc.add(&[m])
            }),
        ),
        (
            "mint",
            Box::new(|t| {
                let mut m = classic(t);
                m.mint = true;
                rpc.add(&[m])
            }),
        ),
    ];
    for (kind, pay) in &kinds {
        let id = sa.transaction().await;
        let row = tx(&env, &id).await;
        let event = pay(&row).pop().unwrap();
        let done = wait_status(&env, &id, Status::PendingReceiver).await;
        let stored =
            payment_row(&env, t.id, &event).await.unwrap_or_else(|| panic!("{kind}: no payment {event}"));
        assert_eq!((stored.outcome, stored.transaction_id), (Outcome::Matched, Some(row.id)), "{kind}");
        assert_eq!(stored.amount, row.amount_in, "{kind}: exact stroops");
        assert_eq!(done.stellar_transaction_id.as_deref(), Some(stored.tx_hash.as_str()), "{kind}");
        if *kind == "smart wallet" {
            assert!(stored.from_account.starts_with('C'), "{}", stored.from_account);
        }
        if *kind == "mint" {
            assert_eq!(
                (stored.op_type.as_str(), stored.from_account.as_str()),
                ("mint", row.asset_issuer.as_str())
            );
        }
    }

    // Text and hash memos: the asset hands out those memo types, the payment's
    // `to_muxed_id` carries a string or bytes.
    let issuer = app.server.state.tenants.by_id(t.id).unwrap().assets[0].issuer.clone();
    for memo_type in [mooring_tenants::MemoType::Text, mooring_tenants::MemoType::Hash] {
        let mut asset = mooring_server::demo::guide_asset(issuer.clone());
        asset.memo_type = memo_type;
        mooring_tenants::admin::upsert_asset(&env.db, t.id, asset).await.unwrap();
        app.server.state.tenants.refresh().await.unwrap();
        let id = sa.transaction().await;
        let row = tx(&env, &id).await;
        assert_eq!(row.stellar_memo_type, memo_type);
        let memo = match memo_type {
            mooring_tenants::MemoType::Text => Memo::Text(row.stellar_memo.clone()),
            _ => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD.decode(&row.stellar_memo).unwrap();
                Memo::Bytes(bytes.try_into().unwrap())
            }
        };
        let event = rpc.add(&[classic_with(&row, memo)]).pop().unwrap();
        wait_status(&env, &id, Status::PendingReceiver).await;
        let stored = payment_row(&env, t.id, &event).await.unwrap();
        assert_eq!(
            (stored.memo_type.as_str(), stored.memo.as_deref()),
            (memo_type.as_str(), Some(row.stellar_memo.as_str()))
        );
    }
    // The platform's Horizon was never asked for the network's payments.
    assert_eq!(env.horizon.network_stream_connects(), 0);
    assert!(rpc.requests("getEvents") > 0);
    app.stop().await;
}

#[tokio::test]
async fn a_look_alike_contract_never_pays_and_another_asset_is_a_mismatch() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (t, domain) = setup(&env, &app, &rpc).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let row = tx(&env, &id).await;

    // Right topics, right memo and amount, emitted by some other contract.
    let mut fake = classic(&row);
    fake.contract = Some(stellar_strkey::Contract([66; 32]).to_string().to_string());
    let fake_event = rpc.add(&[fake]).pop().unwrap();
    // A real transfer of another asset (its own SAC) with the transaction's memo.
    let usdc = format!("USDC:{}", Keypair::generate().public_key());
    let mut other = classic(&row);
    other.asset = usdc.clone();
    let other_event = rpc.add(&[other]).pop().unwrap();
    let done = wait_status(&env, &id, Status::Error).await;
    let stored = payment_row(&env, t.id, &other_event).await.unwrap();
    assert_eq!(stored.outcome, Outcome::Mismatched);
    assert!(done.status_message.unwrap_or_default().contains("USDC"));
    // The stream has passed the forged event (it came first) and stored nothing for it.
    assert!(
        payment_row(&env, t.id, &fake_event).await.is_none(),
        "a look-alike contract's event was applied"
    );
    assert_eq!(payment_count(&env, t.id).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_first_watch_starts_at_watch_from_and_a_joining_tenant_is_caught_up() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    // A tenant already followed, so the stream is running when the second joins.
    let app = start(&env, &rpc).await;
    let (first, _) = setup(&env, &app, &rpc).await;
    app.stop().await;

    // The second tenant is configured (watch_from) but suspended, so the stream is
    // not routing to it: a payment to its account passes the stream by. Once active
    // it joins after that payment and catches it up from watch_from; a payment from
    // before watch_from (minus the clock-skew allowance) is not its business.
    let domain = unique_domain("rpc-join");
    let second = env.tenant(&domain).await;
    mooring_tenants::admin::set_status(&env.db, second.id, true).await.unwrap();
    let tenant = mooring_entities::tenant::Entity::find_by_id(second.id).one(&env.db).await.unwrap().unwrap();
    let account = tenant.distribution_account.clone();
    let asset = format!("SRT:{}", Keypair::generate().public_key());
    let sender = || Addr::Account(Keypair::generate().public_key().to_string());
    let old = rpc.add_to_ledger(150, &[Movement::transfer(sender(), &account, &asset, 10, Memo::Id(1))]);
    let app = start(&env, &rpc).await;
    member(&env, &rpc, first.id).await;
    let new = rpc.add(&[Movement::transfer(sender(), &account, &asset, 20, Memo::Id(2))]);
    let paid_in = rpc.latest_ledger();
    rpc.close_empty(3);
    eventually("the stream to pass the payment", || async {
        let c = stream_cursor::Entity::find_by_id(stream(&rpc)).one(&env.db).await.unwrap().unwrap();
        c.cursor.as_str() > format!("{:019}", (i64::from(paid_in) + 1) << 32).as_str()
    })
    .await;
    assert!(payment_row(&env, second.id, &new[0]).await.is_none(), "routed to a suspended tenant");
    mooring_tenants::admin::set_status(&env.db, second.id, false).await.unwrap();
    member(&env, &rpc, second.id).await;
    let caught =
        payment_row(&env, second.id, &new[0]).await.expect("the payment after watch_from was caught up");
    assert_eq!((caught.outcome, caught.amount), (Outcome::Unmatched, 20));
    assert!(
        payment_row(&env, second.id, &old[0]).await.is_none(),
        "a payment from before watch_from was applied"
    );
    // The first tenant kept its membership across the restart.
    member(&env, &rpc, first.id).await;
    app.stop().await;
}

#[tokio::test]
async fn rpc_payments_apply_exactly_once_across_restarts_and_replays() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (t, domain) = setup(&env, &app, &rpc).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let first = sa.transaction().await;
    rpc.add(&[classic(&tx(&env, &first).await)]);
    wait_status(&env, &first, Status::PendingReceiver).await;
    let second = sa.transaction().await;
    app.stop().await;

    // Paid while no replica ran: applied on restart.
    rpc.add(&[classic(&tx(&env, &second).await)]);
    let app = start(&env, &rpc).await;
    wait_status(&env, &second, Status::PendingReceiver).await;
    assert_eq!(payment_count(&env, t.id).await, 2);
    app.stop().await;

    // A cursor moved back (a crash between applying and storing is impossible, but a
    // restored backup is not): the replay stores nothing and moves nothing.
    stream_cursor::Entity::update_many()
        .col_expr(stream_cursor::Column::Cursor, format!("{:019}-{:010}", 150i64 << 32, 0).into())
        .filter(stream_cursor::Column::Stream.eq(stream(&rpc)))
        .exec(&env.db)
        .await
        .unwrap();
    let events_before = mooring_entities::transaction_event::Entity::find().count(&env.db).await.unwrap();
    let app = start(&env, &rpc).await;
    eventually("the replay to reach the head", || async {
        let c = stream_cursor::Entity::find_by_id(stream(&rpc)).one(&env.db).await.unwrap().unwrap();
        c.cursor.as_str() >= format!("{:019}", i64::from(rpc.latest_ledger()) << 32).as_str()
    })
    .await;
    assert_eq!(payment_count(&env, t.id).await, 2);
    assert_eq!(
        mooring_entities::transaction_event::Entity::find().count(&env.db).await.unwrap(),
        events_before
    );
    app.stop().await;
}

async fn webhook_receiver(app: &TestApp, tenant: Uuid, types: &[&str]) -> CallbackReceiver {
    let receiver = CallbackReceiver::start().await;
    Admin::operator(app)
        .ok(
            "mutation($t: ID, $input: WebhookEndpointInput!) { createWebhookEndpoint(tenantId: $t, input: $input) { secret } }",
            json!({ "t": tenant.to_string(), "input": { "url": receiver.url, "eventTypes": types } }),
        )
        .await;
    receiver
}

#[tokio::test]
async fn a_retention_gap_is_told_and_read_from_horizon() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (t, domain) = setup(&env, &app, &rpc).await;
    let receiver = webhook_receiver(&app, t.id, &["ledger.gap"]).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let row = tx(&env, &id).await;
    app.stop().await;

    // Paid while nothing ran; then RPC's window moved past that ledger. Horizon still
    // has the operation (Horizon's id is RPC's position with a 1-based operation).
    let event = rpc.add(&[classic(&row)]).pop().unwrap();
    let ledger = rpc.latest_ledger();
    rpc.close_empty(10);
    rpc.forget_before(ledger + 5);
    let operation = (i64::from(ledger) << 32 | 1 << 12 | 1) as u64;
    let horizon_op =
        env.horizon.add_payment_as(&row.stellar_account_id, &pay_for(&row), chrono::Utc::now(), operation);
    let app = start(&env, &rpc).await;
    wait_status(&env, &id, Status::PendingReceiver).await;
    let stored = payment_row(&env, t.id, &horizon_op).await.expect("the payment was read from Horizon");
    assert_eq!(stored.outcome, Outcome::Matched);
    assert!(payment_row(&env, t.id, &event).await.is_none());
    // The gap is closed once the range is read, just after its payments were applied.
    let gap = crate::common::eventually("the gap is closed", async || {
        let gap = ledger_gap::Entity::find()
            .filter(ledger_gap::Column::TenantId.eq(t.id))
            .one(&env.db)
            .await
            .unwrap()
            .unwrap();
        gap.resolution.is_some().then_some(gap)
    })
    .await;
    assert!(gap.from_ledger <= i64::from(ledger) && gap.to_ledger == i64::from(ledger + 4), "{gap:?}");
    assert_eq!(gap.resolution.as_deref(), Some("caught up from Horizon"));
    let delivered = receiver.wait_for(10, |b| b.iter().any(|b| b["type"] == "ledger.gap")).await;
    let told = delivered.iter().find(|b| b["type"] == "ledger.gap").unwrap();
    assert_eq!(told["data"]["to_ledger"], json!(ledger + 4));
    let gql = Admin::operator(&app)
        .ok(
            "query($t: ID!) { tenant(id: $t) { ledgerGap { fromLedger toLedger } } }",
            json!({ "t": t.id.to_string() }),
        )
        .await;
    assert_eq!(gql["tenant"]["ledgerGap"], json!(null), "a gap read from Horizon is closed");
    app.stop().await;

    // The same again with Horizon failing: the gap stays open and visible.
    env.horizon.set_payments_failing(true);
    rpc.close_empty(3);
    let before = rpc.latest_ledger();
    rpc.close_empty(10);
    rpc.forget_before(before + 5);
    let app = start(&env, &rpc).await;
    let admin = Admin::operator(&app);
    let deadline = Instant::now() + Duration::from_secs(15);
    let shown = loop {
        let gql = admin
            .ok(
                "query($t: ID!) { tenant(id: $t) { ledgerGap { fromLedger toLedger detectedAt } } }",
                json!({ "t": t.id.to_string() }),
            )
            .await;
        let gap = gql["tenant"]["ledgerGap"].clone();
        if !gap.is_null() {
            break gap;
        }
        assert!(Instant::now() < deadline, "the open gap never showed in GraphQL");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(shown["toLedger"], json!(before + 4));
    env.horizon.set_payments_failing(false);
    app.stop().await;
}

#[tokio::test]
async fn a_testnet_reset_is_survived_without_applying_anything_twice() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (t, domain) = setup(&env, &app, &rpc).await;
    let receiver = webhook_receiver(&app, t.id, &["network.reset"]).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let before = sa.transaction().await;
    let before_event = rpc.add(&[classic(&tx(&env, &before).await)]).pop().unwrap();
    wait_status(&env, &before, Status::PendingReceiver).await;

    // Testnet starts again; its ledgers reach the same sequence, so the next payment
    // gets the very id the one before the reset had.
    let ledgers = rpc.latest_ledger() - 1;
    rpc.reset(ledgers);
    let after = sa.transaction().await;
    let after_event = rpc.add(&[classic(&tx(&env, &after).await)]).pop().unwrap();
    assert_eq!(after_event, before_event, "the stand-in reuses the id, as a reset network does");
    let told = receiver.wait_for(15, |b| b.iter().any(|b| b["type"] == "network.reset")).await;
    let reset = told.iter().find(|b| b["type"] == "network.reset").unwrap();
    assert_eq!(reset["data"]["epoch"], json!(1));
    wait_status(&env, &after, Status::PendingReceiver).await;
    let stored = payment_row(&env, t.id, &format!("{after_event}@1")).await.unwrap();
    assert_eq!(stored.transaction_id, Some(tx(&env, &after).await.id));
    // The payment before the reset is still there, once, and still its transaction's.
    let old = payment_row(&env, t.id, &before_event).await.unwrap();
    assert_eq!(old.transaction_id, Some(tx(&env, &before).await.id));
    assert_eq!(payment_count(&env, t.id).await, 2);
    let cursor = stream_cursor::Entity::find_by_id(stream(&rpc)).one(&env.db).await.unwrap().unwrap();
    assert_eq!((cursor.epoch, cursor.resets), (1, 1));
    // Configuration kept: SEP-31 still answers for the tenant.
    let (status, _) = sa.get("/sep31/info").await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn sep10_reads_signers_from_rpc_ledger_entries() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (t, domain) = setup(&env, &app, &rpc).await;
    let cosigner = Keypair::generate();
    let account = t.sender.public_key().to_string();
    // The master key weighs nothing; the cosigner alone reaches the threshold.
    rpc.set_account(&account, 0, &[(&cosigner.public_key().to_string(), 2)], 2);
    let horizon_before = env.horizon.account_requests();
    let master_only = app.signed_challenge(&domain, &account, &t.sender).await;
    let (status, body) = app.exchange(&domain, &master_only).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let by_cosigner = app.signed_challenge(&domain, &account, &cosigner).await;
    let (status, body) = app.exchange(&domain, &by_cosigner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(rpc.requests("getLedgerEntries") >= 2);
    assert_eq!(env.horizon.account_requests(), horizon_before, "Horizon was asked for signers");
    // An RPC that is down: a clear 503, not a token.
    rpc.set_failing(true);
    let again = app.signed_challenge(&domain, &account, &cosigner).await;
    let (status, body) = app.exchange(&domain, &again).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("RPC"), "{body}");
    rpc.set_failing(false);
    app.stop().await;
}

#[tokio::test]
async fn an_rpc_of_another_network_is_never_followed() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start_on(
        "127.0.0.1:0".parse().unwrap(),
        "Public Global Stellar Network ; September 2015",
    )
    .await;
    let app = start(&env, &rpc).await;
    let domain = unique_domain("rpc-net");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    eventually("the follower to ask the network", || async { rpc.requests("getNetwork") >= 1 }).await;
    eventually("a second attempt", || async { rpc.requests("getNetwork") >= 2 }).await;
    // It refused before starting: no cursor, no member, no events asked for.
    assert!(stream_cursor::Entity::find_by_id(stream(&rpc)).one(&env.db).await.unwrap().is_none());
    assert_eq!(rpc.requests("getEvents"), 0);
    assert_eq!(
        stream_member::Entity::find()
            .filter(stream_member::Column::TenantId.eq(t.id))
            .count(&env.db)
            .await
            .unwrap(),
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn only_an_operator_gives_a_tenant_its_own_rpc() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("rpc-own");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let data = Admin::operator(&app)
        .ok("query($t: ID!) { tenant(id: $t) { ledgerSource rpcUrl } }", json!({ "t": t.id.to_string() }))
        .await;
    assert_eq!(
        data["tenant"],
        json!({ "ledgerSource": "HORIZON", "rpcUrl": null }),
        "no platform RPC: Horizon"
    );
    let created = Admin::operator(&app)
        .ok(
            "mutation($t: ID) { createApiKey(tenantId: $t, name: \"ops\") { key } }",
            json!({ "t": t.id.to_string() }),
        )
        .await;
    let key = created["createApiKey"]["key"].as_str().unwrap().to_string();
    let set = "mutation($t: ID, $u: String) { updateSettings(tenantId: $t, input: { rpcUrl: $u }) { ledgerSource rpcUrl } }";
    let code = Admin::with_key(&app, &key)
        .error_code(set, json!({ "t": t.id.to_string(), "u": "https://rpc.example.org" }))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let data =
        Admin::operator(&app).ok(set, json!({ "t": t.id.to_string(), "u": "https://rpc.example.org" })).await;
    assert_eq!(data["updateSettings"], json!({ "ledgerSource": "RPC", "rpcUrl": "https://rpc.example.org" }));
    let data = Admin::operator(&app).ok(set, json!({ "t": t.id.to_string(), "u": "" })).await;
    assert_eq!(data["updateSettings"]["ledgerSource"], "HORIZON");
    app.stop().await;
}

#[tokio::test]
async fn one_replica_follows_an_rpc_and_another_takes_over() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let replica = |c: &mut mooring_server::Config| {
        c.rpc_testnet_url = Some(rpc.url.clone());
        c.rpc_poll_ms = std::time::Duration::from_millis(50);
        c.watch_lease_secs = std::time::Duration::from_secs(2);
    };
    let a = env.start_with(replica).await;
    let b = env.start_with(replica).await;
    let (t, domain) = setup(&env, &a, &rpc).await;
    b.server.state.tenants.refresh().await.unwrap();
    let sa = Sa::login(&a, &domain, &t.sender).await;
    let id = sa.transaction().await;
    rpc.add(&[classic(&tx(&env, &id).await)]);
    wait_status(&env, &id, Status::PendingReceiver).await;
    let leases = mooring_entities::watch_lease::Entity::find()
        .filter(mooring_entities::watch_lease::Column::Key.eq(stream(&rpc)))
        .all(&env.db)
        .await
        .unwrap();
    assert_eq!(leases.len(), 1, "one follower for the RPC across replicas");
    let (holder, other) = if leases[0].holder == a.server.state.instance_id { (a, b) } else { (b, a) };
    holder.stop().await;

    let sa = Sa::login(&other, &domain, &t.sender).await;
    let next = sa.transaction().await;
    rpc.add(&[classic(&tx(&env, &next).await)]);
    wait_status(&env, &next, Status::PendingReceiver).await;
    let lease =
        mooring_entities::watch_lease::Entity::find_by_id(stream(&rpc)).one(&env.db).await.unwrap().unwrap();
    assert_eq!(lease.holder, other.server.state.instance_id);
    assert_eq!(payment_count(&env, t.id).await, 2);
    other.stop().await;
}
