//! The Mooring server: SEP APIs for every hosted anchor, plus the tasks behind them.
//!
//! [`start`] builds every backend from a [`Config`], binds the HTTP app to a listener
//! and returns a handle; `main.rs` is only the CLI around it. Tests call [`start`] the
//! same way, on an ephemeral port.

pub mod backends;
pub mod cfg;
mod cfg_values;
pub mod client_domain;
pub mod client_ip;
pub mod delivery;
pub mod demo;
pub mod error;
mod expiry;
pub mod horizon;
pub mod http;
pub mod limits;
pub mod metrics;
mod metrics_catalog;
pub mod outbound;
pub mod probes;
pub mod rates;
pub mod rpc;
pub mod sandbox;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod watcher;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mooring_migration::{Migrator, MigratorTrait};
use mooring_tenants::{Directory, MasterKey};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::backends::nonces::{MemoryNonces, NonceStore, RedisNonces};
use crate::backends::rate_limit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
pub use crate::cfg::Config;
use crate::client_domain::ClientDomains;
use crate::horizon::Horizon;
use crate::state::AppState;
pub use tokio_util::sync::CancellationToken;

/// rustls needs a process-wide crypto provider; ring is the one sqlx already builds.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The Horizons the operator configured: called without the outbound fence (they may
/// be on the operator's own network). Any other Horizon URL (one an operator gave a
/// single tenant) is called through it.
fn platform_horizons(cfg: &Config) -> Vec<String> {
    let mut urls = cfg.ledgers().all_urls();
    urls.extend(
        [&cfg.demo_horizon_url, &cfg.demo_rpc_url].into_iter().map(|u| u.trim_end_matches('/').to_string()),
    );
    urls
}

pub async fn connect_db(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .max_connections(if url.starts_with("sqlite") { 8 } else { 32 })
        .connect_timeout(Duration::from_secs(10))
        // WAL lets readers proceed while one writer writes; writers wait their turn.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(opts).await.context("connecting to the database")
}

/// Runs pending migrations, one process at a time: on PostgreSQL under an advisory
/// lock held by a transaction for the whole run, so replicas starting together (or a
/// rolling update with a new migration) apply each step once and the others wait, then
/// find nothing to do. SQLite serves one process and is single-writer.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Migrator::up(db, None).await.context("running migrations");
    }
    let lock = db.begin().await.context("taking the migration lock")?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await
        .context("taking the migration lock")?;
    let ran = Migrator::up(db, None).await.context("running migrations");
    lock.commit().await.context("releasing the migration lock")?;
    ran
}

/// The advisory lock key of `migrate` ("mooring" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x006d_6f6f_7269_6e67;

/// Migrations this database has not run yet, by name.
pub async fn pending_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let pending = Migrator::get_pending_migrations(db).await.context("reading the schema version")?;
    Ok(pending.iter().map(|m| m.name().to_string()).collect())
}

/// A running server: its address, its state, and the way to stop it.
pub struct Server {
    pub addr: SocketAddr,
    /// Where `GET /metrics` is served, when `metrics_bind` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// How long a stop waits for background work (an in-flight watcher batch, callback
/// sends bounded by their timeout) before giving up on it.
const BACKGROUND_GRACE: Duration = Duration::from_secs(30);

impl Server {
    /// Readiness goes 503 (`/readyz`); everything is still served. The first step of a
    /// graceful stop, so load balancers take this replica out before it closes.
    pub fn begin_drain(&self) {
        self.state.draining.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops accepting, lets in-flight requests and background work finish, and waits
    /// for the end.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server ends (after its shutdown token is cancelled): the HTTP
    /// server drained, then every background task finished (leases released).
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.handle.await?;
        self.shutdown.cancel();
        self.state.tasks.close();
        if tokio::time::timeout(BACKGROUND_GRACE, self.state.tasks.wait()).await.is_err() {
            tracing::warn!("background work still running after the grace period; stopping anyway");
        }
        served
    }
}

pub async fn start(
    cfg: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<Server> {
    start_with_metrics(cfg, listener, None, shutdown).await
}

/// [`start`], with the metrics listener already bound (`serve --demo` binds it while
/// probing, so that nothing can take it between the probe and the start).
pub async fn start_with_metrics(
    cfg: Config,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<Server> {
    install_crypto_provider();
    let master_key = master_key(&cfg)?;
    let db = connect_db(&cfg.database_url).await?;
    if cfg.migrate_on_start {
        migrate(&db).await?;
    } else {
        let pending = pending_migrations(&db).await?;
        anyhow::ensure!(
            pending.is_empty(),
            "the database schema is {} migration(s) behind ({}): run `mooring migrate` first \
             (this replica was started with migrations off)",
            pending.len(),
            pending.join(", ")
        );
    }
    let tenants = Arc::new(Directory::load(db.clone(), master_key.clone()).await?);
    let rates = Arc::new(mooring_anchor::quotes::RateBoard::default());
    let event_hub = mooring_graphql::live::EventHub::new(db.clone());
    let graphql_limits = mooring_graphql::cost::Limits {
        max_depth: cfg.graphql_max_depth,
        max_complexity: cfg.graphql_max_complexity,
        max_batch: cfg.graphql_max_batch,
    };
    let graphql_introspection = mooring_graphql::build_introspection_schema(graphql_limits);
    let fence = fence(&cfg);
    let rpc = rpc_client(&cfg, &fence);
    let instance_id = uuid::Uuid::new_v4().to_string();
    let sandbox = Arc::new(sandbox::Sandbox::new(
        &cfg,
        db.clone(),
        master_key.clone(),
        tenants.clone(),
        rpc.clone(),
        &fence,
        instance_id.clone(),
    ));
    let graphql = mooring_graphql::build_schema(
        Some(mooring_graphql::CoreContext {
            rates: rates.clone(),
            db: db.clone(),
            tenants: tenants.clone(),
            master_key: master_key.clone(),
            admin_host: cfg.admin_host.clone(),
            horizon_public_url: cfg.horizon_public_url.clone(),
            horizon_testnet_url: cfg.horizon_testnet_url.clone(),
            ledgers: cfg.ledgers(),
            outbound: cfg.outbound_rules(),
            events: event_hub.clone(),
            subscription_caps: Arc::new(mooring_graphql::live::SubscriptionCaps::new(
                cfg.graphql_max_subscriptions_per_connection,
                cfg.graphql_max_subscriptions_per_key,
            )),
            sandbox: sandbox.clone(),
        }),
        graphql_limits,
    );

    let (nonces, rate_limiter, redis): (Arc<dyn NonceStore>, Arc<dyn RateLimiter>, _) = match &cfg.redis_url {
        None => (Arc::new(MemoryNonces::default()), Arc::new(MemoryRateLimiter::default()), None),
        Some(url) => {
            let conn = redis::Client::open(url.as_str())?
                .get_connection_manager()
                .await
                .context("connecting to Redis")?;
            (
                Arc::new(RedisNonces::new(conn.clone())),
                Arc::new(RedisRateLimiter::new(conn.clone())),
                Some(conn),
            )
        }
    };

    let rate_limits = http::RateLimits::from_config(&cfg);
    let client_ip = Arc::new(
        http::ClientIpPolicy::new(cfg.trust_forwarded_for, &cfg.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
    );
    let state = AppState::new(state::Shared {
        master_key: master_key.clone(),
        horizon: Horizon::new(
            Duration::from_millis(cfg.horizon_timeout_ms),
            Duration::from_secs(cfg.signer_cache_secs),
            platform_horizons(&cfg),
            &fence,
        ),
        rpc,
        sandbox: sandbox.clone(),
        ledgers: cfg.ledgers(),
        client_domains: Arc::new(ClientDomains::new(
            Duration::from_millis(cfg.client_domain_timeout_ms),
            cfg.client_domain_max_concurrent,
            &fence,
        )),
        fence,
        event_hub,
        instance_id,
        rates: rates.clone(),
        graphql,
        graphql_introspection,
        cfg: Arc::new(cfg),
        db,
        tenants,
        nonces,
        rate_limiter,
        rate_limits,
        cap_gate: Default::default(),
        config_push_live: Default::default(),
        client_ip,
        redis,
        draining: Default::default(),
        tasks: tokio_util::task::TaskTracker::new(),
    });

    spawn_config_watcher(&state, shutdown.clone());
    if let Some(url) = &state.cfg.redis_url {
        spawn_config_bus(&state, redis::Client::open(url.as_str())?, shutdown.clone());
    }
    spawn_pii_sealing(&state);
    spawn_offboarding_purge(&state, shutdown.clone());
    rates::spawn(&state, rates, shutdown.clone());
    delivery::spawn(state.clone(), shutdown.clone());
    expiry::spawn(state.clone(), shutdown.clone());
    if state.cfg.watcher_enabled {
        watcher::spawn(state.clone(), shutdown.clone());
        // Sandboxes a testnet reset emptied are provisioned again by whichever replica
        // gets there first (each under its tenant's lease).
        sandbox::spawn(
            sandbox,
            Duration::from_millis(state.cfg.reset_check_ms.clamp(1000, 60_000)),
            &state.tasks,
            shutdown.clone(),
        );
    }

    let metrics_listener = match (metrics_listener, state.cfg.metrics_bind) {
        (Some(bound), _) => Some(bound),
        (None, Some(bind)) => {
            Some(TcpListener::bind(bind).await.with_context(|| format!("metrics listener on {bind}"))?)
        }
        (None, None) => None,
    };
    let metrics_addr = match metrics_listener {
        Some(listener) => {
            metrics::handle();
            metrics::spawn_samplers(state.clone(), Duration::from_secs(5), shutdown.clone());
            Some(metrics::serve(listener, &state, shutdown.clone())?)
        }
        None => None,
    };
    let addr = listener.local_addr()?;
    let app = http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let token = shutdown.clone();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
            .context("HTTP server")
    });
    tracing::info!(%addr, "listening");
    Ok(Server { addr, metrics_addr, state, shutdown, handle })
}

/// The configured master key, with the previous one while rotating.
/// The outbound fence the operator configured.
fn fence(cfg: &Config) -> outbound::Fence {
    outbound::Fence {
        allow_private: cfg.allow_private_outbound,
        static_hosts: Arc::new(cfg.outbound_static_hosts.clone()),
    }
}

/// The Stellar RPC client: the platform's RPCs plain, any other fenced.
fn rpc_client(cfg: &Config, fence: &outbound::Fence) -> rpc::Rpc {
    rpc::Rpc::new(
        Duration::from_millis(cfg.horizon_timeout_ms),
        Duration::from_secs(cfg.signer_cache_secs),
        platform_horizons(cfg),
        fence,
    )
}

/// `mooring selftest --tenant <id|domain>`: runs the self-test from this process (the
/// serving replicas' watcher sees its payment) and renders the report as a table.
/// Returns the table and whether every step passed.
pub async fn self_test_cli(
    cfg: &Config,
    tenant: &str,
    finish: mooring_graphql::sandbox::SelfTestFinish,
) -> anyhow::Result<(String, bool)> {
    let master_key = master_key(cfg)?;
    let db = connect_db(&cfg.database_url).await?;
    let tenants = Arc::new(Directory::load(db.clone(), master_key.clone()).await?);
    let found = tenant
        .parse::<uuid::Uuid>()
        .ok()
        .and_then(|id| tenants.by_id(id))
        .or_else(|| tenants.resolve(tenant))
        .with_context(|| format!("no tenant with id or domain {tenant:?}"))?;
    let fence = fence(cfg);
    let rpc = rpc_client(cfg, &fence);
    let sandbox =
        sandbox::Sandbox::new(cfg, db, master_key, tenants, rpc, &fence, uuid::Uuid::new_v4().to_string());
    let report = sandbox.run_self_test(found.id, finish).await?;
    Ok((sandbox::selftest::table(&report), report.passed))
}

pub fn master_key(cfg: &Config) -> anyhow::Result<MasterKey> {
    let current = MasterKey::parse(
        cfg.master_key.as_deref().context("MOORING_MASTER_KEY is required (32 bytes, base64 or hex)")?,
    )
    .context("MOORING_MASTER_KEY")?;
    Ok(match &cfg.master_key_previous {
        Some(previous) => {
            current.with_previous(&MasterKey::parse(previous).context("MOORING_MASTER_KEY_PREVIOUS")?)
        }
        None => current,
    })
}

/// Re-seals everything under the current master key (`mooring rotate-master-key`), in
/// batches; `limit` bounds how many rows this call changes (`None`: all).
pub async fn rotate_master_key(
    cfg: &Config,
    limit: Option<u64>,
) -> anyhow::Result<mooring_tenants::rotation::Progress> {
    let key = master_key(cfg)?;
    let db = connect_db(&cfg.database_url).await?;
    migrate(&db).await?;
    Ok(mooring_tenants::rotation::reseal(&db, &key, 200, limit).await?)
}

/// Seals customer fields written before PII encryption, in the background (every
/// replica may: rows are compare-and-set, and sealed ones are skipped).
fn spawn_pii_sealing(state: &AppState) {
    let (db, tenants) = (state.db.clone(), state.tenants.clone());
    state.tasks.spawn(async move {
        let key_of = |id| tenants.by_id(id).map(|t| t.data_key.clone());
        match mooring_anchor::customers::seal_plaintext(&db, key_of).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(fields = n, "sealed plaintext customer fields"),
            Err(e) => {
                tracing::warn!(error = %e, "sealing plaintext customer fields failed; the next start retries")
            }
        }
        match mooring_anchor::sealed::seal_plaintext(&db, key_of).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(values = n, "sealed plaintext transaction fields and callback URLs"),
            Err(e) => tracing::warn!(error = %e, "sealing transaction fields and callback URLs failed; the next start retries"),
        }
    });
}

/// How long a quote nobody used is kept after it expired (a sending anchor may still
/// look it up for a while).
const UNUSED_QUOTE_RETENTION_DAYS: i64 = 7;

/// Deletes what is left of offboarded tenants, a bounded batch at a time, audit rows
/// past their retention, and unused quotes long expired.
fn spawn_offboarding_purge(state: &AppState, shutdown: CancellationToken) {
    let (db, period) = (state.db.clone(), Duration::from_millis(state.cfg.offboarding_purge_ms));
    let retention = state.cfg.audit_retention_days;
    let stop = shutdown.clone();
    tasks::every(&state.tasks, period, tasks::First::AfterPeriod, shutdown, move || {
        let (db, shutdown) = (db.clone(), stop.clone());
        async move {
            // Unused quotes a week past expiry, and audit retention, ride on the same clock.
            let week_ago = chrono::Utc::now() - chrono::Duration::days(UNUSED_QUOTE_RETENTION_DAYS);
            match mooring_anchor::quotes::purge_unused(&db, week_ago, 1_000).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(quotes = n, "unused expired quotes deleted"),
                Err(e) => tracing::warn!(error = %e, "purging unused quotes failed; will retry"),
            }
            match mooring_tenants::audit::purge(&db, chrono::Duration::days(i64::from(retention))).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "audit rows past retention deleted"),
                Err(e) => tracing::warn!(error = %e, "audit retention failed; will retry"),
            }
            loop {
                match mooring_anchor::offboarding::purge_deleted(&db, 500).await {
                    Ok(0) => break,
                    Ok(_) if shutdown.is_cancelled() => return,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "deleting an offboarded tenant's rows failed; will retry");
                        break;
                    }
                }
            }
        }
    });
}

/// With Redis, a replica that changes tenant config says so on a channel and every
/// other replica reloads at once; the version poll below stays as the safety net (a
/// missed message costs at most one poll interval).
fn spawn_config_bus(state: &AppState, client: redis::Client, shutdown: CancellationToken) {
    let channel = state.redis_key(&["config"]);
    let me = state.instance_id.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    state.tenants.set_change_hook(Box::new(move || {
        let _ = tx.send(());
    }));
    if let Some(conn) = state.redis.clone() {
        let (channel, me, stop) = (channel.clone(), me.clone(), shutdown.clone());
        state.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    msg = rx.recv() => if msg.is_none() { return },
                }
                let mut conn = conn.clone();
                let sent: Result<i64, _> =
                    redis::cmd("PUBLISH").arg(&channel).arg(&me).query_async(&mut conn).await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "config change not published; replicas will poll it");
                }
            }
        });
    }
    let tenants = state.tenants.clone();
    let subscribed_flag = state.config_push_live.clone();
    state.tasks.spawn(async move {
        use futures::StreamExt;
        loop {
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                redis::RedisResult::Ok(pubsub)
            };
            let mut pubsub = tokio::select! {
                () = shutdown.cancelled() => return,
                p = subscribed => match p {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "config channel unavailable; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                },
            };
            let mut messages = pubsub.on_message();
            subscribed_flag.store(true, std::sync::atomic::Ordering::Relaxed);
            loop {
                let msg = tokio::select! {
                    () = shutdown.cancelled() => return,
                    m = messages.next() => m,
                };
                let Some(msg) = msg else {
                    // Changes published until we are back are caught by the poll.
                    subscribed_flag.store(false, std::sync::atomic::Ordering::Relaxed);
                    break;
                };
                if msg.get_payload::<String>().is_ok_and(|from| from == me) {
                    continue;
                }
                if let Err(e) = tenants.refresh().await {
                    tracing::warn!(error = %e, "tenant config reload failed");
                }
            }
        }
    });
}

/// Every replica polls the tenant config version (one primary-key read) and reloads
/// its cache when it moved, so a change made anywhere is served everywhere within
/// `config_poll_ms`, while requests themselves never touch the database for it.
fn spawn_config_watcher(state: &AppState, shutdown: CancellationToken) {
    let tenants = state.tenants.clone();
    let period = Duration::from_millis(state.cfg.config_poll_ms);
    tasks::every(&state.tasks, period, tasks::First::Now, shutdown, move || {
        let tenants = tenants.clone();
        async move {
            match tenants.refresh().await {
                Ok(true) => ::metrics::counter!("mooring_config_reloads_total").increment(1),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "tenant config refresh failed; serving the cached config")
                }
            }
        }
    });
}
