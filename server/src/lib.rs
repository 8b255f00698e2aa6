//! The Mooring server: SEP APIs for every hosted anchor, plus the tasks behind them.
//!
//! [`start`] builds every backend from a [`Config`], binds the HTTP app to a listener
//! and returns a handle; `main.rs` is only the CLI around it. Tests call [`start`] the
//! same way, on an ephemeral port.

pub mod backends;
mod background;
pub mod cfg;
mod cli;
pub mod client_domain;
pub mod client_ip;
mod db;
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
use mooring_tenants::Directory;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::backends::nonces::{MemoryNonces, NonceStore, RedisNonces};
use crate::backends::rate_limit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
pub use crate::cfg::Config;
use crate::client_domain::ClientDomains;
use crate::horizon::Horizon;
use crate::state::AppState;
pub use tokio_util::sync::CancellationToken;

use background::{spawn_config_bus, spawn_config_watcher, spawn_offboarding_purge, spawn_pii_sealing};
pub use cli::{master_key, rotate_master_key, self_test_cli};
pub use db::{connect_db, connect_pool, migrate, pending_migrations};

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
    let db = connect_pool(&cfg.database_url, cfg.database_max_connections).await?;
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
        horizon: Horizon::new(cfg.horizon_timeout_ms, cfg.signer_cache_secs, platform_horizons(&cfg), &fence),
        rpc,
        sandbox: sandbox.clone(),
        ledgers: cfg.ledgers(),
        client_domains: Arc::new(ClientDomains::new(
            cfg.client_domain_timeout_ms,
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
        new_transactions: mooring_anchor::transactions::GroupCommit::start(db.clone()),
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
            state.cfg.reset_check_ms.clamp(Duration::from_secs(1), Duration::from_secs(60)),
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
pub(crate) fn fence(cfg: &Config) -> outbound::Fence {
    outbound::Fence {
        allow_private: cfg.allow_private_outbound,
        static_hosts: Arc::new(cfg.outbound_static_hosts.clone()),
    }
}

/// The Stellar RPC client: the platform's RPCs plain, any other fenced.
pub(crate) fn rpc_client(cfg: &Config, fence: &outbound::Fence) -> rpc::Rpc {
    rpc::Rpc::new(cfg.horizon_timeout_ms, cfg.signer_cache_secs, platform_horizons(cfg), fence)
}
