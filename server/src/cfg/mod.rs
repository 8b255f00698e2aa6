//! Configuration: built-in defaults, then an optional TOML file (`MOORING_CONFIG`), then
//! `MOORING_*` environment variables. Validated once, then shared read-only.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod load;
pub mod values;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://PATH?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// The database pool's size. Unset: 8 on SQLite, 32 on PostgreSQL.
    #[serde(default, deserialize_with = "values::positive_opt")]
    pub database_max_connections: Option<u32>,
    /// Unset: in-process nonce and rate-limit stores (one node). Set: Redis.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or test runs) share a Redis.
    pub redis_prefix: String,
    pub bind: SocketAddr,
    /// Where Prometheus scrapes `GET /metrics`: a listener of its own, never a tenant
    /// domain. Unset: no metrics listener (`serve --demo` uses 127.0.0.1:9100).
    pub metrics_bind: Option<SocketAddr>,
    /// 32 bytes, base64 or hex: encrypts tenant signing seeds, derives JWT secrets.
    pub master_key: Option<String>,
    /// The master key being rotated away from: still accepted (never used to seal)
    /// until `mooring rotate-master-key` has re-sealed everything under the new one.
    pub master_key_previous: Option<String>,
    pub log_format: LogFormat,
    /// Sustained cheap SEP requests (reads) per second per (tenant, client address).
    #[serde(deserialize_with = "values::positive")]
    pub rate_limit_per_second: u32,
    /// Requests a (tenant, client address) may send at once before the rate applies.
    #[serde(deserialize_with = "values::positive")]
    pub rate_limit_burst: u32,
    /// SEP-10 token exchanges per (tenant, client address).
    #[serde(deserialize_with = "values::positive")]
    pub rate_limit_auth_per_second: u32,
    #[serde(deserialize_with = "values::positive")]
    pub rate_limit_auth_burst: u32,
    /// Writes (new transactions, SEP-12 uploads, PATCH, callbacks) per (tenant, client).
    #[serde(deserialize_with = "values::positive")]
    pub rate_limit_write_per_second: u32,
    #[serde(deserialize_with = "values::positive")]
    pub rate_limit_write_burst: u32,
    /// All of one tenant's SEP requests together, unless its operator set a cap.
    #[serde(deserialize_with = "values::positive")]
    pub tenant_rate_limit_per_second: u32,
    #[serde(deserialize_with = "values::positive")]
    pub tenant_rate_limit_burst: u32,
    /// Admin API requests per client address (a failed login costs ten) and per key.
    #[serde(deserialize_with = "values::positive")]
    pub admin_rate_limit_per_second: u32,
    #[serde(deserialize_with = "values::positive")]
    pub admin_rate_limit_burst: u32,
    /// The direct peer is a proxy: the client is the rightmost `X-Forwarded-For` entry
    /// that is not a trusted proxy. Only behind a proxy that appends to that header.
    pub trust_forwarded_for: bool,
    /// More proxies whose `X-Forwarded-For` entries are believed (comma-separated
    /// CIDRs or addresses), for multi-hop set-ups.
    #[serde(with = "values::list")]
    pub trusted_proxies: Vec<String>,
    /// How often each replica checks the tenant config version.
    #[serde(with = "values::millis")]
    pub config_poll_ms: Duration,
    #[serde(with = "values::secs")]
    pub jwt_ttl_secs: Duration,
    /// Allow outbound calls (SEP-10 `client_domain` look-ups, callbacks) to loopback and
    /// private addresses, over plain http (tests only).
    pub allow_private_outbound: bool,
    /// Testnet tenants (and sending anchors at them) may register plain-http webhook,
    /// rate-feed and callback URLs; the address must still be public.
    pub testnet_allow_http: bool,
    /// Names the outbound fence answers without DNS, each still judged public or not
    /// (tests: a name that resolves to loopback). Never read from the environment.
    #[serde(skip)]
    pub outbound_static_hosts: std::collections::HashMap<String, Vec<std::net::IpAddr>>,
    #[serde(with = "values::millis")]
    pub client_domain_timeout_ms: Duration,
    pub client_domain_max_concurrent: usize,
    #[serde(with = "values::millis")]
    pub horizon_timeout_ms: Duration,
    /// How long SEP-10 reuses an account's signers read from Horizon (0: no cache). A
    /// signer removed on the ledger can complete a token exchange for this long.
    #[serde(with = "values::secs")]
    pub signer_cache_secs: Duration,
    /// The platform's Horizon for each network. Operators choose where the server
    /// connects: a tenant created without a Horizon URL uses these, and only an
    /// operator may give a tenant another one.
    pub horizon_public_url: String,
    pub horizon_testnet_url: String,
    /// The platform's Stellar RPC per network. Where set, it is the ledger source for
    /// the network's tenants on the platform Horizon (payments as CAP-67 events, SEP-10
    /// signers), and that Horizon serves only history older than RPC keeps.
    pub rpc_public_url: Option<String>,
    pub rpc_testnet_url: Option<String>,
    /// How often an RPC follower asks for new events once caught up (a ledger closes
    /// about every 5 s).
    #[serde(with = "values::millis")]
    pub rpc_poll_ms: Duration,
    /// How often a ledger follower checks that the network was not reset (its latest
    /// ledger below our cursor, or a ledger we saw now with another hash).
    #[serde(with = "values::millis")]
    pub reset_check_ms: Duration,
    /// Friendbot, which funds new testnet accounts (sandbox provisioning).
    pub friendbot_url: String,
    /// The most a sandbox transaction may pay per operation, in stroops, when fees are
    /// bumped on a congested network.
    pub testnet_max_fee: u32,
    /// How long a sandbox transaction may take to land before it is given up (it
    /// carries this as its time bound, so it can never apply later).
    #[serde(with = "values::secs")]
    pub testnet_submit_timeout_secs: Duration,
    /// The self-test reaches tenants' public URLs through this base URL (keeping each
    /// tenant's `Host`) instead of DNS: for a deployment whose public names do not
    /// resolve from inside it. Empty: DNS, through the outbound fence.
    pub selftest_via: String,
    /// How long a transaction waits for the sending anchor's payment before it expires.
    #[serde(with = "values::secs")]
    pub transaction_expiry_secs: Duration,
    /// How often the callback outbox and the expiry sweep look for work.
    #[serde(with = "values::millis")]
    pub outbox_poll_ms: Duration,
    #[serde(with = "values::millis")]
    pub expiry_sweep_ms: Duration,
    /// Run the payment watcher in this process (every replica may; leases pick one
    /// per account).
    pub watcher_enabled: bool,
    /// How long a replica's claim on watching an account lasts without renewal: the
    /// longest takeover delay after a replica dies.
    #[serde(with = "values::secs")]
    pub watch_lease_secs: Duration,
    /// Poll interval when a Horizon cannot stream.
    #[serde(with = "values::millis")]
    pub watch_poll_ms: Duration,
    /// Tenants on one of the platform's Horizons (above) share one network-wide
    /// payments stream per Horizon instead of one stream per account. A tenant an
    /// operator gave its own Horizon is always watched on its own. Off: every account
    /// has its own stream (the mode to compare against).
    pub watch_shared: bool,
    /// A webhook endpoint whose deliveries all fail for this long is disabled (with the
    /// reason shown to the tenant); each delivery itself is retried for over a day.
    #[serde(with = "values::secs")]
    pub webhook_disable_after_secs: Duration,
    /// How long admin audit rows are kept.
    pub audit_retention_days: u32,
    /// How often what is left of deleted tenants is looked for and removed.
    #[serde(with = "values::millis")]
    pub offboarding_purge_ms: Duration,
    /// How often corridors' rate feeds are polled.
    #[serde(with = "values::millis")]
    pub rate_feed_poll_ms: Duration,
    /// Largest SEP-12 file upload.
    pub max_upload_bytes: usize,
    /// Largest GraphQL request body (read only after authentication).
    pub graphql_max_body_bytes: usize,
    /// GraphQL limits (README, Security): nesting depth; total cost of one operation,
    /// where every list costs its fields times the rows it may return, aliases
    /// included; operations in one batched request.
    #[serde(deserialize_with = "values::positive")]
    pub graphql_max_depth: usize,
    #[serde(deserialize_with = "values::positive")]
    pub graphql_max_complexity: usize,
    #[serde(deserialize_with = "values::positive")]
    pub graphql_max_batch: usize,
    /// Subscriptions one WebSocket connection, and one API key over all its
    /// connections on this replica, may hold at once.
    pub graphql_max_subscriptions_per_connection: usize,
    pub graphql_max_subscriptions_per_key: usize,
    /// How long a WebSocket may stay open before `connection_init` (then: 4408).
    #[serde(with = "values::millis")]
    pub graphql_ws_init_timeout_ms: Duration,
    /// The host serving the GraphQL admin API (never a tenant's domain).
    pub admin_host: String,
    /// The operator's bearer token for the admin API (operators may also create
    /// operator API keys). Unset: only API keys work.
    pub operator_token: Option<String>,
    /// Run pending migrations at start (under a lock); off (`serve --no-migrate`): refuse
    /// to start on an outdated schema, for deployments that migrate in a job first.
    pub migrate_on_start: bool,
    /// After SIGTERM, how long `/readyz` answers 503 before the listener closes, so load
    /// balancers stop sending new requests first.
    #[serde(with = "values::millis")]
    pub drain_delay_ms: Duration,
    /// Demo tenant: Horizon to use, and extra approved sending anchors (comma-separated).
    pub demo_horizon_url: String,
    /// Demo tenant: the RPC its payments are read from ("" : Horizon only).
    pub demo_rpc_url: String,
    #[serde(with = "values::list")]
    pub demo_senders: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://mooring.db?mode=rwc".into(),
            database_max_connections: None,
            redis_url: None,
            redis_prefix: "mooring".into(),
            bind: "127.0.0.1:8000".parse().expect("valid address"),
            metrics_bind: None,
            master_key: None,
            master_key_previous: None,
            log_format: LogFormat::Human,
            rate_limit_per_second: 100,
            rate_limit_burst: 200,
            rate_limit_auth_per_second: 5,
            rate_limit_auth_burst: 20,
            rate_limit_write_per_second: 10,
            rate_limit_write_burst: 50,
            tenant_rate_limit_per_second: 2000,
            tenant_rate_limit_burst: 4000,
            admin_rate_limit_per_second: 20,
            admin_rate_limit_burst: 100,
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            config_poll_ms: Duration::from_millis(1000),
            jwt_ttl_secs: Duration::from_secs(3600),
            allow_private_outbound: false,
            testnet_allow_http: false,
            outbound_static_hosts: Default::default(),
            client_domain_timeout_ms: Duration::from_millis(2000),
            client_domain_max_concurrent: 16,
            horizon_timeout_ms: Duration::from_millis(5000),
            signer_cache_secs: Duration::from_secs(10),
            horizon_public_url: "https://horizon.stellar.org".into(),
            horizon_testnet_url: "https://horizon-testnet.stellar.org".into(),
            rpc_public_url: None,
            rpc_testnet_url: None,
            rpc_poll_ms: Duration::from_millis(1000),
            reset_check_ms: Duration::from_millis(30_000),
            friendbot_url: "https://friendbot.stellar.org".into(),
            testnet_max_fee: 10_000,
            testnet_submit_timeout_secs: Duration::from_secs(60),
            selftest_via: String::new(),
            transaction_expiry_secs: Duration::from_secs(24 * 3600),
            outbox_poll_ms: Duration::from_millis(500),
            expiry_sweep_ms: Duration::from_millis(5000),
            max_upload_bytes: 5 * 1024 * 1024,
            graphql_max_body_bytes: 256 * 1024,
            graphql_max_depth: 10,
            graphql_max_complexity: 5_000,
            graphql_max_batch: 10,
            graphql_max_subscriptions_per_connection: 10,
            graphql_max_subscriptions_per_key: 50,
            graphql_ws_init_timeout_ms: Duration::from_millis(5_000),
            watcher_enabled: true,
            watch_lease_secs: Duration::from_secs(15),
            watch_poll_ms: Duration::from_millis(5000),
            watch_shared: true,
            webhook_disable_after_secs: Duration::from_secs(3 * 24 * 3600),
            offboarding_purge_ms: Duration::from_millis(10_000),
            rate_feed_poll_ms: Duration::from_millis(30_000),
            audit_retention_days: 365,
            admin_host: "admin.localhost".into(),
            operator_token: None,
            migrate_on_start: true,
            drain_delay_ms: Duration::from_millis(5_000),
            demo_horizon_url: "https://horizon-testnet.stellar.org".into(),
            demo_rpc_url: "https://soroban-testnet.stellar.org".into(),
            demo_senders: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("bind", &self.bind)
            .field("metrics_bind", &self.metrics_bind)
            .field("master_key", &self.master_key.as_ref().map(|_| "<set>"))
            .field("master_key_previous", &self.master_key_previous.as_ref().map(|_| "<set>"))
            .field("operator_token", &self.operator_token.as_ref().map(|_| "<set>"))
            .field("admin_host", &self.admin_host)
            .finish_non_exhaustive()
    }
}

/// Drops a URL's password, for logs.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests;
