//! The money path under real timing and hostile tenants: payments made before the first
//! watch, accounts and operation ids claimed by another tenant, concurrent and
//! impossible refunds, a tenant's own expiry, and a clean stop.

use std::time::{Duration, Instant};

use mooring_anchor::payments::Outcome;
use mooring_entities::{payment, refund, watch_lease};
use mooring_stellar::Keypair;
use mooring_stellar::sep31::Status;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::admin::{configure, onboard};
use crate::common::{Admin, Sa, TestApp, TestEnv, eventually, unique_domain};
use crate::horizon::HorizonStandIn;
use crate::watcher::{pay_for, tx, wait_status};

/// The distribution account of a tenant, as configured.
fn account_of(app: &TestApp, domain: &str) -> String {
    app.server.state.tenants.resolve(domain).unwrap().distribution_account.clone()
}

#[tokio::test]
async fn a_payment_made_before_the_first_watch_is_matched() {
    let env = TestEnv::new().await;
    // Onboarded, configured and paid on a replica that does not watch: the payment is
    // on the ledger before any watcher has looked at the account.
    let quiet = env.start_with(|c| c.watcher_enabled = false).await;
    let domain = unique_domain("early");
    let (_, key) = onboard(&quiet, &env, &domain).await;
    let sender = Keypair::generate();
    configure(&Admin::with_key(&quiet, &key), &sender, "1").await;
    let sa = Sa::login(&quiet, &domain, &sender).await;
    let id = sa.transaction().await;
    let t = tx(&env, &id).await;
    let op = env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));

    let watching = env.start().await;
    let done = wait_status(&env, &id, Status::PendingReceiver).await;
    assert!(done.stellar_transaction_id.is_some());
    let stored = payment::Entity::find().filter(payment::Column::Id.eq(&op)).one(&env.db).await.unwrap();
    assert_eq!(stored.unwrap().outcome, Outcome::Matched);
    watching.stop().await;
    quiet.stop().await;
}

#[tokio::test]
async fn payments_made_while_horizon_is_down_at_onboarding_are_matched_later() {
    let env = TestEnv::new().await;
    env.horizon.set_payments_failing(true);
    let app = env.start().await;
    let domain = unique_domain("down");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let model = tx(&env, &id).await;
    // History from before the account was configured is not the tenant's business.
    let old = env.horizon.add_payment_at(
        &model.stellar_account_id,
        &pay_for(&model),
        chrono::Utc::now() - chrono::Duration::hours(1),
    );
    let op = env.horizon.add_payment(&model.stellar_account_id, &pay_for(&model));
    // The watcher asked for the payments twice more since and was refused both times.
    let refused = env.horizon.refused_feed_requests();
    eventually("the watcher refused by the failing Horizon", async || {
        (env.horizon.refused_feed_requests() >= refused + 2).then_some(())
    })
    .await;
    assert_eq!(tx(&env, &id).await.status, Status::PendingSender);

    env.horizon.set_payments_failing(false);
    wait_status(&env, &id, Status::PendingReceiver).await;
    let ops: Vec<String> =
        payment::Entity::find().all(&env.db).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(ops, vec![op], "only the payment made after configuration is stored");
    assert_ne!(old, ops[0]);
    app.stop().await;
}

const UPDATE_SETTINGS: &str =
    "mutation($input: SettingsInput!) { updateSettings(input: $input) { distributionAccount horizonUrl } }";

#[tokio::test]
async fn a_distribution_account_belongs_to_one_tenant_and_horizon_is_the_operators_choice() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (a_domain, b_domain) = (unique_domain("a"), unique_domain("b"));
    onboard(&app, &env, &a_domain).await;
    let (_, b_key) = onboard(&app, &env, &b_domain).await;
    let a_account = account_of(&app, &a_domain);
    let b = Admin::with_key(&app, &b_key);

    let code = b.error_code(UPDATE_SETTINGS, json!({ "input": { "distributionAccount": a_account } })).await;
    assert_eq!(code, "CONFLICT");
    let code = Admin::operator(&app)
        .error_code(
            "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }",
            json!({ "input": { "name": "thief", "domains": [unique_domain("c")], "network": "TESTNET",
                    "distributionAccount": a_account } }),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    // The same account on the other network is another account.
    Admin::operator(&app)
        .ok(
            "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id horizonUrl } } }",
            json!({ "input": { "name": "public", "domains": [unique_domain("p")], "network": "PUBLIC",
                    "distributionAccount": a_account } }),
        )
        .await;

    // Tenants do not choose where the server connects; operators do, with a real URL.
    for url in ["http://127.0.0.1:6379", "https://horizon.example.org"] {
        assert_eq!(
            b.error_code(UPDATE_SETTINGS, json!({ "input": { "horizonUrl": url } })).await,
            "FORBIDDEN"
        );
    }
    let b_id = app.server.state.tenants.resolve(&b_domain).unwrap().id.to_string();
    let operator = Admin::operator(&app);
    for url in ["javascript:alert(1)", "http://user@evil.example", "ftp://horizon.example", "not a url"] {
        let code = operator
            .error_code(
                "mutation($t: ID!, $input: SettingsInput!) { updateSettings(tenantId: $t, input: $input) { horizonUrl } }",
                json!({ "t": b_id, "input": { "horizonUrl": url } }),
            )
            .await;
        assert_eq!(code, "INVALID_INPUT", "{url}");
    }
    assert_eq!(app.server.state.tenants.resolve(&b_domain).unwrap().horizon_url, env.horizon.url);
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_operation_ids_cannot_shadow_a_payment() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (a_domain, b_domain) = (unique_domain("a"), unique_domain("b"));
    let a = env.tenant(&a_domain).await;
    let b = env.tenant(&b_domain).await;
    // B's Horizon numbers its operations as A's does: B sees operation N first.
    let other = HorizonStandIn::start().await;
    env.db_set_horizon(b.id, &other.url).await;
    app.server.state.tenants.refresh().await.unwrap();
    let b_account = account_of(&app, &b_domain);
    let sb = Sa::login(&app, &b_domain, &b.sender).await;
    let b_tx = tx(&env, &sb.transaction().await).await;
    let b_op = other.add_payment(&b_account, &pay_for(&b_tx));
    wait_status(&env, &b_tx.id.to_string(), Status::PendingReceiver).await;

    let sa = Sa::login(&app, &a_domain, &a.sender).await;
    let a_tx = tx(&env, &sa.transaction().await).await;
    let a_op = env.horizon.add_payment(&a_tx.stellar_account_id, &pay_for(&a_tx));
    assert_eq!(a_op, b_op, "both Horizons gave the same operation id");
    wait_status(&env, &a_tx.id.to_string(), Status::PendingReceiver).await;
    let rows = payment::Entity::find().filter(payment::Column::Id.eq(&a_op)).count(&env.db).await.unwrap();
    assert_eq!(rows, 2);
    app.stop().await;
}

const REFUND: &str = "mutation($id: ID!, $amount: String!, $fee: String!, $hash: String!) {
  refundTransaction(id: $id, amount: $amount, fee: $fee, stellarTransactionId: $hash, reason: \"r\") { status }
}";

fn hash() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

#[tokio::test]
async fn refunds_are_atomic_bounded_and_only_for_funds_held() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("r");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;
    let sa = Sa::login(&app, &domain, &sender).await;

    // Not paid yet: nothing to refund.
    let unpaid = sa.transaction().await;
    let vars =
        |id: &str, amount: &str, fee: &str| json!({ "id": id, "amount": amount, "fee": fee, "hash": hash() });
    assert_eq!(tenant.error_code(REFUND, vars(&unpaid, "1", "0")).await, "CONFLICT");

    let paid = sa.transaction().await;
    let t = tx(&env, &paid).await;
    env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    wait_status(&env, &paid, Status::PendingReceiver).await;

    // Sums that do not fit are refused, not wrapped.
    let huge = "922337203685.4775807";
    assert_eq!(tenant.error_code(REFUND, vars(&paid, huge, huge)).await, "INVALID_INPUT");
    assert_eq!(tenant.error_code(REFUND, vars(&paid, "1", huge)).await, "INVALID_INPUT");

    // Eight concurrent refunds of 60 on 100: exactly one is recorded.
    let results = futures::future::join_all((0..8).map(|_| tenant.gql(REFUND, vars(&paid, "60", "0")))).await;
    let ok = results.iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(ok, 1, "{results:?}");
    let stored =
        refund::Entity::find().filter(refund::Column::TransactionId.eq(t.id)).count(&env.db).await.unwrap();
    assert_eq!(stored, 1);

    // The same refund payment cannot be recorded twice.
    let twice = json!({ "id": paid, "amount": "1", "fee": "0", "hash": "a".repeat(64) });
    tenant.ok(REFUND, twice.clone()).await;
    assert_eq!(tenant.error_code(REFUND, twice).await, "CONFLICT");

    // The rest, with a fee, completes the refund: SEP-31 shows it.
    let data = tenant.ok(REFUND, vars(&paid, "38.5", "0.5")).await;
    assert_eq!(data["refundTransaction"]["status"], "REFUNDED");
    let (_, body) = sa.get(&format!("/sep31/transactions/{paid}")).await;
    let refunds = &body["transaction"]["refunds"];
    assert_eq!(body["transaction"]["refunded"], true, "{body}");
    assert_eq!(refunds["amount_refunded"], "100");
    assert_eq!(refunds["amount_fee"], "0.5");
    assert_eq!(refunds["payments"].as_array().unwrap().len(), 3);

    // A completed transaction was paid out: no refund.
    let done = sa.transaction().await;
    let t = tx(&env, &done).await;
    env.horizon.add_payment(&t.stellar_account_id, &pay_for(&t));
    wait_status(&env, &done, Status::PendingReceiver).await;
    tenant
        .ok(
            "mutation($id: ID!) { completeTransaction(id: $id, externalTransactionId: \"x\") { status } }",
            json!({ "id": done }),
        )
        .await;
    assert_eq!(tenant.error_code(REFUND, vars(&done, "1", "0")).await, "CONFLICT");
    app.stop().await;
}

#[tokio::test]
async fn a_tenants_own_transaction_expiry_applies() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("x");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;
    tenant
        .ok(
            "mutation { updateSettings(input: { transactionExpirySecs: 2 }) { transactionExpirySecs } }",
            json!({}),
        )
        .await;
    let sa = Sa::login(&app, &domain, &sender).await;
    let id = sa.transaction().await;
    let t = tx(&env, &id).await;
    assert_eq!((t.expires_at - t.started_at).num_seconds(), 2);
    wait_status(&env, &id, Status::Expired).await;
    app.stop().await;
}

#[tokio::test]
async fn stopping_waits_for_background_work_and_releases_leases() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("s");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while watch_lease::Entity::find().count(&env.db).await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "the watcher never took its lease");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
    // Returned from stop: every watcher has finished and given its lease back, so
    // another replica can take over at once instead of after the lease expires.
    assert_eq!(watch_lease::Entity::find().count(&env.db).await.unwrap(), 0, "tenant {}", t.id);
}

/// Makes the step that resumes a waiting transaction fail, as a database can.
async fn break_resuming(env: &TestEnv) {
    let statements: &[&str] = match env.db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            &["CREATE TRIGGER refuse_resume BEFORE UPDATE OF status ON transactions \
              WHEN NEW.status = 'pending_receiver' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"]
        }
        _ => &[
            "CREATE FUNCTION refuse_resume() RETURNS trigger AS $$ BEGIN \
               IF NEW.status = 'pending_receiver' THEN RAISE EXCEPTION 'injected failure'; END IF; \
               RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_resume BEFORE UPDATE ON transactions \
               FOR EACH ROW EXECUTE FUNCTION refuse_resume()",
        ],
    };
    for sql in statements {
        env.db.execute_unprepared(sql).await.unwrap();
    }
}

#[tokio::test]
async fn a_kyc_update_and_the_resumed_transaction_commit_together() {
    use mooring_anchor::{Actor, transactions};
    use mooring_stellar::sep31::Status;

    let env = TestEnv::new().await;
    let domain = unique_domain("kyc");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id: Uuid = sa.transaction().await.parse().unwrap();
    let receiver = tx(&env, &id.to_string()).await.receiver_id.unwrap();
    transactions::transition(&env.db, t.id, id, Status::PendingReceiver, &Actor::System, None, |_| {})
        .await
        .unwrap();
    let tenant = app.server.state.tenants.resolve(&domain).unwrap();
    let fix = [("bank_number".to_string(), "unknown bank".to_string())];
    transactions::request_customer_info(&env.db, &tenant, id, receiver, &fix, "fix it", &Actor::Tenant)
        .await
        .unwrap();

    break_resuming(&env).await;
    let update = json!({ "id": receiver, "type": "sep31-receiver", "bank_number": "121000358" });
    let (status, _) = sa.put_json("/kyc/customer", &update).await;
    assert_eq!(status, reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    // Nothing of the update stuck: the field is still the rejected one.
    let field = mooring_entities::customer_field::Entity::find_by_id((receiver, "bank_number".to_string()))
        .one(&env.db)
        .await
        .unwrap()
        .unwrap();
    let slot = mooring_tenants::pii::Slot { tenant: t.id, customer: receiver, field: "bank_number" };
    assert_eq!(tenant.data_key.open_text(slot, field.value.as_deref().unwrap()).unwrap(), "026009593");
    assert_eq!(field.status, mooring_anchor::customers::FieldStatus::Rejected);
    assert_eq!(tx(&env, &id.to_string()).await.status, Status::PendingCustomerInfoUpdate);

    env.db.execute_unprepared("DROP TRIGGER refuse_resume").await.ok();
    env.db.execute_unprepared("DROP TRIGGER refuse_resume ON transactions").await.ok();
    let (status, _) = sa.put_json("/kyc/customer", &update).await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    assert_eq!(tx(&env, &id.to_string()).await.status, Status::PendingReceiver);
    app.stop().await;
}
