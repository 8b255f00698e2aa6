//! Prometheus metrics: on their own listener only, with bounded labels, moving as
//! requests are served.

use reqwest::StatusCode;

use crate::common::{TestApp, TestEnv, unique_domain};

/// The value of the first sample whose line has every one of `parts`, or 0.
fn sample(text: &str, name: &str, parts: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && parts.iter().all(|p| l.contains(p)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.server.metrics_addr.expect("metrics are on");
    reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn requests_are_counted_by_route_status_and_tenant_on_the_metrics_listener_only() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    let t = env.tenant(&domain).await;
    let app = env.start_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let tenant = format!("tenant=\"{}\"", t.id);
    let toml = ["route=\"/.well-known/stellar.toml\"", "status=\"2xx\"", tenant.as_str()];

    let before = sample(&scrape(&app).await, "mooring_http_requests_total", &toml);
    for _ in 0..3 {
        assert_eq!(
            app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    let sa = crate::common::Sa::login(&app, &domain, &t.sender).await;
    drop(sa);
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "mooring_http_requests_total", &toml), before + 3.0, "{text}");
    assert!(sample(&text, "mooring_sep10_tokens_total", &[tenant.as_str(), "outcome=\"issued\""]) >= 1.0);
    assert!(sample(&text, "mooring_sep10_challenges_total", &[tenant.as_str()]) >= 1.0);
    assert!(text.contains("mooring_http_request_duration_seconds_bucket{"), "latency is a histogram");
    // Raw paths never become labels: an unknown path is one "unmatched" series.
    app.get(&domain, &format!("/no/such/{}", uuid::Uuid::new_v4())).send().await.unwrap();
    let text = scrape(&app).await;
    assert!(!text.contains("/no/such/"), "a raw path became a label");
    assert!(sample(&text, "mooring_http_requests_total", &["route=\"unmatched\""]) >= 1.0);

    // Not on the SEP listener, on any host.
    assert_eq!(app.get(&domain, "/metrics").send().await.unwrap().status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_watcher_outbox_and_database_pool_are_measured() {
    let env = TestEnv::new().await;
    let domain = unique_domain("w");
    let t = env.tenant(&domain).await;
    let app = env.start_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    // The stream is running (it starts from the network's newest operation, so traffic
    // added before it started would not be counted).
    crate::shared_stream::members_caught_up(&env, &[t.id]).await;
    let sa = crate::common::Sa::login(&app, &domain, &t.sender).await;
    let id = sa.transaction().await;
    let paid = crate::watcher::tx(&env, &id).await;
    env.horizon.add_foreign_traffic(3);
    env.horizon.add_payment(&paid.stellar_account_id, &crate::watcher::pay_for(&paid));
    crate::watcher::wait_status(&env, &id, mooring_stellar::sep31::Status::PendingReceiver).await;

    let tenant = format!("tenant=\"{}\"", t.id);
    let horizon = format!("horizon=\"{}\"", env.horizon.url);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = scrape(&app).await;
        let seen = sample(&text, "mooring_watcher_records_total", &[tenant.as_str(), "outcome=\"matched\""])
            >= 1.0
            && sample(&text, "mooring_stream_records_total", &[horizon.as_str(), "routed=\"yes\""]) >= 1.0
            && sample(&text, "mooring_stream_records_total", &[horizon.as_str(), "routed=\"no\""]) >= 3.0
            && sample(&text, "mooring_stream_members", &[horizon.as_str()]) >= 1.0
            && sample(&text, "mooring_watcher_leases_held", &["watch=\"stream\""]) >= 1.0
            && text.contains("mooring_outbox_pending ")
            && text.contains("mooring_outbox_oldest_pending_seconds ")
            && text.contains("mooring_corridors_stale ")
            && text.contains("mooring_corridors_without_rate ")
            && text.contains("mooring_db_pool_connections{state=\"idle\"}");
        if seen {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "watcher/outbox/pool metrics missing:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.stop().await;
}

/// Every family has help text, and the process and build metrics are there; where
/// promtool is installed (`.ci/run` installs it), `promtool check metrics` passes too.
#[tokio::test]
async fn every_family_has_help_and_promtool_accepts_the_output() {
    let env = TestEnv::new().await;
    let domain = unique_domain("help");
    env.tenant(&domain).await;
    let app = env.start_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap();
    let text = scrape(&app).await;
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let family = line.split_whitespace().nth(2).unwrap();
        assert!(text.contains(&format!("# HELP {family} ")), "{family} has no HELP:\n{text}");
    }
    for family in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "mooring_build_info",
    ] {
        assert!(text.lines().any(|l| l.starts_with(family)), "{family} missing:\n{text}");
    }
    let promtool = std::path::Path::new("/usr/bin/promtool");
    if !promtool.exists() {
        assert!(
            std::env::var("MOORING_TEST_PROMTOOL").is_err(),
            "MOORING_TEST_PROMTOOL is set but promtool is missing"
        );
        eprintln!("\n*** SKIPPED the promtool half of every_family_has_help: no /usr/bin/promtool ***\n");
    } else {
        use std::io::Write;
        let mut child = std::process::Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    app.stop().await;
}
