//! The few Horizon endpoints Mooring reads. Production talks to real Horizon; tests
//! talk to a stand-in serving the same JSON through this same client.

use std::sync::Arc;
use std::time::Duration;

use mooring_stellar::PublicKey;
use mooring_stellar::challenge::Signer;
use serde::Deserialize;

use crate::outbound::{Fence, FencedClient};

mod records;

pub use records::{BalanceChange, JoinedTransaction, PaymentRecord};

#[derive(Debug, Clone, thiserror::Error)]
pub enum HorizonError {
    #[error("Horizon could not be reached: {0}")]
    Unreachable(String),
    #[error("Horizon answered {0}")]
    Status(u16),
    #[error("Horizon sent an unexpected body: {0}")]
    Body(String),
    /// Answered, but not as an event stream (some Horizons and proxies don't stream):
    /// the watcher polls instead.
    #[error("Horizon does not stream here")]
    NoStreaming,
}

/// What SEP-10 needs of an account: who may sign, and the weight to reach.
#[derive(Debug, Clone)]
pub struct AccountSigners {
    pub signers: Vec<Signer>,
    pub med_threshold: u32,
}

#[derive(Deserialize)]
struct AccountJson {
    thresholds: Thresholds,
    signers: Vec<SignerJson>,
}

#[derive(Deserialize)]
struct Thresholds {
    med_threshold: u32,
}

#[derive(Deserialize)]
struct SignerJson {
    key: String,
    weight: u32,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Clone)]
pub struct Horizon {
    http: reqwest::Client,
    /// No overall timeout: a stream lives as long as Horizon keeps it open.
    stream_http: reqwest::Client,
    /// The same two for a Horizon an operator gave one tenant: through the outbound
    /// fence, since only the platform's own Horizons may sit on a private network.
    fenced: FencedClient,
    fenced_stream: FencedClient,
    /// Origins of the platform's Horizons, called without the fence.
    platform: Arc<Vec<url::Origin>>,
    /// (Horizon URL, account) → signers. Concurrent look-ups of one account share one
    /// request (single flight); failures are not cached. `None`: no cache.
    signers: Option<moka::future::Cache<(String, String), Option<AccountSigners>>>,
}

impl Horizon {
    /// `signer_ttl`: how long an account's signers are reused for SEP-10. A signer
    /// removed on the ledger can still complete a token exchange for at most that long;
    /// in return a burst of exchanges for one account costs one Horizon request.
    pub fn new(timeout: Duration, signer_ttl: Duration, platform: Vec<String>, fence: &Fence) -> Self {
        Self {
            http: crate::outbound::platform_client(Some(timeout), timeout),
            stream_http: crate::outbound::platform_client(None, timeout),
            signers: crate::outbound::signer_cache(signer_ttl),
            fenced: FencedClient::new(fence, Some(timeout), timeout),
            fenced_stream: FencedClient::new(fence, None, timeout),
            platform: Arc::new(crate::outbound::origins(&platform)),
        }
    }

    /// A GET through the platform's client or, for any other Horizon, the fenced one.
    fn get(&self, url: &str, stream: bool) -> Result<reqwest::RequestBuilder, HorizonError> {
        let parsed = url::Url::parse(url).map_err(|_| HorizonError::Unreachable("not a URL".into()))?;
        if self.platform.contains(&parsed.origin()) {
            return Ok(if stream { &self.stream_http } else { &self.http }.get(parsed));
        }
        let client = if stream { &self.fenced_stream } else { &self.fenced };
        client.get(url).map_err(|refused| HorizonError::Unreachable(refused.0))
    }

    /// [`Self::account_signers`], cached and single-flight, so no tenant's SEP-10
    /// traffic can spend the platform's Horizon quota.
    pub async fn account_signers_cached(
        &self,
        horizon_url: &str,
        account: &PublicKey,
    ) -> Result<Option<AccountSigners>, HorizonError> {
        let Some(cache) = &self.signers else { return self.account_signers(horizon_url, account).await };
        let key = (horizon_url.to_string(), account.to_string());
        cache
            .try_get_with(key, self.account_signers(horizon_url, account))
            .await
            .map_err(|e: std::sync::Arc<HorizonError>| (*e).clone())
    }

    /// `GET /accounts/{id}`: `None` when the account does not exist (404).
    pub async fn account_signers(
        &self,
        horizon_url: &str,
        account: &PublicKey,
    ) -> Result<Option<AccountSigners>, HorizonError> {
        let url = format!("{}/accounts/{account}", horizon_url.trim_end_matches('/'));
        let response = self
            .get(&url, false)?
            .send()
            .await
            .map_err(|e| HorizonError::Unreachable(crate::outbound::describe(e)))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            other => return Err(HorizonError::Status(other)),
        }
        let body: AccountJson = response.json().await.map_err(|e| HorizonError::Body(e.to_string()))?;
        // Only ed25519 keys can sign a challenge; hash-x and pre-auth signers cannot.
        let signers = body
            .signers
            .into_iter()
            .filter(|s| s.kind == "ed25519_public_key")
            .filter_map(|s| Some(Signer { key: s.key.parse().ok()?, weight: s.weight }))
            .collect();
        Ok(Some(AccountSigners { signers, med_threshold: body.thresholds.med_threshold }))
    }
}

impl Horizon {
    /// The newest ledger Horizon has ingested (`GET /`, `history_latest_ledger`).
    pub async fn latest_ledger(&self, horizon_url: &str) -> Result<u32, HorizonError> {
        #[derive(Deserialize)]
        struct Root {
            history_latest_ledger: u32,
        }
        let url = format!("{}/", horizon_url.trim_end_matches('/'));
        let root: Root = self.get_json(&url).await?.ok_or(HorizonError::Status(404))?;
        Ok(root.history_latest_ledger)
    }

    /// A JSON document; `None` when Horizon answers 404 or 410 (it does not have it).
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<Option<T>, HorizonError> {
        let response = self
            .get(url, false)?
            .send()
            .await
            .map_err(|e| HorizonError::Unreachable(crate::outbound::describe(e)))?;
        match response.status().as_u16() {
            200..=299 => {}
            404 | 410 => return Ok(None),
            other => return Err(HorizonError::Status(other)),
        }
        response.json().await.map(Some).map_err(|e| HorizonError::Body(e.to_string()))
    }

    /// A ledger's hash (`GET /ledgers/{seq}`); `None` when Horizon does not have it.
    pub async fn ledger_hash(
        &self,
        horizon_url: &str,
        sequence: u32,
    ) -> Result<Option<String>, HorizonError> {
        #[derive(Deserialize)]
        struct Ledger {
            hash: String,
        }
        let url = format!("{}/ledgers/{sequence}", horizon_url.trim_end_matches('/'));
        Ok(self.get_json::<Ledger>(&url).await?.map(|l| l.hash))
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "_embedded")]
    embedded: Embedded,
}

#[derive(Deserialize)]
struct Embedded {
    records: Vec<PaymentRecord>,
}

/// Which payments feed: one account's, or the whole network's (what a shared stream
/// follows, routing each operation by the account it pays).
#[derive(Debug, Clone, Copy)]
pub enum Feed<'a> {
    Account(&'a str),
    Network,
}

fn payments_url(horizon_url: &str, feed: Feed<'_>) -> String {
    let base = horizon_url.trim_end_matches('/');
    match feed {
        Feed::Account(account) => format!("{base}/accounts/{account}/payments"),
        Feed::Network => format!("{base}/payments"),
    }
}

/// Whether paging token `a` comes after `b`. Horizon's operation tokens are decimal
/// numbers (ledger, transaction, operation packed into 64 bits); anything else is
/// compared as text, longer after shorter.
pub fn token_after(a: &str, b: &str) -> bool {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => (a.len(), a) > (b.len(), b),
    }
}

impl Horizon {
    /// One page of the feed after `cursor`, oldest first; `None` when the account is
    /// not on the ledger (404).
    pub async fn payments_page(
        &self,
        horizon_url: &str,
        feed: Feed<'_>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<PaymentRecord>>, HorizonError> {
        self.page(horizon_url, feed, cursor, limit, "asc").await
    }

    /// The paging token of the feed's newest operation (`"0"` if it has none): where
    /// a stream that should see only what happens from now on starts.
    pub async fn newest_token(&self, horizon_url: &str, feed: Feed<'_>) -> Result<String, HorizonError> {
        let newest = self.page(horizon_url, feed, None, 1, "desc").await?.unwrap_or_default();
        Ok(newest.first().map_or_else(|| "0".to_string(), |r| r.paging_token.clone()))
    }

    /// `None` when the account is not on the ledger (404).
    async fn page(
        &self,
        horizon_url: &str,
        feed: Feed<'_>,
        cursor: Option<&str>,
        limit: u32,
        order: &str,
    ) -> Result<Option<Vec<PaymentRecord>>, HorizonError> {
        let mut query =
            vec![("order", order.to_string()), ("limit", limit.to_string()), ("join", "transactions".into())];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_string()));
        }
        let response = self
            .get(&payments_url(horizon_url, feed), false)?
            .query(&query)
            .send()
            .await
            .map_err(|e| HorizonError::Unreachable(crate::outbound::describe(e)))?;
        match response.status().as_u16() {
            200..=299 => {}
            404 => return Ok(None),
            other => return Err(HorizonError::Status(other)),
        }
        let page: Page = response.json().await.map_err(|e| HorizonError::Body(e.to_string()))?;
        Ok(Some(page.embedded.records))
    }

    /// Where to start watching an account so that every operation at or after `since`
    /// is seen: the paging token of the newest operation older than `since`, found by
    /// paging backwards, or `"0"` (the account's whole history) when there is none.
    pub async fn cursor_before(
        &self,
        horizon_url: &str,
        account: &str,
        since: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<String, HorizonError> {
        let mut cursor: Option<String> = None;
        loop {
            let Some(records) =
                self.page(horizon_url, Feed::Account(account), cursor.as_deref(), limit, "desc").await?
            else {
                // Not on the ledger yet: everything it will ever receive is after `since`.
                return Ok("0".into());
            };
            for r in &records {
                let at = chrono::DateTime::parse_from_rfc3339(&r.created_at).map_err(|_| {
                    HorizonError::Body(format!("operation {}: bad created_at {:?}", r.id, r.created_at))
                })?;
                if at < since {
                    return Ok(r.paging_token.clone());
                }
            }
            match records.last() {
                Some(last) if records.len() == limit as usize => cursor = Some(last.paging_token.clone()),
                _ => return Ok("0".into()),
            }
        }
    }

    /// The feed's payments after `cursor` as Server-Sent Events. Horizon's `"hello"`
    /// greeting and other non-record messages are skipped. The stream ends when Horizon
    /// (or the network) closes it.
    pub async fn payments_stream(
        &self,
        horizon_url: &str,
        feed: Feed<'_>,
        cursor: &str,
    ) -> Result<impl futures::Stream<Item = Result<PaymentRecord, HorizonError>> + use<>, HorizonError> {
        use eventsource_stream::Eventsource;
        use futures::StreamExt;
        let response = self
            .get(&payments_url(horizon_url, feed), true)?
            .query(&[("order", "asc"), ("join", "transactions"), ("cursor", cursor)])
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| HorizonError::Unreachable(crate::outbound::describe(e)))?;
        if !response.status().is_success() {
            return Err(HorizonError::Status(response.status().as_u16()));
        }
        let is_sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            return Err(HorizonError::NoStreaming);
        }
        Ok(response.bytes_stream().eventsource().filter_map(|event| async move {
            match event {
                Err(e) => Some(Err(HorizonError::Unreachable(e.to_string()))),
                Ok(event) if !event.data.trim_start().starts_with('{') => None,
                Ok(event) => {
                    Some(serde_json::from_str(&event.data).map_err(|e| HorizonError::Body(e.to_string())))
                }
            }
        }))
    }
}
