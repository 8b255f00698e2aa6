//! A local stand-in for Stellar RPC (JSON-RPC 2.0), serving the real shapes of the
//! methods Mooring calls, with real XDR built here with stellar-xdr: CAP-67 `transfer`
//! and `mint` events, account and trustline ledger entries, ledgers with hashes and
//! close times; `sendTransaction`/`getTransaction` against an in-memory ledger
//! (`rpc_ledger`), whose payments become events, and a Friendbot at `/friendbot`.
//! It keeps a window of ledgers like a real RPC (a start before the oldest is refused
//! with -32600 "startLedger must be within the ledger range: A - B"), scans a bounded
//! number of ledgers per `getEvents` request and pages with a top-level cursor, and
//! can be reset like testnet (ledger 1 again, other hashes, same passphrase).
//!
//! Nothing here uses Mooring's own protocol code: the SAC contract ids are derived
//! again below, so a mistake in Mooring's derivation cannot hide behind a shared one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use stellar_xdr::{
    AccountId, AlphaNum4, AlphaNum12, Asset, AssetCode4, AssetCode12, BytesM, ContractId, ContractIdPreimage,
    Hash, HashIdPreimage, HashIdPreimageContractId, Int128Parts, LedgerKey, Limits, PoolId, PublicKey,
    ReadXdr, ScAddress, ScBytes, ScMap, ScMapEntry, ScString, ScSymbol, ScVal, Uint256, WriteXdr,
};

pub const TESTNET: &str = "Test SDF Network ; September 2015";
/// Ledgers one `getEvents` request scans (real RPC: 10,000; small here so tests page).
pub const SCAN_WINDOW: u32 = 50;
const TX_MASK: i64 = (1 << 20) - 1;
const OP_MASK: i64 = (1 << 12) - 1;

fn toid(ledger: u32, tx: u32, op: u32) -> i64 {
    (i64::from(ledger) << 32) | (i64::from(tx) << 12) | i64::from(op)
}

fn event_id(ledger: u32, tx: u32, op: u32, index: u32) -> String {
    format!("{:019}-{:010}", toid(ledger, tx, op), index)
}

/// Who sends or receives.
#[derive(Debug, Clone)]
pub enum Addr {
    /// `G…`
    Account(String),
    /// `C…`: a contract account (smart wallet).
    Contract(String),
    /// A liquidity pool (a path payment's intermediate hop).
    Pool([u8; 32]),
}

/// What the payment's `to_muxed_id` carries (the transaction memo, or a muxed
/// destination's id).
#[derive(Debug, Clone)]
pub enum Memo {
    None,
    Id(u64),
    Text(String),
    /// `MEMO_HASH` and `MEMO_RETURN` alike.
    Bytes([u8; 32]),
}

/// One asset movement to describe to the stand-in.
#[derive(Debug, Clone)]
pub struct Movement {
    /// `transfer` or `mint` (a mint has no `from`).
    pub mint: bool,
    pub from: Addr,
    pub to: Addr,
    /// SEP-11: `native` or `CODE:ISSUER`.
    pub asset: String,
    pub stroops: i128,
    pub memo: Memo,
    /// The emitting contract; `None`: the asset's own SAC. Set it to forge a look-alike.
    pub contract: Option<String>,
}

impl Movement {
    pub fn transfer(from: Addr, to: &str, asset: &str, stroops: i128, memo: Memo) -> Self {
        Self {
            mint: false,
            from,
            to: Addr::Account(to.into()),
            asset: asset.into(),
            stroops,
            memo,
            contract: None,
        }
    }
}

#[derive(Clone)]
struct Event {
    ledger: u32,
    /// `id` parsed: (TOID, event index), what pages compare.
    pos: (i64, u32),
    id: String,
    contract_id: String,
    topic: Vec<String>,
    value: String,
    tx_hash: String,
    closed_at: i64,
    successful: bool,
}

struct Ledger {
    sequence: u32,
    hash: String,
    close_time: i64,
}

struct Inner {
    passphrase: String,
    /// Ledgers oldest first; the window RPC keeps is `oldest..=latest`.
    ledgers: Vec<Ledger>,
    oldest: u32,
    events: Vec<Event>,
    /// Accounts, trustlines and submitted transactions.
    book: crate::rpc_ledger::Book,
    /// Bumped by `reset`: a reset network's ledgers have other hashes.
    generation: u32,
    requests: HashMap<String, usize>,
    failing: bool,
    /// `sendTransaction`s still to apply but answer with HTTP 503 (a lost answer: the
    /// submitter cannot know whether its transaction went in).
    lost_answers: usize,
    /// Submissions answered normally before answers start being lost.
    lost_after: usize,
}

impl Inner {
    fn latest(&self) -> &Ledger {
        self.ledgers.last().expect("at least one ledger")
    }

    fn ledger(&self, seq: u32) -> Option<&Ledger> {
        self.ledgers.iter().find(|l| l.sequence == seq)
    }

    fn close_ledger(&mut self, close_time: i64) -> u32 {
        let seq = self.latest().sequence + 1;
        let hash = ledger_hash(self.generation, seq);
        self.ledgers.push(Ledger { sequence: seq, hash, close_time });
        seq
    }

    fn out_of_range(&self) -> Value {
        let msg = format!(
            "startLedger must be within the ledger range: {} - {}",
            self.oldest,
            self.latest().sequence
        );
        json!({ "code": -32600, "message": msg })
    }
}

fn ledger_hash(generation: u32, seq: u32) -> String {
    hex(&Sha256::digest(format!("ledger {generation}/{seq}")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[derive(Clone)]
pub struct RpcStandIn {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl RpcStandIn {
    /// A testnet RPC holding ledgers 100..=200 (closed 5 s apart, the last one now).
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), TESTNET).await
    }

    pub async fn start_on(addr: SocketAddr, passphrase: &str) -> Self {
        let t = now();
        let ledgers = (100..=200)
            .map(|seq| Ledger {
                sequence: seq,
                hash: ledger_hash(0, seq),
                close_time: t - 5 * i64::from(200 - seq),
            })
            .collect();
        let inner = Arc::new(Mutex::new(Inner {
            passphrase: passphrase.into(),
            ledgers,
            oldest: 100,
            events: Vec::new(),
            book: Default::default(),
            generation: 0,
            requests: HashMap::new(),
            failing: false,
            lost_answers: 0,
            lost_after: 0,
        }));
        let app = Router::new()
            .route("/", post(handle))
            .route("/friendbot", axum::routing::get(friendbot))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}"), inner }
    }

    /// The contract id of `asset`'s Stellar Asset Contract on this network.
    pub fn sac(&self, asset: &str) -> String {
        sac_id(&self.inner.lock().unwrap().passphrase, asset)
    }

    /// Closes one ledger holding `movements` as one transaction's operations, in
    /// order (one event each, the memo on each); returns their event ids.
    pub fn add(&self, movements: &[Movement]) -> Vec<String> {
        self.add_at(movements, now())
    }

    pub fn add_at(&self, movements: &[Movement], close_time: i64) -> Vec<String> {
        let ledger = self.inner.lock().unwrap().close_ledger(close_time);
        self.add_to_ledger(ledger, movements)
    }

    /// Adds `movements` as one more transaction of an existing ledger (a payment long
    /// ago, still within RPC's window).
    pub fn add_to_ledger(&self, ledger: u32, movements: &[Movement]) -> Vec<String> {
        let mut inner = self.inner.lock().unwrap();
        let close_time = inner.ledger(ledger).expect("a ledger RPC keeps").close_time;
        let tx = 1 + inner.events.iter().filter(|e| e.ledger == ledger).count() as u32;
        let tx_hash = hex(&Sha256::digest(format!("tx {}/{ledger}/{tx}", inner.generation)));
        let passphrase = inner.passphrase.clone();
        let mut ids = Vec::new();
        for (op, m) in movements.iter().enumerate() {
            let id = event_id(ledger, tx, op as u32, 0);
            inner.events.push(build(&passphrase, m, ledger, &id, &tx_hash, close_time, true));
            ids.push(id);
        }
        inner.events.sort_by_key(|e| e.pos);
        ids
    }

    /// A path payment in one operation: the sender pays a pool in lumens, the pool
    /// pays `last.to` in its asset; only that final transfer carries the memo.
    pub fn add_path_payment(&self, from: &str, last: &Movement) -> String {
        let mut inner = self.inner.lock().unwrap();
        let t = now();
        let ledger = inner.close_ledger(t);
        let tx_hash = hex(&Sha256::digest(format!("path {}/{ledger}", inner.generation)));
        let passphrase = inner.passphrase.clone();
        let pool = Addr::Pool([9; 32]);
        let first = Movement {
            mint: false,
            from: Addr::Account(from.into()),
            to: pool.clone(),
            asset: "native".into(),
            stroops: last.stroops * 3,
            memo: Memo::None,
            contract: None,
        };
        let first_id = event_id(ledger, 1, 0, 0);
        inner.events.push(build(&passphrase, &first, ledger, &first_id, &tx_hash, t, true));
        let mut final_hop = last.clone();
        final_hop.from = pool;
        let id = event_id(ledger, 1, 0, 1);
        inner.events.push(build(&passphrase, &final_hop, ledger, &id, &tx_hash, t, true));
        id
    }

    /// Closes `n` empty ledgers (time passes, nothing for anyone).
    pub fn close_empty(&self, n: u32) {
        let mut inner = self.inner.lock().unwrap();
        for _ in 0..n {
            inner.close_ledger(now());
        }
    }

    /// RPC forgets every ledger before `oldest` (its retention window moved on).
    pub fn forget_before(&self, oldest: u32) {
        let mut inner = self.inner.lock().unwrap();
        inner.oldest = oldest;
        inner.events.retain(|e| e.ledger >= oldest);
    }

    /// A testnet reset: ledger 1 again (then `ledgers` more), other hashes, no events.
    pub fn reset(&self, ledgers: u32) {
        let mut inner = self.inner.lock().unwrap();
        inner.generation += 1;
        let generation = inner.generation;
        let t = now();
        inner.ledgers = (1..=ledgers.max(1))
            .map(|seq| Ledger {
                sequence: seq,
                hash: ledger_hash(generation, seq),
                close_time: t - 5 * i64::from(ledgers.max(1) - seq),
            })
            .collect();
        inner.oldest = 1;
        inner.events.clear();
        inner.book = Default::default();
    }

    pub fn latest_ledger(&self) -> u32 {
        self.inner.lock().unwrap().latest().sequence
    }

    /// An account on the ledger with these signers (key, weight), master weight and
    /// medium threshold.
    pub fn set_account(&self, account: &str, master_weight: u8, signers: &[(&str, u32)], med_threshold: u8) {
        let key = |g: &str| stellar_strkey::ed25519::PublicKey::from_string(g).unwrap().0;
        let mut a = crate::rpc_ledger::Account::new(100_000_000, 1);
        a.master_weight = master_weight;
        a.med_threshold = med_threshold;
        a.signers = signers.iter().map(|(k, w)| (key(k), *w)).collect();
        self.inner.lock().unwrap().book.accounts.insert(account.to_string(), a);
    }

    /// An account's state on the in-memory ledger.
    pub fn account(&self, account: &str) -> Option<crate::rpc_ledger::Account> {
        self.inner.lock().unwrap().book.accounts.get(account).cloned()
    }

    /// Whether a transaction of this hash (hex) was applied, successfully or not.
    pub fn transaction_known(&self, hash: &str) -> bool {
        self.inner.lock().unwrap().book.txs.contains_key(hash)
    }

    /// Every envelope submitted with `sendTransaction`, in order.
    pub fn submitted(&self) -> Vec<String> {
        self.inner.lock().unwrap().book.submitted.clone()
    }

    /// Transactions paying less than `stroops` per operation get `TRY_AGAIN_LATER`.
    pub fn set_congested_below(&self, stroops: i64) {
        self.inner.lock().unwrap().book.congested_below = stroops;
    }

    /// Friendbot on this stand-in: `GET {url}?addr=G…`.
    pub fn friendbot_url(&self) -> String {
        format!("{}/friendbot", self.url)
    }

    /// After `skip` submissions answered normally, the next `n` are applied but their
    /// answers are lost (HTTP 503).
    pub fn lose_send_answers(&self, skip: usize, n: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.lost_after = skip;
        inner.lost_answers = n;
    }

    /// Every method answers HTTP 503 while on.
    pub fn set_failing(&self, on: bool) {
        self.inner.lock().unwrap().failing = on;
    }

    /// How many requests of `method` were served.
    pub fn requests(&self, method: &str) -> usize {
        self.inner.lock().unwrap().requests.get(method).copied().unwrap_or(0)
    }
}

pub fn sac_id(passphrase: &str, asset: &str) -> String {
    let network_id = Hash(Sha256::digest(passphrase.as_bytes()).into());
    let preimage = HashIdPreimage::ContractId(HashIdPreimageContractId {
        network_id,
        contract_id_preimage: ContractIdPreimage::Asset(asset_xdr(asset)),
    });
    let id: [u8; 32] = Sha256::digest(preimage.to_xdr(Limits::none()).unwrap()).into();
    stellar_strkey::Contract(id).to_string().to_string()
}

fn asset_xdr(asset: &str) -> Asset {
    if asset == "native" {
        return Asset::Native;
    }
    let (code, issuer) = asset.split_once(':').unwrap();
    let issuer = AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(
        stellar_strkey::ed25519::PublicKey::from_string(issuer).unwrap().0,
    )));
    if code.len() <= 4 {
        let mut c = [0; 4];
        c[..code.len()].copy_from_slice(code.as_bytes());
        Asset::CreditAlphanum4(AlphaNum4 { asset_code: AssetCode4(c), issuer })
    } else {
        let mut c = [0; 12];
        c[..code.len()].copy_from_slice(code.as_bytes());
        Asset::CreditAlphanum12(AlphaNum12 { asset_code: AssetCode12(c), issuer })
    }
}

fn address(a: &Addr) -> ScVal {
    ScVal::Address(match a {
        Addr::Account(g) => ScAddress::Account(AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(
            stellar_strkey::ed25519::PublicKey::from_string(g).unwrap().0,
        )))),
        Addr::Contract(c) => {
            ScAddress::Contract(ContractId(Hash(stellar_strkey::Contract::from_string(c).unwrap().0)))
        }
        Addr::Pool(id) => ScAddress::LiquidityPool(PoolId(Hash(*id))),
    })
}

fn sym(s: &str) -> ScVal {
    ScVal::Symbol(ScSymbol(s.try_into().unwrap()))
}

fn build(
    passphrase: &str,
    m: &Movement,
    ledger: u32,
    id: &str,
    tx_hash: &str,
    closed_at: i64,
    successful: bool,
) -> Event {
    let asset = ScVal::String(ScString(m.asset.as_str().try_into().unwrap()));
    let topics = if m.mint {
        vec![sym("mint"), address(&m.to), asset]
    } else {
        vec![sym("transfer"), address(&m.from), address(&m.to), asset]
    };
    let amount = ScVal::I128(Int128Parts { hi: (m.stroops >> 64) as i64, lo: m.stroops as u64 });
    let muxed = match &m.memo {
        Memo::None => None,
        Memo::Id(id) => Some(ScVal::U64(*id)),
        Memo::Text(t) => Some(ScVal::String(ScString(t.as_str().try_into().unwrap()))),
        Memo::Bytes(b) => Some(ScVal::Bytes(ScBytes(BytesM::try_from(b.to_vec()).unwrap()))),
    };
    let value = match muxed {
        None => amount,
        Some(id) => ScVal::Map(Some(ScMap(
            vec![
                ScMapEntry { key: sym("amount"), val: amount },
                ScMapEntry { key: sym("to_muxed_id"), val: id },
            ]
            .try_into()
            .unwrap(),
        ))),
    };
    Event {
        ledger,
        pos: parse_cursor(id).expect("a well-formed id"),
        id: id.to_string(),
        contract_id: m.contract.clone().unwrap_or_else(|| sac_id(passphrase, &m.asset)),
        topic: topics.iter().map(|t| t.to_xdr_base64(Limits::none()).unwrap()).collect(),
        value: value.to_xdr_base64(Limits::none()).unwrap(),
        tx_hash: tx_hash.to_string(),
        closed_at,
        successful,
    }
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn event_json(e: &Event) -> Value {
    let (toid, _) = e.id.split_once('-').unwrap();
    let toid: i64 = toid.parse().unwrap();
    json!({
        "type": "contract",
        "ledger": e.ledger,
        "ledgerClosedAt": rfc3339(e.closed_at),
        "contractId": e.contract_id,
        "id": e.id,
        "operationIndex": toid & OP_MASK,
        "transactionIndex": (toid >> 12) & TX_MASK,
        "txHash": e.tx_hash,
        "inSuccessfulContractCall": e.successful,
        "topic": e.topic,
        "value": e.value,
    })
}

/// Whether an event's topics match one pattern (`*` one segment, `**` the rest).
fn matches(pattern: &[Value], topics: &[String]) -> bool {
    let mut i = 0;
    for (n, seg) in pattern.iter().enumerate() {
        let seg = seg.as_str().unwrap_or_default();
        if seg == "**" {
            return n == pattern.len() - 1;
        }
        let Some(topic) = topics.get(i) else { return false };
        if seg != "*" && seg != topic {
            return false;
        }
        i += 1;
    }
    i == topics.len()
}

fn parse_cursor(c: &str) -> Option<(i64, u32)> {
    let (a, b) = c.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, Json(req): Json<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let method = req["method"].as_str().unwrap_or_default().to_string();
    let params = &req["params"];
    let mut inner = inner.lock().unwrap();
    *inner.requests.entry(method.clone()).or_default() += 1;
    if inner.failing {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let answer = match method.as_str() {
        "getNetwork" => Ok(
            json!({ "passphrase": inner.passphrase, "protocolVersion": 23, "friendbotUrl": "https://friendbot.stellar.org/" }),
        ),
        "getHealth" => Ok(json!({
            "status": "healthy", "latestLedger": inner.latest().sequence, "oldestLedger": inner.oldest,
            "ledgerRetentionWindow": inner.latest().sequence - inner.oldest + 1,
        })),
        "getLatestLedger" => {
            let l = inner.latest();
            Ok(json!({ "id": l.hash, "sequence": l.sequence, "protocolVersion": 23 }))
        }
        "getLedgers" => get_ledgers(&inner, params),
        "getEvents" => get_events(&inner, params),
        "getLedgerEntries" => {
            let mut entries = Vec::new();
            for key in params["keys"].as_array().cloned().unwrap_or_default() {
                let xdr = match LedgerKey::from_xdr_base64(key.as_str().unwrap_or_default(), Limits::none()) {
                    Ok(LedgerKey::Account(k)) => {
                        let AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(bytes))) = k.account_id;
                        inner.book.account_entry(&crate::rpc_ledger::g(&bytes))
                    }
                    Ok(LedgerKey::Trustline(k)) => {
                        let AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(bytes))) = k.account_id;
                        inner.book.trustline_entry(bytes, &k.asset)
                    }
                    _ => None,
                };
                if let Some(xdr) = xdr {
                    entries.push(
                        json!({ "key": key, "xdr": xdr, "lastModifiedLedgerSeq": inner.latest().sequence }),
                    );
                }
            }
            Ok(json!({ "entries": entries, "latestLedger": inner.latest().sequence }))
        }
        "sendTransaction" => {
            let answer = send_transaction(&mut inner, params);
            if inner.lost_after > 0 {
                inner.lost_after -= 1;
            } else if inner.lost_answers > 0 {
                inner.lost_answers -= 1;
                return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            Ok(answer)
        }
        "getTransaction" => {
            let hash = params["hash"].as_str().unwrap_or_default();
            let l = inner.latest();
            let mut answer = json!({
                "status": "NOT_FOUND", "latestLedger": l.sequence, "latestLedgerCloseTime": l.close_time.to_string(),
                "oldestLedger": inner.oldest, "oldestLedgerCloseTime": inner.ledger(inner.oldest).map_or(0, |l| l.close_time).to_string(),
            });
            if let Some(t) = inner.book.txs.get(hash) {
                answer["status"] = json!(if t.success { "SUCCESS" } else { "FAILED" });
                answer["ledger"] = json!(t.ledger);
                answer["resultXdr"] = json!(t.result_xdr);
                answer["envelopeXdr"] = json!(t.envelope_xdr);
                answer["txHash"] = json!(hash);
            }
            Ok(answer)
        }
        _ => Err(json!({ "code": -32601, "message": "method not found" })),
    };
    let body = match answer {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": req["id"], "result": result }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": req["id"], "error": error }),
    };
    Json(body).into_response()
}

/// Applies a submitted envelope in a new ledger (or refuses it), and emits the CAP-67
/// events of its payments, which the watcher then reads like any other.
fn send_transaction(inner: &mut Inner, params: &Value) -> Value {
    use crate::rpc_ledger::Sent;
    let xdr = params["transaction"].as_str().unwrap_or_default();
    let ledger = inner.latest().sequence + 1;
    let passphrase = inner.passphrase.clone();
    let latest = json!({ "latestLedger": inner.latest().sequence, "latestLedgerCloseTime": inner.latest().close_time.to_string() });
    let mut answer = match inner.book.submit(&passphrase, xdr, now(), ledger) {
        Sent::Pending { hash, movements } => {
            let t = now();
            inner.close_ledger(t);
            let passphrase = inner.passphrase.clone();
            for (op, m) in movements.iter().enumerate() {
                let id = event_id(ledger, 1, op as u32, 0);
                inner.events.push(build(&passphrase, m, ledger, &id, &hash, t, true));
            }
            json!({ "status": "PENDING", "hash": hash })
        }
        Sent::Error { hash, result_xdr } => {
            json!({ "status": "ERROR", "hash": hash, "errorResultXdr": result_xdr })
        }
        Sent::TryAgainLater { hash } => json!({ "status": "TRY_AGAIN_LATER", "hash": hash }),
    };
    answer["latestLedger"] = latest["latestLedger"].clone();
    answer["latestLedgerCloseTime"] = latest["latestLedgerCloseTime"].clone();
    answer
}

/// Friendbot: creates and funds the account (10,000 XLM) in a new ledger; an account
/// that exists already is refused, as the real one does.
async fn friendbot(
    State(inner): State<Arc<Mutex<Inner>>>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut inner = inner.lock().unwrap();
    *inner.requests.entry("friendbot".into()).or_default() += 1;
    let addr = q.get("addr").cloned().unwrap_or_default();
    if stellar_strkey::ed25519::PublicKey::from_string(&addr).is_err() {
        return (axum::http::StatusCode::BAD_REQUEST, Json(json!({ "detail": "invalid addr" })))
            .into_response();
    }
    if inner.book.accounts.contains_key(&addr) {
        let body = json!({ "title": "Transaction Failed", "status": 400,
            "extras": { "result_codes": { "transaction": "tx_failed", "operations": ["op_already_exists"] } } });
        return (axum::http::StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let ledger = inner.close_ledger(now());
    inner.book.accounts.insert(
        addr,
        crate::rpc_ledger::Account::new(crate::rpc_ledger::FRIENDBOT_STROOPS, i64::from(ledger) << 32),
    );
    Json(json!({ "successful": true, "ledger": ledger })).into_response()
}

fn get_ledgers(inner: &Inner, params: &Value) -> Result<Value, Value> {
    let start = params["startLedger"].as_u64().unwrap_or(0) as u32;
    let limit = params["pagination"]["limit"].as_u64().unwrap_or(5) as usize;
    if start < inner.oldest || start > inner.latest().sequence {
        return Err(inner.out_of_range());
    }
    let ledgers: Vec<Value> = inner
        .ledgers
        .iter()
        .filter(|l| l.sequence >= start)
        .take(limit)
        .map(|l| json!({ "hash": l.hash, "sequence": l.sequence, "ledgerCloseTime": l.close_time.to_string(), "headerXdr": "", "metadataXdr": "" }))
        .collect();
    let oldest = inner.ledger(inner.oldest).map_or(0, |l| l.close_time);
    Ok(json!({
        "ledgers": ledgers, "latestLedger": inner.latest().sequence, "latestLedgerCloseTime": inner.latest().close_time,
        "oldestLedger": inner.oldest, "oldestLedgerCloseTime": oldest,
        "cursor": ledgers.last().map(|l| l["sequence"].to_string()).unwrap_or_default(),
    }))
}

fn get_events(inner: &Inner, params: &Value) -> Result<Value, Value> {
    let pagination = &params["pagination"];
    let limit = pagination["limit"].as_u64().unwrap_or(100) as usize;
    // Where the scan starts: after a cursor, or at the start of a ledger.
    let (start_ledger, after) = match pagination["cursor"].as_str() {
        Some(c) => {
            let (t, e) =
                parse_cursor(c).ok_or_else(|| json!({ "code": -32602, "message": "invalid cursor" }))?;
            ((t >> 32) as u32, Some((t, e)))
        }
        None => (params["startLedger"].as_u64().unwrap_or(0) as u32, None),
    };
    if start_ledger < inner.oldest || start_ledger > inner.latest().sequence {
        return Err(inner.out_of_range());
    }
    let end = (start_ledger + SCAN_WINDOW).min(inner.latest().sequence + 1);
    let patterns: Vec<Vec<Value>> = params["filters"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["topics"].as_array().cloned().unwrap_or_default())
        .map(|t| t.as_array().cloned().unwrap_or_default())
        .collect();
    // Events are kept in order: find the first one after the start, scan to the end.
    let from = after.unwrap_or((i64::from(start_ledger) << 32, 0));
    let first = inner.events.partition_point(|e| if after.is_some() { e.pos <= from } else { e.pos < from });
    let found: Vec<&Event> = inner.events[first..]
        .iter()
        .take_while(|e| e.ledger < end)
        .filter(|e| e.ledger >= start_ledger)
        .filter(|e| patterns.is_empty() || patterns.iter().any(|p| matches(p, &e.topic)))
        .take(limit)
        .collect();
    let cursor = if found.len() == limit {
        found.last().unwrap().id.clone()
    } else {
        format!("{:019}-{:010}", toid(end - 1, TX_MASK as u32, OP_MASK as u32), u32::MAX)
    };
    Ok(json!({
        "events": found.iter().map(|e| event_json(e)).collect::<Vec<_>>(),
        "cursor": cursor,
        "latestLedger": inner.latest().sequence,
        "oldestLedger": inner.oldest,
        "latestLedgerCloseTime": inner.latest().close_time.to_string(),
        "oldestLedgerCloseTime": inner.ledger(inner.oldest).map_or(0, |l| l.close_time).to_string(),
    }))
}
