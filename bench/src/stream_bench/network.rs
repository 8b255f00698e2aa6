//! The Horizon stand-in the stream bench runs against: a network's payments feed
//! (pages and Server-Sent Events at a set rate), and each account's own feed for
//! catch-ups.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Operation ids start here (any positive base works; real ones are ledger-based).
pub(super) const BASE: u64 = 1_000_000_000;
pub(super) const STRANGERS: [&str; 3] = [
    "GBSTRANGERAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "GBSTRANGERBXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "GBSTRANGERCXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
];
/// One operation of the played network: to which tenant (or nobody), with which memo.
pub(super) struct Op {
    pub(super) tenant: Option<u32>,
    pub(super) memo: String,
}

pub(super) struct Network {
    pub(super) ops: Vec<Op>,
    /// Per tenant: its account, its asset issuer, and the indices of its operations.
    pub(super) accounts: Vec<(String, String, Vec<usize>)>,
    /// How many operations have "closed" so far, and when each did (ms since epoch).
    pub(super) emitted: AtomicUsize,
    pub(super) closed_at: Vec<AtomicI64>,
    pub(super) tick: tokio::sync::watch::Sender<()>,
    pub(super) stream_connects: AtomicUsize,
}

impl Network {
    fn record(&self, i: usize) -> String {
        let op = &self.ops[i];
        let id = BASE + i as u64 + 1;
        let at = chrono::DateTime::from_timestamp_millis(self.closed_at[i].load(Ordering::Relaxed))
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let (to, issuer, memo_type) = match op.tenant {
            Some(t) => {
                let (account, issuer, _) = &self.accounts[t as usize];
                (account.as_str(), issuer.as_str(), "id")
            }
            None => (STRANGERS[i % 3], STRANGERS[(i + 1) % 3], "none"),
        };
        let memo = if op.memo.is_empty() { String::new() } else { format!(r#","memo":"{}""#, op.memo) };
        let hash = format!("{:064x}", id * 7919);
        format!(
            concat!(
                r#"{{"_links":{{"self":{{"href":"https://horizon.example/operations/{id}"}},"#,
                r#""transaction":{{"href":"https://horizon.example/transactions/{hash}"}},"#,
                r#""effects":{{"href":"https://horizon.example/operations/{id}/effects"}}}},"#,
                r#""id":"{id}","paging_token":"{id}","transaction_successful":true,"#,
                r#""source_account":"GBENCHSENDERXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","type":"payment","type_i":1,"#,
                r#""created_at":"{at}","transaction_hash":"{hash}","asset_type":"credit_alphanum4","#,
                r#""asset_code":"SRT","asset_issuer":"{issuer}","#,
                r#""from":"GBENCHSENDERXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","to":"{to}","amount":"100.0000000","#,
                r#""transaction":{{"id":"{hash}","hash":"{hash}","successful":true,"ledger":1234,"#,
                r#""created_at":"{at}","fee_charged":"100","operation_count":1,"memo_type":"{memo_type}"{memo}}}}}"#
            ),
            id = id,
            hash = hash,
            at = at,
            issuer = issuer,
            to = to,
            memo_type = memo_type,
            memo = memo,
        )
    }

    /// Indices of the operations a feed serves after `cursor`, among those closed.
    fn after(&self, account: Option<usize>, cursor: u64) -> Vec<usize> {
        let closed = self.emitted.load(Ordering::Acquire);
        let first = cursor.saturating_sub(BASE) as usize; // token BASE+i+1 ↔ index i
        match account {
            None => (first.min(closed)..closed).collect(),
            Some(t) => self.accounts[t].2.iter().copied().filter(|&i| i >= first && i < closed).collect(),
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct PageQuery {
    pub(super) cursor: Option<String>,
    pub(super) limit: Option<usize>,
    pub(super) order: Option<String>,
}

pub(super) type Shared = (Arc<Network>, Arc<std::collections::HashMap<String, usize>>);

pub(super) async fn network_feed(
    State(s): State<Shared>,
    Query(q): Query<PageQuery>,
    h: axum::http::HeaderMap,
) -> Response {
    feed(s, None, q, h).await
}

pub(super) async fn account_feed(
    State(s): State<Shared>,
    Path(account): Path<String>,
    Query(q): Query<PageQuery>,
    h: axum::http::HeaderMap,
) -> Response {
    match s.1.get(&account).copied() {
        Some(t) => feed(s, Some(t), q, h).await,
        None => Json(json!({ "_embedded": { "records": [] } })).into_response(),
    }
}

pub(super) async fn feed(
    (net, _): Shared,
    account: Option<usize>,
    q: PageQuery,
    h: axum::http::HeaderMap,
) -> Response {
    let cursor: u64 = q.cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
    if h.get("accept").is_some_and(|v| v.to_str().unwrap_or("").contains("event-stream")) {
        net.stream_connects.fetch_add(1, Ordering::Relaxed);
        let mut tick = net.tick.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::convert::Infallible>>(64);
        tokio::spawn(async move {
            let _ = tx.send(Ok("retry: 1000\nevent: open\ndata: \"hello\"\n\n".into())).await;
            let mut last = cursor;
            loop {
                let mut chunk = String::new();
                for i in net.after(account, last) {
                    let id = BASE + i as u64 + 1;
                    chunk.push_str(&format!("id: {id}\ndata: {}\n\n", net.record(i)));
                    last = id;
                }
                if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
                if tick.changed().await.is_err() {
                    return;
                }
            }
        });
        let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(axum::body::Body::from_stream(body))
            .unwrap();
    }
    let limit = q.limit.unwrap_or(10).min(200);
    let indices = if q.order.as_deref() == Some("desc") {
        let mut all = net.after(account, 0);
        if q.cursor.is_some() {
            all.retain(|&i| BASE + (i as u64) + 1 < cursor);
        }
        all.into_iter().rev().take(limit).collect::<Vec<_>>()
    } else {
        net.after(account, cursor).into_iter().take(limit).collect()
    };
    let records: Vec<String> = indices.into_iter().map(|i| net.record(i)).collect();
    let body = format!(r#"{{"_embedded":{{"records":[{}]}}}}"#, records.join(","));
    ([("content-type", "application/json")], body).into_response()
}
