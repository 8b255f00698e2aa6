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
    let to = ScVal::Address(ScAddress::MuxedAccount(MuxedEd25519Account { id: 9, ed25519: Uint256(k.0) }));
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
    let mint =
        decode(&[sym("mint"), account(DIST), string(&format!("SRT:{ISSUER}"))], &i128(3)).unwrap().unwrap();
    assert_eq!((mint.movement, mint.from, mint.to_base.as_str()), (Movement::Mint, None, DIST));
}

#[test]
fn other_events_are_not_movements_and_malformed_ones_are_errors() {
    assert_eq!(decode(&[sym("approve"), account(DIST)], &i128(1)).unwrap(), None);
    assert_eq!(decode(&[sym("burn"), account(DIST), string("native")], &i128(1)).unwrap(), None);
    assert!(decode(&[sym("transfer"), account(DIST)], &i128(1)).is_err());
    assert!(decode(&[sym("transfer"), account(ISSUER), account(DIST), string("native")], &i128(-1)).is_err());
    let huge = i128::from(i64::MAX) + 1;
    assert!(
        decode(&[sym("transfer"), account(ISSUER), account(DIST), string("native")], &i128(huge)).is_err()
    );
    assert!(decode(&[sym("transfer"), account(ISSUER), account(DIST), string("SRT")], &i128(1)).is_err());
    assert!(decode(&[sym("transfer"), account(ISSUER), account(DIST), string("native")], &sym("x")).is_err());
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
