//! The admin audit log: every mutation, by whom (operator token, or API key by id and
//! name), on which tenant and target, with its arguments redacted, its outcome and the
//! request id; a tenant reads only its own; retention deletes old rows.

use serde_json::{Value, json};

use crate::common::{ADMIN_HOST, Admin, TestEnv, unique_domain};

const LOG: &str = "query($t: ID) { auditLog(tenantId: $t) { mutation tenantId actor keyId keyName targetId summary outcome requestId } }";

fn entries(data: &Value) -> Vec<Value> {
    data["auditLog"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_mutation_is_audited_with_who_what_and_redacted_arguments() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (a, b) = (env.tenant(&unique_domain("a")).await, env.tenant(&unique_domain("b")).await);
    app.server.state.tenants.refresh().await.unwrap();
    let operator = Admin::operator(&app);
    let created = operator
        .ok(
            "mutation($t: ID) { createApiKey(tenantId: $t, name: \"back office\") { key apiKey { id } } }",
            json!({ "t": a.id.to_string() }),
        )
        .await;
    let key = created["createApiKey"]["key"].as_str().unwrap().to_string();
    let key_id = created["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_string();
    let tenant_a = Admin::with_key(&app, &key);

    // A change by the tenant's key, with a request id from the proxy.
    let hook = "mutation($u: String!) { createWebhookEndpoint(input: { url: $u, eventTypes: [\"payment.unmatched\"] }) { secret endpoint { id } } }";
    let res: Value = app
        .post(ADMIN_HOST, "/graphql")
        .bearer_auth(&key)
        .header("x-request-id", "req-4242")
        .json(&json!({ "query": hook, "variables": { "u": "http://127.0.0.1:9/hooks/very-private" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = res["data"]["createWebhookEndpoint"]["secret"].as_str().unwrap().to_string();
    // One refused (nothing changed), one by the operator on another tenant.
    let missing = uuid::Uuid::new_v4().to_string();
    let test = "mutation($id: ID!) { sendTestWebhook(id: $id) { id } }";
    assert_eq!(tenant_a.error_code(test, json!({ "id": missing })).await, "NOT_FOUND");
    operator
        .ok("mutation($t: ID!) { suspendTenant(tenantId: $t) { id } }", json!({ "t": b.id.to_string() }))
        .await;

    // The tenant sees its own entries only.
    let mine = entries(&tenant_a.ok(LOG, json!({})).await);
    assert!(mine.iter().all(|e| e["tenantId"] == a.id.to_string()), "{mine:?}");
    let created = mine.iter().find(|e| e["mutation"] == "createWebhookEndpoint").expect("audited");
    assert_eq!(created["actor"], "api_key");
    assert_eq!(
        (created["keyId"].as_str(), created["keyName"].as_str()),
        (Some(key_id.as_str()), Some("back office"))
    );
    assert_eq!((created["outcome"].as_str(), created["requestId"].as_str()), (Some("ok"), Some("req-4242")));
    let summary: Value = serde_json::from_str(created["summary"].as_str().unwrap()).unwrap();
    assert_eq!(summary["input"]["eventTypes"], json!(["payment.unmatched"]), "harmless values kept");
    assert_eq!(summary["input"]["url"], "<redacted>");
    let refused = mine.iter().find(|e| e["mutation"] == "sendTestWebhook").expect("audited");
    assert_eq!(
        (refused["outcome"].as_str(), refused["targetId"].as_str()),
        (Some("error"), Some(missing.as_str()))
    );
    let everything = serde_json::to_string(&mine).unwrap();
    assert!(!everything.contains(&secret) && !everything.contains("very-private"), "secrets in the log");

    // The operator sees every tenant's, and who did it.
    let all = entries(&operator.ok(LOG, json!({})).await);
    let suspended = all.iter().find(|e| e["mutation"] == "suspendTenant").expect("audited");
    assert_eq!(
        (suspended["actor"].as_str(), suspended["tenantId"].as_str()),
        (Some("operator_token"), Some(b.id.to_string().as_str()))
    );
    assert!(suspended["keyId"].is_null());
    let only_b = entries(&operator.ok(LOG, json!({ "t": b.id.to_string() })).await);
    assert!(!only_b.is_empty() && only_b.iter().all(|e| e["tenantId"] == b.id.to_string()));
    // A tenant key cannot read another tenant's log.
    assert_eq!(tenant_a.error_code(LOG, json!({ "t": b.id.to_string() })).await, "NOT_FOUND");

    // The row rides in the change's transaction: a write that rolls back (a domain
    // already taken is found inside it) leaves one row, marked as an error.
    let taken = app.server.state.tenants.by_id(a.id).unwrap().domains[0].clone();
    let create = "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }";
    let account = mooring_stellar::Keypair::generate().public_key().to_string();
    let input = json!({ "input": { "name": "dup", "domains": [taken], "network": "TESTNET", "distributionAccount": account } });
    assert_eq!(operator.error_code(create, input).await, "CONFLICT");
    let all = entries(&operator.ok(LOG, json!({})).await);
    let creates: Vec<&Value> = all.iter().filter(|e| e["mutation"] == "createTenant").collect();
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert_eq!(creates[0]["outcome"], "error");

    // Retention.
    let gone = mooring_tenants::audit::purge(&env.db, chrono::Duration::zero()).await.unwrap();
    assert!(gone as usize >= all.len());
    assert!(entries(&operator.ok(LOG, json!({})).await).is_empty());
    app.stop().await;
}
