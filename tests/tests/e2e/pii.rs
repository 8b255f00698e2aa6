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
