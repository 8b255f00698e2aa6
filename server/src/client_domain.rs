//! SEP-10 `client_domain` verification: fetch the domain's stellar.toml and read its
//! SIGNING_KEY. Any unauthenticated client can make us do this, so it is fenced in:
//! a short timeout, a size cap, a cache of results, a cap on concurrent look-ups, and
//! no connections to loopback or private addresses (checked on the resolved addresses,
//! so DNS tricks don't help) unless tests allow it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use moka::future::Cache;
use mooring_stellar::PublicKey;
use tokio::sync::Semaphore;

use mooring_tenants::public_net::{UrlPolicy, check_outbound_url};

use crate::outbound::{Fence, FencedClient};

const MAX_TOML_BYTES: usize = 100 * 1024;
const CACHE_TTL: Duration = Duration::from_secs(300);
const FAILURE_TTL: Duration = Duration::from_secs(30);
/// How long a look-up waits for a free slot before giving up.
const QUEUE_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientDomainError {
    #[error("client_domain {0:?} is not a valid domain")]
    Invalid(String),
    #[error("client_domain {0:?} is not allowed")]
    Forbidden(String),
    #[error("could not fetch the stellar.toml of client_domain {0:?}: {1}")]
    Fetch(String, String),
    #[error("the stellar.toml of client_domain {0:?} has no valid SIGNING_KEY")]
    NoSigningKey(String),
    #[error("too many client_domain look-ups in progress, try again")]
    Busy,
}

pub struct ClientDomains {
    http: FencedClient,
    allow_private: bool,
    found: Cache<String, PublicKey>,
    failed: Cache<String, ClientDomainError>,
    slots: Arc<Semaphore>,
}

impl ClientDomains {
    pub fn new(timeout: Duration, max_concurrent: usize, fence: &Fence) -> Self {
        Self {
            http: FencedClient::new(fence, Some(timeout), timeout),
            allow_private: fence.allow_private,
            found: Cache::builder().max_capacity(10_000).time_to_live(CACHE_TTL).build(),
            failed: Cache::builder().max_capacity(10_000).time_to_live(FAILURE_TTL).build(),
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    /// The SIGNING_KEY that `domain`'s stellar.toml publishes.
    pub async fn signing_key(&self, domain: &str) -> Result<PublicKey, ClientDomainError> {
        let domain = domain.trim().to_ascii_lowercase();
        if let Some(key) = self.found.get(&domain).await {
            return Ok(key);
        }
        if let Some(err) = self.failed.get(&domain).await {
            return Err(err);
        }
        let url = self.toml_url(&domain)?;
        let _slot = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ClientDomainError::Busy)?
            .map_err(|_| ClientDomainError::Busy)?;
        match self.fetch(&domain, &url).await {
            Ok(key) => {
                self.found.insert(domain, key).await;
                Ok(key)
            }
            Err(err) => {
                self.failed.insert(domain, err.clone()).await;
                Err(err)
            }
        }
    }

    fn toml_url(&self, domain: &str) -> Result<String, ClientDomainError> {
        let invalid = || ClientDomainError::Invalid(domain.to_string());
        if domain.is_empty() || domain.len() > 253 || domain.contains(['/', '@', '?', '#', '\\', ' ']) {
            return Err(invalid());
        }
        url::Url::parse(&format!("https://{domain}/")).map_err(|_| invalid())?;
        // The rule every URL given to us meets (literals in every spelling, internal-only
        // names), before any name is looked up.
        let policy = UrlPolicy { allow_private: self.allow_private, allow_http: false };
        check_outbound_url(&format!("https://{domain}/"), "client_domain", policy)
            .map_err(|_| ClientDomainError::Forbidden(domain.to_string()))?;
        // Plain HTTP only for a local domain, and only where tests allowed private ones.
        let scheme =
            if self.allow_private && mooring_tenants::host::is_local(domain) { "http" } else { "https" };
        Ok(format!("{scheme}://{domain}/.well-known/stellar.toml"))
    }

    async fn fetch(&self, domain: &str, url: &str) -> Result<PublicKey, ClientDomainError> {
        let fail = |why: String| ClientDomainError::Fetch(domain.to_string(), why);
        let request =
            self.http.get(url).map_err(|e| ClientDomainError::Forbidden(format!("{domain}: {e}")))?;
        let response = request.send().await.map_err(|e| fail(crate::outbound::describe(e)))?;
        if !response.status().is_success() {
            return Err(fail(format!("status {}", response.status().as_u16())));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| fail(crate::outbound::describe(e)))?;
            if body.len() + chunk.len() > MAX_TOML_BYTES {
                return Err(fail("stellar.toml is larger than 100 KB".into()));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| fail("stellar.toml is not UTF-8".into()))?;
        let parsed: toml::Table = text.parse().map_err(|_| fail("stellar.toml is not valid TOML".into()))?;
        parsed
            .get("SIGNING_KEY")
            .and_then(|v| v.as_str())
            .and_then(|k| k.parse().ok())
            .ok_or_else(|| ClientDomainError::NoSigningKey(domain.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_private_ips_and_junk_are_refused_before_any_fetch() {
        let cd = ClientDomains::new(Duration::from_secs(1), 1, &Fence::default());
        assert!(matches!(cd.toml_url("127.0.0.1"), Err(ClientDomainError::Forbidden(_))));
        assert!(matches!(cd.toml_url("[::1]:80"), Err(ClientDomainError::Forbidden(_))));
        assert!(matches!(cd.toml_url("a/b"), Err(ClientDomainError::Invalid(_))));
        for internal in ["metadata", "metadata.google.internal", "localhost", "2130706433", "0x7f000001"] {
            assert!(matches!(cd.toml_url(internal), Err(ClientDomainError::Forbidden(_))), "{internal}");
        }
        assert_eq!(cd.toml_url("wallet.example").unwrap(), "https://wallet.example/.well-known/stellar.toml");
    }
}
