//! The admin console (GraphiQL) in a real browser with no network but the server, and
//! the security headers of both kinds of host.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{ADMIN_HOST, OPERATOR_TOKEN, TestEnv, unique_domain};

#[tokio::test]
async fn the_admin_host_sends_security_headers_and_sep_hosts_keep_cors() {
    let env = TestEnv::new().await;
    let domain = unique_domain("a");
    env.tenant(&domain).await;
    let app = env.start().await;

    let page = app.get(ADMIN_HOST, "/graphql").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in
        ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"]
    {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(!html.contains("unpkg") && !html.contains("https://"), "{html}");
    assert!(html.contains("integrity=\"sha384-"), "{html}");

    let script = app.get(ADMIN_HOST, "/graphql/assets/graphiql.min.js").send().await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.bytes().await.unwrap().len() > 100_000);
    assert_eq!(app.get(ADMIN_HOST, "/graphql/assets/../Cargo.toml").send().await.unwrap().status(), 404);
    assert_eq!(app.get(ADMIN_HOST, "/graphql/assets/nope.js").send().await.unwrap().status(), 404);
    // The console is the admin host's only: a tenant domain does not serve it.
    assert_eq!(app.get(&domain, "/graphql/assets/graphiql.min.js").send().await.unwrap().status(), 404);

    let api = app
        .post(ADMIN_HOST, "/graphql")
        .bearer_auth(OPERATOR_TOKEN)
        .json(&serde_json::json!({ "query": "{ me { kind } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert_eq!(api.json::<Value>().await.unwrap()["data"]["me"]["kind"], "OPERATOR");

    let toml = app
        .get(&domain, "/.well-known/stellar.toml")
        .header("origin", "https://wallet.example")
        .send()
        .await
        .unwrap();
    assert_eq!(toml.headers()["access-control-allow-origin"], "*");
    assert_eq!(toml.headers()["x-content-type-options"], "nosniff");
    app.stop().await;
}

/// `MOORING_TEST_BROWSER=1` (set by `.ci/run`, which installs Chromium and the driver)
/// makes a missing browser a failure; elsewhere the test says loudly that it skipped.
#[tokio::test]
async fn the_console_runs_a_query_in_a_browser_with_no_network_but_the_server() {
    let _heavy = crate::common::HEAVY.lock().await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = dir.join("node_modules/playwright-core").exists() && PathBuf::from(&chromium).exists();
    if !ready {
        let why = "needs Chromium and `npm ci` in tests/browser (bash .ci/run does both)";
        assert!(
            std::env::var("MOORING_TEST_BROWSER").is_err(),
            "MOORING_TEST_BROWSER is set but the browser test {why}"
        );
        eprintln!("\n*** SKIPPED the_console_runs_a_query_in_a_browser: {why} ***\n");
        return;
    }
    let env = TestEnv::new().await;
    let app = env.start().await;
    let port = app.server.addr.port();
    let origin = format!("http://{ADMIN_HOST}:{port}");
    let screenshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/graphiql-console.png");
    let script = dir.join("console.mjs");
    let out = tokio::task::spawn_blocking({
        let (origin, screenshot) = (origin.clone(), screenshot.clone());
        move || {
            Command::new("node")
                .arg(script)
                .arg(format!("{origin}/graphql"))
                .arg(OPERATOR_TOKEN)
                .arg(screenshot)
                .env("CHROMIUM", chromium)
                .output()
                .expect("node runs")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["violations"], serde_json::json!([]), "{report:#}");
    let result = report["result"].as_str().unwrap_or_default();
    assert!(result.contains("OPERATOR"), "the answer rendered: {report:#}");
    // Nothing shown before the user ran anything: no UNAUTHENTICATED, no error.
    let first = report["firstScreen"].as_str().expect("the first screen was read");
    assert!(!first.contains("error") && !first.contains("UNAUTHENTICATED"), "first screen: {first:?}");
    // The schema loaded (GraphiQL's own introspection query) and the docs show a field.
    let docs = report["docs"].as_str().unwrap_or_default();
    assert!(docs.contains("Who the API key in use belongs to"), "{report:#}");
    assert!(!docs.contains("Error fetching schema"), "{report:#}");
    let requests = report["requests"].as_array().unwrap();
    assert!(requests.len() >= 6, "the page and its five files at least: {report:#}");
    let ws = format!("ws://{ADMIN_HOST}:{port}/");
    for url in requests.iter().map(|u| u.as_str().unwrap()) {
        let local =
            url.starts_with(&format!("{origin}/")) || url.starts_with(&ws) || url.starts_with("data:");
        assert!(local, "a request left the server: {url}");
    }
    assert!(screenshot.exists());
    app.stop().await;
}
