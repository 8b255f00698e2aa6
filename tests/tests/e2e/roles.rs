//! Scoped API keys (issue 31): READ queries, OPERATE also moves transactions and
//! reviews customers, ADMIN does everything the tenant may. Every mutation of the
//! schema is refused to a key below its role with FORBIDDEN, whatever the document
//! carries (even one that would not validate), over HTTP and over the WebSocket; the
//! refused change is not made; the audit log records the key's roles.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};

use crate::common::{Admin, Sa, TestEnv, graphql_ws, unique_domain, ws_message};

const OPERATE: [&str; 8] = [
    "markPendingExternal",
    "completeTransaction",
    "failTransaction",
    "requestTransactionInfo",
    "requestCustomerInfo",
    "refundTransaction",
    "releaseHeldTransaction",
    "setCustomerStatus",
];

async fn key_with(admin: &Admin<'_>, roles: &[&str]) -> (String, Value) {
    let q = format!(
        "mutation {{ createApiKey(name: \"{}\", roles: [{}]) {{ key apiKey {{ roles }} }} }}",
        roles.join("+"),
        roles.join(", ")
    );
    let created = admin.ok(&q, json!({})).await;
    (
        created["createApiKey"]["key"].as_str().unwrap().to_string(),
        created["createApiKey"]["apiKey"]["roles"].clone(),
    )
}

#[tokio::test]
async fn each_key_may_do_what_its_roles_allow_and_nothing_more() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("roles");
    let tenant = env.tenant(&domain).await;
    app.server.state.tenants.refresh().await.unwrap();
    let operator = Admin::operator(&app);
    let first = operator
        .ok(
            "mutation($t: ID) { createApiKey(tenantId: $t, name: \"first\") { key apiKey { roles } } }",
            json!({ "t": tenant.id.to_string() }),
        )
        .await;
    assert_eq!(
        first["createApiKey"]["apiKey"]["roles"],
        json!(["ADMIN"]),
        "a key without roles named is ADMIN"
    );
    let admin = Admin::with_key(&app, first["createApiKey"]["key"].as_str().unwrap());
    let (read, read_roles) = key_with(&admin, &["READ"]).await;
    let (operate, operate_roles) = key_with(&admin, &["READ", "OPERATE"]).await;
    assert_eq!((read_roles, operate_roles), (json!(["READ"]), json!(["READ", "OPERATE"])));
    let (read, operate) = (Admin::with_key(&app, &read), Admin::with_key(&app, &operate));
    assert_eq!(read.ok("{ me { roles } }", json!({})).await["me"]["roles"], json!(["READ"]));
    assert_eq!(operate.ok("{ me { roles } }", json!({})).await["me"]["roles"], json!(["OPERATE"]));
    assert_eq!(
        admin.error_code("mutation { createApiKey(name: \"none\", roles: []) { key } }", json!({})).await,
        "INVALID_INPUT"
    );

    // Every mutation in the schema, as the server itself lists it: a bare document
    // (no arguments, no selection: it would not even validate) is refused for the
    // role before anything else looks at it.
    let schema = read.ok("{ __schema { mutationType { fields { name } } } }", json!({})).await;
    let mutations: Vec<String> = schema["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert!(mutations.len() >= 40, "{mutations:?}");
    for name in &mutations {
        let doc = format!("mutation {{ {name} }}");
        assert_eq!(read.error_code(&doc, json!({})).await, "FORBIDDEN", "READ may not {name}");
        let as_operate = operate.gql(&doc, json!({})).await;
        let code = as_operate["errors"][0]["extensions"]["code"].as_str().map(str::to_string);
        if OPERATE.contains(&name.as_str()) {
            assert_ne!(code.as_deref(), Some("FORBIDDEN"), "OPERATE may {name}: {as_operate}");
        } else {
            assert_eq!(code.as_deref(), Some("FORBIDDEN"), "OPERATE may not {name}: {as_operate}");
        }
    }
    // Through an alias and a fragment as well.
    let sneaky = "mutation { ...F } fragment F on Mutation { a: approveSender(account: \"G\", name: \"x\") }";
    assert_eq!(operate.error_code(sneaky, json!({})).await, "FORBIDDEN");

    // A real change: refused to READ (and not made), done by OPERATE.
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let customer = sa.accepted_customer("sep31-sender", "roles-1").await;
    let review = "mutation($c: ID!) { setCustomerStatus(id: $c, status: REJECTED, message: \"no\") { id } }";
    assert_eq!(read.error_code(review, json!({ "c": customer })).await, "FORBIDDEN");
    let (_, view) = sa.get(&format!("/kyc/customer?id={customer}&type=sep31-sender")).await;
    assert_eq!(view["status"], "ACCEPTED", "the refused review changed nothing: {view}");
    operate.ok(review, json!({ "c": customer })).await;
    let (_, view) = sa.get(&format!("/kyc/customer?id={customer}&type=sep31-sender")).await;
    assert_eq!(view["status"], "REJECTED", "{view}");
    // Configuration stays ADMIN's.
    let approve = "mutation($a: String!) { approveSender(account: $a, name: \"x\") { id } }";
    let account = mooring_stellar::Keypair::generate().public_key().to_string();
    assert_eq!(operate.error_code(approve, json!({ "a": account })).await, "FORBIDDEN");
    admin.ok(approve, json!({ "a": account })).await;
    // Reading is every role's.
    for key in [&read, &operate, &admin] {
        key.ok("{ apiKeys { name roles } }", json!({})).await;
    }

    // The audit log keeps the roles the key held.
    let log = admin.ok("{ auditLog { mutation keyName keyRoles outcome } }", json!({})).await;
    let entries = log["auditLog"].as_array().unwrap();
    let review_entry = entries.iter().find(|e| e["mutation"] == "setCustomerStatus" && e["outcome"] == "ok");
    assert_eq!(review_entry.unwrap()["keyRoles"], json!(["READ", "OPERATE"]), "{log}");
    let approve_entry = entries.iter().find(|e| e["mutation"] == "approveSender" && e["outcome"] == "ok");
    assert_eq!(approve_entry.unwrap()["keyRoles"], json!(["ADMIN"]), "{log}");

    // Over the WebSocket: a READ key's mutation is refused there too; its subscription runs.
    let mut ws = graphql_ws(&app, &read.token).await;
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    let payload = json!({ "query": approve, "variables": { "a": mooring_stellar::Keypair::generate().public_key().to_string() } });
    ws.send(ws_message(json!({ "id": "m", "type": "subscribe", "payload": payload }))).await.unwrap();
    let reply: Value = loop {
        let msg = ws.next().await.unwrap().unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v["id"] == "m" {
            break v;
        }
    };
    let errors =
        if reply["type"] == "error" { reply["payload"].clone() } else { reply["payload"]["errors"].clone() };
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{reply}");
    let senders = admin.ok("{ tenant { senders { account } } }", json!({})).await;
    assert_eq!(
        senders["tenant"]["senders"].as_array().unwrap().len(),
        2,
        "the socket added no sender: {senders}"
    );
}
