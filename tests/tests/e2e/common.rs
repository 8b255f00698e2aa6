//! The test harness: a fresh database (and Redis key prefix) per test, a Horizon
//! stand-in, app instances on ephemeral ports, and a sending-anchor client.

use std::io::Write;
use std::sync::Once;

use mooring_server::{CancellationToken, Config, Server};
use mooring_stellar::{Keypair, Network, PublicKey, challenge};
use mooring_tenants::MasterKey;
use mooring_tenants::admin::{self, NewTenant};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::horizon::HorizonStandIn;

static BANNER: Once = Once::new();

/// Says loudly which backends this run covers. Written straight to stderr, past the
/// test harness's output capture, so a run that skips PostgreSQL/Redis cannot hide it.
fn banner() {
    BANNER.call_once(|| {
        let mut err = std::io::stderr();
        match (std::env::var("MOORING_TEST_DATABASE_URL"), std::env::var("MOORING_TEST_REDIS_URL")) {
            (Ok(db), Ok(redis)) => {
                let _ = writeln!(err, "\n*** mooring e2e: backend = PostgreSQL ({db}) + Redis ({redis}) ***\n");
            }
            (db, redis) => {
                let _ = writeln!(
                    err,
                    "\n*** mooring e2e: backend = SQLite + in-process stores. PostgreSQL: {}, Redis: {} ***\n\
                     *** Set MOORING_TEST_DATABASE_URL and MOORING_TEST_REDIS_URL to test them (bash .ci/run does). ***\n",
                    if db.is_ok() { "ON" } else { "NOT TESTED" },
                    if redis.is_ok() { "ON" } else { "NOT TESTED" },
                );
            }
        }
    });
}

/// Tests that only mean something on PostgreSQL call this first; on SQLite they say so
/// on stderr (past the capture) and return early.
pub fn postgres_only(test: &str) -> Option<String> {
    banner();
    let url = std::env::var("MOORING_TEST_DATABASE_URL").ok();
    if url.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "*** SKIPPED {test}: needs MOORING_TEST_DATABASE_URL (the PostgreSQL backend) ***"
        );
    }
    url
}

/// Tests that only mean something with a shared Redis call this first; without Redis
/// they say so on stderr (past the capture) and return early.
pub fn redis_only(test: &str) -> bool {
    banner();
    if std::env::var("MOORING_TEST_REDIS_URL").is_ok() {
        return true;
    }
    let _ = writeln!(
        std::io::stderr(),
        "*** SKIPPED {test}: needs MOORING_TEST_REDIS_URL (the Redis backend) ***"
    );
    false
}

pub struct TestEnv {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub master_key: MasterKey,
    pub horizon: HorizonStandIn,
    pub db: DatabaseConnection,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDb { admin_url: String, name: String },
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDb { admin_url, name } => {
                // Drop runs outside any async context we may block: use a thread with
                // its own runtime. FORCE closes the app pools still connected.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async {
                        if let Ok(db) = mooring_server::connect_db(&admin_url).await {
                            let _ = db
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("MOORING_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestEnv {
    pub async fn new() -> Self {
        banner();
        // Server logs, shown with a failing test's output (RUST_LOG to change).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn,mooring_server=info".into()),
            )
            .with_test_writer()
            .try_init();
        mooring_server::install_crypto_provider();
        let id = Uuid::new_v4().simple().to_string();
        let (database_url, cleanup) = match std::env::var("MOORING_TEST_DATABASE_URL") {
            Ok(admin_url) => {
                let name = format!("mooring_t_{id}");
                let admin = mooring_server::connect_db(&admin_url).await.expect("PostgreSQL for tests");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                (with_database(&admin_url, &name), Cleanup::PostgresDb { admin_url, name })
            }
            Err(_) => {
                let path = std::env::temp_dir().join(format!("mooring-test-{id}.db"));
                (format!("sqlite://{}?mode=rwc", path.display()), Cleanup::SqliteFile(path))
            }
        };
        let db = mooring_server::connect_db(&database_url).await.unwrap();
        mooring_server::migrate(&db).await.unwrap();
        Self {
            database_url,
            redis_url: std::env::var("MOORING_TEST_REDIS_URL").ok(),
            redis_prefix: format!("mooring-test-{id}"),
            master_key: MasterKey::generate(),
            horizon: HorizonStandIn::start().await,
            db,
            cleanup,
        }
    }

    pub fn config(&self) -> Config {
        Config {
            database_url: self.database_url.clone(),
            redis_url: self.redis_url.clone(),
            redis_prefix: self.redis_prefix.clone(),
            master_key: Some(self.master_key.to_base64()),
            rate_limit_per_second: 10_000,
            rate_limit_burst: 10_000,
            rate_limit_auth_per_second: 10_000,
            rate_limit_auth_burst: 10_000,
            rate_limit_write_per_second: 10_000,
            rate_limit_write_burst: 10_000,
            tenant_rate_limit_per_second: 100_000,
            tenant_rate_limit_burst: 100_000,
            admin_rate_limit_per_second: 10_000,
            admin_rate_limit_burst: 10_000,
            config_poll_ms: std::time::Duration::from_millis(50),
            allow_private_outbound: true,
            client_domain_timeout_ms: std::time::Duration::from_millis(1000),
            horizon_timeout_ms: std::time::Duration::from_millis(2000),
            // Tests change signers between exchanges; the cache has its own test.
            signer_cache_secs: std::time::Duration::from_secs(0),
            outbox_poll_ms: std::time::Duration::from_millis(50),
            operator_token: Some(OPERATOR_TOKEN.to_string()),
            expiry_sweep_ms: std::time::Duration::from_millis(100),
            // The stand-in is the platform's testnet Horizon: tenants on it share one
            // network-wide stream, as tenants on a real platform do. A test that wants
            // a tenant watched on its own gives it another Horizon.
            horizon_testnet_url: self.horizon.url.clone(),
            offboarding_purge_ms: std::time::Duration::from_millis(100),
            ..Config::default()
        }
    }

    pub async fn start(&self) -> TestApp {
        self.start_with(|_| {}).await
    }

    pub async fn start_with(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut cfg = self.config();
        adjust(&mut cfg);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // The self-test reaches tenants' public URLs through this very listener (their
        // domains do not resolve here), as behind a load balancer.
        if cfg.selftest_via.is_empty() {
            cfg.selftest_via = format!("http://{}", listener.local_addr().unwrap());
        }
        let server = mooring_server::start(cfg, listener, CancellationToken::new()).await.unwrap();
        TestApp { base: format!("http://{}", server.addr), server, http: reqwest::Client::new() }
    }

    /// A tenant on `domain` with the guide's SRT asset and one approved sending anchor.
    pub async fn tenant(&self, domain: &str) -> TestTenant {
        let id = admin::create_tenant(
            &self.db,
            &self.master_key,
            NewTenant {
                name: format!("Anchor at {domain}"),
                domains: vec![domain.to_string()],
                network: Network::testnet(),
                horizon_url: self.horizon.url.clone(),
                distribution_account: Some(Keypair::generate().public_key().to_string()),
                org_name: None,
                org_url: None,
                org_description: None,
            },
        )
        .await
        .unwrap();
        for customer_type in mooring_server::demo::guide_customer_types() {
            admin::add_customer_type(&self.db, id, customer_type).await.unwrap();
        }
        let asset = mooring_server::demo::guide_asset(Keypair::generate().public_key().to_string());
        admin::add_asset(&self.db, id, asset).await.unwrap();
        let sender = Keypair::generate();
        admin::approve_sender(&self.db, id, &sender.public_key().to_string(), "test SA").await.unwrap();
        TestTenant { id, sender }
    }
}

pub struct TestTenant {
    pub id: Uuid,
    /// An approved sending anchor of this tenant.
    pub sender: Keypair,
}

pub struct TestApp {
    pub server: Server,
    pub base: String,
    pub http: reqwest::Client,
}

pub fn network() -> Network {
    Network::testnet()
}

impl TestApp {
    pub fn get(&self, host: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).header("host", host)
    }

    pub fn post(&self, host: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).header("host", host)
    }

    /// The tenant signing key this app serves for `domain`, as its stellar.toml says.
    pub fn signing_key(&self, domain: &str) -> PublicKey {
        self.server.state.tenants.resolve(domain).unwrap().signing_key.public_key()
    }

    /// `GET /auth?<query>`: status and JSON body.
    pub async fn challenge(&self, host: &str, query: &str) -> (StatusCode, Value) {
        let res = self.get(host, &format!("/auth?{query}")).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap())
    }

    /// `POST /auth` with a JSON body.
    pub async fn exchange(&self, host: &str, xdr: &str) -> (StatusCode, Value) {
        let res =
            self.post(host, "/auth").json(&serde_json::json!({ "transaction": xdr })).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap())
    }

    /// A challenge for `account`, signed by `signer`, ready to exchange.
    pub async fn signed_challenge(&self, host: &str, account: &str, signer: &Keypair) -> String {
        let (status, body) = self.challenge(host, &format!("account={account}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        challenge::sign(body["transaction"].as_str().unwrap(), &network(), signer).unwrap()
    }

    /// The whole SEP-10 dance for an approved sender: a JWT.
    pub async fn token(&self, host: &str, sender: &Keypair) -> String {
        let signed = self.signed_challenge(host, &sender.public_key().to_string(), sender).await;
        let (status, body) = self.exchange(host, &signed).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn stop(self) {
        self.server.stop().await.unwrap();
    }
}

/// The claims of a JWT, read without verifying it (the server verifies; tests look).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub fn unique_domain(prefix: &str) -> String {
    format!("{prefix}-{}.example", &Uuid::new_v4().simple().to_string()[..8])
}

impl TestEnv {
    pub async fn db_set_horizon(&self, tenant: Uuid, url: &str) {
        admin::set_horizon_url(&self.db, tenant, url).await.unwrap();
    }
}

/// Serves `body` as `/.well-known/stellar.toml` on a loopback port; returns the
/// `127.0.0.1:port` domain to hand out as a SEP-10 `client_domain`.
pub async fn serve_stellar_toml(body: &str) -> String {
    let body = body.to_string();
    let app = axum::Router::new().route(
        "/.well-known/stellar.toml",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("127.0.0.1:{}", addr.port())
}

/// A sending anchor with a SEP-10 token at one tenant domain.
pub struct Sa<'a> {
    pub app: &'a TestApp,
    pub domain: String,
    pub token: String,
}

impl<'a> Sa<'a> {
    pub async fn login(app: &'a TestApp, domain: &str, key: &Keypair) -> Sa<'a> {
        Sa { app, domain: domain.to_string(), token: app.token(domain, key).await }
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .http
            .request(method, format!("{}{path}", self.app.base))
            .header("host", &self.domain)
            .bearer_auth(&self.token)
    }

    async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = rb.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            },
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::GET, path)).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::PUT, path).json(body)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::POST, path).json(body)).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::PATCH, path).json(body)).await
    }

    pub async fn delete(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::DELETE, path).json(body)).await
    }

    /// Registers an ACCEPTED customer of `type_name` under `memo`; returns its id.
    pub async fn accepted_customer(&self, type_name: &str, memo: &str) -> String {
        let mut body = serde_json::json!({
            "type": type_name,
            "memo": memo,
            "first_name": "Ana",
            "last_name": "Silva",
            "email_address": "ana@example.com",
        });
        if type_name == "sep31-receiver" {
            body["bank_number"] = "026009593".into();
            body["bank_account_number"] = "12345678".into();
        }
        let (status, res) = self.put_json("/kyc/customer", &body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{res}");
        let id = res["id"].as_str().unwrap().to_string();
        let (_, view) = self.get(&format!("/kyc/customer?id={id}&type={type_name}")).await;
        assert_eq!(view["status"], "ACCEPTED", "{view}");
        id
    }

    /// A transaction of 100 SRT between two fresh accepted customers; returns its id.
    pub async fn transaction(&self) -> String {
        let memo = Uuid::new_v4().simple().to_string();
        let sender = self.accepted_customer("sep31-sender", &format!("s{memo}")).await;
        let receiver = self.accepted_customer("sep31-receiver", &format!("r{memo}")).await;
        let (status, res) =
            self.post_json("/sep31/transactions", &transaction_request(&sender, &receiver)).await;
        assert_eq!(status, StatusCode::CREATED, "{res}");
        res["id"].as_str().unwrap().to_string()
    }
}

/// The guide's `POST /sep31/transactions` body: 100 SRT between two customers.
pub fn transaction_request(sender_id: &str, receiver_id: &str) -> Value {
    serde_json::json!({
        "amount": "100",
        "asset_code": "SRT",
        "funding_method": "SEPA",
        "sender_id": sender_id,
        "receiver_id": receiver_id,
        "fields": { "transaction": { "routing_number": "026009593", "account_number": "12345678" } },
    })
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn ws_message(v: Value) -> tokio_tungstenite::tungstenite::Message {
    tokio_tungstenite::tungstenite::Message::Text(v.to_string().into())
}

/// A graphql-transport-ws connection to the admin API with `connection_init` sent for
/// `key`; the server's answer is left for the caller to read.
pub async fn graphql_ws(app: &TestApp, key: &str) -> Ws {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    request.headers_mut().insert("host", ADMIN_HOST.parse().unwrap());
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = serde_json::json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } });
    ws.send(ws_message(init)).await.unwrap();
    ws
}

/// Captures POSTs (headers and body) and answers with a status tests can change.
#[derive(Clone)]
pub struct CallbackReceiver {
    pub url: String,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<(reqwest::header::HeaderMap, String)>>>,
    status: std::sync::Arc<std::sync::atomic::AtomicU16>,
}

impl CallbackReceiver {
    pub async fn start() -> Self {
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(200));
        let (r, s) = (received.clone(), status.clone());
        let app = axum::Router::new().route(
            "/cb",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    let code = s.load(std::sync::atomic::Ordering::SeqCst);
                    if code == 200 {
                        let mut h = reqwest::header::HeaderMap::new();
                        for (k, v) in &headers {
                            h.insert(
                                reqwest::header::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
                                reqwest::header::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
                            );
                        }
                        r.lock().unwrap().push((h, body));
                    }
                    axum::http::StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}/cb"), received, status }
    }

    pub fn set_status(&self, code: u16) {
        self.status.store(code, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.received.lock().unwrap().iter().map(|(_, b)| serde_json::from_str(b).unwrap()).collect()
    }

    /// Waits until `pred` holds for the received bodies, or panics after `secs`.
    pub async fn wait_for(&self, secs: u64, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let bodies = self.bodies();
            if pred(&bodies) {
                return bodies;
            }
            assert!(std::time::Instant::now() < deadline, "callbacks not as expected: {bodies:?}");
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

/// The tenant as the running app sees it (for calling domain operations in tests).
pub fn tenant_of(app: &TestApp, domain: &str) -> std::sync::Arc<mooring_tenants::Tenant> {
    app.server.state.tenants.resolve(domain).unwrap()
}

pub const ADMIN_HOST: &str = "admin.localhost";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123456789";

/// Held by the tests that load the machine hardest (Chromium) and by the one that
/// times a proxy's view of replicas (the rolling restart, whose nginx marks a replica
/// down after one slow connect): they never run at the same time, so Chromium's CPU
/// cannot make the rolling restart fail.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A GraphQL admin API client with one bearer token.
pub struct Admin<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl<'a> Admin<'a> {
    pub fn operator(app: &'a TestApp) -> Self {
        Admin { app, token: OPERATOR_TOKEN.to_string() }
    }

    pub fn with_key(app: &'a TestApp, key: &str) -> Self {
        Admin { app, token: key.to_string() }
    }

    /// Runs a query; returns the whole response body (`data` and/or `errors`).
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let res = self
            .app
            .post(ADMIN_HOST, "/graphql")
            .bearer_auth(&self.token)
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    }

    /// Runs a query that must succeed; returns `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "GraphQL errors: {body}");
        body["data"].clone()
    }

    /// The `extensions.code` of the first error.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let body = self.gql(query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error: {body}"))
            .to_string()
    }
}

/// Waits until `f` answers `Some` (it proves something happened; a test that must show
/// something did *not* happen waits for an event after which it would have).
pub async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Whether a watcher has stored its position at or past Horizon paging token `token`
/// (the shared stream's cursor or an account's own): it has read and applied everything
/// up to there, so nothing before it can arrive again but as a replay.
pub async fn read_past(env: &TestEnv, token: &str) -> bool {
    use sea_orm::EntityTrait;
    let Ok(token) = token.parse::<u64>() else { return false };
    let past = |cursor: &str| cursor.parse::<u64>().is_ok_and(|c| c >= token);
    let streams = mooring_entities::stream_cursor::Entity::find().all(&env.db).await.unwrap();
    let accounts = mooring_entities::watch_cursor::Entity::find().all(&env.db).await.unwrap();
    streams.iter().any(|s| past(&s.cursor)) || accounts.iter().any(|a| past(&a.cursor))
}
