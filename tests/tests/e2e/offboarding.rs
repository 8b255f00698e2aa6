//! Tenant offboarding: only a suspended tenant, only with its domain repeated; then its
//! endpoints answer 404, its customers' PII is unreadable at once (data key
//! destroyed), its rows are deleted in the background, other tenants are untouched,
//! and its domain and account can serve a new tenant. Its transactions can be
//! exported first, without PII.

use std::time::{Duration, Instant};

use mooring_entities::{customer, customer_field, tenant, transaction};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{Admin, Sa, TestEnv, unique_domain};

const DELETE: &str = "mutation($t: ID!, $c: String!) { deleteTenant(tenantId: $t, confirm: $c) }";
const EXPORT: &str = "query($t: ID, $f: ExportFormat!) { exportTransactions(tenantId: $t, format: $f) }";

#[tokio::test]
async fn a_deleted_tenant_is_gone_its_pii_unreadable_and_its_rows_purged() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (gone_domain, kept_domain) = (unique_domain("gone"), unique_domain("kept"));
    let gone = env.tenant(&gone_domain).await;
    let kept = env.tenant(&kept_domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let account =
        tenant::Entity::find_by_id(gone.id).one(&env.db).await.unwrap().unwrap().distribution_account;
    let tx_id = Sa::login(&app, &gone_domain, &gone.sender).await.transaction().await;
    let kept_tx = Sa::login(&app, &kept_domain, &kept.sender).await.transaction().await;
    let admin = Admin::operator(&app);
    let t = json!(gone.id.to_string());

    // The export first: every transaction, customers by id only.
    let csv = admin.ok(EXPORT, json!({ "t": t, "f": "CSV" })).await["exportTransactions"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(csv.starts_with("\"id\",\"status\",") && csv.contains(&tx_id), "{csv}");
    let exported = admin.ok(EXPORT, json!({ "t": t, "f": "JSON" })).await;
    let rows: serde_json::Value =
        serde_json::from_str(exported["exportTransactions"].as_str().unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    for pii in ["Silva", "ana@example.com", "12345678"] {
        assert!(!csv.contains(pii) && !rows.to_string().contains(pii), "{pii} exported");
    }

    // Only a suspended tenant, and only with its domain repeated.
    assert_eq!(admin.error_code(DELETE, json!({ "t": t, "c": gone_domain })).await, "CONFLICT");
    admin.ok("mutation($t: ID!) { suspendTenant(tenantId: $t) { id } }", json!({ "t": t })).await;
    assert_eq!(admin.error_code(DELETE, json!({ "t": t, "c": kept_domain })).await, "INVALID_INPUT");
    assert_eq!(admin.ok(DELETE, json!({ "t": t, "c": gone_domain })).await["deleteTenant"], true);

    // At once: gone from every endpoint, its data key destroyed, never to come back.
    let toml = app.get(&gone_domain, "/.well-known/stellar.toml").send().await.unwrap();
    assert_eq!(toml.status(), StatusCode::NOT_FOUND);
    let row = tenant::Entity::find_by_id(gone.id).one(&env.db).await.unwrap();
    if let Some(row) = row {
        assert!(row.data_key.is_none() && row.signing_seed_ciphertext.is_empty(), "keys destroyed");
    }
    let resume = "mutation($t: ID!) { resumeTenant(tenantId: $t) { id } }";
    assert_eq!(admin.error_code(resume, json!({ "t": t })).await, "NOT_FOUND");
    assert_eq!(
        admin.error_code("query($t: ID!) { tenant(id: $t) { id } }", json!({ "t": t })).await,
        "NOT_FOUND"
    );

    // Then its rows go, in the background.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = customer::Entity::find()
            .filter(customer::Column::TenantId.eq(gone.id))
            .count(&env.db)
            .await
            .unwrap()
            + transaction::Entity::find()
                .filter(transaction::Column::TenantId.eq(gone.id))
                .count(&env.db)
                .await
                .unwrap()
            + tenant::Entity::find_by_id(gone.id).count(&env.db).await.unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} rows of the deleted tenant remain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The other tenant is untouched; the freed domain and account serve a new tenant.
    let kept_row =
        transaction::Entity::find_by_id(kept_tx.parse::<uuid::Uuid>().unwrap()).one(&env.db).await.unwrap();
    assert!(kept_row.is_some());
    assert!(customer_field::Entity::find().count(&env.db).await.unwrap() > 0, "the kept tenant's customers");
    let kept_toml = app.get(&kept_domain, "/.well-known/stellar.toml").send().await.unwrap();
    assert_eq!(kept_toml.status(), StatusCode::OK);
    let create = "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }";
    admin
        .ok(
            create,
            json!({ "input": { "name": "again", "domains": [gone_domain], "network": "TESTNET",
                    "distributionAccount": account } }),
        )
        .await;
    app.stop().await;
}
