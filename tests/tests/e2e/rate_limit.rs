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
