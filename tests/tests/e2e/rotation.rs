//! Master-key rotation: replicas run with the new key and the old one, requests keep
//! succeeding while everything is re-sealed (the job interrupted midway and resumed),
//! tokens issued under the old key keep working meanwhile, and afterwards the new key
//! alone serves everything while the old key alone is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mooring_entities::{tenant, webhook_endpoint};
use mooring_tenants::MasterKey;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::common::{Admin, Sa, TestEnv, eventually, unique_domain};

#[tokio::test]
async fn the_master_key_rotates_under_load_resumes_after_a_crash_and_then_refuses_the_old_key() {
    let env = TestEnv::new().await;
    let old = env.master_key.clone();
    let app = env.start().await;
    let mut tenants = Vec::new();
    for _ in 0..3 {
        let domain = unique_domain("rot");
        tenants.push((env.tenant(&domain).await, domain));
    }
    app.server.state.tenants.refresh().await.unwrap();
    let (first, domain) = &tenants[0];
    let sa = Sa::login(&app, domain, &first.sender).await;
    let customer = sa.accepted_customer("sep31-sender", "1").await;
    let old_token = sa.token.clone();
    let hook = "mutation($t: ID) { createWebhookEndpoint(tenantId: $t, input: { url: \"http://127.0.0.1:9/h\" }) { secret } }";
    Admin::operator(&app).ok(hook, json!({ "t": first.id.to_string() })).await;

    // Every replica restarts with the new key and the old one.
    let new = MasterKey::generate();
    let rotating_cfg = |c: &mut mooring_server::Config| {
        c.master_key = Some(new.to_base64());
        c.master_key_previous = Some(old.to_base64());
    };
    app.stop().await;
    let rotating = Arc::new(env.start_with(rotating_cfg).await);
    let (status, _) = crate::common::Sa { app: &rotating, domain: domain.clone(), token: old_token.clone() }
        .get(&format!("/kyc/customer?id={customer}&type=sep31-sender"))
        .await;
    assert_eq!(status, StatusCode::OK, "a token issued under the old key still works while rotating");

    // Load while rotating: stellar.toml, token exchanges, PII reads, config writes
    // (each reloads a tenant from rows being re-sealed).
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (app, stop, ok, failed) = (rotating.clone(), stop.clone(), ok.clone(), failed.clone());
        let (domain, sender, tenant_id, customer) =
            (domain.clone(), first.sender.clone(), first.id, customer.clone());
        tokio::spawn(async move {
            let admin = Admin::operator(&app);
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let toml = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().status();
                let token = Sa::login(&app, &domain, &sender).await.token;
                let pii = admin
                    .gql(
                        "query($c: ID!) { customer(id: $c) { fields { name value } } }",
                        json!({ "c": customer }),
                    )
                    .await;
                let approve = "mutation($t: ID, $a: String!) { approveSender(tenantId: $t, account: $a, name: \"r\") { id } }";
                let account = mooring_stellar::Keypair::generate().public_key().to_string();
                let wrote = admin.gql(approve, json!({ "t": tenant_id.to_string(), "a": account })).await;
                let good = toml == StatusCode::OK
                    && !token.is_empty()
                    && pii["data"]["customer"]["fields"].to_string().contains("Silva")
                    && wrote.get("errors").is_none();
                if good {
                    ok.fetch_add(1, Ordering::Relaxed)
                } else {
                    failed.fetch_add(1, Ordering::Relaxed)
                };
                if n > 1000 {
                    break;
                }
            }
        })
    };

    // The load made another round: requests went on during this step.
    let load_ran = async |ok: &AtomicU64, failed: &AtomicU64| {
        let from = ok.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed);
        eventually("the load going on", async || {
            (ok.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) > from).then_some(())
        })
        .await;
    };
    let mut cfg = env.config();
    rotating_cfg(&mut cfg);
    // Killed after one row ("kill -9" mid-rotation)…
    let first_pass = mooring_server::rotate_master_key(&cfg, Some(1)).await.unwrap();
    assert_eq!(first_pass.resealed, 1);
    load_ran(&ok, &failed).await;
    // …and run again: it goes on from there.
    let rest = mooring_server::rotate_master_key(&cfg, None).await.unwrap();
    assert!(rest.resealed >= 3, "{rest:?}");
    assert_eq!(mooring_server::rotate_master_key(&cfg, None).await.unwrap().resealed, 0, "nothing left");
    load_ran(&ok, &failed).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    assert!(ok.load(Ordering::Relaxed) >= 2, "the load ran");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "requests failed during the rotation");

    // Everything is sealed under the new key.
    let marker = format!("v2:{}:", new.id());
    for t in tenant::Entity::find().all(&env.db).await.unwrap() {
        assert!(t.signing_seed_ciphertext.starts_with(&marker), "seed of {}", t.id);
        assert!(t.data_key.unwrap().starts_with(&marker), "data key of {}", t.id);
    }
    for e in webhook_endpoint::Entity::find().all(&env.db).await.unwrap() {
        assert!(e.secret.starts_with(&marker));
    }
    Arc::try_unwrap(rotating).ok().expect("load task done").stop().await;

    // The old key alone is refused; the new key alone serves everything.
    let mut only_old = env.config();
    only_old.master_key = Some(old.to_base64());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = mooring_server::start(only_old, listener, mooring_server::CancellationToken::new()).await;
    assert!(refused.is_err(), "the old key must no longer open anything");
    let after = env.start_with(|c| c.master_key = Some(new.to_base64())).await;
    let sa = Sa::login(&after, domain, &first.sender).await;
    let (status, _) = sa.get(&format!("/kyc/customer?id={customer}&type=sep31-sender")).await;
    assert_eq!(status, StatusCode::OK);
    let pii = Admin::operator(&after)
        .ok("query($c: ID!) { customer(id: $c) { fields { name value } } }", json!({ "c": customer }))
        .await;
    assert!(pii["customer"]["fields"].to_string().contains("Silva"));
    let (status, _) = crate::common::Sa { app: &after, domain: domain.clone(), token: old_token }
        .get(&format!("/kyc/customer?id={customer}&type=sep31-sender"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "old-key tokens end with the rotation");
    after.stop().await;
}
