//! The testnet sandbox, end to end against the RPC stand-in's in-memory ledger and its
//! Friendbot: `provisionTestnet` from a bare `createTenant`, idempotent re-runs, fee
//! bumps on congestion, testnet resets (opted-in tenants rebuilt, others told), the
//! self-test paying through the same watcher path as real traffic, and Python's
//! stellar-sdk parsing every envelope Mooring submitted.

use std::time::{Duration, Instant};

use mooring_tests::rpc_standin::{RpcStandIn, TESTNET};
use serde_json::{Value, json};

use crate::common::{Admin, CallbackReceiver, TestApp, TestEnv, unique_domain};

const CREATE: &str = "mutation($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { id distributionAccount } apiKey { key } } }";
const PROVISION: &str = "mutation($t: ID, $code: String) {
  provisionTestnet(tenantId: $t, assetCode: $code) { state steps { name done message } testSenderSecret } }";
const SANDBOX: &str = "query($t: ID) { tenant(id: $t) {
  signingKey testnetAutoProvision testnetSandbox { state assetCode steps { name done message } provisionedAt }
  assets { code issuer feeFixed feePercent } senders { account name } } }";
const SELF_TEST: &str = "mutation($t: ID) { runSelfTest(tenantId: $t) {
  id passed steps { name passed message request response } } }";
const REPORTS: &str = "query($t: ID) { tenant(id: $t) { selfTests(first: 5) { id passed steps { name } } } }";

async fn start(env: &TestEnv, rpc: &RpcStandIn) -> TestApp {
    let (url, friendbot) = (rpc.url.clone(), rpc.friendbot_url());
    // Public tenants (promoted ones) read signers from the stand-in too: no internet here.
    let horizon = env.horizon.url.clone();
    env.start_with(move |c| {
        c.horizon_public_url = horizon;
        c.rpc_testnet_url = Some(url);
        c.friendbot_url = friendbot;
        c.rpc_poll_ms = std::time::Duration::from_millis(50);
        c.reset_check_ms = std::time::Duration::from_millis(200);
        c.testnet_submit_timeout_secs = std::time::Duration::from_secs(10);
    })
    .await
}

/// A testnet tenant created through the API with no distribution account of its own.
async fn bare_tenant(app: &TestApp, domain: &str) -> (String, String, String) {
    let data = Admin::operator(app)
        .ok(
            CREATE,
            json!({ "input": { "name": "Sandbox Anchor", "domains": [domain], "network": "TESTNET" } }),
        )
        .await;
    let t = &data["createTenant"];
    (
        t["tenant"]["id"].as_str().unwrap().to_string(),
        t["tenant"]["distributionAccount"].as_str().unwrap().to_string(),
        t["apiKey"]["key"].as_str().unwrap().to_string(),
    )
}

async fn provision(admin: &Admin<'_>, tenant: &str) -> Value {
    admin.ok(PROVISION, json!({ "t": tenant })).await["provisionTestnet"].clone()
}

async fn sandbox(app: &TestApp, tenant: &str) -> Value {
    Admin::operator(app).ok(SANDBOX, json!({ "t": tenant })).await["tenant"].clone()
}

fn trustline(rpc: &RpcStandIn, account: &str, asset: &str) -> Option<i64> {
    rpc.account(account)?.trustlines.get(asset).copied()
}

#[tokio::test]
async fn a_bare_testnet_tenant_is_provisioned_in_one_call_and_a_second_call_does_nothing() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let domain = unique_domain("sandbox");
    let (tenant, distribution, key) = bare_tenant(&app, &domain).await;
    assert!(rpc.account(&distribution).is_none(), "created in the database only");

    // Another tenant's key can neither provision nor self-test it: not found, nothing sent.
    let (_, _, other_key) = bare_tenant(&app, &unique_domain("other")).await;
    let other = Admin::with_key(&app, &other_key);
    let refused = other.gql(PROVISION, json!({ "t": tenant })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    let refused = other.gql(SELF_TEST, json!({ "t": tenant })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    assert!(rpc.submitted().is_empty() && rpc.requests("friendbot") == 0, "nothing reached the ledger");

    // The tenant's own admin key may provision it.
    let tenant_admin = Admin::with_key(&app, &key);
    let started = Instant::now();
    let first = provision(&tenant_admin, &tenant).await;
    let took = started.elapsed();
    assert_eq!(first["state"], "READY", "{first}");
    let steps = first["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8);
    assert!(steps.iter().all(|s| s["done"] == true), "{first}");
    let secret = first["testSenderSecret"].as_str().expect("the secret, the first time");
    let sender = mooring_stellar::Keypair::from_secret(secret).unwrap().public_key().to_string();

    // On the ledger: every account, trustline, balance and the home domain.
    let t = sandbox(&app, &tenant).await;
    let asset = &t["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "USDC")
        .expect("asset configured")
        .clone();
    let issuer = asset["issuer"].as_str().unwrap();
    let sep11 = format!("USDC:{issuer}");
    assert_eq!(rpc.account(issuer).unwrap().home_domain, domain);
    assert_eq!(trustline(&rpc, &distribution, &sep11), Some(1_000_000 * 10_000_000));
    assert_eq!(trustline(&rpc, &sender, &sep11), Some(10_000 * 10_000_000));
    assert!(t["senders"].as_array().unwrap().iter().any(|s| s["account"] == sender.as_str()), "{t}");
    assert_eq!(t["testnetSandbox"]["state"], "READY");
    assert!(t["testnetSandbox"]["provisionedAt"].is_string());

    // Again: nothing is missing, nothing is submitted, the secret is not shown again.
    let submitted = rpc.submitted().len();
    let friendbot = rpc.requests("friendbot");
    let second = provision(&Admin::operator(&app), &tenant).await;
    assert_eq!(second["state"], "READY", "{second}");
    assert!(second["testSenderSecret"].is_null(), "shown once");
    assert_eq!(rpc.submitted().len(), submitted, "no transaction the second time");
    assert_eq!(rpc.requests("friendbot"), friendbot, "no funding the second time");
    assert!(second["steps"].as_array().unwrap().iter().all(|s| s["done"] == true));

    // Public-network tenants are refused, as is a public tenant with no account.
    let public = Admin::operator(&app)
        .gql(
            CREATE,
            json!({ "input": { "name": "P", "domains": [unique_domain("pub")], "network": "PUBLIC" } }),
        )
        .await;
    assert!(public["errors"][0]["message"].as_str().unwrap().contains("distribution account"), "{public}");
    println!("provisioning against the stand-in took {took:?}");
    app.server.stop().await.unwrap();
}

#[tokio::test]
async fn congestion_bumps_the_fee_of_the_same_transaction_within_the_cap() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let (tenant, _, _) = bare_tenant(&app, &unique_domain("congested")).await;
    // 100 and 400 stroops are refused as too low; 1,600 gets in.
    rpc.set_congested_below(1_000);
    let p = provision(&Admin::operator(&app), &tenant).await;
    assert_eq!(p["state"], "READY", "{p}");
    let envelopes = rpc.submitted();
    let bumps = envelopes.iter().filter(|x| x.starts_with("AAAABQ")).count();
    assert!(bumps >= 4, "each transaction got in as a fee bump: {bumps} of {}", envelopes.len());

    // Beyond the cap it fails with a clear message, and a later run finishes the job.
    let (other, _, _) = bare_tenant(&app, &unique_domain("jammed")).await;
    rpc.set_congested_below(1_000_000);
    let jammed = provision(&Admin::operator(&app), &other).await;
    assert_eq!(jammed["state"], "FAILED", "{jammed}");
    let failed = jammed["steps"].as_array().unwrap().iter().find(|s| s["done"] == false).unwrap().clone();
    assert!(failed["message"].as_str().unwrap().contains("congested"), "{failed}");
    rpc.set_congested_below(0);
    let again = provision(&Admin::operator(&app), &other).await;
    assert_eq!(again["state"], "READY", "{again}");
    app.server.stop().await.unwrap();
}

/// Waits until the sandbox is in `state`.
async fn sandbox_state(app: &TestApp, tenant: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = sandbox(app, tenant).await;
        if t["testnetSandbox"]["state"] == state {
            return t;
        }
        assert!(Instant::now() < deadline, "sandbox never became {state}: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reset_rebuilds_opted_in_sandboxes_with_the_same_keys_and_tells_the_others() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let admin = Admin::operator(&app);
    let (auto, auto_dist, _) = bare_tenant(&app, &unique_domain("auto")).await;
    let (manual, _, _) = bare_tenant(&app, &unique_domain("manual")).await;
    let receiver = CallbackReceiver::start().await;
    let create = "mutation($t: ID, $input: WebhookEndpointInput!) { createWebhookEndpoint(tenantId: $t, input: $input) { secret } }";
    admin
        .ok(create, json!({ "t": auto, "input": { "url": receiver.url, "eventTypes": ["network.reset"] } }))
        .await;
    let settings = "mutation($t: ID, $i: SettingsInput!) { updateSettings(tenantId: $t, input: $i) { testnetAutoProvision } }";
    let set = admin.ok(settings, json!({ "t": auto, "i": { "testnetAutoProvision": true } })).await;
    assert_eq!(set["updateSettings"]["testnetAutoProvision"], true);
    assert_eq!(provision(&admin, &auto).await["state"], "READY");
    assert_eq!(provision(&admin, &manual).await["state"], "READY");
    let before = sandbox(&app, &auto).await;
    let issuer = before["assets"][0]["issuer"].as_str().unwrap().to_string();
    // Both distribution accounts are followed before the reset.
    crate::rpc::member(&env, &rpc, auto.parse().unwrap()).await;
    crate::rpc::member(&env, &rpc, manual.parse().unwrap()).await;

    rpc.reset(5);
    assert!(rpc.account(&auto_dist).is_none(), "the reset took every account");
    let manual_after = sandbox_state(&app, &manual, "RESET").await;
    assert_eq!(manual_after["testnetSandbox"]["state"], "RESET");
    sandbox_state(&app, &auto, "READY").await;
    // Rebuilt with the same keys: the same issuer and distribution account, funded again.
    assert_eq!(sandbox(&app, &auto).await["assets"][0]["issuer"], issuer.as_str());
    assert!(rpc.account(&issuer).is_some() && rpc.account(&auto_dist).is_some());
    assert_eq!(trustline(&rpc, &auto_dist, &format!("USDC:{issuer}")), Some(1_000_000 * 10_000_000));
    // The webhook first says it is being rebuilt, then what was recreated.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let phases: Vec<Value> = receiver
            .received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, b)| serde_json::from_str::<Value>(b).ok())
            .filter(|v| v["type"] == "network.reset")
            .map(|v| v["data"].clone())
            .collect();
        if let Some(recreated) = phases.iter().find(|d| d["phase"] == "sandbox_recreated") {
            let steps = recreated["recreated"].as_array().unwrap();
            assert!(
                steps
                    .iter()
                    .any(|s| s["name"] == "issuer account"
                        && s["message"].as_str().unwrap().contains("Friendbot")),
                "{recreated}"
            );
            let detected =
                phases.iter().find(|d| d["phase"] == "detected").expect("the reset itself was told first");
            assert!(detected["sandbox"].as_str().unwrap().contains("being provisioned again"), "{detected}");
            break;
        }
        assert!(Instant::now() < deadline, "no sandbox_recreated event: {phases:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The tenant that did not opt in is rebuilt when it asks.
    assert_eq!(provision(&admin, &manual).await["state"], "READY");
    app.server.stop().await.unwrap();
}

#[tokio::test]
async fn the_self_test_plays_a_sending_anchor_and_follows_its_payment_to_completed() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let admin = Admin::operator(&app);
    let domain = unique_domain("selftest");
    let (tenant, _, _) = bare_tenant(&app, &domain).await;

    // Before provisioning there is nothing to pay with: the report says so.
    let early = admin.ok(SELF_TEST, json!({ "t": tenant })).await["runSelfTest"].clone();
    assert_eq!(early["passed"], false, "{early}");

    assert_eq!(provision(&admin, &tenant).await["state"], "READY");
    // A corridor USDC → MXN, so the self-test prices it too.
    let issuer = sandbox(&app, &tenant).await["assets"][0]["issuer"].as_str().unwrap().to_string();
    admin.ok(crate::sep38::SET_MXN, json!({ "t": tenant })).await;
    let corridor = json!({
        "sellAsset": format!("stellar:USDC:{issuer}"), "buyAsset": "iso4217:MXN", "rate": "17",
        "spreadBps": 0, "feeFixed": "0", "minAmount": "1", "maxAmount": "10000", "quoteLifetimeSecs": 60,
    });
    admin.ok(crate::sep38::SET_CORRIDOR, json!({ "t": tenant, "input": corridor })).await;
    // The tenant's back office listens for status changes.
    let back_office = CallbackReceiver::start().await;
    let hook = "mutation($t: ID, $input: WebhookEndpointInput!) { createWebhookEndpoint(tenantId: $t, input: $input) { secret } }";
    let types = json!(["transaction.status_changed"]);
    admin.ok(hook, json!({ "t": tenant, "input": { "url": back_office.url, "eventTypes": types } })).await;
    let started = Instant::now();
    let report = admin.ok(SELF_TEST, json!({ "t": tenant })).await["runSelfTest"].clone();
    let took = started.elapsed();
    let steps = report["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(report["passed"], true, "{report:#}");
    for expected in [
        "SEP-1 stellar.toml",
        "SEP-10 challenge",
        "SEP-10 token",
        "SEP-31 /info",
        "SEP-12 sender (sep31-sender)",
        "SEP-12 receiver (sep31-receiver)",
        "SEP-38 prices",
        "SEP-31 POST /transactions",
        "payment",
        "SEP-31 callback URL",
        "payment seen (pending_receiver)",
        "SEP-31 callback",
        "webhook",
        "completed",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let callback = steps.iter().find(|s| s["name"] == "SEP-31 callback").unwrap();
    assert!(
        callback["message"].as_str().unwrap().starts_with("signed by the tenant's SIGNING_KEY"),
        "{callback}"
    );
    // The receiver takes nothing but a running self-test's callback.
    let forged = app
        .http
        .post(format!("{}/.mooring/selftest-callback/{}", app.base, uuid::Uuid::new_v4()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::NOT_FOUND);
    let prices = steps.iter().find(|s| s["name"] == "SEP-38 prices").unwrap();
    assert!(prices["message"].as_str().unwrap().contains("1 buy assets priced"), "{prices}");
    let hook = steps.iter().find(|s| s["name"] == "webhook").unwrap();
    assert!(hook["message"].as_str().unwrap().starts_with("delivered"), "{hook}");
    assert!(!back_office.received.lock().unwrap().is_empty(), "the receiver really got it");
    // Sender and receiver are two customers (each under its own memo).
    let customer = |name: &str| {
        let s = steps.iter().find(|s| s["name"] == name).unwrap();
        s["message"].as_str().unwrap().to_string()
    };
    assert_ne!(customer("SEP-12 sender (sep31-sender)"), customer("SEP-12 receiver (sep31-receiver)"));
    // Requests and responses are kept, without the bearer token.
    let post = steps.iter().find(|s| s["name"] == "SEP-31 POST /transactions").unwrap();
    assert!(post["request"].as_str().unwrap().starts_with("POST https://"), "{post}");
    assert!(post["response"].as_str().unwrap().starts_with("HTTP 201"), "{post}");
    assert!(!report.to_string().contains("Bearer"), "no token in the report");
    // The run's own SEP-10 key is gone again: only the sandbox sender is approved.
    let t = sandbox(&app, &tenant).await;
    assert_eq!(t["senders"].as_array().unwrap().len(), 1, "{t}");
    let reports = admin.ok(REPORTS, json!({ "t": tenant })).await;
    assert_eq!(reports["tenant"]["selfTests"].as_array().unwrap().len(), 2);
    assert_eq!(reports["tenant"]["selfTests"][0]["id"], report["id"]);
    println!("self-test against the stand-in took {took:?}");

    // `mooring selftest --tenant <domain>`: the same run from another process's code
    // path (its own database connection and directory), printed as a table.
    let mut cfg = env.config();
    cfg.rpc_testnet_url = Some(rpc.url.clone());
    cfg.friendbot_url = rpc.friendbot_url();
    cfg.selftest_via = app.base.clone();
    cfg.testnet_submit_timeout_secs = std::time::Duration::from_secs(10);
    use mooring_server::sandbox::SelfTestFinish;
    let (table, passed) =
        mooring_server::self_test_cli(&cfg, &domain, SelfTestFinish::Complete).await.unwrap();
    assert!(passed, "{table}");
    assert!(table.lines().next().unwrap().starts_with("STEP"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("payment seen (pending_receiver)") && l.contains(" pass ")),
        "{table}"
    );
    assert!(table.trim_end().ends_with("steps") && table.contains("(PASSED)"), "{table}");
    let unknown = mooring_server::self_test_cli(&cfg, "nobody.example", SelfTestFinish::Complete).await;
    assert!(unknown.unwrap_err().to_string().contains("no tenant"));

    // Finishing with a refund: the funds go back on the ledger, the refund is recorded.
    let sender = sandbox(&app, &tenant).await["senders"][0]["account"].as_str().unwrap().to_string();
    let usdc = format!("USDC:{}", sandbox(&app, &tenant).await["assets"][0]["issuer"].as_str().unwrap());
    let before = trustline(&rpc, &sender, &usdc).unwrap();
    let refund = "mutation($t: ID) { runSelfTest(tenantId: $t, finish: REFUND) { passed steps { name passed message } } }";
    let r = admin.ok(refund, json!({ "t": tenant })).await["runSelfTest"].clone();
    assert_eq!(r["passed"], true, "{r:#}");
    let refunded = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "refunded")
        .expect("a refund step")
        .clone();
    assert!(refunded["message"].as_str().unwrap().ends_with("status refunded"), "{refunded}");
    assert!(!r["steps"].as_array().unwrap().iter().any(|s| s["name"] == "completed"));
    assert_eq!(trustline(&rpc, &sender, &usdc).unwrap(), before, "paid, then refunded in full");
    app.server.stop().await.unwrap();
}

/// Python's stellar-sdk parses every envelope provisioning and the self-test
/// submitted, computes the same hashes, and verifies every signature.
#[tokio::test]
async fn python_parses_every_envelope_mooring_submits() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let admin = Admin::operator(&app);
    let domain = unique_domain("pyenv");
    let (tenant, _, _) = bare_tenant(&app, &domain).await;
    assert_eq!(provision(&admin, &tenant).await["state"], "READY");
    assert_eq!(admin.ok(SELF_TEST, json!({ "t": tenant })).await["runSelfTest"]["passed"], true);
    let envelopes = rpc.submitted();
    let file = std::env::temp_dir().join(format!("mooring-envelopes-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, serde_json::to_string(&envelopes).unwrap()).unwrap();
    let path = file.to_string_lossy().to_string();
    let parsed = tokio::task::spawn_blocking(move || {
        crate::interop_python::run_script("envelopes.py", &[TESTNET, &path])
    })
    .await
    .unwrap();
    std::fs::remove_file(&file).ok();
    let parsed = parsed.as_array().unwrap();
    assert_eq!(parsed.len(), envelopes.len());
    let mut kinds = std::collections::BTreeSet::new();
    for p in parsed {
        assert!(rpc.transaction_known(p["hash"].as_str().unwrap()), "Python's hash is the ledger's: {p}");
        assert_eq!(p["verified"], p["signatures"], "every signature verifies: {p}");
        assert!(p["signatures"].as_u64().unwrap() >= 1);
        for op in p["operations"].as_array().unwrap() {
            kinds.insert(op.as_str().unwrap().to_string());
        }
        if let Some(home) = p["home_domain"].as_str() {
            assert_eq!(home, domain);
        }
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["ChangeTrust", "Payment", "SetOptions"]);
    assert!(parsed.iter().any(|p| p["memo"] == "IdMemo"), "the self-test's payment carries its memo");
    app.server.stop().await.unwrap();
}

const PROMOTE: &str = "mutation($t: ID!, $i: PromoteInput!) { promoteToPublic(tenantId: $t, input: $i) {
  tenant { id networkPassphrase signingKey domains distributionAccount assets { code issuer feeFixed feePercent }
           customerTypes { name } senders { account enabled } }
  apiKey { key } sendersToConfirm webhookEndpoints { secret endpoint { url eventTypes } } } }";

#[tokio::test]
async fn promotion_builds_a_public_tenant_from_the_testnet_one_and_leaves_it_running() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let admin = Admin::operator(&app);
    let (tenant, _, key) = bare_tenant(&app, &unique_domain("promote")).await;
    assert_eq!(provision(&admin, &tenant).await["state"], "READY");
    let partner = mooring_stellar::Keypair::generate().public_key().to_string();
    let approve = "mutation($t: ID, $a: String!) { approveSender(tenantId: $t, account: $a, name: \"Partner SA\") { id } }";
    admin.ok(approve, json!({ "t": tenant, "a": partner })).await;
    let hook = "mutation($t: ID, $input: WebhookEndpointInput!) { createWebhookEndpoint(tenantId: $t, input: $input) { secret } }";
    // A loopback receiver: a delivery, should one happen, never leaves the machine.
    let receiver = CallbackReceiver::start().await;
    let hook_url = receiver.url.as_str();
    admin
        .ok(hook, json!({ "t": tenant, "input": { "url": hook_url, "eventTypes": ["transaction.created"] } }))
        .await;
    let before = sandbox(&app, &tenant).await;
    let mainnet_issuer = mooring_stellar::Keypair::generate().public_key().to_string();
    let distribution = mooring_stellar::Keypair::generate().public_key().to_string();
    let domain = unique_domain("live");
    let input = |code: &str| {
        json!({ "t": tenant, "i": {
            "name": "Live Anchor", "domains": [domain], "distributionAccount": distribution,
            "assets": [{ "code": code, "issuer": mainnet_issuer }] } })
    };

    // Operators only; an asset the testnet tenant lacks is refused before anything is written.
    let by_tenant = Admin::with_key(&app, &key).gql(PROMOTE, input("USDC")).await;
    assert_eq!(by_tenant["errors"][0]["extensions"]["code"], "FORBIDDEN", "{by_tenant}");
    let unknown = admin.gql(PROMOTE, input("EURC")).await;
    assert!(unknown["errors"][0]["message"].as_str().unwrap().contains("no asset EURC"), "{unknown}");

    let p = admin.ok(PROMOTE, input("USDC")).await["promoteToPublic"].clone();
    let live = &p["tenant"];
    assert_eq!(live["networkPassphrase"], "Public Global Stellar Network ; September 2015");
    assert_eq!(live["domains"], json!([domain]), "the domain was still free after the refusal");
    assert_eq!(live["distributionAccount"], distribution.as_str());
    assert_ne!(live["signingKey"], before["signingKey"]);
    let testnet_asset = before["assets"][0].clone();
    let expected = json!([{
        "code": "USDC", "issuer": mainnet_issuer,
        "feeFixed": testnet_asset["feeFixed"], "feePercent": testnet_asset["feePercent"],
    }]);
    assert_eq!(live["assets"], expected, "the same terms, the mainnet issuer");
    assert_ne!(testnet_asset["issuer"], mainnet_issuer.as_str());
    let types: Vec<&str> =
        live["customerTypes"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(types, ["sep31-receiver", "sep31-sender"]);
    // Only the partner, disabled until re-confirmed; the sandbox's own sender stays behind.
    assert_eq!(live["senders"], json!([{ "account": partner, "enabled": false }]));
    assert_eq!(p["sendersToConfirm"], json!([partner]));
    assert_eq!(p["webhookEndpoints"][0]["endpoint"]["url"], hook_url);
    assert!(p["webhookEndpoints"][0]["secret"].as_str().unwrap().starts_with("whsec_"));
    assert!(p["apiKey"]["key"].is_string());
    // On the public network the self-test runs the SEP conversation and stops before paying.
    let live_id = live["id"].as_str().unwrap();
    let submitted = rpc.submitted().len();
    let report = admin.ok(SELF_TEST, json!({ "t": live_id })).await["runSelfTest"].clone();
    assert_eq!(report["passed"], true, "{report:#}");
    let last = report["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["name"], "SEP-31 POST /transactions");
    assert!(last["message"].as_str().unwrap().contains("never pays"), "{last}");
    assert!(last["response"].as_str().unwrap().contains("customer_info_needed"), "{last}");
    assert_eq!(rpc.submitted().len(), submitted, "no ledger write for a public tenant");
    // The testnet tenant is untouched and still provisioned.
    let after = sandbox(&app, &tenant).await;
    assert_eq!(after["testnetSandbox"]["state"], "READY");
    assert_eq!(after["assets"], before["assets"]);
    app.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_friendbot_that_is_not_one_is_named_in_the_failed_step() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let url = rpc.url.clone();
    let app = env
        .start_with(move |c| {
            c.rpc_testnet_url = Some(url.clone());
            c.friendbot_url = format!("{url}/not-friendbot");
        })
        .await;
    let (tenant, _, _) = bare_tenant(&app, &unique_domain("nofriend")).await;
    let p = provision(&Admin::operator(&app), &tenant).await;
    assert_eq!(p["state"], "FAILED", "{p}");
    assert_eq!(p["steps"][0]["done"], false);
    assert!(p["steps"][0]["message"].as_str().unwrap().contains("answered HTTP 404"), "{p}");
    assert!(p["steps"][1]["message"].as_str().unwrap().starts_with("not run"), "{p}");
    assert!(rpc.submitted().is_empty(), "nothing was submitted");
    app.server.stop().await.unwrap();
}

/// The answer to the supply payment is lost after the ledger applied it: a retry sends
/// the same envelope (refused: its sequence number is spent) and the step is done; when
/// the answers stay lost the run fails with the envelope recorded, and the next run
/// settles it by the issuer's sequence number. Either way the supply is issued once.
#[tokio::test]
async fn a_lost_answer_never_pays_twice() {
    let env = TestEnv::new().await;
    let rpc = RpcStandIn::start().await;
    let app = start(&env, &rpc).await;
    let admin = Admin::operator(&app);
    let supply = Some(1_000_000 * 10_000_000);
    // Submissions: the distribution trustline, the home domain, then the supply payment.
    let (tenant, distribution, _) = bare_tenant(&app, &unique_domain("lost")).await;
    rpc.lose_send_answers(2, 2);
    let p = provision(&admin, &tenant).await;
    assert_eq!(p["state"], "READY", "{p}");
    let issuer = sandbox(&app, &tenant).await["assets"][0]["issuer"].as_str().unwrap().to_string();
    assert_eq!(trustline(&rpc, &distribution, &format!("USDC:{issuer}")), supply, "issued once");

    let (other, other_dist, _) = bare_tenant(&app, &unique_domain("lost2")).await;
    let id: uuid::Uuid = other.parse().unwrap();
    rpc.lose_send_answers(2, 1_000);
    let failed = provision(&admin, &other).await;
    assert_eq!(failed["state"], "FAILED", "{failed}");
    let pending =
        mooring_tenants::sandbox::pending(&env.db, id).await.unwrap().expect("kept: its fate is unknown");
    assert_eq!(pending.step, "initial supply");
    let keys = mooring_tenants::sandbox::ensure(&env.db, &env.master_key, id, None).await.unwrap();
    let usdc = format!("USDC:{}", keys.issuer.public_key());
    assert_eq!(trustline(&rpc, &other_dist, &usdc), supply, "the ledger applied it");
    rpc.lose_send_answers(0, 0);
    let again = provision(&admin, &other).await;
    assert_eq!(again["state"], "READY", "{again}");
    assert!(mooring_tenants::sandbox::pending(&env.db, id).await.unwrap().is_none(), "settled");
    assert_eq!(trustline(&rpc, &other_dist, &usdc), supply, "and never paid again");
    app.server.stop().await.unwrap();
}
