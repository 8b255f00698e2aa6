//! The Stellar RPC methods Mooring calls (JSON-RPC 2.0 over POST). Production talks to
//! a real RPC; tests talk to a stand-in serving the same XDR through this same client.
//!
//! RPC keeps a window of recent ledgers only: a request that starts before the oldest
//! one is refused with -32600 "startLedger must be within the ledger range: A - B",
//! which [`RpcError::OutOfRange`] carries as numbers, because for a watcher that answer
//! means "a gap", never "no payments".

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::horizon::AccountSigners;
use crate::outbound::{Fence, FencedClient};

#[derive(Debug, Clone, thiserror::Error)]
pub enum RpcError {
    #[error("RPC could not be reached: {0}")]
    Unreachable(String),
    #[error("RPC answered HTTP {0}")]
    Status(u16),
    #[error("RPC sent an unexpected body: {0}")]
    Body(String),
    /// The start asked for is outside what this RPC keeps (`oldest..=latest`).
    #[error("RPC keeps ledgers {oldest} to {latest} only")]
    OutOfRange { oldest: u32, latest: u32 },
    #[error("RPC error {code}: {message}")]
    Rpc { code: i64, message: String },
}

/// `getLatestLedger`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestLedger {
    /// The ledger's hash, hex.
    pub id: String,
    pub sequence: u32,
}

/// One ledger of `getLedgers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerInfo {
    pub hash: String,
    pub sequence: u32,
    /// Unix seconds, sent as a string.
    #[serde(deserialize_with = "number_or_string")]
    pub ledger_close_time: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgersPage {
    pub ledgers: Vec<LedgerInfo>,
    pub latest_ledger: u32,
    pub oldest_ledger: u32,
    #[serde(default, deserialize_with = "number_or_string")]
    pub oldest_ledger_close_time: i64,
}

/// One event of `getEvents` (XDR format: topics and value as base64 `ScVal`s).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub ledger: u32,
    pub ledger_closed_at: String,
    #[serde(default)]
    pub contract_id: String,
    pub id: String,
    #[serde(default)]
    pub tx_hash: String,
    #[serde(default = "yes")]
    pub in_successful_contract_call: bool,
    pub topic: Vec<String>,
    pub value: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsPage {
    pub events: Vec<EventInfo>,
    /// Where the next request continues: after the last event, or — when the page is
    /// short — at the end of the window of ledgers this request scanned.
    #[serde(default)]
    pub cursor: String,
    pub latest_ledger: u32,
    #[serde(default)]
    pub oldest_ledger: u32,
}

/// Where a `getEvents` request starts.
#[derive(Debug, Clone)]
pub enum Start<'a> {
    Ledger(u32),
    After(&'a str),
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().ok_or_else(|| serde::de::Error::custom("not an integer")),
        Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expected a number")),
    }
}

#[derive(Clone)]
pub struct Rpc {
    http: reqwest::Client,
    /// For an RPC an operator gave one tenant: only the platform's may be private.
    fenced: FencedClient,
    platform: Arc<Vec<url::Origin>>,
    /// (RPC URL, account) → signers, single flight, as for Horizon (`None`: no cache).
    signers: Option<moka::future::Cache<(String, String), Option<AccountSigners>>>,
}

impl Rpc {
    pub fn new(timeout: Duration, signer_ttl: Duration, platform: Vec<String>, fence: &Fence) -> Self {
        Self {
            http: crate::outbound::platform_client(Some(timeout), timeout),
            fenced: FencedClient::new(fence, Some(timeout), timeout),
            platform: Arc::new(crate::outbound::origins(&platform)),
            signers: crate::outbound::signer_cache(signer_ttl),
        }
    }

    /// [`Self::account_signers`], cached and single-flight: a burst of SEP-10
    /// exchanges for one account costs one RPC request.
    pub async fn account_signers_cached(
        &self,
        url: &str,
        account: &mooring_stellar::PublicKey,
    ) -> Result<Option<AccountSigners>, RpcError> {
        let Some(cache) = &self.signers else { return self.account_signers(url, account).await };
        cache
            .try_get_with((url.to_string(), account.to_string()), self.account_signers(url, account))
            .await
            .map_err(|e: Arc<RpcError>| (*e).clone())
    }

    async fn call<T: DeserializeOwned>(&self, url: &str, method: &str, params: Value) -> Result<T, RpcError> {
        let parsed = url::Url::parse(url).map_err(|_| RpcError::Unreachable("not a URL".into()))?;
        let request = if self.platform.contains(&parsed.origin()) {
            self.http.post(parsed)
        } else {
            self.fenced.post(url).map_err(|refused| RpcError::Unreachable(refused.0))?
        };
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = request
            .json(&body)
            .send()
            .await
            .map_err(|e| RpcError::Unreachable(crate::outbound::describe(e)))?;
        if !response.status().is_success() {
            return Err(RpcError::Status(response.status().as_u16()));
        }
        let mut answer: Value = response.json().await.map_err(|e| RpcError::Body(e.to_string()))?;
        if let Some(error) = answer.get("error") {
            let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
            let message = error.get("message").and_then(Value::as_str).unwrap_or("").to_string();
            return Err(out_of_range(code, &message).unwrap_or(RpcError::Rpc { code, message }));
        }
        let result =
            answer.get_mut("result").map(Value::take).ok_or_else(|| RpcError::Body("no result".into()))?;
        serde_json::from_value(result).map_err(|e| RpcError::Body(format!("{method}: {e}")))
    }

    /// The network's passphrase: an RPC of another network must never be followed.
    pub async fn network_passphrase(&self, url: &str) -> Result<String, RpcError> {
        #[derive(Deserialize)]
        struct Network {
            passphrase: String,
        }
        Ok(self.call::<Network>(url, "getNetwork", json!({})).await?.passphrase)
    }

    pub async fn latest_ledger(&self, url: &str) -> Result<LatestLedger, RpcError> {
        self.call(url, "getLatestLedger", json!({})).await
    }

    /// Up to `limit` ledgers from `start` (with their hashes and close times), and the
    /// window this RPC keeps.
    pub async fn ledgers(&self, url: &str, start: u32, limit: u32) -> Result<LedgersPage, RpcError> {
        self.call(url, "getLedgers", json!({ "startLedger": start, "pagination": { "limit": limit } })).await
    }

    /// `getEvents` for `topics` patterns (each a list of base64 `ScVal`s or `*`), any
    /// contract: RPC allows 5 filters of 5 contract ids each, far fewer than a
    /// platform's assets, so matching happens here, not there.
    pub async fn events(
        &self,
        url: &str,
        from: Start<'_>,
        topics: &[Vec<String>],
        limit: u32,
    ) -> Result<EventsPage, RpcError> {
        let filters = json!([{ "type": "contract", "topics": topics }]);
        let params = match from {
            Start::Ledger(start) => {
                json!({ "startLedger": start, "filters": filters, "pagination": { "limit": limit } })
            }
            Start::After(cursor) => {
                json!({ "filters": filters, "pagination": { "cursor": cursor, "limit": limit } })
            }
        };
        self.call(url, "getEvents", params).await
    }

    /// What SEP-10 needs of an account, from its ledger entry (`None`: not on the
    /// ledger). Horizon lists the master key among the signers; the entry keeps its
    /// weight in `thresholds[0]`, so it is added here the same way.
    pub async fn account_signers(
        &self,
        url: &str,
        account: &mooring_stellar::PublicKey,
    ) -> Result<Option<AccountSigners>, RpcError> {
        let key = mooring_stellar::ledger_entry::account_key(account);
        let mut entries = self.ledger_entries(url, std::slice::from_ref(&key)).await?;
        let Some(xdr) = entries.remove(&key) else { return Ok(None) };
        let (signers, med_threshold) =
            mooring_stellar::ledger_entry::account_signers(&xdr).map_err(RpcError::Body)?;
        Ok(Some(AccountSigners { signers, med_threshold }))
    }
}

/// `sendTransaction`'s answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// `PENDING`, `DUPLICATE`, `TRY_AGAIN_LATER` or `ERROR`.
    pub status: String,
    #[serde(default)]
    pub hash: String,
    /// With `ERROR`: the base64 `TransactionResult` saying why.
    #[serde(default)]
    pub error_result_xdr: Option<String>,
}

/// `getTransaction`'s answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxStatus {
    /// `SUCCESS`, `FAILED` or `NOT_FOUND`.
    pub status: String,
    #[serde(default)]
    pub result_xdr: Option<String>,
    #[serde(default)]
    pub ledger: Option<u32>,
    pub latest_ledger: u32,
    /// Unix seconds, sent as a string.
    #[serde(default, deserialize_with = "number_or_string")]
    pub latest_ledger_close_time: i64,
}

impl Rpc {
    /// `sendTransaction` of a base64 envelope.
    pub async fn send_transaction(&self, url: &str, envelope_xdr: &str) -> Result<Sent, RpcError> {
        self.call(url, "sendTransaction", json!({ "transaction": envelope_xdr })).await
    }

    /// `getTransaction` by hash (hex).
    pub async fn transaction(&self, url: &str, hash: &str) -> Result<TxStatus, RpcError> {
        self.call(url, "getTransaction", json!({ "hash": hash })).await
    }

    /// `getLedgerEntries`: the base64 `LedgerEntryData` of each key found, by key.
    pub async fn ledger_entries(
        &self,
        url: &str,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, String>, RpcError> {
        #[derive(Deserialize)]
        struct Entries {
            #[serde(default)]
            entries: Option<Vec<Entry>>,
        }
        #[derive(Deserialize)]
        struct Entry {
            key: String,
            xdr: String,
        }
        let answer: Entries = self.call(url, "getLedgerEntries", json!({ "keys": keys })).await?;
        Ok(answer.entries.unwrap_or_default().into_iter().map(|e| (e.key, e.xdr)).collect())
    }
}

/// RPC's answer to a start outside its window, read into numbers.
fn out_of_range(code: i64, message: &str) -> Option<RpcError> {
    if code != -32600 {
        return None;
    }
    let range = message.split_once("ledger range:")?.1;
    let (oldest, latest) = range.split_once('-')?;
    Some(RpcError::OutOfRange { oldest: oldest.trim().parse().ok()?, latest: latest.trim().parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_error_is_read_as_numbers() {
        let e = out_of_range(-32600, "startLedger must be within the ledger range: 1200 - 1500");
        assert!(matches!(e, Some(RpcError::OutOfRange { oldest: 1200, latest: 1500 })), "{e:?}");
        assert!(out_of_range(-32602, "startLedger must be within the ledger range: 1 - 2").is_none());
        assert!(out_of_range(-32600, "something else").is_none());
    }
}
