use reqwest::StatusCode;

use crate::common::{TestEnv, redis_only, unique_domain};

#[tokio::test]
async fn over_the_limit_is_429_with_retry_after_per_client_ip() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    env.tenant(&domain).await;
    let app = env
        .start_with(|c| {
            c.rate_limit_per_second = 1;
            c.rate_limit_burst = 3;
            c.trust_forwarded_for = true;
        })
        .await;
    let hit =
        |ip: &'static str| app.get(&domain, "/.well-known/stellar.toml").header("x-forwarded-for", ip).send();
    for _ in 0..3 {
        assert_eq!(hit("203.0.113.1").await.unwrap().status(), StatusCode::OK);
    }
    let res = hit("203.0.113.1").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after));
    assert!(res.json::<serde_json::Value>().await.unwrap()["error"].is_string());
    // Another client of the same tenant has its own allowance.
    assert_eq!(hit("203.0.113.2").await.unwrap().status(), StatusCode::OK);
    // Health checks are never limited.
    for _ in 0..5 {
        assert_eq!(app.get(&domain, "/health").send().await.unwrap().status(), StatusCode::OK);
    }
    app.stop().await;
}

#[tokio::test]
async fn the_limit_holds_across_replicas_with_redis() {
    if !redis_only("the_limit_holds_across_replicas_with_redis") {
        return;
    }
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    env.tenant(&domain).await;
    let tight = |c: &mut mooring_server::Config| {
        c.rate_limit_per_second = 1;
        c.rate_limit_burst = 4;
        c.trust_forwarded_for = true;
    };
    let (a, b) = (env.start_with(tight).await, env.start_with(tight).await);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app
            .get(&domain, "/.well-known/stellar.toml")
            .header("x-forwarded-for", "198.51.100.7")
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 4, "{statuses:?}");
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    a.stop().await;
    b.stop().await;
}

/// How many of `statuses` are 429s, each with a `Retry-After`.
async fn refused(responses: Vec<reqwest::Response>) -> usize {
    let mut n = 0;
    for res in responses {
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"), "429 without Retry-After");
            n += 1;
        } else {
            assert_eq!(res.status(), StatusCode::OK);
        }
    }
    n
}

#[tokio::test]
async fn behind_a_proxy_the_client_is_the_rightmost_untrusted_entry() {
    let env = TestEnv::new().await;
    let domain = unique_domain("xff");
    env.tenant(&domain).await;
    let app = env
        .start_with(|c| {
            c.rate_limit_per_second = 5;
            c.rate_limit_burst = 10;
            c.trust_forwarded_for = true;
            c.trusted_proxies = vec!["192.0.2.0/24".into()];
        })
        .await;
    let burst = async |forwarded: &dyn Fn(usize) -> String| {
        let mut responses = Vec::new();
        for i in 0..100 {
            let xff = forwarded(i);
            responses.push(
                app.get(&domain, "/.well-known/stellar.toml")
                    .header("x-forwarded-for", xff)
                    .send()
                    .await
                    .unwrap(),
            );
        }
        refused(responses).await
    };
    // A rotating first entry (written by the client) changes nothing.
    let spoofed = burst(&|i| format!("10.{}.{}.1, 198.51.100.1", i / 250, i % 250)).await;
    assert!(spoofed >= 85, "{spoofed} of 100 refused");
    // Through two of our proxies: the entry left of them is the client.
    let hops = burst(&|i| format!("6.6.{i}.6, 203.0.113.5, 192.0.2.7")).await;
    assert!(hops >= 85, "{hops} of 100 refused");
    // Garbage never becomes a key of its own: it lands on the proxy's bucket.
    let garbage = burst(&|i| format!("garbage-{i}")).await;
    assert!(garbage >= 85, "{garbage} of 100 refused");
    // Distinct real clients each get their own allowance.
    let distinct = burst(&|i| format!("198.51.100.{}", i + 100)).await;
    assert_eq!(distinct, 0);
    app.stop().await;
}

#[tokio::test]
async fn token_exchanges_and_writes_have_their_own_quotas() {
    let env = TestEnv::new().await;
    let domain = unique_domain("cost");
    let t = env.tenant(&domain).await;
    let app = env
        .start_with(|c| {
            c.rate_limit_auth_per_second = 1;
            c.rate_limit_auth_burst = 2;
            c.rate_limit_write_per_second = 1;
            c.rate_limit_write_burst = 3;
        })
        .await;
    let account = t.sender.public_key().to_string();
    let sa = crate::common::Sa::login(&app, &domain, &t.sender).await;
    let mut exchanges = Vec::new();
    for _ in 0..2 {
        let signed = app.signed_challenge(&domain, &account, &t.sender).await;
        exchanges.push(app.exchange(&domain, &signed).await.0);
    }
    assert_eq!(exchanges, [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
    // Reads are not touched by the exchanges' quota.
    let res = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Writes have a quota of their own, and do not touch reads either.
    // Sent together, so that a slow machine cannot stretch them past the quota's refill.
    let bodies: Vec<_> = (0..4)
        .map(|i| serde_json::json!({ "type": "sep31-sender", "memo": i.to_string(), "first_name": "A" }))
        .collect();
    let writes: Vec<StatusCode> =
        futures::future::join_all(bodies.iter().map(|body| sa.put_json("/kyc/customer", body)))
            .await
            .into_iter()
            .map(|(status, _)| status)
            .collect();
    assert_eq!(writes.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 1, "{writes:?}");
    assert_eq!(sa.get("/sep31/info").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_cap_answers_a_flood_from_many_addresses() {
    let env = TestEnv::new().await;
    let (a_domain, b_domain) = (unique_domain("a"), unique_domain("b"));
    let a = env.tenant(&a_domain).await;
    env.tenant(&b_domain).await;
    let app = env.start_with(|c| c.trust_forwarded_for = true).await;
    let operator = crate::common::Admin::operator(&app);
    let data = operator
        .ok(
            "mutation($t: ID!) { setTenantRateLimit(tenantId: $t, perSecond: 5, burst: 10) { rateLimitPerSecond rateLimitBurst } }",
            serde_json::json!({ "t": a.id.to_string() }),
        )
        .await;
    assert_eq!(data["setTenantRateLimit"]["rateLimitPerSecond"], 5);
    let flood = async |domain: &str| {
        let mut responses = Vec::new();
        for i in 0..60 {
            let ip = format!("198.51.{}.{}", i / 200, i % 200 + 1);
            responses.push(
                app.get(domain, "/.well-known/stellar.toml")
                    .header("x-forwarded-for", ip)
                    .send()
                    .await
                    .unwrap(),
            );
        }
        refused(responses).await
    };
    assert!(flood(&a_domain).await >= 45, "A's cap holds against many addresses");
    assert_eq!(flood(&b_domain).await, 0, "B is not touched");
    // A bad cap is refused; clearing it restores the default.
    let code = operator
        .error_code(
            "mutation($t: ID!) { setTenantRateLimit(tenantId: $t, perSecond: 0, burst: 10) { id } }",
            serde_json::json!({ "t": a.id.to_string() }),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
    operator
        .ok(
            "mutation($t: ID!) { setTenantRateLimit(tenantId: $t) { rateLimitPerSecond } }",
            serde_json::json!({ "t": a.id.to_string() }),
        )
        .await;
    assert_eq!(flood(&a_domain).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn guessing_admin_keys_is_refused_per_address() {
    let env = TestEnv::new().await;
    let app = env
        .start_with(|c| {
            c.admin_rate_limit_per_second = 1;
            c.admin_rate_limit_burst = 25;
            c.trust_forwarded_for = true;
        })
        .await;
    let attempt = async |ip: &str, token: &str| {
        app.post(crate::common::ADMIN_HOST, "/graphql")
            .header("x-forwarded-for", ip)
            .bearer_auth(token)
            .json(&serde_json::json!({ "query": "{ me { kind } }" }))
            .send()
            .await
            .unwrap()
    };
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(attempt("198.51.100.66", &format!("mk_guess{i}")).await.status());
    }
    assert_eq!(statuses[..2], [StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED], "{statuses:?}");
    assert!(statuses[2..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    // Even the right key is refused from that address for now: guessing cannot go on.
    let res = attempt("198.51.100.66", crate::common::OPERATOR_TOKEN).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Another address is not affected.
    assert_eq!(attempt("198.51.100.67", crate::common::OPERATOR_TOKEN).await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_exchanges_for_one_account_share_one_horizon_look_up() {
    let env = TestEnv::new().await;
    let domain = unique_domain("sf");
    let t = env.tenant(&domain).await;
    let app = env.start_with(|c| c.signer_cache_secs = std::time::Duration::from_secs(10)).await;
    let account = t.sender.public_key().to_string();
    env.horizon.set_account(&account, vec![(account.clone(), 1)], 1);
    env.horizon.set_delay(std::time::Duration::from_millis(200));
    let mut signed = Vec::new();
    for _ in 0..8 {
        signed.push(app.signed_challenge(&domain, &account, &t.sender).await);
    }
    let before = env.horizon.account_requests();
    let results = futures::future::join_all(signed.iter().map(|s| app.exchange(&domain, s))).await;
    assert!(results.iter().all(|(s, _)| *s == StatusCode::OK), "{results:?}");
    assert_eq!(env.horizon.account_requests() - before, 1);
    app.stop().await;
}
