//! Customer PII at rest: sealed with the tenant's data key before it reaches the
//! database (text and files), readable through the admin API only; rows written in
//! plaintext before are sealed at start-up.

use std::time::{Duration, Instant};

use mooring_entities::customer_field;
use mooring_tenants::pii::{Slot, is_sealed_file, is_sealed_text};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::common::{Admin, Sa, TestEnv, tenant_of, unique_domain};

const SECRETS: [&str; 4] = ["Zyxwvutsrq", "Qponmlkjih", "zyx.secret@example.org", "98765432101"];
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0JFIF-secret-photo-bytes";

/// Everything the database holds for customer fields, as raw text and bytes.
async fn raw_rows(env: &TestEnv) -> Vec<(Option<String>, Option<Vec<u8>>)> {
    let backend = env.db.get_database_backend();
    let rows = env
        .db
        .query_all_raw(Statement::from_string(backend, "SELECT value, data FROM customer_fields"))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get::<Option<String>>("", "value").unwrap(),
                r.try_get::<Option<Vec<u8>>>("", "data").unwrap(),
            )
        })
        .collect()
}

const CUSTOMER: &str = "query($c: ID!) { customer(id: $c) { fields { name value isFile size } } }";

#[tokio::test]
async fn customer_pii_is_sealed_at_rest_and_read_back_through_the_admin_api() {
    let env = TestEnv::new().await;
    let domain = unique_domain("p");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let form = reqwest::multipart::Form::new()
        .text("type", "sep31-receiver")
        .text("memo", "7")
        .text("first_name", SECRETS[0])
        .text("last_name", SECRETS[1])
        .text("email_address", SECRETS[2])
        .text("bank_number", "026009593")
        .text("bank_account_number", SECRETS[3])
        .part("photo_id_front", reqwest::multipart::Part::bytes(PHOTO.to_vec()).file_name("id.jpg"));
    let res = sa.req(reqwest::Method::PUT, "/kyc/customer").multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Nothing readable in the table, by value or by file body.
    let rows = raw_rows(&env).await;
    assert_eq!(rows.len(), 6);
    for (value, data) in &rows {
        if let Some(v) = value {
            assert!(is_sealed_text(v), "plaintext value at rest: {v}");
            assert!(SECRETS.iter().all(|s| !v.contains(s)));
        }
        if let Some(d) = data {
            assert!(
                is_sealed_file(d) && !d.windows(PHOTO.len()).any(|w| w == PHOTO),
                "plaintext file at rest"
            );
        }
    }
    // With SQLite, not in the database file either (WAL included).
    if let Some(path) = env.database_url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()) {
        for file in [path.to_string(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            for s in SECRETS {
                assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{s} in {file}");
            }
            assert!(!bytes.windows(PHOTO.len()).any(|w| w == PHOTO), "the photo in {file}");
        }
    }

    // The tenant reads them back in the clear; the file as its size.
    let data = Admin::operator(&app).ok(CUSTOMER, json!({ "c": id })).await;
    let fields = data["customer"]["fields"].as_array().unwrap();
    let value = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap()["value"].clone();
    assert_eq!(value("first_name"), SECRETS[0]);
    assert_eq!(value("email_address"), SECRETS[2]);
    assert_eq!(value("bank_account_number"), SECRETS[3]);
    let photo = fields.iter().find(|f| f["name"] == "photo_id_front").unwrap();
    assert_eq!((photo["isFile"].as_bool(), photo["size"].as_i64()), (Some(true), Some(PHOTO.len() as i64)));

    // A sealed value copied to another field (or customer) does not open there.
    let key = tenant_of(&app, &domain).data_key.clone();
    let customer: Uuid = id.parse().unwrap();
    let stored = customer_field::Entity::find_by_id((customer, "first_name".to_string()))
        .one(&env.db)
        .await
        .unwrap()
        .unwrap()
        .value
        .unwrap();
    let here = Slot { tenant: t.id, customer, field: "first_name" };
    assert_eq!(key.open_text(here, &stored).unwrap(), SECRETS[0]);
    assert!(key.open_text(Slot { field: "last_name", ..here }, &stored).is_err());
    app.stop().await;
}

#[tokio::test]
async fn fields_stored_in_plaintext_before_are_sealed_at_start() {
    let env = TestEnv::new().await;
    let domain = unique_domain("l");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id: Uuid = sa.accepted_customer("sep31-sender", "9").await.parse().unwrap();
    app.stop().await;
    // As an older release left it: plaintext.
    let legacy = customer_field::Entity::find_by_id((id, "first_name".to_string()))
        .one(&env.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: customer_field::ActiveModel = legacy.into();
    row.value = sea_orm::Set(Some(SECRETS[0].to_string()));
    sea_orm::ActiveModelTrait::update(row, &env.db).await.unwrap();
    assert!(raw_rows(&env).await.iter().any(|(v, _)| v.as_deref() == Some(SECRETS[0])));

    let app = env.start().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while raw_rows(&env).await.iter().any(|(v, _)| v.as_deref().is_some_and(|v| !is_sealed_text(v))) {
        assert!(Instant::now() < deadline, "plaintext left at rest");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let data = Admin::operator(&app).ok(CUSTOMER, json!({ "c": id.to_string() })).await;
    let first =
        data["customer"]["fields"].as_array().unwrap().iter().find(|f| f["name"] == "first_name").cloned();
    assert_eq!(first.unwrap()["value"], SECRETS[0]);
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_without_a_data_key_gets_one_when_loaded() {
    let env = TestEnv::new().await;
    let domain = unique_domain("k");
    let t = env.tenant(&domain).await;
    // As an older release leaves a tenant it creates: no data key.
    let row = mooring_entities::tenant::Entity::find_by_id(t.id).one(&env.db).await.unwrap().unwrap();
    let mut row: mooring_entities::tenant::ActiveModel = row.into();
    row.data_key = sea_orm::Set(None);
    sea_orm::ActiveModelTrait::update(row, &env.db).await.unwrap();

    let app = env.start().await;
    let stored = mooring_entities::tenant::Entity::find_by_id(t.id).one(&env.db).await.unwrap().unwrap();
    let sealed = stored.data_key.expect("made when the tenant was loaded");
    assert!(!sealed.is_empty());
    // It is the key the server uses: what it seals, the stored key opens.
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id: Uuid = sa.accepted_customer("sep31-sender", "3").await.parse().unwrap();
    let key = mooring_tenants::pii::DataKey::unseal(&env.master_key, t.id, &sealed).unwrap();
    let field = customer_field::Entity::find_by_id((id, "last_name".to_string()))
        .one(&env.db)
        .await
        .unwrap()
        .unwrap();
    let slot = Slot { tenant: t.id, customer: id, field: "last_name" };
    assert_eq!(key.open_text(slot, field.value.as_deref().unwrap()).unwrap(), "Silva");
    app.stop().await;
}

/// Everything the database holds, as bytes: `pg_dump` on PostgreSQL, the files (WAL
/// included) on SQLite.
async fn dump(env: &TestEnv) -> Vec<u8> {
    match env.database_url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()) {
        Some(path) => {
            let mut bytes = Vec::new();
            for file in [path.to_string(), format!("{path}-wal")] {
                bytes.extend(std::fs::read(&file).unwrap_or_default());
            }
            bytes
        }
        None => {
            let out = tokio::process::Command::new("pg_dump")
                .args(["--data-only", "--no-owner", &env.database_url])
                .output()
                .await
                .expect("pg_dump is installed");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn transaction_fields_and_callback_urls_are_sealed_and_gone_with_the_tenant() {
    use mooring_stellar::sep31::Status;
    let env = TestEnv::new().await;
    let domain = unique_domain("dump");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let receiver = crate::common::CallbackReceiver::start().await;
    // The PII: a payout account and routing number, and callback URLs naming people.
    let (account, routing) = ("DE44500105175407324931", "ROUTE7731902");
    let (customer_cb, transaction_cb) =
        (format!("{}?who=alice-kyc-7731", receiver.url), format!("{}?who=bob-payout-4410", receiver.url));
    let pii = [account, routing, "alice-kyc-7731", "bob-payout-4410"];

    let memo = Uuid::new_v4().simple().to_string();
    let sender = sa.accepted_customer("sep31-sender", &format!("s{memo}")).await;
    let receiver_id = sa.accepted_customer("sep31-receiver", &format!("r{memo}")).await;
    let mut body = crate::common::transaction_request(&sender, &receiver_id);
    body["fields"]["transaction"] = json!({ "routing_number": routing, "account_number": account });
    let (status, created) = sa.post_json("/sep31/transactions", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let tx_id = created["id"].as_str().unwrap().to_string();
    let (status, _) = sa
        .put_json(&format!("/sep31/transactions/{tx_id}/callback"), &json!({ "url": transaction_cb }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) =
        sa.put_json("/kyc/customer/callback", &json!({ "id": receiver_id, "url": customer_cb })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The callbacks still reach the sending anchor at its URL (opened to send).
    let paid = crate::watcher::tx(&env, &tx_id).await;
    env.horizon.add_payment(&paid.stellar_account_id, &crate::watcher::pay_for(&paid));
    crate::watcher::wait_status(&env, &tx_id, Status::PendingReceiver).await;
    receiver.wait_for(15, |b| b.iter().any(|b| b["transaction"]["status"] == "pending_receiver")).await;
    let paths: Vec<String> =
        receiver.received.lock().unwrap().iter().map(|(h, _)| format!("{h:?}")).collect();
    assert!(!paths.is_empty());

    let before = dump(&env).await;
    assert!(contains(&before, &tx_id), "the dump holds the transaction");
    for value in pii {
        assert!(!contains(&before, value), "{value} is in the database in plaintext");
    }

    // Offboarded: the data key is gone in deleteTenant's own transaction, so the sealed
    // values do not open any more, before any purge batch runs.
    let admin = Admin::operator(&app);
    admin
        .ok("mutation($t: ID!) { suspendTenant(tenantId: $t) { id } }", json!({ "t": t.id.to_string() }))
        .await;
    admin
        .ok(
            "mutation($t: ID!, $c: String!) { deleteTenant(tenantId: $t, confirm: $c) }",
            json!({ "t": t.id.to_string(), "c": domain }),
        )
        .await;
    let after = dump(&env).await;
    for value in pii {
        assert!(!contains(&after, value), "{value} is in the database after offboarding");
    }
    let row = mooring_entities::tenant::Entity::find_by_id(t.id).one(&env.db).await.unwrap();
    assert!(row.is_none_or(|r| r.data_key.is_none()), "the data key outlived the tenant");
    app.stop().await;
}

#[tokio::test]
async fn transaction_fields_and_callback_urls_stored_in_plaintext_before_are_sealed_at_start() {
    let env = TestEnv::new().await;
    let domain = unique_domain("lt");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let id: Uuid = sa.transaction().await.parse().unwrap();
    app.stop().await;
    // As an older release left it.
    let legacy = mooring_entities::transaction::Entity::find_by_id(id).one(&env.db).await.unwrap().unwrap();
    let mut row: mooring_entities::transaction::ActiveModel = legacy.into();
    row.fields = sea_orm::Set(json!({ "account_number": "LEGACY-ACCT-5521" }));
    row.callback_url = sea_orm::Set(Some("https://sa.example/cb/legacy-carol".into()));
    sea_orm::ActiveModelTrait::update(row, &env.db).await.unwrap();

    let app = env.start().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = mooring_entities::transaction::Entity::find_by_id(id).one(&env.db).await.unwrap().unwrap();
        let url = row.callback_url.clone().unwrap();
        if row.fields.is_string() && is_sealed_text(&url) {
            let key = tenant_of(&app, &domain).data_key.clone();
            let fields = mooring_anchor::sealed::open_fields(&key, t.id, id, &row.fields).unwrap();
            assert_eq!(fields["account_number"], "LEGACY-ACCT-5521");
            let opened = mooring_anchor::sealed::open_url(&key, t.id, id, &url).unwrap();
            assert_eq!(opened, "https://sa.example/cb/legacy-carol");
            break;
        }
        assert!(Instant::now() < deadline, "plaintext left at rest: {row:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}
