//! The web console (`/console` on the admin host), over HTTP as a browser speaks it:
//! sign-in into an `HttpOnly; Secure; SameSite=Strict` session cookie, CSRF-checked
//! forms, pages that show only what the key's roles allow while the API refuses the
//! rest anyway, another tenant's objects not found by URL, sign-out and revocation.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::common::{ADMIN_HOST, Admin, OPERATOR_TOKEN, Sa, TestApp, TestEnv, eventually, unique_domain};
use crate::horizon::Pay;

pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { app, http, cookie: None }
    }

    fn keep_cookie(&mut self, res: &reqwest::Response) {
        if let Some(set) = res.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap().to_string();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let mut rb = self.http.get(format!("{}{path}", self.app.base)).header("host", ADMIN_HOST);
        if let Some(c) = &self.cookie {
            rb = rb.header(COOKIE, c);
        }
        let res = rb.send().await.unwrap();
        self.keep_cookie(&res);
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut rb = self.http.post(format!("{}{path}", self.app.base)).header("host", ADMIN_HOST).form(form);
        if let Some(c) = &self.cookie {
            rb = rb.header(COOKIE, c);
        }
        let res = rb.send().await.unwrap();
        self.keep_cookie(&res);
        res
    }

    pub(crate) async fn sign_in(app: &'a TestApp, token: &str) -> Browser<'a> {
        let mut b = Browser::new(app);
        let res = b.post("/console/sign-in", &[("token", token)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
        assert!(b.cookie.is_some());
        b
    }
}

/// A transaction the sending anchor created and paid, matched (`pending_receiver`).
pub(crate) async fn paid_transaction(
    env: &TestEnv,
    sa: &Sa<'_>,
    tenant: uuid::Uuid,
) -> (String, mooring_entities::transaction::Model) {
    let id = sa.transaction().await;
    let t = mooring_anchor::transactions::get_for_tenant(&env.db, tenant, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let pay = Pay {
        op_type: "payment",
        from: mooring_stellar::Keypair::generate().public_key().to_string(),
        to: t.stellar_account_id.clone(),
        to_muxed: None,
        asset: Some((t.asset_code.clone(), t.asset_issuer.clone())),
        amount: "100".into(),
        memo_type: "id",
        memo: Some(t.stellar_memo.clone()),
        successful: true,
    };
    eventually("the watcher follows the account", async || {
        mooring_anchor::payments::cursor(&env.db, tenant, &t.stellar_account_id).await.unwrap().map(|_| ())
    })
    .await;
    env.horizon.add_payment(&t.stellar_account_id, &pay);
    eventually("the payment is matched", async || {
        let (_, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
        (body["transaction"]["status"] == "pending_receiver").then_some(())
    })
    .await;
    (id, t)
}

pub(crate) fn csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a CSRF field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn tenants_run_the_console_within_their_roles_and_never_see_each_other() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let (domain, other) = (unique_domain("console"), unique_domain("console-b"));
    let (tenant, tenant_b) = (env.tenant(&domain).await, env.tenant(&other).await);
    app.server.state.tenants.refresh().await.unwrap();
    let operator = Admin::operator(&app);
    let key_for = async |id: uuid::Uuid, roles: &str| {
        let q = format!(
            "mutation($t: ID) {{ createApiKey(tenantId: $t, name: \"{roles}\", roles: [{roles}]) {{ key }} }}"
        );
        operator.ok(&q, json!({ "t": id.to_string() })).await["createApiKey"]["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (admin_key, read_key, b_key) = (
        key_for(tenant.id, "ADMIN").await,
        key_for(tenant.id, "READ").await,
        key_for(tenant_b.id, "ADMIN").await,
    );

    // Sign-in: a wrong key is a page saying so; a right one a hardened session cookie.
    let mut anonymous = Browser::new(&app);
    let res = anonymous.post("/console/sign-in", &[("token", "mk_wrong")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("not accepted"));
    assert_eq!(anonymous.get("/console/transactions").await.0, StatusCode::SEE_OTHER, "no session, no page");
    let res = Browser::new(&app).post("/console/sign-in", &[("token", &admin_key)]).await;
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains(&admin_key[3..]), "the key itself never goes into the cookie");
    assert_eq!(res.headers()[LOCATION], "/console/transactions");
    // A sign-in (or any form) posted from another site is refused: no login CSRF.
    let foreign = anonymous
        .http
        .post(format!("{}/console/sign-in", app.base))
        .header("host", ADMIN_HOST)
        .header("origin", "https://evil.example")
        .form(&[("token", admin_key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign.headers().get(SET_COOKIE).is_none());
    let same = anonymous
        .http
        .post(format!("{}/console/sign-in", app.base))
        .header("host", ADMIN_HOST)
        .header("origin", format!("http://{ADMIN_HOST}"))
        .form(&[("token", admin_key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::SEE_OTHER, "the admin host's own origin");

    // The operator sees the tenants.
    let mut op = Browser::sign_in(&app, OPERATOR_TOKEN).await;
    let (status, page) = op.get("/console/tenants").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&domain) && page.contains(&other), "{page}");

    // A sending anchor creates a transaction and pays it.
    let sa = Sa::login(&app, &domain, &tenant.sender).await;
    let (id, t) = paid_transaction(&env, &sa, tenant.id).await;

    // The tenant's admin sees it in the list and may act on it.
    let mut admin = Browser::sign_in(&app, &admin_key).await;
    let (status, list) = admin.get("/console/transactions?status=PENDING_RECEIVER").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&id), "{list}");
    // Filters: the day it was created and the sending anchor's account.
    let today = chrono::Utc::now().date_naive();
    let sender = tenant.sender.public_key().to_string();
    assert!(
        admin
            .get(&format!("/console/transactions?from={today}&to={today}&sender={sender}"))
            .await
            .1
            .contains(&id)
    );
    let tomorrow = today.succ_opt().unwrap();
    assert!(!admin.get(&format!("/console/transactions?from={tomorrow}")).await.1.contains(&id));
    let someone = mooring_stellar::Keypair::generate().public_key().to_string();
    assert!(!admin.get(&format!("/console/transactions?sender={someone}")).await.1.contains(&id));
    let (_, detail) = admin.get(&format!("/console/transactions/{id}")).await;
    assert!(detail.contains("Mark pending external") && detail.contains(">Complete<"), "{detail}");
    let token = csrf(&detail);

    // A READ key sees the transaction but no action, and the server refuses one anyway.
    let mut reader = Browser::sign_in(&app, &read_key).await;
    let (status, seen) = reader.get(&format!("/console/transactions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!seen.contains("Mark pending external") && !seen.contains(">Complete<"), "{seen}");
    let reader_token = csrf(&seen); // the sign-out form's
    let path = format!("/console/transactions/{id}");
    let res =
        reader.post(&path, &[("csrf", &reader_token), ("action", "complete"), ("external_id", "x")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Forms without the session's CSRF token change nothing.
    let res = admin.post(&path, &[("action", "complete"), ("external_id", "x")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        admin.post(&path, &[("csrf", &reader_token), ("action", "complete"), ("external_id", "x")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "another session's token is not this one's");
    let (_, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
    assert_eq!(body["transaction"]["status"], "pending_receiver", "nothing refused took effect");

    // Another tenant reaches none of it by URL.
    let mut stranger = Browser::sign_in(&app, &b_key).await;
    assert_eq!(stranger.get(&format!("/console/transactions/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        stranger.get(&format!("/console/customers/{}", t.sender_id.unwrap())).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!stranger.get("/console/transactions").await.1.contains(&id));

    // Customers: personal data for the roles that review, not for READ.
    let sender_page = format!("/console/customers/{}", t.sender_id.unwrap());
    let (_, as_admin) = admin.get(&sender_page).await;
    assert!(as_admin.contains("Silva"), "{as_admin}");
    let (_, as_reader) = reader.get(&sender_page).await;
    assert!(!as_reader.contains("Silva") && as_reader.contains("hidden"), "{as_reader}");
    let refused = Admin::with_key(&app, &read_key)
        .error_code(
            "query($c: ID!) { customer(id: $c) { fields { value } } }",
            json!({ "c": t.sender_id.unwrap().to_string() }),
        )
        .await;
    assert_eq!(refused, "FORBIDDEN", "the API itself keeps PII from READ keys");

    // Review with a reason per field: the sending anchor sees which field to correct;
    // the reviewer's look at the personal data is in the audit log.
    let other = sa.accepted_customer("sep31-sender", "console-review").await;
    let page = format!("/console/customers/{other}");
    let (_, view) = admin.get(&page).await;
    assert!(view.contains(r#"name="reason:last_name""#), "{view}");
    let form = [
        ("csrf", token.as_str()),
        ("decision", "NEEDS_INFO"),
        ("message", "check the name"),
        ("reason:last_name", "does not match the ID"),
    ];
    let res = admin.post(&page, &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, kyc) = sa.get(&format!("/kyc/customer?id={other}&type=sep31-sender")).await;
    assert_eq!(kyc["status"], "NEEDS_INFO", "{kyc}");
    assert!(kyc.to_string().contains("does not match the ID"), "{kyc}");
    let (_, log) = admin.get("/console/audit").await;
    assert!(log.contains("viewCustomerPii") && log.contains(&other), "{log}");

    // The transaction's page shows its payment and offers the other actions its status
    // allows (asking for information, recording a refund).
    assert!(detail.contains("Ask for transaction info") && detail.contains("Record a refund"), "{detail}");
    assert!(detail.contains("<h2>Payments</h2>") && detail.contains("matched"), "{detail}");

    // The admin completes it; the sending anchor sees `completed`.
    let res = admin.post(&path, &[("csrf", &token), ("action", "complete"), ("external_id", "wire-9")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Done."));
    let (_, body) = sa.get(&format!("/sep31/transactions/{id}")).await;
    assert_eq!(body["transaction"]["status"], "completed");
    assert_eq!(body["transaction"]["external_transaction_id"], "wire-9");

    // Asking the sending anchor to correct a customer's fields, on another paid one.
    let (second, t2) = paid_transaction(&env, &sa, tenant.id).await;
    let second_page = format!("/console/transactions/{second}");
    let (_, detail2) = admin.get(&second_page).await;
    assert!(detail2.contains("Ask for customer info"), "{detail2}");
    let sender_id = t2.sender_id.unwrap().to_string();
    let ask = [
        ("csrf", token.as_str()),
        ("action", "customer_info"),
        ("customer_id", sender_id.as_str()),
        ("fields", "last_name: does not match the ID"),
        ("message", "please fix the name"),
    ];
    assert_eq!(admin.post(&second_page, &ask).await.status(), StatusCode::OK);
    let (_, body) = sa.get(&format!("/sep31/transactions/{second}")).await;
    assert_eq!(body["transaction"]["status"], "pending_customer_info_update", "{body}");

    // Webhooks: a test event sent from the console is delivered and logged; the audit
    // log shows who completed the transaction, with the key's roles.
    let receiver = crate::common::CallbackReceiver::start().await;
    let create = "mutation($t: ID, $i: WebhookEndpointInput!) { createWebhookEndpoint(tenantId: $t, input: $i) { endpoint { id } } }";
    let created = operator
        .ok(create, json!({ "t": tenant.id.to_string(), "i": { "url": receiver.url, "eventTypes": [] } }))
        .await;
    let endpoint = created["createWebhookEndpoint"]["endpoint"]["id"].as_str().unwrap().to_string();
    let res = admin.post(&format!("/console/webhooks/{endpoint}/test"), &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    receiver.wait_for(15, |b| !b.is_empty()).await;
    let page = eventually("the delivery is logged", async || {
        let (_, page) = admin.get("/console/webhooks").await;
        page.contains(">delivered<").then_some(page)
    })
    .await;
    assert!(page.contains(&receiver.url) && page.contains("Redeliver"), "{page}");
    let (_, log) = admin.get("/console/audit").await;
    assert!(log.contains("completeTransaction") && log.contains("(ADMIN)"), "{log}");
    assert!(log.contains("sendTestWebhook"), "{log}");

    // Keys: a new key's secret once; revoking the READ key ends its session at once.
    let res =
        admin.post("/console/keys", &[("csrf", &token), ("name", "ops desk"), ("role_operate", "on")]).await;
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"id="new-key">mk_"#), "{page}");
    let (_, again) = admin.get("/console/keys").await;
    assert!(!again.contains(r#"id="new-key""#) && again.contains("ops desk") && again.contains("OPERATE"));
    let keys = Admin::with_key(&app, &admin_key).ok("{ apiKeys { id name } }", json!({})).await;
    let read_key_id =
        keys["apiKeys"].as_array().unwrap().iter().find(|k| k["name"] == "READ").unwrap()["id"].clone();
    let res = admin
        .post(&format!("/console/keys/{}/revoke", read_key_id.as_str().unwrap()), &[("csrf", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        reader.get("/console/transactions").await.0,
        StatusCode::SEE_OTHER,
        "a revoked key's session is over"
    );

    // A tampered cookie is no session; sign-out clears it.
    let mut forged = Browser::new(&app);
    forged.cookie = admin.cookie.clone().map(|c| c.replace('.', ".x"));
    assert_eq!(forged.get("/console/transactions").await.0, StatusCode::SEE_OTHER);
    let res = admin.post("/console/sign-out", &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(admin.cookie.is_none());
    assert_eq!(admin.get("/console/transactions").await.0, StatusCode::SEE_OTHER);

    // The pages keep the admin host's policy, posting forms to themselves only.
    let page = op.http.get(format!("{}/console", app.base)).header("host", ADMIN_HOST).send().await.unwrap();
    let csp = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains("form-action 'self'") && csp.contains("script-src 'self'"), "{csp}");
    // Referrers stay on the admin host; browsers then send the real Origin with forms.
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
}

/// The issue's journey in Chromium (Debian's, through playwright-core), keyboard first,
/// with axe-core on every page: the operator onboards a tenant; the tenant configures
/// its customer types, an asset and a sending anchor; a sending anchor written with the
/// Python stellar-sdk creates a transaction and signs its payment, which reaches the
/// ledger (the Horizon stand-in); the transaction arrives in the open list live (the
/// `transactionEvents` subscription behind `/console/events`); a READ key sees no
/// action; the tenant reviews the sender field by field and completes; the sending
/// anchor sees `completed`. Screenshots in `target/`. `MOORING_TEST_BROWSER=1` (set by
/// `.ci/run`) makes a missing browser a failure; elsewhere it skips loudly.
#[tokio::test(flavor = "multi_thread")]
async fn the_console_in_a_browser_is_accessible_and_does_the_job() {
    let _heavy = crate::common::HEAVY.lock().await;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = dir.join("node_modules/axe-core").exists() && std::path::PathBuf::from(&chromium).exists();
    if !ready {
        let why = "needs Chromium and `npm ci` in tests/browser (bash .ci/run does both)";
        assert!(
            std::env::var("MOORING_TEST_BROWSER").is_err(),
            "MOORING_TEST_BROWSER is set but this test {why}"
        );
        eprintln!("\n*** SKIPPED the_console_in_a_browser: {why} ***\n");
        return;
    }
    let env = TestEnv::new().await;
    let app = env.start().await;
    let origin = format!("http://{ADMIN_HOST}:{}", app.server.addr.port());
    let shots = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&shots).unwrap();
    let marker = shots.join(format!("console-listening-{}", uuid::Uuid::new_v4()));
    let domain = unique_domain("browser-onboarded");
    let sa_key = mooring_stellar::Keypair::generate();
    let issuer = mooring_stellar::Keypair::generate().public_key().to_string();
    let browser = tokio::task::spawn_blocking({
        let (origin, shots, marker) = (origin.clone(), shots.clone(), marker.clone());
        let (domain, sa_account, issuer) = (domain.clone(), sa_key.public_key().to_string(), issuer.clone());
        move || {
            std::process::Command::new("node")
                .arg(dir.join("web_console.mjs"))
                .args([&origin, OPERATOR_TOKEN, &domain, &sa_account, &issuer])
                .args([marker.to_str().unwrap(), shots.to_str().unwrap()])
                .env("CHROMIUM", chromium)
                .output()
                .expect("node runs")
        }
    });
    // Once the tenant is configured and its list open, the sending anchor creates and pays.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !marker.exists() && !browser.is_finished() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let configured = marker.exists();
    let _ = std::fs::remove_file(&marker);
    let created = if configured {
        let (base, host, secret) = (app.base.clone(), domain.clone(), sa_key.secret());
        let out = tokio::task::spawn_blocking(move || {
            crate::interop_python::run_script("sa_pays.py", &["create", &base, &host, &secret, "USDC", "250"])
        })
        .await
        .unwrap();
        // The signed payment reaches the ledger as the network would record it.
        let pay = crate::horizon::pay_from_envelope(out["envelope"].as_str().unwrap());
        let tenant = app.server.state.tenants.resolve(&domain).expect("the onboarded tenant is served");
        eventually("the watcher follows the new account", async || {
            mooring_anchor::payments::cursor(&env.db, tenant.id, &pay.to).await.unwrap().map(|_| ())
        })
        .await;
        env.horizon.add_payment(&pay.to, &pay);
        Some(out)
    } else {
        None
    };
    let out = browser.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], json!([]), "{report:#}");
    let created = created.expect("the browser configured the tenant and opened the list");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "pending_sender");
    assert_eq!(report["violations"], json!([]), "no CSP violation: {report:#}");
    // Accessibility: no serious or critical axe violation on any page.
    let pages = report["axe"].as_object().unwrap();
    assert!(pages.len() >= 16, "{report:#}");
    for (page, violations) in pages {
        for v in violations.as_array().unwrap() {
            assert!(!["serious", "critical"].contains(&v["impact"].as_str().unwrap_or("")), "{page}: {v}");
        }
    }
    let texts = &report["texts"];
    assert!(texts["onboardedKey"].as_str().unwrap().starts_with("mk_"), "{report:#}");
    assert!(texts["health"].as_str().unwrap().contains("Browser Onboarded"), "{report:#}");
    assert!(texts["issuerError"].as_str().unwrap().contains("issuer"), "{report:#}");
    assert_eq!(texts["issuerInvalid"], "true", "{report:#}");
    assert!(texts["assets"].as_str().unwrap().contains(&issuer), "{report:#}");
    assert!(texts["senders"].as_str().unwrap().contains(&sa_key.public_key().to_string()), "{report:#}");
    assert_eq!(texts["readKey"], true, "{report:#}");
    assert_eq!(texts["arrivedLive"], true, "the transaction appeared in the open list: {report:#}");
    assert_eq!(texts["txId"], id.as_str(), "{report:#}");
    assert!(texts["list"].as_str().unwrap().contains(&id), "{report:#}");
    assert!(texts["readDetail"].as_str().unwrap().contains("pending_receiver"), "{report:#}");
    assert_eq!(texts["readButtons"], 0, "a READ key sees no action: {report:#}");
    assert!(texts["reviewed"].as_str().unwrap().contains("sep31-sender: accepted"), "{report:#}");
    assert!(texts["afterComplete"].as_str().unwrap().contains("completed"), "{report:#}");
    let audit = texts["audit"].as_str().unwrap();
    for change in
        ["setCustomerType", "upsertAsset", "approveSender", "setCustomerStatus", "completeTransaction"]
    {
        assert!(audit.contains(change), "{change} in the audit log: {report:#}");
    }
    assert!(texts["afterSignOut"].as_str().unwrap().contains("API key or operator token"), "{report:#}");
    assert_eq!(texts["localStorage"], "{}", "nothing in localStorage");
    for c in report["cookies"].as_array().unwrap() {
        assert_eq!(
            (c["httpOnly"].as_bool(), c["secure"].as_bool(), c["sameSite"].as_str()),
            (Some(true), Some(true), Some("Strict")),
            "{c}"
        );
    }
    for url in report["requests"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()) {
        assert!(url.starts_with(&format!("{origin}/")), "a request left the server: {url}");
    }
    // The sending anchor, with its own SDK, sees the transaction completed.
    let (base, host, secret) = (app.base.clone(), domain.clone(), sa_key.secret());
    let seen = tokio::task::spawn_blocking(move || {
        crate::interop_python::run_script("sa_pays.py", &["wait", &base, &host, &secret, &id, "completed"])
    })
    .await
    .unwrap();
    assert_eq!(seen["status"], "completed", "{seen}");
    assert_eq!(seen["external_transaction_id"], "wire-browser-1", "{seen}");
    assert_eq!(seen["amount_in"], "250", "{seen}");
    for shot in ["console-transactions.png", "console-transaction.png"] {
        assert!(shots.join(shot).exists(), "{shot}");
    }
    app.stop().await;
}

/// The operator onboards a tenant from the console (its first key shown once); the
/// tenant signs in with it and configures a sender and an asset, a refused input
/// answered with the API's message; a tenant key cannot reach the operator's pages.
#[tokio::test]
async fn an_operator_onboards_a_tenant_who_configures_itself_in_the_console() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let mut op = Browser::sign_in(&app, OPERATOR_TOKEN).await;
    let (_, page) = op.get("/console/tenants").await;
    let token = csrf(&page);
    let domain = unique_domain("onboarded");
    let form =
        [("csrf", token.as_str()), ("name", "Onboarded Ltd"), ("domain", &domain), ("network", "TESTNET")];
    let res = op.post("/console/tenants", &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let at = page.find(r#"id="new-key">"#).expect("the first key, shown once") + r#"id="new-key">"#.len();
    let key = page[at..].split('<').next().unwrap().to_string();
    assert!(key.starts_with("mk_") && page.contains(&domain), "{page}");
    assert!(!op.get("/console/tenants").await.1.contains(&key), "shown once");
    // The same domain again is refused with the API's reason, on the page.
    let res = op.post("/console/tenants", &form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("role=\"alert\""));

    let mut tenant = Browser::sign_in(&app, &key).await;
    assert_eq!(
        tenant.get("/console/tenants").await.0,
        StatusCode::FORBIDDEN,
        "operator pages are the operator's"
    );
    let (_, page) = tenant.get("/console/senders").await;
    let token = csrf(&page);
    let sender = mooring_stellar::Keypair::generate().public_key().to_string();
    let res = tenant
        .post("/console/senders", &[("csrf", &token), ("account", "GNOTANACCOUNT"), ("name", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("account"), "the refusal names the field");
    let res = tenant
        .post("/console/senders", &[("csrf", &token), ("account", &sender), ("name", "Remit Co")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains(&sender) && page.contains("enabled"), "{page}");
    let res = tenant
        .post("/console/senders/enabled", &[("csrf", &token), ("account", &sender), ("enabled", "false")])
        .await;
    assert!(res.text().await.unwrap().contains("disabled"));

    let issuer = mooring_stellar::Keypair::generate().public_key().to_string();
    let asset = |issuer: &str| {
        vec![
            ("csrf".to_string(), token.clone()),
            ("code".into(), "USDC".into()),
            ("issuer".into(), issuer.to_string()),
            ("min_amount".into(), "1".into()),
            ("max_amount".into(), "1000".into()),
            ("fee_fixed".into(), "0.5".into()),
            ("fee_percent".into(), "1".into()),
        ]
    };
    let bad = asset("GBAD");
    let res = tenant.post("/console/assets", &as_pairs(&bad)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("issuer"), "the refusal names the field");
    let good = asset(&issuer);
    let res = tenant.post("/console/assets", &as_pairs(&good)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("USDC") && page.contains(&issuer), "{page}");
    let seen = Admin::with_key(&app, &key)
        .ok("{ tenant { assets { code feeFixed } senders { account enabled } } }", json!({}))
        .await;
    assert_eq!(seen["tenant"]["assets"][0]["code"], "USDC");
    assert_eq!(seen["tenant"]["senders"][0]["enabled"], false);

    // Suspension from the tenants page.
    let (_, page) = op.get("/console/tenants").await;
    let id = seen_tenant_id(&app, &key).await;
    let token = csrf(&page);
    let res = op.post(&format!("/console/tenants/{id}/suspend"), &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("suspended"));
    let res = op.post(&format!("/console/tenants/{id}/resume"), &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Conformance mode, for SDF's validator on a testnet tenant; the operator's switch.
    let res = op.post(&format!("/console/tenants/{id}/conformance-on"), &[("csrf", &token)]).await;
    assert!(res.text().await.unwrap().contains("Conformance mode: on"));
    let on = Admin::operator(&app)
        .ok("query($t: ID) { tenant(id: $t) { conformanceMode } }", json!({ "t": id }))
        .await;
    assert_eq!(on["tenant"]["conformanceMode"], true);
    let tenant_token = csrf(&tenant.get("/console/senders").await.1);
    let res =
        tenant.post(&format!("/console/tenants/{id}/conformance-off"), &[("csrf", &tenant_token)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a tenant key may not switch it");
}

async fn seen_tenant_id(app: &TestApp, key: &str) -> String {
    Admin::with_key(app, key).ok("{ me { tenantId } }", json!({})).await["me"]["tenantId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn as_pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// Console pages draw from their key's admin allowance like API calls do: a script
/// driving the console cannot go past the API's limits.
#[tokio::test]
async fn console_pages_are_held_to_the_admin_allowance_of_their_key() {
    let env = TestEnv::new().await;
    let app = env
        .start_with(|c| {
            c.admin_rate_limit_per_second = 1;
            c.admin_rate_limit_burst = 8;
        })
        .await;
    let tenant = env.tenant(&unique_domain("limited")).await;
    app.server.state.tenants.refresh().await.unwrap();
    let q = "mutation($t: ID) { createApiKey(tenantId: $t, name: \"k\") { key } }";
    let key = Admin::operator(&app).ok(q, json!({ "t": tenant.id.to_string() })).await["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = Browser::sign_in(&app, &key).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(b.get("/console/transactions").await.0);
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}
