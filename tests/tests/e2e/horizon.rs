//! A local stand-in for Horizon, serving the real JSON shapes of the endpoints Mooring
//! reads. Tests register accounts and can make it fail or slow down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    /// account id → (signers as (key, weight), medium threshold)
    accounts: HashMap<String, (Vec<(String, u32)>, u32)>,
    failing: bool,
    /// Only the payments feed answers 500 (accounts still load, so SEP-10 works).
    payments_failing: bool,
    delay: Duration,
    /// account id → its payment-feed records, oldest first.
    payments: HashMap<String, Vec<Value>>,
    /// The network's payment feed (`GET /payments`): every account's, oldest first.
    network: Vec<Value>,
    /// Streams opened on the network feed (the rest are per account).
    network_stream_connects: usize,
    next_operation: u64,
    no_streaming: bool,
    /// Close every stream after this many records (a flaky connection).
    drop_stream_after: Option<usize>,
    /// Send every streamed record twice (a proxy that replays).
    duplicate_events: bool,
    stream_connects: usize,
    account_requests: usize,
    /// Payment-feed requests refused while failing: a watcher's attempts, observable.
    refused_feed_requests: usize,
    /// Bumped to cut every open stream.
    stream_generation: u64,
    /// The newest ledger (`GET /`), and the network's generation: a reset network's
    /// ledgers have other hashes.
    latest_ledger: u32,
    network_generation: u32,
}

#[derive(Clone)]
pub struct HorizonStandIn {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    new_records: Arc<tokio::sync::watch::Sender<u64>>,
}

/// A payment to describe to the stand-in.
#[derive(Clone)]
pub struct Pay {
    pub op_type: &'static str,
    pub from: String,
    pub to: String,
    pub to_muxed: Option<(String, u64)>,
    /// `None` for lumens.
    pub asset: Option<(String, String)>,
    pub amount: String,
    pub memo_type: &'static str,
    pub memo: Option<String>,
    pub successful: bool,
}

impl HorizonStandIn {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            next_operation: 1_000_000,
            latest_ledger: 5000,
            ..Inner::default()
        }));
        let new_records = Arc::new(tokio::sync::watch::channel(0u64).0);
        Self::serve(inner, new_records).await
    }

    /// Another Horizon on the same network: it serves the same ledger (the same
    /// operations with the same ids) at another URL.
    pub async fn same_network(&self) -> Self {
        Self::serve(self.inner.clone(), self.new_records.clone()).await
    }

    async fn serve(inner: Arc<Mutex<Inner>>, new_records: Arc<tokio::sync::watch::Sender<u64>>) -> Self {
        let app = Router::new()
            .route("/accounts/{id}", get(account))
            .route("/accounts/{id}/payments", get(account_payments))
            .route("/payments", get(network_payments))
            .route("/", get(root))
            .route("/ledgers/{seq}", get(ledger))
            .with_state((inner.clone(), new_records.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}"), inner, new_records }
    }

    /// Appends a record to `account`'s payment feed (and so to every open stream),
    /// made now; returns its operation id.
    pub fn add_payment(&self, account: &str, pay: &Pay) -> String {
        self.add_payment_at(account, pay, chrono::Utc::now())
    }

    /// As [`Self::add_payment`], for a payment whose ledger closed at `at`.
    pub fn add_payment_at(&self, account: &str, pay: &Pay, at: chrono::DateTime<chrono::Utc>) -> String {
        let id = {
            let mut inner = self.inner.lock().unwrap();
            inner.next_operation += 1;
            let id = inner.next_operation.to_string();
            let record = payment_record(&id, pay, at);
            inner.payments.entry(account.to_string()).or_default().push(record.clone());
            inner.network.push(record);
            id
        };
        self.new_records.send_modify(|v| *v += 1);
        id
    }

    /// As [`Self::add_payment_at`] with a given operation id (an RPC position's
    /// operation, for gaps read from Horizon).
    pub fn add_payment_as(
        &self,
        account: &str,
        pay: &Pay,
        at: chrono::DateTime<chrono::Utc>,
        id: u64,
    ) -> String {
        let id = id.to_string();
        {
            let mut inner = self.inner.lock().unwrap();
            let record = payment_record(&id, pay, at);
            inner.payments.entry(account.to_string()).or_default().push(record.clone());
            inner.network.push(record);
        }
        self.new_records.send_modify(|v| *v += 1);
        id
    }

    /// A smart wallet's payment as Horizon lists it: an `invoke_host_function` record
    /// whose `asset_balance_changes` credit `pay.to` (with the memo as the destination's
    /// muxed id, as CAP-67 maps it). Returns its operation id.
    pub fn add_contract_payment(&self, pay: &Pay) -> String {
        let id = {
            let mut inner = self.inner.lock().unwrap();
            inner.next_operation += 1;
            let id = inner.next_operation.to_string();
            let mut record = payment_record(&id, pay, chrono::Utc::now());
            let obj = record.as_object_mut().unwrap();
            for k in [
                "from",
                "to",
                "amount",
                "asset_type",
                "asset_code",
                "asset_issuer",
                "to_muxed",
                "to_muxed_id",
            ] {
                obj.remove(k);
            }
            obj.insert("type".into(), json!("invoke_host_function"));
            obj.insert("type_i".into(), json!(24));
            obj.insert("function".into(), json!("HostFunctionTypeHostFunctionTypeInvokeContract"));
            obj.insert("address".into(), json!(""));
            obj.insert("salt".into(), json!(""));
            obj.insert("parameters".into(), json!([]));
            let mut change =
                json!({ "type": "transfer", "from": pay.from, "to": pay.to, "amount": pay.amount });
            match &pay.asset {
                None => change["asset_type"] = json!("native"),
                Some((code, issuer)) => {
                    change["asset_type"] =
                        json!(if code.len() <= 4 { "credit_alphanum4" } else { "credit_alphanum12" });
                    change["asset_code"] = json!(code);
                    change["asset_issuer"] = json!(issuer);
                }
            }
            if let Some(memo) = &pay.memo {
                change["destination_muxed_id"] = json!(memo);
                change["destination_muxed_id_type"] = json!(match pay.memo_type {
                    "text" => "string",
                    "hash" => "bytes",
                    _ => "uint64",
                });
            }
            obj.insert("asset_balance_changes".into(), json!([change]));
            // The wallet's transaction carries no memo: the muxed id is the memo.
            record["transaction"]["memo_type"] = json!("none");
            record["transaction"].as_object_mut().unwrap().remove("memo");
            inner.payments.entry(pay.to.clone()).or_default().push(record.clone());
            inner.network.push(record);
            id
        };
        self.new_records.send_modify(|v| *v += 1);
        id
    }

    /// A testnet reset: every record gone, operation ids start again, the same
    /// ledger numbers now have other hashes. Open streams are cut.
    pub fn reset_network(&self) {
        {
            let mut inner = self.inner.lock().unwrap();
            inner.network_generation += 1;
            inner.network.clear();
            inner.payments.clear();
            inner.next_operation = 1_000_000;
        }
        self.disconnect_all();
    }

    pub fn set_streaming(&self, on: bool) {
        self.inner.lock().unwrap().no_streaming = !on;
    }

    pub fn drop_streams_after(&self, records: Option<usize>) {
        self.inner.lock().unwrap().drop_stream_after = records;
    }

    pub fn duplicate_events(&self, on: bool) {
        self.inner.lock().unwrap().duplicate_events = on;
    }

    /// Closes every open stream (a network blip, a Horizon restart).
    pub fn disconnect_all(&self) {
        self.inner.lock().unwrap().stream_generation += 1;
        self.new_records.send_modify(|v| *v += 1);
    }

    /// How many `GET /accounts/{id}` requests were served.
    pub fn account_requests(&self) -> usize {
        self.inner.lock().unwrap().account_requests
    }

    /// Streams opened, on any feed.
    pub fn stream_connects(&self) -> usize {
        self.inner.lock().unwrap().stream_connects
    }

    /// Streams opened on the network-wide feed.
    pub fn network_stream_connects(&self) -> usize {
        self.inner.lock().unwrap().network_stream_connects
    }

    /// Adds operations to the network feed that pay no tenant (other people's traffic);
    /// returns the last one's paging token.
    pub fn add_foreign_traffic(&self, n: usize) -> String {
        let stranger = Pay {
            op_type: "payment",
            from: "GBSTRANGERSENDERXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
            to: "GBSTRANGERRECEIVERXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
            to_muxed: None,
            asset: None,
            amount: "1.0000000".into(),
            memo_type: "none",
            memo: None,
            successful: true,
        };
        let last = {
            let mut inner = self.inner.lock().unwrap();
            for _ in 0..n {
                inner.next_operation += 1;
                let id = inner.next_operation.to_string();
                let record = payment_record(&id, &stranger, chrono::Utc::now());
                inner.network.push(record);
            }
            inner.next_operation.to_string()
        };
        self.new_records.send_modify(|v| *v += 1);
        last
    }

    /// An account with these signers (key, weight) and medium threshold.
    pub fn set_account(&self, id: &str, signers: Vec<(String, u32)>, med_threshold: u32) {
        self.inner.lock().unwrap().accounts.insert(id.to_string(), (signers, med_threshold));
    }

    /// Payment-feed requests answered 500 so far.
    pub fn refused_feed_requests(&self) -> usize {
        self.inner.lock().unwrap().refused_feed_requests
    }

    /// Answer every request with 500 (as a Horizon having a bad time does).
    pub fn set_failing(&self, failing: bool) {
        self.inner.lock().unwrap().failing = failing;
    }

    pub fn set_payments_failing(&self, failing: bool) {
        let mut inner = self.inner.lock().unwrap();
        inner.payments_failing = failing;
        if failing {
            inner.stream_generation += 1;
        }
        drop(inner);
        self.new_records.send_modify(|v| *v += 1);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }
}

type Shared = (Arc<Mutex<Inner>>, Arc<tokio::sync::watch::Sender<u64>>);

fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({
            "type": "https://stellar.org/horizon-errors/server_error",
            "title": "Internal Server Error",
            "status": 500,
        })),
    )
        .into_response()
}

/// A payment-feed record with the fields Horizon sends for the operation type, and the
/// joined transaction (`join=transactions`).
fn payment_record(id: &str, p: &Pay, at: chrono::DateTime<chrono::Utc>) -> Value {
    let created_at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let hash = format!("{:0>64}", format!("{:x}", id.parse::<u64>().unwrap() * 7919));
    let mut r = json!({
        "_links": {
            "self": { "href": format!("https://horizon-testnet.stellar.org/operations/{id}") },
            "transaction": { "href": format!("https://horizon-testnet.stellar.org/transactions/{hash}") },
            "effects": { "href": format!("https://horizon-testnet.stellar.org/operations/{id}/effects") },
            "succeeds": { "href": format!("https://horizon-testnet.stellar.org/effects?order=desc&cursor={id}") },
            "precedes": { "href": format!("https://horizon-testnet.stellar.org/effects?order=asc&cursor={id}") },
        },
        "id": id,
        "paging_token": id,
        "transaction_successful": p.successful,
        "source_account": p.from,
        "type": p.op_type,
        "type_i": match p.op_type { "payment" => 1, "path_payment_strict_receive" => 2, "path_payment_strict_send" => 13, _ => 0 },
        "created_at": created_at,
        "transaction_hash": hash,
        "from": p.from,
        "to": p.to,
        "amount": p.amount,
    });
    match &p.asset {
        None => r["asset_type"] = json!("native"),
        Some((code, issuer)) => {
            r["asset_type"] = json!(if code.len() <= 4 { "credit_alphanum4" } else { "credit_alphanum12" });
            r["asset_code"] = json!(code);
            r["asset_issuer"] = json!(issuer);
        }
    }
    if let Some((muxed, mid)) = &p.to_muxed {
        r["to_muxed"] = json!(muxed);
        r["to_muxed_id"] = json!(mid.to_string());
    }
    if p.op_type.starts_with("path_payment") {
        r["path"] = json!([]);
        r["source_amount"] = json!(p.amount);
        r["source_asset_type"] = json!("native");
        if p.op_type == "path_payment_strict_receive" {
            r["source_max"] = json!("1000.0000000");
        } else {
            r["destination_min"] = json!("0.0000001");
        }
    }
    let mut tx = json!({
        "id": hash,
        "paging_token": id,
        "successful": p.successful,
        "hash": hash,
        "ledger": 1234,
        "created_at": created_at,
        "source_account": p.from,
        "fee_charged": "100",
        "operation_count": 1,
        "memo_type": p.memo_type,
        "signatures": [],
    });
    if let Some(memo) = &p.memo {
        tx["memo"] = json!(memo);
    }
    r["transaction"] = tx;
    r
}

#[derive(serde::Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    order: Option<String>,
    limit: Option<usize>,
}

fn after(records: &[Value], cursor: u64) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r["paging_token"].as_str().unwrap().parse::<u64>().unwrap() > cursor)
        .cloned()
        .collect()
}

async fn account_payments(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    payments(shared, Some(account), q, headers).await
}

async fn network_payments(
    State(shared): State<Shared>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    payments(shared, None, q, headers).await
}

fn feed<'a>(inner: &'a Inner, account: Option<&String>) -> &'a [Value] {
    match account {
        Some(a) => inner.payments.get(a).map_or(&[][..], |v| v),
        None => &inner.network,
    }
}

/// One feed (an account's, or with `account: None` the network's), paged or streamed.
async fn payments(
    (inner, notify): Shared,
    account: Option<String>,
    q: PageQuery,
    headers: HeaderMap,
) -> Response {
    let cursor: u64 = q.cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
    let wants_stream =
        headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    {
        let mut guard = inner.lock().unwrap();
        if guard.failing || guard.payments_failing {
            guard.refused_feed_requests += 1;
            return server_error();
        }
        if !wants_stream || guard.no_streaming {
            let all = feed(&guard, account.as_ref()).to_vec();
            let limit = q.limit.unwrap_or(10);
            let records: Vec<Value> = if q.order.as_deref() == Some("desc") {
                let before = |r: &&Value| {
                    q.cursor.is_none() || r["paging_token"].as_str().unwrap().parse::<u64>().unwrap() < cursor
                };
                all.iter().rev().filter(before).take(limit).cloned().collect()
            } else {
                after(&all, cursor).into_iter().take(limit).collect()
            };
            return Json(json!({
                "_links": { "self": { "href": "" }, "next": { "href": "" }, "prev": { "href": "" } },
                "_embedded": { "records": records },
            }))
            .into_response();
        }
        guard.stream_connects += 1;
        if account.is_none() {
            guard.network_stream_connects += 1;
        }
    }
    let generation = inner.lock().unwrap().stream_generation;
    // Server-Sent Events, framed as Horizon frames them.
    let mut rx = notify.subscribe();
    let (tx, body_rx) = tokio::sync::mpsc::channel::<Result<String, std::convert::Infallible>>(16);
    tokio::spawn(async move {
        if tx.send(Ok("retry: 1000\nevent: open\ndata: \"hello\"\n\n".into())).await.is_err() {
            return;
        }
        let (mut last, mut sent) = (cursor, 0usize);
        loop {
            let (batch, drop_after, duplicate) = {
                let g = inner.lock().unwrap();
                if g.stream_generation != generation {
                    return;
                }
                (after(feed(&g, account.as_ref()), last), g.drop_stream_after, g.duplicate_events)
            };
            for record in batch {
                let token = record["paging_token"].as_str().unwrap().to_string();
                let frame = format!("id: {token}\ndata: {record}\n\n");
                let copies = if duplicate { 2 } else { 1 };
                for _ in 0..copies {
                    if tx.send(Ok(frame.clone())).await.is_err() {
                        return;
                    }
                }
                last = token.parse().unwrap();
                sent += 1;
                if drop_after.is_some_and(|n| sent >= n) {
                    return; // closes the stream
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
    let stream =
        futures::stream::unfold(body_rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(axum::body::Body::from_stream(stream))
        .unwrap()
}

fn stand_in_ledger_hash(generation: u32, seq: u32) -> String {
    format!("{:064x}", (u128::from(generation) << 64) | (u128::from(seq) * 7_919))
}

async fn root(State((inner, _)): State<Shared>) -> Response {
    let inner = inner.lock().unwrap();
    Json(json!({
        "horizon_version": "23.0.0-standin",
        "core_version": "stellar-core 23.0.0",
        "history_latest_ledger": inner.latest_ledger,
        "history_elder_ledger": 2,
        "core_latest_ledger": inner.latest_ledger,
        "network_passphrase": "Test SDF Network ; September 2015",
        "current_protocol_version": 23,
        "supported_protocol_version": 23,
        "core_supported_protocol_version": 23,
    }))
    .into_response()
}

async fn ledger(State((inner, _)): State<Shared>, Path(seq): Path<u32>) -> Response {
    let inner = inner.lock().unwrap();
    if seq > inner.latest_ledger {
        return StatusCode::NOT_FOUND.into_response();
    }
    let hash = stand_in_ledger_hash(inner.network_generation, seq);
    Json(json!({ "id": hash, "paging_token": (u64::from(seq) << 32).to_string(), "hash": hash, "sequence": seq }))
        .into_response()
}

async fn account(State((inner, _)): State<Shared>, Path(id): Path<String>) -> Response {
    let (found, failing, delay) = {
        let mut inner = inner.lock().unwrap();
        inner.account_requests += 1;
        (inner.accounts.get(&id).cloned(), inner.failing, inner.delay)
    };
    tokio::time::sleep(delay).await;
    if failing {
        return server_error();
    }
    let Some((signers, med)) = found else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({
                "type": "https://stellar.org/horizon-errors/not_found",
                "title": "Resource Missing",
                "status": 404,
                "detail": "The resource at the url requested was not found.",
            })),
        )
            .into_response();
    };
    let signers: Vec<_> = signers
        .iter()
        .map(|(key, weight)| json!({ "weight": weight, "key": key, "type": "ed25519_public_key" }))
        .collect();
    Json(json!({
        "_links": { "self": { "href": format!("/accounts/{id}") } },
        "id": id,
        "account_id": id,
        "sequence": "3298702387052545",
        "subentry_count": 0,
        "last_modified_ledger": 768061,
        "last_modified_time": "2024-05-01T10:00:00Z",
        "thresholds": { "low_threshold": 0, "med_threshold": med, "high_threshold": med },
        "flags": { "auth_required": false, "auth_revocable": false, "auth_immutable": false, "auth_clawback_enabled": false },
        "balances": [{ "balance": "9999.9999900", "buying_liabilities": "0.0000000", "selling_liabilities": "0.0000000", "asset_type": "native" }],
        "signers": signers,
        "data": {},
        "num_sponsoring": 0,
        "num_sponsored": 0,
        "paging_token": id,
    }))
    .into_response()
}

/// The payment a signed envelope makes (its first operation, a payment of a credit
/// asset), as the network would record it once applied: what a sending anchor's own SDK
/// built reaches the watcher unchanged.
pub fn pay_from_envelope(xdr: &str) -> Pay {
    use stellar_xdr::{
        AccountId, Asset, Limits, Memo, MuxedAccount, OperationBody, PublicKey, ReadXdr, TransactionEnvelope,
    };
    let TransactionEnvelope::Tx(envelope) =
        TransactionEnvelope::from_xdr_base64(xdr, Limits::none()).unwrap()
    else {
        panic!("a v1 transaction envelope")
    };
    let account =
        |bytes: [u8; 32]| stellar_strkey::ed25519::PublicKey(bytes).to_string().as_str().to_string();
    let from = match &envelope.tx.source_account {
        MuxedAccount::Ed25519(k) => account(k.0),
        MuxedAccount::MuxedEd25519(m) => account(m.ed25519.0),
    };
    let OperationBody::Payment(op) = &envelope.tx.operations[0].body else { panic!("a payment") };
    let to = match &op.destination {
        MuxedAccount::Ed25519(k) => account(k.0),
        MuxedAccount::MuxedEd25519(m) => account(m.ed25519.0),
    };
    let issuer = |a: &AccountId| {
        let AccountId(PublicKey::PublicKeyTypeEd25519(k)) = a;
        account(k.0)
    };
    let asset = match &op.asset {
        Asset::CreditAlphanum4(a) => {
            (String::from_utf8_lossy(&a.asset_code.0).trim_end_matches('\0').to_string(), issuer(&a.issuer))
        }
        Asset::CreditAlphanum12(a) => {
            (String::from_utf8_lossy(&a.asset_code.0).trim_end_matches('\0').to_string(), issuer(&a.issuer))
        }
        Asset::Native => panic!("a credit asset"),
    };
    let (memo_type, memo) = match &envelope.tx.memo {
        Memo::Id(id) => ("id", Some(id.to_string())),
        Memo::Text(t) => ("text", Some(String::from_utf8_lossy(t.as_slice()).to_string())),
        Memo::Hash(h) => ("hash", Some(hex::encode(h.0))),
        _ => ("none", None),
    };
    Pay {
        op_type: "payment",
        from,
        to,
        to_muxed: None,
        asset: Some(asset),
        amount: mooring_stellar::Amount(op.amount).to_decimal().normalize().to_string(),
        memo_type,
        memo,
        successful: true,
    }
}
