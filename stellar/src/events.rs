//! CAP-67 asset events: what a Stellar Asset Contract (SAC) reports when an asset moves.
//!
//! Since Protocol 23 every movement of a Stellar asset — a classic payment, a path
//! payment, a smart wallet invoking the SAC's `transfer` — emits one event:
//!
//! - `transfer`: topics `[sym "transfer", from: Address, to: Address, asset: String]`
//! - `mint`:     topics `[sym "mint", to: Address, asset: String]` (the issuer pays)
//!
//! with data either the amount (`i128` stroops) or a map `{ amount: i128,
//! to_muxed_id: u64 | string | bytes }` carrying the memo of a classic payment (or the
//! id of a muxed destination, which replaces it). The asset topic is the SEP-11 form
//! (`native`, `CODE:ISSUER`).
//!
//! Topics are only a claim: any contract can emit an event shaped like this. The one
//! to believe is the asset's own SAC, whose id [`sac_contract_id`] derives from the
//! network and the asset — the caller compares it with the event's contract id.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use stellar_xdr::{
    AccountId, AlphaNum4, AlphaNum12, Asset, AssetCode4, AssetCode12, ContractIdPreimage, Hash,
    HashIdPreimage, HashIdPreimageContractId, Int128Parts, Limits, PublicKey as XdrPublicKey, ReadXdr,
    ScAddress, ScVal, Uint256, WriteXdr,
};

use crate::memo::MemoType;
use crate::{Amount, Network};

/// What kind of movement credited the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Transfer,
    Mint,
}

impl Movement {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transfer => "transfer",
            Self::Mint => "mint",
        }
    }
}

/// One decoded `transfer` or `mint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetEvent {
    pub movement: Movement,
    /// `G…`, `M…` or `C…`; `None` for a mint (it has no sender).
    pub from: Option<String>,
    /// The receiving address as the event names it (`G…`, `M…`, `C…`).
    pub to: String,
    /// The account or contract behind `to` (a muxed account's base `G…`).
    pub to_base: String,
    /// The SEP-11 asset string of the topic: `native` or `CODE:ISSUER`.
    pub asset: String,
    pub amount: Amount,
    /// The memo the payment carries: from `to_muxed_id`, or the muxed destination's id.
    pub memo: Option<(MemoType, String)>,
}

impl AssetEvent {
    /// (code, issuer) as Mooring stores assets: `("native", "")` for lumens.
    pub fn asset_parts(&self) -> (String, String) {
        match self.asset.split_once(':') {
            Some((code, issuer)) => (code.to_string(), issuer.to_string()),
            None => (self.asset.clone(), String::new()),
        }
    }
}

/// Why an event could not be read as an asset movement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("asset event: {0}")]
pub struct EventError(pub String);

fn bad(msg: impl Into<String>) -> EventError {
    EventError(msg.into())
}

/// Reads one event from RPC's base64 XDR (`topic[]`, `value`): `Ok(None)` when it is
/// not a `transfer` or `mint` (other SAC or contract events), an error when it claims
/// to be one but is malformed.
pub fn decode_base64(topics: &[String], value: &str) -> Result<Option<AssetEvent>, EventError> {
    let read =
        |s: &str| ScVal::from_xdr_base64(s, Limits::len(64 * 1024)).map_err(|e| bad(format!("XDR: {e}")));
    // Only the first topic is needed to know whether the rest is worth decoding.
    let Some(first) = topics.first() else { return Ok(None) };
    let name = read(first)?;
    if !matches!(&name, ScVal::Symbol(s) if matches!(s.0.as_slice(), b"transfer" | b"mint")) {
        return Ok(None);
    }
    let topics: Vec<ScVal> = topics.iter().map(|t| read(t)).collect::<Result<_, _>>()?;
    decode(&topics, &read(value)?)
}

/// Reads decoded topics and data; see [`decode_base64`].
pub fn decode(topics: &[ScVal], data: &ScVal) -> Result<Option<AssetEvent>, EventError> {
    let Some(ScVal::Symbol(name)) = topics.first() else { return Ok(None) };
    let (movement, from, to, asset) = match (name.0.as_slice(), topics.len()) {
        (b"transfer", 4) => (Movement::Transfer, Some(&topics[1]), &topics[2], &topics[3]),
        (b"mint", 3) => (Movement::Mint, None, &topics[1], &topics[2]),
        // Before CAP-67 a SAC mint named its admin too; that shape predates
        // Protocol 23 and Mooring's RPC source alike.
        (b"transfer" | b"mint", n) => return Err(bad(format!("{} with {n} topics", name.0))),
        _ => return Ok(None),
    };
    let from = from.map(address).transpose()?.map(|a| a.strkey);
    let to = address(to)?;
    let ScVal::String(asset) = asset else { return Err(bad("the asset topic is not a string")) };
    let asset = std::str::from_utf8(asset.0.as_slice()).map_err(|_| bad("the asset topic is not UTF-8"))?;
    parse_sep11(asset)?;
    let (amount, muxed_id) = match data {
        ScVal::I128(parts) => (parts, None),
        ScVal::Map(Some(map)) => {
            let mut amount = None;
            let mut muxed = None;
            for entry in map.iter() {
                match &entry.key {
                    ScVal::Symbol(k) if k.0.as_slice() == b"amount" => amount = Some(&entry.val),
                    ScVal::Symbol(k) if k.0.as_slice() == b"to_muxed_id" => muxed = Some(&entry.val),
                    _ => {}
                }
            }
            let Some(ScVal::I128(parts)) = amount else { return Err(bad("the data map has no i128 amount")) };
            (parts, muxed)
        }
        _ => return Err(bad("the data is neither an i128 nor a map")),
    };
    let amount = stroops(amount)?;
    // A muxed destination's id is the memo (CAP-67: it replaces the transaction's).
    let memo = match (muxed_id, to.muxed_id) {
        (Some(v), _) => memo_of(v)?,
        (None, Some(id)) => Some((MemoType::Id, id.to_string())),
        (None, None) => None,
    };
    Ok(Some(AssetEvent {
        movement,
        from,
        to: to.strkey,
        to_base: to.base,
        asset: asset.to_string(),
        amount,
        memo,
    }))
}

/// `to_muxed_id`: `u64` → id memo, `string` → text memo, `bytes` → hash memo (hash and
/// return memos arrive alike; a 32-byte value is shown base64 as Horizon shows it).
fn memo_of(v: &ScVal) -> Result<Option<(MemoType, String)>, EventError> {
    Ok(match v {
        ScVal::U64(id) => Some((MemoType::Id, id.to_string())),
        ScVal::String(s) => Some((MemoType::Text, String::from_utf8_lossy(s.0.as_slice()).into_owned())),
        ScVal::Bytes(b) => Some((MemoType::Hash, B64.encode(b.0.as_slice()))),
        ScVal::Void => None,
        _ => return Err(bad("to_muxed_id is not a u64, string or bytes")),
    })
}

/// i128 stroops to an amount, exactly; negative or beyond what an account can hold is
/// malformed.
fn stroops(parts: &Int128Parts) -> Result<Amount, EventError> {
    let value = (i128::from(parts.hi) << 64) | i128::from(parts.lo);
    i64::try_from(value)
        .ok()
        .filter(|v| *v >= 0)
        .map(Amount)
        .ok_or_else(|| bad(format!("amount {value} is out of range")))
}

struct Addr {
    strkey: String,
    base: String,
    muxed_id: Option<u64>,
}

fn address(v: &ScVal) -> Result<Addr, EventError> {
    let ScVal::Address(a) = v else { return Err(bad("an address topic is not an address")) };
    Ok(match a {
        ScAddress::Account(AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(k)))) => {
            let g = stellar_strkey::ed25519::PublicKey(*k).to_string().to_string();
            Addr { strkey: g.clone(), base: g, muxed_id: None }
        }
        ScAddress::MuxedAccount(m) => {
            let muxed = stellar_strkey::ed25519::MuxedAccount { ed25519: m.ed25519.0, id: m.id };
            let base = stellar_strkey::ed25519::PublicKey(m.ed25519.0).to_string().to_string();
            Addr { strkey: muxed.to_string().to_string(), base, muxed_id: Some(m.id) }
        }
        ScAddress::Contract(c) => {
            let c = stellar_strkey::Contract(c.0.0).to_string().to_string();
            Addr { strkey: c.clone(), base: c, muxed_id: None }
        }
        ScAddress::MuxedContract(m) => {
            let c = stellar_strkey::Contract(m.contract_id.0.0).to_string().to_string();
            Addr { strkey: c.clone(), base: c, muxed_id: Some(m.id) }
        }
        // Claimable balances and pools are not who a sending anchor pays.
        ScAddress::ClaimableBalance(_) | ScAddress::LiquidityPool(_) => {
            Addr { strkey: String::new(), base: String::new(), muxed_id: None }
        }
    })
}

/// A SEP-11 asset string as XDR: `native`, or `CODE:G…` with a 1–12 character code.
pub fn parse_sep11(asset: &str) -> Result<Asset, EventError> {
    if asset == "native" {
        return Ok(Asset::Native);
    }
    let (code, issuer) =
        asset.split_once(':').ok_or_else(|| bad(format!("{asset:?} is not a SEP-11 asset")))?;
    let issuer = stellar_strkey::ed25519::PublicKey::from_string(issuer)
        .map_err(|_| bad(format!("{asset:?} has no valid issuer")))?;
    let issuer = AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(issuer.0)));
    let bytes = code.as_bytes();
    if bytes.is_empty() || bytes.len() > 12 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return Err(bad(format!("{asset:?} has no valid code")));
    }
    Ok(if bytes.len() <= 4 {
        let mut c = [0u8; 4];
        c[..bytes.len()].copy_from_slice(bytes);
        Asset::CreditAlphanum4(AlphaNum4 { asset_code: AssetCode4(c), issuer })
    } else {
        let mut c = [0u8; 12];
        c[..bytes.len()].copy_from_slice(bytes);
        Asset::CreditAlphanum12(AlphaNum12 { asset_code: AssetCode12(c), issuer })
    })
}

/// The contract id (`C…`) of `asset`'s Stellar Asset Contract on `network`: the only
/// contract whose `transfer`/`mint` events of that asset are real.
pub fn sac_contract_id(network: &Network, asset: &str) -> Result<String, EventError> {
    let preimage = HashIdPreimage::ContractId(HashIdPreimageContractId {
        network_id: Hash(network.id()),
        contract_id_preimage: ContractIdPreimage::Asset(parse_sep11(asset)?),
    });
    let xdr = preimage.to_xdr(Limits::none()).map_err(|e| bad(format!("XDR: {e}")))?;
    let id: [u8; 32] = Sha256::digest(&xdr).into();
    Ok(stellar_strkey::Contract(id).to_string().to_string())
}

/// The SEP-11 string of Mooring's (code, issuer) pair.
pub fn sep11(code: &str, issuer: &str) -> String {
    if code == "native" { "native".into() } else { format!("{code}:{issuer}") }
}

/// `getEvents` topic patterns for `transfer` and `mint` events — to `account` only, or
/// to anyone (`None`). Each pattern is a list of base64 `ScVal`s or `*`; events of
/// exactly that many topics match.
pub fn movement_topics(account: Option<&str>) -> Result<Vec<Vec<String>>, EventError> {
    let enc = |v: ScVal| v.to_xdr_base64(Limits::none()).map_err(|e| bad(format!("XDR: {e}")));
    let sym = |s: &str| -> Result<String, EventError> {
        enc(ScVal::Symbol(stellar_xdr::ScSymbol(s.try_into().map_err(|_| bad("symbol"))?)))
    };
    let to = match account {
        None => "*".to_string(),
        Some(g) => {
            let k = stellar_strkey::ed25519::PublicKey::from_string(g)
                .map_err(|_| bad(format!("{g:?} is not a G… account")))?;
            enc(ScVal::Address(ScAddress::Account(AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(
                k.0,
            ))))))?
        }
    };
    Ok(vec![vec![sym("transfer")?, "*".into(), to.clone(), "*".into()], vec![sym("mint")?, to, "*".into()]])
}

/// A position on the ledger as RPC's event ids and cursors spell it:
/// `"{toid:019}-{event:010}"`, where the TOID packs (ledger, transaction, operation).
/// Fixed width, so positions compare as text too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventPosition {
    pub toid: i64,
    pub event: u32,
}

impl EventPosition {
    /// The position before everything in `ledger`.
    pub fn ledger_start(ledger: u32) -> Self {
        Self { toid: i64::from(ledger) << 32, event: 0 }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (toid, event) = s.split_once('-')?;
        Some(Self { toid: toid.parse().ok()?, event: event.parse().ok()? })
    }

    pub fn ledger(self) -> u32 {
        (self.toid >> 32) as u32
    }
}

impl std::fmt::Display for EventPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:019}-{:010}", self.toid, self.event)
    }
}

#[cfg(test)]
mod tests;
