//! SEP-12 specifics: who may see which customer, memos, files, deletion.

use mooring_entities::{customer, customer_field};
use mooring_stellar::Keypair;
use mooring_tenants::admin;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::common::{Sa, TestEnv, unique_domain};

#[tokio::test]
async fn customers_and_transactions_are_private_to_their_sending_anchor_and_tenant() {
    let env = TestEnv::new().await;
    let (a, b) = (unique_domain("a"), unique_domain("b"));
    let ta = env.tenant(&a).await;
    let tb = env.tenant(&b).await;
    let other_sa = Keypair::generate();
    admin::approve_sender(&env.db, ta.id, &other_sa.public_key().to_string(), "another SA").await.unwrap();
    // The same sending anchor is approved at both tenants.
    admin::approve_sender(&env.db, tb.id, &ta.sender.public_key().to_string(), "also at B").await.unwrap();
    let app = env.start().await;

    let owner = Sa::login(&app, &a, &ta.sender).await;
    let stranger = Sa::login(&app, &a, &other_sa).await;
    let elsewhere = Sa::login(&app, &b, &ta.sender).await;
    let tx = owner.transaction().await;
    let customer = owner.accepted_customer("sep31-sender", "77").await;

    for sa in [&stranger, &elsewhere] {
        let (status, _) = sa.get(&format!("/kyc/customer?id={customer}&type=sep31-sender")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = sa
            .put_json("/kyc/customer", &json!({"id": customer, "type": "sep31-sender", "first_name": "X"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = sa.get(&format!("/sep31/transactions/{tx}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = sa
            .patch_json(&format!("/sep31/transactions/{tx}"), &json!({"fields": {"transaction": {}}}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = sa
            .put_json(&format!("/sep31/transactions/{tx}/callback"), &json!({"url": "http://127.0.0.1:9/cb"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = sa.get(&format!("/kyc/customer?transaction_id={tx}&type=sep31-sender")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The memo is the owner's, but the account is not: a fresh, empty customer.
        let (_, view) = sa.get("/kyc/customer?type=sep31-sender&memo=77").await;
        assert_eq!(view["status"], "NEEDS_INFO");
        assert!(view.get("id").is_none());
    }
    // A random id and a malformed one are 404 too.
    assert_eq!(owner.get(&format!("/kyc/customer?id={}", Uuid::new_v4())).await.0, StatusCode::NOT_FOUND);
    assert_eq!(owner.get("/sep31/transactions/not-a-uuid").await.0, StatusCode::NOT_FOUND);
    // Unauthenticated calls are refused.
    let res = app.get(&a, "/kyc/customer?type=sep31-sender").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn memos_separate_customers_and_token_memos_bind() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let one = sa.accepted_customer("sep31-sender", "1").await;
    let two = sa.accepted_customer("sep31-sender", "2").await;
    assert_ne!(one, two);
    let (_, view) = sa.get("/kyc/customer?type=sep31-sender&memo=1").await;
    assert_eq!(view["id"], one);

    // A token for G:memo speaks only for that memo.
    let (_, body) = app.challenge(&domain, &format!("account={}&memo=1", t.sender.public_key())).await;
    let signed = mooring_stellar::challenge::sign(
        body["transaction"].as_str().unwrap(),
        &crate::common::network(),
        &t.sender,
    )
    .unwrap();
    let token = app.exchange(&domain, &signed).await.1["token"].as_str().unwrap().to_string();
    let memo_sa = Sa { app: &app, domain: domain.clone(), token };
    let (_, view) = memo_sa.get("/kyc/customer?type=sep31-sender").await;
    assert_eq!(view["id"], one);
    let (status, _) = memo_sa.get("/kyc/customer?type=sep31-sender&memo=2").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn multipart_files_are_stored_and_capped() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let sa = Sa::login(&app, &domain, &t.sender).await;

    let photo = vec![0xffu8, 0xd8, 0xff, 0xe0, 1, 2, 3, 4];
    let form = reqwest::multipart::Form::new()
        .text("type", "sep31-sender")
        .text("memo", "5")
        .text("first_name", "Ana")
        .text("last_name", "Silva")
        .text("email_address", "ana@example.com")
        .part(
            "photo_id_front",
            reqwest::multipart::Part::bytes(photo.clone())
                .file_name("id.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let res = sa.req(reqwest::Method::PUT, "/kyc/customer").multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id: Uuid = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap();
    let stored = customer_field::Entity::find_by_id((id, "photo_id_front".to_string()))
        .one(&env.db)
        .await
        .unwrap()
        .unwrap();
    // Stored sealed with the tenant's data key (the `pii` tests look at the table).
    let key = crate::common::tenant_of(&app, &domain).data_key.clone();
    let slot = mooring_tenants::pii::Slot { tenant: t.id, customer: id, field: "photo_id_front" };
    assert_eq!(key.open_file(slot, stored.data.as_deref().unwrap()).unwrap(), photo);
    assert_eq!(stored.content_type.as_deref(), Some("image/jpeg"));
    let (_, view) = sa.get(&format!("/kyc/customer?id={id}&type=sep31-sender")).await;
    assert_eq!(view["status"], "ACCEPTED");

    let big = reqwest::multipart::Form::new()
        .text("type", "sep31-sender")
        .text("memo", "6")
        .part("photo_id_back", reqwest::multipart::Part::bytes(vec![7u8; 100 * 1024]).file_name("big.jpg"));
    let res = sa.req(reqwest::Method::PUT, "/kyc/customer").multipart(big).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (_, view) = sa.get("/kyc/customer?type=sep31-sender&memo=6").await;
    assert!(view.get("id").is_none(), "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn delete_erases_the_personal_data() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let sa = Sa::login(&app, &domain, &t.sender).await;
    let keep = sa.accepted_customer("sep31-sender", "1").await;
    let gone: Uuid = sa.accepted_customer("sep31-sender", "2").await.parse().unwrap();
    let account = t.sender.public_key().to_string();

    // Only one's own account can be deleted.
    let other = Keypair::generate().public_key().to_string();
    assert_eq!(
        sa.delete(&format!("/kyc/customer/{other}"), &json!({"memo": "2"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(sa.delete(&format!("/kyc/customer/{account}"), &json!({"memo": "2"})).await.0, StatusCode::OK);
    assert_eq!(sa.get(&format!("/kyc/customer?id={gone}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(customer::Entity::find_by_id(gone).one(&env.db).await.unwrap(), None);
    let leftovers = customer_field::Entity::find()
        .filter(customer_field::Column::CustomerId.eq(gone))
        .count(&env.db)
        .await
        .unwrap();
    assert_eq!(leftovers, 0);
    assert_eq!(
        sa.delete(&format!("/kyc/customer/{account}"), &json!({"memo": "2"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(sa.get(&format!("/kyc/customer?id={keep}")).await.0, StatusCode::OK);
    app.stop().await;
}
