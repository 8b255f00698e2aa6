use std::sync::Arc;

use mooring_tenants::Directory;
use redis::aio::ConnectionManager;
use sea_orm::DatabaseConnection;
use tokio_util::task::TaskTracker;

use crate::backends::nonces::NonceStore;
use crate::backends::rate_limit::RateLimiter;
use crate::cfg::Config;
use crate::client_domain::ClientDomains;
use crate::horizon::Horizon;

/// Everything a handler may use, built once in [`crate::start`]. Every middleware layer
/// and extractor clones it on every request, so a clone is one reference count: with
/// the fields cloned one by one (caches, pools, channels) clones and drops were 40 % of
/// the CPU of a request refused by the rate limiter.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub cfg: Arc<Config>,
    pub db: DatabaseConnection,
    /// New SEP-31 transactions, committed together when they arrive together.
    pub new_transactions: mooring_anchor::transactions::GroupCommit,
    pub tenants: Arc<Directory>,
    /// Opens what is sealed under the master key (webhook secrets, at send time).
    pub master_key: mooring_tenants::MasterKey,
    pub nonces: Arc<dyn NonceStore>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub rate_limits: crate::limits::RateLimits,
    /// Tenants whose aggregate cap is spent, refused without asking the limiter.
    pub cap_gate: Arc<crate::limits::CapGate>,
    /// Whether this replica is subscribed to config changes pushed over Redis (else
    /// it learns of them by polling only). Reported by `/health`.
    pub config_push_live: Arc<std::sync::atomic::AtomicBool>,
    /// Who the client is behind our proxies.
    pub client_ip: Arc<crate::client_ip::ClientIpPolicy>,
    pub horizon: Horizon,
    pub rpc: crate::rpc::Rpc,
    /// Testnet ledger writes and the self-test.
    pub sandbox: Arc<crate::sandbox::Sandbox>,
    /// Which Horizon or RPC each tenant's ledger comes from.
    pub ledgers: mooring_tenants::ledger_source::PlatformLedgers,
    pub client_domains: Arc<ClientDomains>,
    /// The outbound fence every call on someone else's behalf goes through.
    pub fence: crate::outbound::Fence,
    /// Corridors' feed rates as this replica last polled them (SEP-38).
    pub rates: Arc<mooring_anchor::quotes::RateBoard>,
    /// Live event pollers (one per tenant followed by subscriptions on this replica).
    pub event_hub: Arc<mooring_graphql::live::EventHub>,
    /// The admin API schema.
    pub graphql: mooring_graphql::MooringSchema,
    /// The same schema for introspection-only documents: deeper, data-free; also
    /// answered without a key, so the console's schema browser loads at once.
    pub graphql_introspection: mooring_graphql::MooringSchema,
    /// This process, for leases: unique per start.
    pub instance_id: String,
    /// Present when Redis is configured; the health check pings it.
    pub redis: Option<ConnectionManager>,
    /// Set on SIGTERM: `/readyz` answers 503 while requests still are served.
    pub draining: std::sync::atomic::AtomicBool,
    /// Background work (watchers, callback deliveries, sweeps): stopping the server
    /// waits for it, so an in-flight batch finishes and leases are given back.
    pub tasks: TaskTracker,
}

impl Shared {
    /// What URLs a tenant on `network` (and its sending anchors) may register.
    pub fn url_policy(&self, network: &mooring_stellar::Network) -> crate::outbound::UrlPolicy {
        self.cfg.outbound_rules().for_network(network)
    }

    /// The client's address for a request that arrived from `peer`.
    pub fn client_address(&self, peer: Option<std::net::IpAddr>, headers: &axum::http::HeaderMap) -> String {
        let Some(peer) = peer else { return "unknown".into() };
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        crate::client_ip::limit_key(self.client_ip.client(peer, forwarded))
    }

    /// Redis keys carry the configured prefix, so deployments (and test runs) that share
    /// one Redis never see each other's keys.
    pub fn redis_key(&self, parts: &[&str]) -> String {
        let mut key = self.cfg.redis_prefix.clone();
        for p in parts {
            key.push(':');
            key.push_str(p);
        }
        key
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cloning_the_state_is_one_reference_count() {
        assert_eq!(std::mem::size_of::<super::AppState>(), std::mem::size_of::<usize>());
    }
}
