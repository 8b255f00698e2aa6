//! Loading the configuration (defaults, then the TOML file, then the environment,
//! secrets also from files), showing what is in effect, and checking it once at start.

use super::{Config, redact_url};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

/// Settings that are secrets: never printed, and each may come from a file.
const SECRETS: [&str; 5] =
    ["master_key", "master_key_previous", "operator_token", "database_url", "redis_url"];

/// Refuses a config file with a key that is not a setting, naming it.
pub(super) fn check_file_keys(path: &str) -> anyhow::Result<()> {
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
    pub(super) fn read_secret_files(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
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
        // Rates, bursts and GraphQL limits are refused at 0 where they are read
        // (`values::positive` on the field); what is left here relates settings.
        crate::client_ip::ClientIpPolicy::new(self.trust_forwarded_for, &self.trusted_proxies)
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(!self.config_poll_ms.is_zero(), "MOORING_CONFIG_POLL_MS must be > 0");
        anyhow::ensure!(
            self.watch_lease_secs >= std::time::Duration::from_secs(2),
            "MOORING_WATCH_LEASE_SECS must be at least 2"
        );
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
