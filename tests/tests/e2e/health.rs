use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestEnv;

#[tokio::test]
async fn health_answers_on_any_host_and_reports_each_backend() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    for host in ["whatever.example", "127.0.0.1"] {
        let res = app.get(host, "/health").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["database"], "ok");
        assert_eq!(body["redis"].as_str(), env.redis_url.as_ref().map(|_| "ok"));
    }
    // With the database gone, the replica reports itself unhealthy.
    app.server.state.db.clone().close().await.unwrap();
    let res = app.get("x", "/health").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.json::<Value>().await.unwrap()["database"], "down");
    app.stop().await;
}
