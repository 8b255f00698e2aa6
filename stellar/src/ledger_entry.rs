//! Ledger entries read over Stellar RPC (`getLedgerEntries`): the keys to ask for and
//! what SEP-10 needs from an account's entry.

use stellar_xdr::{
    AccountId, Asset, LedgerEntryData, LedgerKey, LedgerKeyAccount, LedgerKeyTrustLine, Limits,
    PublicKey as XdrPublicKey, ReadXdr, SignerKey, TrustLineAsset, Uint256, WriteXdr,
};

use crate::challenge::Signer;
use crate::tx::ClassicAsset;
use crate::{Amount, PublicKey};

/// What provisioning needs to know of an account on the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub sequence: i64,
    pub balance: Amount,
    pub home_domain: String,
}

/// The base64 `LedgerKey` of `account`'s trustline to `asset` (a credit asset).
pub fn trustline_key(account: &PublicKey, asset: &ClassicAsset) -> Option<String> {
    let asset = match asset.to_xdr() {
        Asset::Native => return None,
        Asset::CreditAlphanum4(a) => TrustLineAsset::CreditAlphanum4(a),
        Asset::CreditAlphanum12(a) => TrustLineAsset::CreditAlphanum12(a),
    };
    let key = LedgerKey::Trustline(LedgerKeyTrustLine {
        account_id: AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(account.0))),
        asset,
    });
    Some(key.to_xdr_base64(Limits::none()).expect("a trustline key always encodes"))
}

fn entry(entry_xdr: &str) -> Result<LedgerEntryData, String> {
    LedgerEntryData::from_xdr_base64(entry_xdr, Limits::len(64 * 1024))
        .map_err(|e| format!("ledger entry: {e}"))
}

/// Sequence number, lumen balance and home domain from an account's `LedgerEntryData`.
pub fn account_state(entry_xdr: &str) -> Result<AccountState, String> {
    let LedgerEntryData::Account(a) = entry(entry_xdr)? else {
        return Err("the entry is not an account".into());
    };
    Ok(AccountState {
        sequence: a.seq_num.0,
        balance: Amount(a.balance),
        home_domain: String::from_utf8_lossy(a.home_domain.as_slice()).into_owned(),
    })
}

/// The balance of a trustline's `LedgerEntryData`.
pub fn trustline_balance(entry_xdr: &str) -> Result<Amount, String> {
    let LedgerEntryData::Trustline(t) = entry(entry_xdr)? else {
        return Err("the entry is not a trustline".into());
    };
    Ok(Amount(t.balance))
}

/// The base64 `LedgerKey` of an account.
pub fn account_key(account: &PublicKey) -> String {
    let key = LedgerKey::Account(LedgerKeyAccount {
        account_id: AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(account.0))),
    });
    key.to_xdr_base64(Limits::none()).expect("an account key always encodes")
}

/// Who may sign for the account and the medium threshold, from its base64
/// `LedgerEntryData`. The master key is listed with its weight (`thresholds[0]`), as
/// Horizon lists it; only ed25519 signers can sign a challenge.
pub fn account_signers(entry_xdr: &str) -> Result<(Vec<Signer>, u32), String> {
    let data = LedgerEntryData::from_xdr_base64(entry_xdr, Limits::len(64 * 1024))
        .map_err(|e| format!("account entry: {e}"))?;
    let LedgerEntryData::Account(a) = data else { return Err("the entry is not an account".into()) };
    let AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(master))) = a.account_id;
    let mut signers = vec![Signer { key: PublicKey(master), weight: u32::from(a.thresholds.0[0]) }];
    signers.extend(a.signers.iter().filter_map(|s| match &s.key {
        SignerKey::Ed25519(k) => Some(Signer { key: PublicKey(k.0), weight: s.weight }),
        _ => None,
    }));
    Ok((signers, u32::from(a.thresholds.0[2])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keypair;
    use stellar_xdr::{
        AccountEntry, AccountEntryExt, SequenceNumber, Signer as XdrSigner, String32, Thresholds,
    };

    #[test]
    fn signers_and_threshold_from_an_account_entry() {
        let master = Keypair::generate().public_key();
        let cosigner = Keypair::generate().public_key();
        let entry = LedgerEntryData::Account(AccountEntry {
            account_id: AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(master.0))),
            balance: 100,
            seq_num: SequenceNumber(1),
            num_sub_entries: 2,
            inflation_dest: None,
            flags: 0,
            home_domain: String32::default(),
            thresholds: Thresholds([0, 1, 3, 5]),
            signers: vec![
                XdrSigner { key: SignerKey::Ed25519(Uint256(cosigner.0)), weight: 3 },
                XdrSigner { key: SignerKey::HashX(Uint256([1; 32])), weight: 9 },
            ]
            .try_into()
            .unwrap(),
            ext: AccountEntryExt::V0,
        });
        let (signers, med) = account_signers(&entry.to_xdr_base64(Limits::none()).unwrap()).unwrap();
        assert_eq!(med, 3);
        assert_eq!(signers.len(), 2, "hash-x signers cannot sign a challenge");
        assert_eq!((signers[0].key, signers[0].weight), (master, 0), "master weight 0: it cannot sign");
        assert_eq!((signers[1].key, signers[1].weight), (cosigner, 3));
        assert!(account_signers("AAAA").is_err());
        assert!(!account_key(&master).is_empty());
    }
}
