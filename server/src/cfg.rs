//! Configuration: built-in defaults, then an optional TOML file (`MOORING_CONFIG`), then
//! `MOORING_*` environment variables. Validated once, then shared read-only.

use std::net::SocketAddr;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

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
    pub rate_limit_per_second: u32,
    /// Requests a (tenant, client address) may send at once before the rate applies.
    pub rate_limit_burst: u32,
    /// SEP-10 token exchanges per (tenant, client address).
    pub rate_limit_auth_per_second: u32,
    pub rate_limit_auth_burst: u32,
    /// Writes (new transactions, SEP-12 uploads, PATCH, callbacks) per (tenant, client).
    pub rate_limit_write_per_second: u32,
    pub rate_limit_write_burst: u32,
    /// All of one tenant's SEP requests together, unless its operator set a cap.
    pub tenant_rate_limit_per_second: u32,
    pub tenant_rate_limit_burst: u32,
    /// Admin API requests per client address (a failed login costs ten) and per key.
    pub admin_rate_limit_per_second: u32,
    pub admin_rate_limit_burst: u32,
    /// The direct peer is a proxy: the client is the rightmost `X-Forwarded-For` entry
    /// that is not a trusted proxy. Only behind a proxy that appends to that header.
    pub trust_forwarded_for: bool,
    /// More proxies whose `X-Forwarded-For` entries are believed (comma-separated
    /// CIDRs or addresses), for multi-hop set-ups.
    pub trusted_proxies: String,
    /// How often each replica checks the tenant config version.
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub config_poll_ms: u64,
    #[serde(deserialize_with = "crate::cfg_values::secs")]
    pub jwt_ttl_secs: u64,
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
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub client_domain_timeout_ms: u64,
    pub client_domain_max_concurrent: usize,
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub horizon_timeout_ms: u64,
    /// How long SEP-10 reuses an account's signers read from Horizon (0: no cache). A
    /// signer removed on the ledger can complete a token exchange for this long.
    #[serde(deserialize_with = "crate::cfg_values::secs")]
    pub signer_cache_secs: u64,
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
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub rpc_poll_ms: u64,
    /// How often a ledger follower checks that the network was not reset (its latest
    /// ledger below our cursor, or a ledger we saw now with another hash).
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub reset_check_ms: u64,
    /// Friendbot, which funds new testnet accounts (sandbox provisioning).
    pub friendbot_url: String,
    /// The most a sandbox transaction may pay per operation, in stroops, when fees are
    /// bumped on a congested network.
    pub testnet_max_fee: u32,
    /// How long a sandbox transaction may take to land before it is given up (it
    /// carries this as its time bound, so it can never apply later).
    #[serde(deserialize_with = "crate::cfg_values::secs")]
    pub testnet_submit_timeout_secs: u64,
    /// The self-test reaches tenants' public URLs through this base URL (keeping each
    /// tenant's `Host`) instead of DNS: for a deployment whose public names do not
    /// resolve from inside it. Empty: DNS, through the outbound fence.
    pub selftest_via: String,
    /// How long a transaction waits for the sending anchor's payment before it expires.
    #[serde(deserialize_with = "crate::cfg_values::secs")]
    pub transaction_expiry_secs: u64,
    /// How often the callback outbox and the expiry sweep look for work.
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub outbox_poll_ms: u64,
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub expiry_sweep_ms: u64,
    /// Run the payment watcher in this process (every replica may; leases pick one
    /// per account).
    pub watcher_enabled: bool,
    /// How long a replica's claim on watching an account lasts without renewal: the
    /// longest takeover delay after a replica dies.
    #[serde(deserialize_with = "crate::cfg_values::secs")]
    pub watch_lease_secs: u64,
    /// Poll interval when a Horizon cannot stream.
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub watch_poll_ms: u64,
    /// Tenants on one of the platform's Horizons (above) share one network-wide
    /// payments stream per Horizon instead of one stream per account. A tenant an
    /// operator gave its own Horizon is always watched on its own. Off: every account
    /// has its own stream (the mode to compare against).
    pub watch_shared: bool,
    /// A webhook endpoint whose deliveries all fail for this long is disabled (with the
    /// reason shown to the tenant); each delivery itself is retried for over a day.
    #[serde(deserialize_with = "crate::cfg_values::secs")]
    pub webhook_disable_after_secs: u64,
    /// How long admin audit rows are kept.
    pub audit_retention_days: u32,
    /// How often what is left of deleted tenants is looked for and removed.
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub offboarding_purge_ms: u64,
    /// How often corridors' rate feeds are polled.
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub rate_feed_poll_ms: u64,
    /// Largest SEP-12 file upload.
    pub max_upload_bytes: usize,
    /// Largest GraphQL request body (read only after authentication).
    pub graphql_max_body_bytes: usize,
    /// GraphQL limits (README, Security): nesting depth; total cost of one operation,
    /// where every list costs its fields times the rows it may return, aliases
    /// included; operations in one batched request.
    pub graphql_max_depth: usize,
    pub graphql_max_complexity: usize,
    pub graphql_max_batch: usize,
    /// Subscriptions one WebSocket connection, and one API key over all its
    /// connections on this replica, may hold at once.
    pub graphql_max_subscriptions_per_connection: usize,
    pub graphql_max_subscriptions_per_key: usize,
    /// How long a WebSocket may stay open before `connection_init` (then: 4408).
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub graphql_ws_init_timeout_ms: u64,
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
    #[serde(deserialize_with = "crate::cfg_values::millis")]
    pub drain_delay_ms: u64,
    /// Demo tenant: Horizon to use, and extra approved sending anchors (comma-separated).
    pub demo_horizon_url: String,
    /// Demo tenant: the RPC its payments are read from ("" : Horizon only).
    pub demo_rpc_url: String,
    pub demo_senders: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://mooring.db?mode=rwc".into(),
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
            trusted_proxies: String::new(),
            config_poll_ms: 1000,
            jwt_ttl_secs: 3600,
            allow_private_outbound: false,
            testnet_allow_http: false,
            outbound_static_hosts: Default::default(),
            client_domain_timeout_ms: 2000,
            client_domain_max_concurrent: 16,
            horizon_timeout_ms: 5000,
            signer_cache_secs: 10,
            horizon_public_url: "https://horizon.stellar.org".into(),
            horizon_testnet_url: "https://horizon-testnet.stellar.org".into(),
            rpc_public_url: None,
            rpc_testnet_url: None,
            rpc_poll_ms: 1000,
            reset_check_ms: 30_000,
            friendbot_url: "https://friendbot.stellar.org".into(),
            testnet_max_fee: 10_000,
            testnet_submit_timeout_secs: 60,
            selftest_via: String::new(),
            transaction_expiry_secs: 24 * 3600,
            outbox_poll_ms: 500,
            expiry_sweep_ms: 5000,
            max_upload_bytes: 5 * 1024 * 1024,
            graphql_max_body_bytes: 256 * 1024,
            graphql_max_depth: 10,
            graphql_max_complexity: 5_000,
            graphql_max_batch: 10,
            graphql_max_subscriptions_per_connection: 10,
            graphql_max_subscriptions_per_key: 50,
            graphql_ws_init_timeout_ms: 5_000,
            watcher_enabled: true,
            watch_lease_secs: 15,
            watch_poll_ms: 5000,
            watch_shared: true,
            webhook_disable_after_secs: 3 * 24 * 3600,
            offboarding_purge_ms: 10_000,
            rate_feed_poll_ms: 30_000,
            audit_retention_days: 365,
            admin_host: "admin.localhost".into(),
            operator_token: None,
            migrate_on_start: true,
            drain_delay_ms: 5_000,
            demo_horizon_url: "https://horizon-testnet.stellar.org".into(),
            demo_rpc_url: "https://soroban-testnet.stellar.org".into(),
            demo_senders: String::new(),
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

/// Settings that are secrets: never printed, and each may come from a file.
const SECRETS: [&str; 5] =
    ["master_key", "master_key_previous", "operator_token", "database_url", "redis_url"];

/// Refuses a config file with a key that is not a setting, naming it.
fn check_file_keys(path: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("MOORING_CONFIG: reading {path}: {e}"))?;
    let table: toml::Table = text.parse().map_err(|e| anyhow::anyhow!("MOORING_CONFIG: {path}: {e}"))?;
    let serde_json::Value::Object(known) =
        serde_json::to_value(Config::default()).expect("Config serializes")
    else {
        return Ok(());
    };
    for key in table.keys() {
        if !known.contains_key(key) {
            let close =
                known.keys().find(|k| k.replace('_', "") == key.replace(['_', '-'], "").to_lowercase());
            let hint = close.map(|k| format!(" (did you mean `{k}`?)")).unwrap_or_default();
            anyhow::bail!("MOORING_CONFIG: {path}: unknown setting `{key}`{hint}");
        }
    }
    Ok(())
}

/// Drops a URL's password, for logs.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Defaults, then the file named by `MOORING_CONFIG` (if any), then `MOORING_*`.
    /// A misspelt key in the file is an error naming it; each secret may also come from a
    /// file named by `MOORING_<NAME>_FILE` (not both).
    pub fn load() -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("MOORING_CONFIG") {
            check_file_keys(&path)?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let mut cfg: Config = figment.merge(Env::prefixed("MOORING_").ignore(&["config"])).extract()?;
        cfg.read_secret_files(|name| std::env::var(name).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Every setting with its effective value, secrets redacted (`mooring config check`).
    pub fn effective(&self) -> Vec<(String, String)> {
        let serde_json::Value::Object(map) = serde_json::to_value(self).expect("Config serializes") else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = map
            .into_iter()
            .map(|(key, value)| {
                let shown = match (key.as_str(), &value) {
                    (_, serde_json::Value::Null) => "(unset)".to_string(),
                    (k, _) if SECRETS.contains(&k) && !k.ends_with("_url") => "<set>".to_string(),
                    (_, serde_json::Value::String(s)) => redact_url(s),
                    (_, other) => other.to_string(),
                };
                (key, shown)
            })
            .collect();
        out.sort();
        out
    }

    /// `MOORING_<NAME>_FILE` for each secret: the file's content (trailing newline
    /// dropped) becomes the setting.
    fn read_secret_files(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        for key in SECRETS {
            let upper = key.to_ascii_uppercase();
            let Some(path) = env(&format!("MOORING_{upper}_FILE")) else { continue };
            anyhow::ensure!(
                env(&format!("MOORING_{upper}")).is_none(),
                "set MOORING_{upper} or MOORING_{upper}_FILE, not both"
            );
            let value = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("MOORING_{upper}_FILE: reading {path}: {e}"))?;
            let value = value.trim_end_matches(['\n', '\r']).to_string();
            anyhow::ensure!(!value.is_empty(), "MOORING_{upper}_FILE: {path} is empty");
            match key {
                "master_key" => self.master_key = Some(value),
                "master_key_previous" => self.master_key_previous = Some(value),
                "operator_token" => self.operator_token = Some(value),
                "database_url" => self.database_url = value,
                "redis_url" => self.redis_url = Some(value),
                _ => unreachable!("every secret is handled"),
            }
        }
        Ok(())
    }

    /// The platform's Horizons and RPCs (an empty RPC setting is none).
    pub fn ledgers(&self) -> mooring_tenants::ledger_source::PlatformLedgers {
        let url = |u: &str| u.trim_end_matches('/').to_string();
        let rpc = |u: &Option<String>| u.as_deref().filter(|u| !u.is_empty()).map(url);
        mooring_tenants::ledger_source::PlatformLedgers {
            horizon_public: url(&self.horizon_public_url),
            horizon_testnet: url(&self.horizon_testnet_url),
            rpc_public: rpc(&self.rpc_public_url),
            rpc_testnet: rpc(&self.rpc_testnet_url),
        }
    }

    /// The operator's outbound rules, from which each tenant's URL policy follows.
    pub fn outbound_rules(&self) -> mooring_tenants::public_net::OutboundRules {
        mooring_tenants::public_net::OutboundRules {
            allow_private: self.allow_private_outbound,
            testnet_allow_http: self.testnet_allow_http,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres"),
            "MOORING_DATABASE_URL must be a sqlite:// or postgres:// URL"
        );
        for (name, value) in [
            ("MOORING_RATE_LIMIT_PER_SECOND", self.rate_limit_per_second),
            ("MOORING_RATE_LIMIT_BURST", self.rate_limit_burst),
            ("MOORING_RATE_LIMIT_AUTH_PER_SECOND", self.rate_limit_auth_per_second),
            ("MOORING_RATE_LIMIT_AUTH_BURST", self.rate_limit_auth_burst),
            ("MOORING_RATE_LIMIT_WRITE_PER_SECOND", self.rate_limit_write_per_second),
            ("MOORING_RATE_LIMIT_WRITE_BURST", self.rate_limit_write_burst),
            ("MOORING_TENANT_RATE_LIMIT_PER_SECOND", self.tenant_rate_limit_per_second),
            ("MOORING_TENANT_RATE_LIMIT_BURST", self.tenant_rate_limit_burst),
            ("MOORING_ADMIN_RATE_LIMIT_PER_SECOND", self.admin_rate_limit_per_second),
            ("MOORING_ADMIN_RATE_LIMIT_BURST", self.admin_rate_limit_burst),
        ] {
            anyhow::ensure!(value > 0, "{name} must be > 0");
        }
        crate::client_ip::ClientIpPolicy::new(self.trust_forwarded_for, &self.trusted_proxies)
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            self.graphql_max_depth > 0 && self.graphql_max_complexity > 0 && self.graphql_max_batch > 0,
            "MOORING_GRAPHQL_MAX_DEPTH, _MAX_COMPLEXITY and _MAX_BATCH must be > 0"
        );
        anyhow::ensure!(self.config_poll_ms > 0, "MOORING_CONFIG_POLL_MS must be > 0");
        anyhow::ensure!(self.watch_lease_secs >= 2, "MOORING_WATCH_LEASE_SECS must be at least 2");
        if let Some(token) = &self.operator_token {
            anyhow::ensure!(token.len() >= 16, "MOORING_OPERATOR_TOKEN must be at least 16 characters");
        }
        for (name, url) in [
            ("MOORING_HORIZON_PUBLIC_URL", &self.horizon_public_url),
            ("MOORING_HORIZON_TESTNET_URL", &self.horizon_testnet_url),
        ] {
            mooring_tenants::rules::check_http_url(url, "Horizon URL")
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        }
        for (name, url) in [
            ("MOORING_RPC_PUBLIC_URL", &self.rpc_public_url),
            ("MOORING_RPC_TESTNET_URL", &self.rpc_testnet_url),
            ("MOORING_FRIENDBOT_URL", &Some(self.friendbot_url.clone())),
        ] {
            if let Some(url) = url {
                mooring_tenants::rules::check_http_url(url, "RPC URL")
                    .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            }
        }
        if let Some(url) = &self.redis_url {
            anyhow::ensure!(
                url.starts_with("redis://") || url.starts_with("rediss://"),
                "MOORING_REDIS_URL must be redis://"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_key_in_the_file_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("mooring-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(&good, "bind = \"127.0.0.1:9\"\nconfig_poll_ms = \"2s\"\n").unwrap();
        check_file_keys(good.to_str().unwrap()).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "bind = \"127.0.0.1:9\"\nconfigpollms = 5\n").unwrap();
        let err = check_file_keys(bad.to_str().unwrap()).unwrap_err().to_string();
        assert!(err.contains("unknown setting `configpollms`") && err.contains("config_poll_ms"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn durations_and_secret_files() {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("config_poll_ms = \"2s\"\njwt_ttl_secs = \"1h\"\nwatch_poll_ms = 700"));
        let cfg: Config = figment.extract().unwrap();
        assert_eq!((cfg.config_poll_ms, cfg.jwt_ttl_secs, cfg.watch_poll_ms), (2000, 3600, 700));

        let dir = std::env::temp_dir().join(format!("mooring-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "an-operator-token-from-a-file\n").unwrap();
        let mut cfg = Config::default();
        let path = token.to_str().unwrap().to_string();
        cfg.read_secret_files(|k| (k == "MOORING_OPERATOR_TOKEN_FILE").then(|| path.clone())).unwrap();
        assert_eq!(cfg.operator_token.as_deref(), Some("an-operator-token-from-a-file"));
        let both = cfg.read_secret_files(|k| k.starts_with("MOORING_OPERATOR_TOKEN").then(|| path.clone()));
        assert!(both.unwrap_err().to_string().contains("not both"));
        let shown = cfg.effective();
        let token_line = shown.iter().find(|(k, _)| k == "operator_token").unwrap();
        assert_eq!(token_line.1, "<set>");
        assert!(!format!("{shown:?}").contains("an-operator-token"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
