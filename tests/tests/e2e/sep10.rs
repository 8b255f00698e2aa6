use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mooring_stellar::challenge::{self, ChallengeSpec};
use mooring_stellar::{ClientAccount, Keypair, Network};
use mooring_tenants::admin;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestEnv, jwt_claims, network, redis_only, unique_domain};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn info_status(app: &crate::common::TestApp, host: &str, token: &str) -> StatusCode {
    app.get(host, "/sep31/info").bearer_auth(token).send().await.unwrap().status()
}

#[tokio::test]
async fn happy_path_issues_a_token_with_the_spec_claims() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let account = t.sender.public_key().to_string();

    let (status, body) = app.challenge(&domain, &format!("account={account}")).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["network_passphrase", "transaction"], "nothing else in the body");
    assert_eq!(body["network_passphrase"], "Test SDF Network ; September 2015");

    let signed = challenge::sign(body["transaction"].as_str().unwrap(), &network(), &t.sender).unwrap();
    // Form bodies work as well as JSON.
    let res = app.post(&domain, "/auth").form(&[("transaction", signed.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let claims = jwt_claims(&token);
    assert_eq!(claims["iss"], format!("https://{domain}/auth"));
    assert_eq!(claims["sub"], account);
    assert_eq!(claims["home_domain"], domain);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 64);
    let (iat, exp) = (claims["iat"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
    assert!(iat.abs_diff(now()) < 10 && exp > iat);
    assert!(claims.get("client_domain").is_none());

    assert_eq!(info_status(&app, &domain, &token).await, StatusCode::OK);
    assert_eq!(info_status(&app, &domain, "not-a-token").await, StatusCode::FORBIDDEN);
    // /info is public: no token is fine, a bad one is not.
    let res = app.get(&domain, "/sep31/info").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn memo_and_muxed_accounts_give_their_sub() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let g = t.sender.public_key().to_string();

    let (status, body) = app.challenge(&domain, &format!("account={g}&memo=123")).await;
    assert_eq!(status, StatusCode::OK);
    let signed = challenge::sign(body["transaction"].as_str().unwrap(), &network(), &t.sender).unwrap();
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwt_claims(body["token"].as_str().unwrap())["sub"], format!("{g}:123"));

    let muxed = ClientAccount::Muxed { key: t.sender.public_key(), id: 99 }.to_string();
    let signed = app.signed_challenge(&domain, &muxed, &t.sender).await;
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwt_claims(body["token"].as_str().unwrap())["sub"], muxed);
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_json_400s() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let g = t.sender.public_key().to_string();
    let muxed = ClientAccount::Muxed { key: t.sender.public_key(), id: 1 }.to_string();
    for query in [
        String::new(),
        "account=".into(),
        "account=GABC".into(),
        format!("account={g}&memo=abc"),
        format!("account={g}&memo=-5"),
        format!("account={muxed}&memo=5"),
        format!("account={g}&home_domain=elsewhere.example"),
        "account=%ZZ".into(),
    ] {
        let (status, body) = app.challenge(&domain, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["error"].is_string(), "{query}");
    }
    for body in
        [json!({}), json!({"transaction": ""}), json!({"transaction": "AAAA"}), json!({"transaction": 5})]
    {
        let res = app.post(&domain, "/auth").json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    }
    let res = app
        .post(&domain, "/auth")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.post(&domain, "/auth").body(vec![b'a'; 200_000]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app.stop().await;
}

#[tokio::test]
async fn a_challenge_buys_exactly_one_token() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let signed = app.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
    assert_eq!(app.exchange(&domain, &signed).await.0, StatusCode::OK);
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("already used"));

    // Concurrent replays of a fresh challenge against one instance: one winner.
    let signed = app.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
    let results = futures::future::join_all((0..8).map(|_| app.exchange(&domain, &signed))).await;
    assert_eq!(results.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn two_instances_racing_on_one_challenge_issue_one_token() {
    if !redis_only("two_instances_racing_on_one_challenge_issue_one_token") {
        return;
    }
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let (a, b) = (env.start().await, env.start().await);
    for _ in 0..5 {
        let signed = a.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
        let attempts = (0..4).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            app.exchange(&domain, &signed)
        });
        let results = futures::future::join_all(attempts).await;
        let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(ok, 1, "{results:?}");
    }
    a.stop().await;
    b.stop().await;
}

/// A challenge built with the tenant's own key but outside the server: lets a test
/// control time bounds and network, which the server would never do.
fn forged(server: &Keypair, network: &Network, client: &Keypair, domain: &str, at: u64) -> String {
    challenge::build(&ChallengeSpec {
        server,
        network,
        client: ClientAccount::Account { key: client.public_key(), memo: None },
        home_domain: domain,
        web_auth_domain: domain,
        client_domain: None,
        now: at,
    })
    .unwrap()
    .xdr
}

#[tokio::test]
async fn expired_wrong_network_tampered_and_foreign_challenges_are_refused() {
    let env = TestEnv::new().await;
    let (domain, other) = (unique_domain("a"), unique_domain("b"));
    let t = env.tenant(&domain).await;
    let u = env.tenant(&other).await;
    let app = env.start().await;
    let server = app.server.state.tenants.resolve(&domain).unwrap().signing_key.clone();

    let expired = forged(&server, &network(), &t.sender, &domain, now() - 1000);
    let expired = challenge::sign(&expired, &network(), &t.sender).unwrap();
    let (status, body) = app.exchange(&domain, &expired).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("expired"), "{body}");

    let public = Network::public();
    let wrong_net = forged(&server, &public, &t.sender, &domain, now());
    let wrong_net = challenge::sign(&wrong_net, &public, &t.sender).unwrap();
    assert_eq!(app.exchange(&domain, &wrong_net).await.0, StatusCode::BAD_REQUEST);

    // A genuine challenge with one byte of the nonce flipped.
    let (_, body) = app.challenge(&domain, &format!("account={}", t.sender.public_key())).await;
    let xdr = body["transaction"].as_str().unwrap();
    let tampered = flip_nonce(xdr);
    let tampered = challenge::sign(&tampered, &network(), &t.sender).unwrap();
    assert_eq!(app.exchange(&domain, &tampered).await.0, StatusCode::BAD_REQUEST);

    // Tenant B's genuine challenge presented to tenant A, and A's token at B.
    let b_signed = app.signed_challenge(&other, &u.sender.public_key().to_string(), &u.sender).await;
    assert_eq!(app.exchange(&domain, &b_signed).await.0, StatusCode::BAD_REQUEST);
    let token_a = app.token(&domain, &t.sender).await;
    assert_eq!(info_status(&app, &domain, &token_a).await, StatusCode::OK);
    assert_eq!(info_status(&app, &other, &token_a).await, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn only_approved_senders_authenticate() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let stranger = Keypair::generate();
    let (status, body) = app.challenge(&domain, &format!("account={}", stranger.public_key())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"].is_string());

    // Approved when the challenge is issued, removed before it is exchanged.
    let signed = app.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
    let token = app.token(&domain, &t.sender).await;
    admin::remove_sender(&env.db, t.id, &t.sender.public_key().to_string()).await.unwrap();
    app.server.state.tenants.refresh().await.unwrap();
    assert_eq!(app.exchange(&domain, &signed).await.0, StatusCode::FORBIDDEN);
    // And tokens it already holds stop working.
    assert_eq!(info_status(&app, &domain, &token).await, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn existing_accounts_need_their_signers_medium_threshold() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let account = t.sender.public_key().to_string();
    let cosigner = Keypair::generate();
    // Master key weight 1, a cosigner weight 1, medium threshold 2.
    env.horizon.set_account(&account, vec![(account.clone(), 1), (cosigner.public_key().to_string(), 1)], 2);

    let master_only = app.signed_challenge(&domain, &account, &t.sender).await;
    let (status, body) = app.exchange(&domain, &master_only).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("threshold"), "{body}");

    let both = app.signed_challenge(&domain, &account, &t.sender).await;
    let both = challenge::sign(&both, &network(), &cosigner).unwrap();
    assert_eq!(app.exchange(&domain, &both).await.0, StatusCode::OK);

    // A master key with weight 0 proves nothing; the cosigner alone may suffice.
    env.horizon.set_account(&account, vec![(account.clone(), 0), (cosigner.public_key().to_string(), 5)], 2);
    let by_master = app.signed_challenge(&domain, &account, &t.sender).await;
    assert_eq!(app.exchange(&domain, &by_master).await.0, StatusCode::BAD_REQUEST);
    let by_cosigner = app.signed_challenge(&domain, &account, &cosigner).await;
    assert_eq!(app.exchange(&domain, &by_cosigner).await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn missing_accounts_need_the_master_key_and_horizon_outage_fails_closed() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let account = t.sender.public_key().to_string();

    let by_other = app.signed_challenge(&domain, &account, &Keypair::generate()).await;
    assert_eq!(app.exchange(&domain, &by_other).await.0, StatusCode::BAD_REQUEST);

    env.horizon.set_failing(true);
    let signed = app.signed_challenge(&domain, &account, &t.sender).await;
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].as_str().unwrap().contains("Horizon"));
    // The challenge was not burnt by the outage: it works once Horizon is back.
    env.horizon.set_failing(false);
    assert_eq!(app.exchange(&domain, &signed).await.0, StatusCode::OK);
    app.stop().await;

    let unreachable = env.start_with(|_| {}).await;
    env.db_set_horizon(t.id, "http://127.0.0.1:9").await;
    unreachable.server.state.tenants.refresh().await.unwrap();
    let signed = unreachable.signed_challenge(&domain, &account, &t.sender).await;
    assert_eq!(unreachable.exchange(&domain, &signed).await.0, StatusCode::SERVICE_UNAVAILABLE);
    unreachable.stop().await;
}

#[tokio::test]
async fn client_domain_requires_the_wallet_signature() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let wallet = Keypair::generate();
    let wallet_domain =
        crate::common::serve_stellar_toml(&format!("SIGNING_KEY = \"{}\"\n", wallet.public_key())).await;
    let account = t.sender.public_key().to_string();

    let (status, body) =
        app.challenge(&domain, &format!("account={account}&client_domain={wallet_domain}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let by_client = challenge::sign(body["transaction"].as_str().unwrap(), &network(), &t.sender).unwrap();
    assert_eq!(app.exchange(&domain, &by_client).await.0, StatusCode::BAD_REQUEST);

    let (_, body) = app.challenge(&domain, &format!("account={account}&client_domain={wallet_domain}")).await;
    let signed = challenge::sign(body["transaction"].as_str().unwrap(), &network(), &t.sender).unwrap();
    let signed = challenge::sign(&signed, &network(), &wallet).unwrap();
    let (status, body) = app.exchange(&domain, &signed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(jwt_claims(body["token"].as_str().unwrap())["client_domain"], wallet_domain);

    // A domain with no stellar.toml is a 400.
    let (status, _) = app.challenge(&domain, &format!("account={account}&client_domain=127.0.0.1:9")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.stop().await;

    // Without the test-only flag, loopback client domains are never fetched.
    let strict = env.start_with(|c| c.allow_private_outbound = false).await;
    let (status, body) =
        strict.challenge(&domain, &format!("account={account}&client_domain=127.0.0.1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("not allowed"), "{body}");
    let (status, _) = strict.challenge(&domain, &format!("account={account}&client_domain=localhost")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    strict.stop().await;
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let signed = app.signed_challenge(&domain, &t.sender.public_key().to_string(), &t.sender).await;
    env.horizon.set_delay(Duration::from_millis(500));
    let seen = env.horizon.account_requests();
    let url = format!("{}/auth", app.base);
    let request = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .header("host", domain)
            .json(&json!({ "transaction": signed }))
            .send()
            .await
            .map(|r| r.status())
    });
    // In flight: the exchange is waiting on (the slowed) Horizon.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while env.horizon.account_requests() == seen {
        assert!(std::time::Instant::now() < deadline, "the exchange never reached Horizon");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.stop().await;
    assert_eq!(request.await.unwrap().unwrap(), StatusCode::OK);
}

/// The same envelope, server signature kept, with one character of the nonce changed.
fn flip_nonce(xdr: &str) -> String {
    use stellar_xdr::{Limits, OperationBody, ReadXdr, TransactionEnvelope, WriteXdr};
    let TransactionEnvelope::Tx(mut env) = TransactionEnvelope::from_xdr_base64(xdr, Limits::none()).unwrap()
    else {
        panic!("v1 envelope expected")
    };
    let mut ops = env.tx.operations.to_vec();
    let OperationBody::ManageData(data) = &mut ops[0].body else { panic!("manage_data expected") };
    let mut nonce = data.data_value.as_ref().unwrap().0.to_vec();
    nonce[0] = if nonce[0] == b'A' { b'B' } else { b'A' };
    data.data_value = Some(stellar_xdr::DataValue(nonce.try_into().unwrap()));
    env.tx.operations = ops.try_into().unwrap();
    TransactionEnvelope::Tx(env).to_xdr_base64(Limits::none()).unwrap()
}
