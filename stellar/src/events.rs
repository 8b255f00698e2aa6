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
mod tests {
    use super::*;
    use stellar_xdr::{BytesM, ContractId, MuxedEd25519Account, ScMap, ScMapEntry, ScString, ScSymbol};

    const ISSUER: &str = "GCDNJUBQSX7AJWLJACMJ7I4BC3Z47BQUTMHEICZLE6MU4KQBRYG5JY6B";
    const DIST: &str = "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H";

    fn sym(s: &str) -> ScVal {
        ScVal::Symbol(ScSymbol(s.try_into().unwrap()))
    }
    fn string(s: &str) -> ScVal {
        ScVal::String(ScString(s.try_into().unwrap()))
    }
    fn account(g: &str) -> ScVal {
        let k = stellar_strkey::ed25519::PublicKey::from_string(g).unwrap();
        ScVal::Address(ScAddress::Account(AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(k.0)))))
    }
    fn i128(v: i128) -> ScVal {
        ScVal::I128(Int128Parts { hi: (v >> 64) as i64, lo: v as u64 })
    }
    fn with_muxed(amount: i128, id: ScVal) -> ScVal {
        let entries = vec![
            ScMapEntry { key: sym("amount"), val: i128(amount) },
            ScMapEntry { key: sym("to_muxed_id"), val: id },
        ];
        ScVal::Map(Some(ScMap(entries.try_into().unwrap())))
    }
    fn transfer(from: ScVal, to: ScVal, data: ScVal) -> Option<AssetEvent> {
        decode(&[sym("transfer"), from, to, string(&format!("SRT:{ISSUER}"))], &data).unwrap()
    }

    #[test]
    fn a_classic_payment_with_each_memo_type() {
        let e = transfer(account(ISSUER), account(DIST), with_muxed(1_234_567, ScVal::U64(42))).unwrap();
        assert_eq!((e.to.as_str(), e.to_base.as_str()), (DIST, DIST));
        assert_eq!(e.amount, Amount(1_234_567));
        assert_eq!(e.amount.to_string(), "0.1234567");
        assert_eq!(e.memo, Some((MemoType::Id, "42".into())));
        assert_eq!(e.asset_parts(), ("SRT".into(), ISSUER.into()));
        let text = transfer(account(ISSUER), account(DIST), with_muxed(1, string("INV-7"))).unwrap();
        assert_eq!(text.memo, Some((MemoType::Text, "INV-7".into())));
        let bytes = ScVal::Bytes(stellar_xdr::ScBytes(BytesM::try_from(vec![7u8; 32]).unwrap()));
        let hash = transfer(account(ISSUER), account(DIST), with_muxed(1, bytes)).unwrap();
        assert_eq!(hash.memo, Some((MemoType::Hash, B64.encode([7u8; 32]))));
        let none = transfer(account(ISSUER), account(DIST), i128(5)).unwrap();
        assert_eq!((none.memo, none.amount), (None, Amount(5)));
    }

    #[test]
    fn a_muxed_destination_names_its_id_and_its_base_account() {
        let k = stellar_strkey::ed25519::PublicKey::from_string(DIST).unwrap();
        let to =
            ScVal::Address(ScAddress::MuxedAccount(MuxedEd25519Account { id: 9, ed25519: Uint256(k.0) }));
        let e = transfer(account(ISSUER), to, i128(10)).unwrap();
        assert!(e.to.starts_with('M'), "{}", e.to);
        assert_eq!(e.to_base, DIST);
        assert_eq!(e.memo, Some((MemoType::Id, "9".into())));
    }

    #[test]
    fn a_smart_wallet_sender_and_a_mint() {
        let wallet = ScVal::Address(ScAddress::Contract(ContractId(Hash([3; 32]))));
        let e = transfer(wallet, account(DIST), with_muxed(10, ScVal::U64(1))).unwrap();
        assert!(e.from.as_deref().unwrap().starts_with('C'));
        let mint = decode(&[sym("mint"), account(DIST), string(&format!("SRT:{ISSUER}"))], &i128(3))
            .unwrap()
            .unwrap();
        assert_eq!((mint.movement, mint.from, mint.to_base.as_str()), (Movement::Mint, None, DIST));
    }

    #[test]
    fn other_events_are_not_movements_and_malformed_ones_are_errors() {
        assert_eq!(decode(&[sym("approve"), account(DIST)], &i128(1)).unwrap(), None);
        assert_eq!(decode(&[sym("burn"), account(DIST), string("native")], &i128(1)).unwrap(), None);
        assert!(decode(&[sym("transfer"), account(DIST)], &i128(1)).is_err());
        assert!(
            decode(&[sym("transfer"), account(ISSUER), account(DIST), string("native")], &i128(-1)).is_err()
        );
        let huge = i128::from(i64::MAX) + 1;
        assert!(
            decode(&[sym("transfer"), account(ISSUER), account(DIST), string("native")], &i128(huge))
                .is_err()
        );
        assert!(decode(&[sym("transfer"), account(ISSUER), account(DIST), string("SRT")], &i128(1)).is_err());
        assert!(
            decode(&[sym("transfer"), account(ISSUER), account(DIST), string("native")], &sym("x")).is_err()
        );
    }

    #[test]
    fn base64_round_trip() {
        let topics: Vec<String> = [sym("transfer"), account(ISSUER), account(DIST), string("native")]
            .iter()
            .map(|t| t.to_xdr_base64(Limits::none()).unwrap())
            .collect();
        let value = with_muxed(20, ScVal::U64(7)).to_xdr_base64(Limits::none()).unwrap();
        let e = decode_base64(&topics, &value).unwrap().unwrap();
        assert_eq!(
            (e.asset.as_str(), e.amount, e.memo),
            ("native", Amount(20), Some((MemoType::Id, "7".into())))
        );
        let fee = [sym("fee").to_xdr_base64(Limits::none()).unwrap()];
        assert_eq!(decode_base64(&fee, &value).unwrap(), None);
    }

    #[test]
    fn sac_ids_are_derived_from_network_and_asset() {
        // Known values: the native SAC on testnet and on the public network.
        assert_eq!(
            sac_contract_id(&Network::testnet(), "native").unwrap(),
            "CDLZFC3SYJYDZT7K67VZ75HPJVIEUVNIXF47ZG2FB2RMQQVU2HHGCYSC"
        );
        assert_eq!(
            sac_contract_id(&Network::public(), "native").unwrap(),
            "CAS3J7GYLGXMF6TDJBBYYSE3HQ6BBSMLNUQ34T6TZMYMW2EVH34XOWMA"
        );
        let srt = format!("SRT:{ISSUER}");
        assert_ne!(sac_contract_id(&Network::testnet(), &srt), sac_contract_id(&Network::public(), &srt));
        assert!(sac_contract_id(&Network::testnet(), "SRT").is_err());
    }

    #[test]
    fn event_positions_are_rpc_ids() {
        let p = EventPosition::parse("0000000004294971392-0000000002").unwrap();
        assert_eq!((p.ledger(), p.event), (1, 2));
        assert_eq!(p.to_string(), "0000000004294971392-0000000002");
        assert_eq!(EventPosition::ledger_start(7).to_string(), format!("{:019}-{:010}", 7i64 << 32, 0));
        assert!(EventPosition::ledger_start(8) > p);
        assert_eq!(EventPosition::parse("nope"), None);
    }
}
