//! The two flows of the SEP-31 testnet guide, driven over HTTP as a sending anchor
//! would, plus bad input, idempotency and expiry.

use mooring_anchor::Actor;
use mooring_anchor::transactions;
use mooring_entities::{transaction, transaction_event};
use mooring_stellar::sep31::Status;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Sa, TestEnv, tenant_of, unique_domain};

#[tokio::test]
async fn guide_flow_info_kyc_and_transaction() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;

    let (status, info) = sa.get("/sep31/info").await;
    assert_eq!(status, StatusCode::OK);
    let srt = &info["receive"]["SRT"];
    assert_eq!(srt["min_amount"], json!(10));
    assert_eq!(srt["max_amount"], json!(10000));
    assert_eq!(srt["fee_fixed"], json!(1));
    assert_eq!(srt["fee_percent"], json!(1));
    assert_eq!(srt["quotes_supported"], json!(false));
    assert_eq!(srt["funding_methods"], json!(["SEPA", "SWIFT", "WIRE"]));
    assert!(srt["sep12"]["sender"]["types"]["sep31-sender"]["description"].is_string());
    assert!(srt["sep12"]["receiver"]["types"]["sep31-receiver"]["description"].is_string());
    assert!(srt["fields"]["transaction"]["routing_number"]["description"].is_string());

    // Nobody registered yet: NEEDS_INFO with the type's fields, and no id.
    for (ty, required) in [
        ("sep31-sender", vec!["first_name", "last_name", "email_address"]),
        (
            "sep31-receiver",
            vec!["first_name", "last_name", "email_address", "bank_number", "bank_account_number"],
        ),
    ] {
        let (status, body) = sa.get(&format!("/kyc/customer?type={ty}&memo=100")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "NEEDS_INFO");
        assert!(body.get("id").is_none());
        for f in required {
            assert_eq!(body["fields"][f]["optional"], json!(false), "{ty}.{f}");
            assert_eq!(body["fields"][f]["type"], "string");
        }
    }

    let (status, sender) = sa
        .put_json(
            "/kyc/customer",
            &json!({"type": "sep31-sender", "memo": "100", "first_name": "Ana", "last_name": "Silva", "email_address": "ana@example.com", "birth_date": "1990-04-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let sender_id = sender["id"].as_str().unwrap().to_string();
    let (_, view) = sa.get(&format!("/kyc/customer?id={sender_id}&type=sep31-sender")).await;
    assert_eq!(view["status"], "ACCEPTED");
    assert_eq!(view["id"], sender_id);
    assert_eq!(view["provided_fields"]["email_address"]["status"], "ACCEPTED");
    assert!(view["fields"].get("first_name").is_none());

    // An invalid value is refused by name, and nothing is stored.
    let (status, err) = sa
        .put_json(
            "/kyc/customer",
            &json!({"type": "sep31-receiver", "memo": "200", "first_name": "Bo", "last_name": "Li", "email_address": "not-an-email", "bank_number": "1", "bank_account_number": "2"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().contains("email_address"), "{err}");
    let (_, view) = sa.get("/kyc/customer?type=sep31-receiver&memo=200").await;
    assert!(view.get("id").is_none(), "nothing stored: {view}");

    // A partial receiver is NEEDS_INFO for exactly what is missing; then complete it.
    let (status, receiver) = sa
        .put_json("/kyc/customer", &json!({"type": "sep31-receiver", "memo": "200", "first_name": "Bo", "last_name": "Li", "email_address": "bo@example.com"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let receiver_id = receiver["id"].as_str().unwrap().to_string();
    let (_, view) = sa.get("/kyc/customer?type=sep31-receiver&memo=200").await;
    assert_eq!(view["status"], "NEEDS_INFO");
    let missing: Vec<_> = view["fields"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, f)| f["optional"] == false)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(missing, ["bank_account_number", "bank_number"]);
    // A transaction cannot use a receiver whose KYC is incomplete.
    let create = json!({
        "amount": 100, "asset_code": "SRT", "funding_method": "SEPA",
        "sender_id": sender_id, "receiver_id": receiver_id,
        "fields": {"transaction": {"routing_number": "026009593", "account_number": "12345678"}},
    });
    let (status, err) = sa.post_json("/sep31/transactions", &create).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err, json!({"error": "customer_info_needed", "type": "sep31-receiver"}));
    let (status, again) = sa
        .put_json("/kyc/customer", &json!({"id": receiver_id, "type": "sep31-receiver", "bank_number": "026009593", "bank_account_number": "12345678"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again["id"], receiver_id);
    let (_, view) = sa.get(&format!("/kyc/customer?id={receiver_id}&type=sep31-receiver")).await;
    assert_eq!(view["status"], "ACCEPTED");

    let (status, created) = sa.post_json("/sep31/transactions", &create).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["stellar_memo_type"], "id");
    assert!(created["stellar_memo"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(created["stellar_account_id"], tenant_of(&app, &domain).distribution_account);

    let (status, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let tx = &body["transaction"];
    assert_eq!(tx["status"], "pending_sender");
    assert_eq!(tx["amount_in"], "100");
    assert_eq!(tx["amount_fee"], "2");
    assert_eq!(tx["amount_out"], "98");
    assert_eq!(tx["fee_details"]["total"], "2");
    let parts: Vec<f64> = tx["fee_details"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["amount"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(parts.iter().sum::<f64>(), 2.0);
    assert_eq!(tx["stellar_memo"], created["stellar_memo"]);
    assert_eq!(tx["amount_in_asset"].as_str().unwrap().split(':').nth(1), Some("SRT"));
    assert!(tx["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(tx.get("completed_at").is_none());
    app.stop().await;
}

#[tokio::test]
async fn update_flows_transaction_fields_and_customer_info() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let tenant = tenant_of(&app, &domain);
    let id: Uuid = sa.transaction().await.parse().unwrap();
    let path = format!("/sep31/transactions/{id}");

    // PATCH only works while info is requested.
    let (status, _) =
        sa.patch_json(&path, &json!({"fields": {"transaction": {"routing_number": "1"}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Funds arrive (the payment watcher's job; here, directly), then the anchor asks
    // for a corrected routing number.
    transactions::transition(
        &env.db,
        t.id,
        id,
        Status::PendingReceiver,
        &Actor::System,
        Some("payment received"),
        |_| {},
    )
    .await
    .unwrap();
    transactions::request_transaction_info(
        &env.db,
        &tenant,
        id,
        &["routing_number".into()],
        "routing number is wrong",
        &Actor::Operator,
    )
    .await
    .unwrap();
    let (_, body) = sa.get(&path).await;
    assert_eq!(body["transaction"]["status"], "pending_transaction_info_update");
    assert_eq!(body["transaction"]["required_info_message"], "routing number is wrong");
    assert!(
        body["transaction"]["required_info_updates"]["transaction"]["routing_number"]["description"]
            .is_string()
    );

    let (status, _) =
        sa.patch_json(&path, &json!({"fields": {"transaction": {"account_number": "9"}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a field that was not asked for");
    let (status, _) = sa.patch_json(&path, &json!({"fields": {"transaction": {}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the asked-for field is missing");
    let (status, body) =
        sa.patch_json(&path, &json!({"fields": {"transaction": {"routing_number": "121000248"}}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["transaction"]["status"], "pending_receiver");
    assert!(body["transaction"].get("required_info_updates").is_none());

    // The receiver's bank account is refused: SEP-12 shows what to fix.
    let row = transaction::Entity::find_by_id(id).one(&env.db).await.unwrap().unwrap();
    // Stored sealed with the tenant's data key (transaction fields are PII).
    let fields = mooring_anchor::sealed::open_fields(&tenant.data_key, tenant.id, id, &row.fields).unwrap();
    assert_eq!(fields["routing_number"], "121000248");
    let receiver = row.receiver_id.unwrap();
    transactions::request_customer_info(
        &env.db,
        &tenant,
        id,
        receiver,
        &[("bank_account_number".into(), "account does not exist".into())],
        "bank account rejected by the bank",
        &Actor::Operator,
    )
    .await
    .unwrap();
    let (_, body) = sa.get(&path).await;
    assert_eq!(body["transaction"]["status"], "pending_customer_info_update");
    let (_, view) = sa.get(&format!("/kyc/customer?transaction_id={id}&type=sep31-receiver")).await;
    assert_eq!(view["status"], "NEEDS_INFO");
    assert_eq!(view["id"], receiver.to_string());
    assert_eq!(view["provided_fields"]["bank_account_number"]["status"], "REJECTED");
    assert_eq!(view["provided_fields"]["bank_account_number"]["error"], "account does not exist");
    assert!(view["fields"]["bank_account_number"].is_object());

    let (status, _) = sa
        .put_json(
            "/kyc/customer",
            &json!({"transaction_id": id, "type": "sep31-receiver", "bank_account_number": "87654321"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, view) = sa.get(&format!("/kyc/customer?id={receiver}&type=sep31-receiver")).await;
    assert_eq!(view["status"], "ACCEPTED");
    let (_, body) = sa.get(&path).await;
    assert_eq!(body["transaction"]["status"], "pending_receiver");

    // Illegal moves are refused; legal ones complete the payment.
    assert!(
        transactions::transition(&env.db, t.id, id, Status::Expired, &Actor::System, None, |_| {})
            .await
            .is_err()
    );
    transactions::transition(&env.db, t.id, id, Status::PendingExternal, &Actor::Operator, None, |_| {})
        .await
        .unwrap();
    transactions::transition(&env.db, t.id, id, Status::Completed, &Actor::Operator, None, |row| {
        row.external_transaction_id = sea_orm::Set(Some("wire-1".into()));
    })
    .await
    .unwrap();
    let (_, body) = sa.get(&path).await;
    assert_eq!(body["transaction"]["status"], "completed");
    assert_eq!(body["transaction"]["external_transaction_id"], "wire-1");
    assert!(body["transaction"]["completed_at"].is_string());

    // Every change is in the history, in order.
    let events = transactions::events(&env.db, id, 1000).await.unwrap();
    let trail: Vec<_> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(
        trail,
        [
            "pending_sender",
            "pending_receiver",
            "pending_transaction_info_update",
            "pending_receiver",
            "pending_customer_info_update",
            "pending_receiver",
            "pending_external",
            "completed"
        ]
    );
    assert!(events[3].actor.starts_with("sending_anchor:"));
    assert_eq!(events[4].message.as_deref(), Some("bank account rejected by the bank"));
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_are_clear_4xx_and_write_nothing() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let sender = sa.accepted_customer("sep31-sender", "1").await;
    let receiver = sa.accepted_customer("sep31-receiver", "2").await;
    let good = json!({
        "amount": "100", "asset_code": "SRT", "funding_method": "SEPA", "sender_id": sender, "receiver_id": receiver,
        "fields": {"transaction": {"routing_number": "1", "account_number": "2"}},
    });
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases: Vec<(&str, Value, Option<Value>)> = vec![
        ("amount of the wrong type", with("amount", json!(true)), None),
        ("negative amount", with("amount", json!("-5")), None),
        ("zero amount", with("amount", json!(0)), None),
        ("over-precise amount", with("amount", json!("100.00000001")), None),
        ("below the minimum", with("amount", json!(5)), None),
        ("above the maximum", with("amount", json!("10000.0000001")), None),
        ("unknown asset", with("asset_code", json!("XYZ")), None),
        ("wrong issuer", with("asset_issuer", json!("GBAD")), None),
        ("unknown funding method", with("funding_method", json!("CASH")), None),
        ("quotes", with("quote_id", json!("q1")), None),
        ("refund memo without type", with("refund_memo", json!("123")), None),
        (
            "bad refund memo",
            with("refund_memo", json!("abc")).tap(|b| b["refund_memo_type"] = json!("id")),
            None,
        ),
        ("sender id of the wrong shape", with("sender_id", json!("nope")), None),
        ("missing amount", without("amount"), None),
        (
            "missing sender",
            without("sender_id"),
            Some(json!({"error": "customer_info_needed", "type": "sep31-sender"})),
        ),
        (
            "unknown sender",
            with("sender_id", json!(Uuid::new_v4())),
            Some(json!({"error": "customer_info_needed", "type": "sep31-sender"})),
        ),
        ("missing transaction field", without("fields"), None),
    ];
    for (what, body, expected) in cases {
        let (status, err) = sa.post_json("/sep31/transactions", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {err}");
        assert!(err["error"].is_string(), "{what}");
        if let Some(expected) = expected {
            assert_eq!(err, expected, "{what}");
        }
        if what == "missing transaction field" {
            assert_eq!(err["error"], "transaction_info_needed");
            assert!(err["fields"]["transaction"]["routing_number"].is_object());
        }
    }
    let raw = |body: &'static str| {
        sa.req(reqwest::Method::POST, "/sep31/transactions")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(raw("{not json").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(raw("[1,2]").await.unwrap().status(), StatusCode::BAD_REQUEST);
    let huge =
        sa.req(reqwest::Method::POST, "/sep31/transactions").body(vec![b' '; 300_000]).send().await.unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // KYC values: a wrong date, a country that is not alpha-3, a file sent as text.
    for (field, value) in [("birth_date", "01/02/1990"), ("address", "")] {
        let (status, err) =
            sa.put_json("/kyc/customer", &json!({"type": "sep31-sender", "memo": "9", field: value})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}");
        assert!(err["error"].as_str().unwrap().contains(field));
    }
    let (status, _) = sa
        .put_json("/kyc/customer", &json!({"type": "sep31-sender", "memo": "9", "photo_id_front": "abc"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sa
        .put_json(
            "/kyc/customer",
            &json!({"type": "sep31-sender", "memo": "9", "address_country_code": "BR"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sa.put_json("/kyc/customer", &json!({"type": "no-such-type", "memo": "9"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sa
        .put_json("/kyc/customer", &json!({"type": "sep31-sender", "memo": "9", "favourite_colour": "blue"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert_eq!(transaction::Entity::find().count(&env.db).await.unwrap(), 0);
    assert_eq!(transaction_event::Entity::find().count(&env.db).await.unwrap(), 0);
    assert_eq!(
        mooring_entities::customer::Entity::find().count(&env.db).await.unwrap(),
        2,
        "only the two good customers"
    );
    app.stop().await;
}

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

#[tokio::test]
async fn idempotency_key_makes_retries_safe() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let sender = sa.accepted_customer("sep31-sender", "1").await;
    let receiver = sa.accepted_customer("sep31-receiver", "2").await;
    let body = json!({
        "amount": 50, "asset_code": "SRT", "sender_id": sender, "receiver_id": receiver,
        "fields": {"transaction": {"routing_number": "1", "account_number": "2"}},
    });
    let post = |key: &'static str, body: Value| {
        sa.req(reqwest::Method::POST, "/sep31/transactions").header("idempotency-key", key).json(&body).send()
    };
    let first = post("k-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    // Retries, concurrent ones included, get the same transaction.
    let retries = futures::future::join_all((0..4).map(|_| post("k-1", body.clone()))).await;
    for r in retries {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        assert_eq!(r.json::<Value>().await.unwrap(), first);
    }
    // The same key for another request is a conflict; a new key is a new transaction.
    let mut other = body.clone();
    other["amount"] = json!(60);
    assert_eq!(post("k-1", other).await.unwrap().status(), StatusCode::CONFLICT);
    let second: Value = post("k-2", body.clone()).await.unwrap().json().await.unwrap();
    assert_ne!(second["id"], first["id"]);
    assert_ne!(second["stellar_memo"], first["stellar_memo"]);
    assert_eq!(transaction::Entity::find().count(&env.db).await.unwrap(), 2);
    app.stop().await;
}

/// Requests that arrive together are committed together (one database transaction for
/// many), and each still gets exactly its own answer: its own id, memo and amount, one
/// event each, and for two concurrent first requests with one `Idempotency-Key`, one
/// transaction with the second answered as a replay.
#[tokio::test]
async fn transactions_arriving_together_commit_together_each_with_its_own_answer() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let sender = sa.accepted_customer("sep31-sender", "1").await;
    let receiver = sa.accepted_customer("sep31-receiver", "2").await;
    let body = |amount: u32| {
        json!({
            "amount": amount.to_string(), "asset_code": "SRT", "sender_id": sender, "receiver_id": receiver,
            "fields": {"transaction": {"routing_number": "1", "account_number": "2"}},
        })
    };
    // 12 without a key (amounts 20..=31), and 4 keys each sent twice at once (40..=43).
    let requests: Vec<(Option<String>, u32)> = (0..12)
        .map(|i| (None, 20 + i))
        .chain((0..8).map(|i| (Some(format!("together-{}", i / 2)), 40 + i / 2)))
        .collect();
    let commits = app.server.state.new_transactions.clone();
    let batches_before = commits.batches();

    // Hold the writers back until all 20 are handed in: SQLite's write turn, or on
    // PostgreSQL a lock the inserts wait for (reads go on).
    let held = if env.database_url.starts_with("postgres") {
        let txn = env.db.begin().await.unwrap();
        txn.execute_unprepared("LOCK TABLE transactions IN EXCLUSIVE MODE").await.unwrap();
        Held::Postgres(txn)
    } else {
        Held::Sqlite(mooring_entities::write_turn(&env.db).await.unwrap())
    };
    let sent: Vec<_> = requests
        .iter()
        .map(|(key, amount)| {
            let mut req = sa.req(reqwest::Method::POST, "/sep31/transactions").json(&body(*amount));
            if let Some(key) = key {
                req = req.header("idempotency-key", key.as_str());
            }
            tokio::spawn(req.send())
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while commits.in_flight() < requests.len() {
        assert!(std::time::Instant::now() < deadline, "{} handed in", commits.in_flight());
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    match held {
        Held::Postgres(txn) => txn.rollback().await.unwrap(),
        Held::Sqlite(turn) => drop(turn),
    }

    let mut answers = Vec::new();
    for s in sent {
        let r = s.await.unwrap().unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let replayed = r.headers().contains_key("idempotent-replayed");
        answers.push((r.json::<Value>().await.unwrap(), replayed));
    }
    // A worker or two held a few while the rest waited; then the rest went in one.
    let batches = commits.batches() - batches_before;
    assert!(batches <= 3, "{batches} database transactions for 20 requests");

    let mut ids = std::collections::HashSet::new();
    for ((key, amount), (answer, replayed)) in requests.iter().zip(&answers) {
        let id = answer["id"].as_str().unwrap();
        let (status, got) = sa.get(&format!("/sep31/transactions/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(got["transaction"]["amount_in"], json!(amount.to_string()), "its own amount");
        assert_eq!(got["transaction"]["stellar_memo"], answer["stellar_memo"], "its own memo");
        if key.is_none() {
            assert!(!replayed);
        }
        ids.insert(id.to_string());
    }
    // Each key: the same transaction for both, exactly one of them a replay.
    for pair in answers[12..].chunks(2) {
        assert_eq!(pair[0].0, pair[1].0);
        assert!(pair[0].1 ^ pair[1].1, "one replay per key");
    }
    assert_eq!(ids.len(), 16);
    assert_eq!(transaction::Entity::find().count(&env.db).await.unwrap(), 16);
    assert_eq!(transaction_event::Entity::find().count(&env.db).await.unwrap(), 16, "one event each");
    app.stop().await;
}

enum Held {
    Postgres(sea_orm::DatabaseTransaction),
    Sqlite(Option<tokio::sync::OwnedSemaphorePermit>),
}

#[tokio::test]
async fn unpaid_transactions_expire() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start_with(|c| c.transaction_expiry_secs = std::time::Duration::from_secs(1)).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
        if body["transaction"]["status"] == "expired" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {}", body["transaction"]["status"]);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let events = transactions::events(&env.db, id.parse().unwrap(), 1000).await.unwrap();
    assert_eq!(events.last().unwrap().actor, "system");
    app.stop().await;
}
