//! Conformance mode: an operator lets a testnet tenant's SEP-10 authenticate any
//! account (an anchor validator's fresh keys), visible in GraphQL; a tenant cannot set
//! it, a public-network tenant refuses it, and turning it off closes the door again.

use mooring_stellar::Keypair;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Admin, Sa, TestEnv, unique_domain};

const SET: &str =
    "mutation($t: ID!, $on: Boolean!) { setConformanceMode(tenantId: $t, enabled: $on) { conformanceMode } }";

#[tokio::test]
async fn conformance_mode_lets_any_account_in_on_testnet_only() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("c");
    let t = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let stranger = Keypair::generate();
    let account = stranger.public_key().to_string();
    let (status, _) = app.challenge(&domain, &format!("account={account}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "approved senders only by default");

    // A tenant's own key may not open its door to everyone.
    let operator = Admin::operator(&app);
    let key = operator
        .ok(
            "mutation($t: ID) { createApiKey(tenantId: $t, name: \"k\") { key } }",
            json!({ "t": t.id.to_string() }),
        )
        .await["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let vars = json!({ "t": t.id.to_string(), "on": true });
    assert_eq!(Admin::with_key(&app, &key).error_code(SET, vars.clone()).await, "FORBIDDEN");

    // The operator turns it on: the validator's fresh key gets a token and can work.
    let on = operator.ok(SET, vars).await;
    assert_eq!(on["setConformanceMode"]["conformanceMode"], true);
    let sa = Sa::login(&app, &domain, &stranger).await;
    let (status, _) = sa.get("/sep31/info").await;
    assert_eq!(status, StatusCode::OK);
    sa.accepted_customer("sep31-sender", "1").await;

    // Off again: no new tokens, and the one issued stops working.
    operator.ok(SET, json!({ "t": t.id.to_string(), "on": false })).await;
    let (status, _) = app.challenge(&domain, &format!("account={account}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sa.get("/kyc/customer?memo=1&type=sep31-sender").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Never on the public network.
    let create = "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }";
    let public = operator
        .ok(
            create,
            json!({ "input": { "name": "live", "domains": [unique_domain("p")], "network": "PUBLIC",
                    "distributionAccount": Keypair::generate().public_key().to_string() } }),
        )
        .await;
    let id = public["createTenant"]["tenant"]["id"].clone();
    assert_eq!(operator.error_code(SET, json!({ "t": id, "on": true })).await, "INVALID_INPUT");
    app.stop().await;
}
