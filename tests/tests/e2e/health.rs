use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::common::{ADMIN_HOST, TestEnv, unique_domain};

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

/// `/livez` and `/readyz`: on the admin host and the metrics listener, never on a
/// tenant's domain; readiness follows the database and goes 503 on drain while the
/// replica still serves; liveness touches nothing.
#[tokio::test]
async fn probes_answer_on_the_admin_host_and_metrics_listener_only() {
    let env = TestEnv::new().await;
    let domain = unique_domain("probe");
    env.tenant(&domain).await;
    let app = env.start_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let metrics = format!("http://{}", app.server.metrics_addr.unwrap());
    let on_metrics = |path: &str| reqwest::Client::new().get(format!("{metrics}{path}")).send();
    for path in ["/livez", "/readyz"] {
        assert_eq!(app.get(ADMIN_HOST, path).send().await.unwrap().status(), StatusCode::OK, "{path}");
        assert_eq!(on_metrics(path).await.unwrap().status(), StatusCode::OK, "{path}");
        assert_eq!(app.get(&domain, path).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
    let ready: Value = app.get(ADMIN_HOST, "/readyz").send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["redis"].as_str(), env.redis_url.as_ref().map(|_| "ok"));

    // Draining (SIGTERM's first step): not ready, still alive, still serving SEP.
    app.server.begin_drain();
    let res = app.get(ADMIN_HOST, "/readyz").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "draining");
    assert_eq!(on_metrics("/readyz").await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(on_metrics("/livez").await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().status(), StatusCode::OK);

    // The database gone: not ready; alive all the same (no restart for a blip).
    app.server.state.db.clone().close().await.unwrap();
    assert_eq!(on_metrics("/readyz").await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(on_metrics("/livez").await.unwrap().status(), StatusCode::OK);
    app.stop().await;
}

/// Replicas started together on a fresh PostgreSQL database all come up: the
/// migrations run under an advisory lock, once. (Without the lock one of them died on
/// `pg_type_typname_nsp_index`.) And a replica started with migrations off refuses an
/// outdated schema, saying what to do.
#[tokio::test]
async fn replicas_starting_together_on_a_fresh_database_all_come_up() {
    let Some(admin_url) =
        crate::common::postgres_only("replicas_starting_together_on_a_fresh_database_all_come_up")
    else {
        return;
    };
    let env = TestEnv::new().await;
    let name = format!("mooring_t_fresh_{}", uuid::Uuid::new_v4().simple());
    let admin = mooring_server::connect_db(&admin_url).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let fresh = url.to_string();

    // Migrations off on a fresh database: a clear refusal.
    let mut cfg = env.config();
    cfg.database_url = fresh.clone();
    cfg.migrate_on_start = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = mooring_server::start(cfg, listener, mooring_server::CancellationToken::new()).await;
    let why = refused.err().expect("an outdated schema is refused").to_string();
    assert!(why.contains("mooring migrate"), "{why}");

    let starts = (0..4).map(|_| {
        let mut cfg = env.config();
        cfg.database_url = fresh.clone();
        async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            mooring_server::start(cfg, listener, mooring_server::CancellationToken::new()).await
        }
    });
    let servers = futures::future::join_all(starts).await;
    let mut running = Vec::new();
    for server in servers {
        running.push(server.unwrap_or_else(|e| panic!("a replica failed to start: {e:#}")));
    }
    for server in running {
        server.stop().await.unwrap();
    }
    let db = mooring_server::connect_db(&fresh).await.unwrap();
    assert!(mooring_server::pending_migrations(&db).await.unwrap().is_empty());
    db.close().await.unwrap();
    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
}
