//! The stand-in's in-memory ledger: accounts with balances, sequence numbers, home
//! domains, signers and trustlines, and the transactions submitted to it.
//!
//! `submit` does what stellar-core does for the four classic operations Mooring
//! writes (create account, change trust, set options' home domain, payment), with the
//! checks that matter to a submitter: signatures against the accounts' signers, the
//! next sequence number, time bounds, the minimum fee, fee bumps, and per-operation
//! failures that still consume the sequence number and the fee. Like the rest of the
//! stand-in, it uses no Mooring code.

use std::collections::HashMap;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use stellar_xdr::{
    AccountEntry, AccountEntryExt, AccountId, AlphaNum4, AlphaNum12, Asset, ChangeTrustAsset,
    ChangeTrustResult, CreateAccountResult, DecoratedSignature, FeeBumpTransactionInnerTx, Hash,
    LedgerEntryData, Limits, Memo, MuxedAccount, OperationBody, OperationResult, OperationResultTr,
    PaymentResult, Preconditions, PublicKey, ReadXdr, SequenceNumber, SetOptionsResult, Signer, SignerKey,
    String32, Thresholds, Transaction, TransactionEnvelope, TransactionResult, TransactionResultExt,
    TransactionResultResult, TransactionSignaturePayload, TransactionSignaturePayloadTaggedTransaction,
    TrustLineAsset, TrustLineEntry, TrustLineEntryExt, Uint256, WriteXdr,
};

use crate::rpc_standin::{Addr, Memo as EventMemo, Movement};

pub const BASE_FEE: i64 = 100;
/// What Friendbot gives a new account: 10,000 XLM.
pub const FRIENDBOT_STROOPS: i64 = 10_000 * 10_000_000;

#[derive(Debug, Clone)]
pub struct Account {
    pub balance: i64,
    pub seq: i64,
    pub home_domain: String,
    pub master_weight: u8,
    pub med_threshold: u8,
    pub signers: Vec<([u8; 32], u32)>,
    /// `CODE:ISSUER` → balance.
    pub trustlines: HashMap<String, i64>,
}

impl Account {
    pub fn new(balance: i64, seq: i64) -> Self {
        Self {
            balance,
            seq,
            home_domain: String::new(),
            master_weight: 1,
            med_threshold: 0,
            signers: Vec::new(),
            trustlines: HashMap::new(),
        }
    }
}

/// A submitted transaction's fate.
#[derive(Debug, Clone)]
pub struct Applied {
    pub success: bool,
    pub result_xdr: String,
    pub envelope_xdr: String,
    pub ledger: u32,
}

/// What `submit` answers, as `sendTransaction`'s `status`.
pub enum Sent {
    /// Accepted and applied in `ledger` (successfully or not): `PENDING`.
    Pending {
        hash: String,
        movements: Vec<Movement>,
    },
    /// Refused before applying: `ERROR` with this result.
    Error {
        hash: String,
        result_xdr: String,
    },
    TryAgainLater {
        hash: String,
    },
}

#[derive(Default)]
pub struct Book {
    pub accounts: HashMap<String, Account>,
    pub txs: HashMap<String, Applied>,
    /// Every envelope submitted, in order (tests hand them to Python's SDK).
    pub submitted: Vec<String>,
    /// Transactions paying less than this per operation are told `TRY_AGAIN_LATER`.
    pub congested_below: i64,
}

pub fn g(key: &[u8; 32]) -> String {
    stellar_strkey::ed25519::PublicKey(*key).to_string().to_string()
}

fn muxed_key(m: &MuxedAccount) -> [u8; 32] {
    match m {
        MuxedAccount::Ed25519(Uint256(k)) => *k,
        MuxedAccount::MuxedEd25519(m) => m.ed25519.0,
    }
}

fn account_key(a: &AccountId) -> [u8; 32] {
    let AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(k))) = a;
    *k
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn asset_name(a: &Asset) -> String {
    let code = |c: &[u8]| String::from_utf8_lossy(c).trim_end_matches('\0').to_string();
    match a {
        Asset::Native => "native".into(),
        Asset::CreditAlphanum4(AlphaNum4 { asset_code, issuer }) => {
            format!("{}:{}", code(&asset_code.0), g(&account_key(issuer)))
        }
        Asset::CreditAlphanum12(AlphaNum12 { asset_code, issuer }) => {
            format!("{}:{}", code(&asset_code.0), g(&account_key(issuer)))
        }
    }
}

fn tx_hash(passphrase: &str, payload: TransactionSignaturePayloadTaggedTransaction) -> [u8; 32] {
    let payload = TransactionSignaturePayload {
        network_id: Hash(Sha256::digest(passphrase.as_bytes()).into()),
        tagged_transaction: payload,
    };
    Sha256::digest(payload.to_xdr(Limits::none()).unwrap()).into()
}

fn result(r: TransactionResultResult, fee: i64) -> String {
    TransactionResult { fee_charged: fee, result: r, ext: TransactionResultExt::V0 }
        .to_xdr_base64(Limits::none())
        .unwrap()
}

impl Book {
    /// The weight of valid signatures on `hash` by `account`'s signers.
    fn signed_weight(&self, account: &[u8; 32], hash: &[u8; 32], signatures: &[DecoratedSignature]) -> u32 {
        let Some(acct) = self.accounts.get(&g(account)) else { return 0 };
        let mut keys: Vec<([u8; 32], u32)> = vec![(*account, u32::from(acct.master_weight))];
        keys.extend(acct.signers.iter().copied());
        keys.iter()
            .filter(|(key, weight)| {
                *weight > 0
                    && signatures.iter().any(|s| {
                        s.hint.0 == key[28..]
                            && VerifyingKey::from_bytes(key).is_ok_and(|vk| {
                                Signature::from_slice(&s.signature.0)
                                    .is_ok_and(|sig| vk.verify(hash, &sig).is_ok())
                            })
                    })
            })
            .map(|(_, w)| *w)
            .sum()
    }

    fn authorized(&self, account: &[u8; 32], hash: &[u8; 32], signatures: &[DecoratedSignature]) -> bool {
        let need = self.accounts.get(&g(account)).map_or(1, |a| u32::from(a.med_threshold).max(1));
        self.signed_weight(account, hash, signatures) >= need
    }

    /// Checks and applies an envelope, as `sendTransaction` would (then closing a ledger).
    pub fn submit(&mut self, passphrase: &str, envelope_xdr: &str, now: i64, ledger: u32) -> Sent {
        self.submitted.push(envelope_xdr.to_string());
        let Ok(envelope) = TransactionEnvelope::from_xdr_base64(envelope_xdr, Limits::len(256 * 1024)) else {
            return Sent::Error {
                hash: String::new(),
                result_xdr: result(TransactionResultResult::TxMalformed, 0),
            };
        };
        // The transaction, its signatures, and who pays how much per operation.
        let (tx, signatures, hash, fee_per_op, bump) = match &envelope {
            TransactionEnvelope::Tx(e) => {
                let hash =
                    tx_hash(passphrase, TransactionSignaturePayloadTaggedTransaction::Tx(e.tx.clone()));
                let ops = e.tx.operations.len().max(1) as i64;
                (e.tx.clone(), e.signatures.to_vec(), hash, i64::from(e.tx.fee) / ops, None)
            }
            TransactionEnvelope::TxFeeBump(b) => {
                let FeeBumpTransactionInnerTx::Tx(inner) = &b.tx.inner_tx;
                let outer = tx_hash(
                    passphrase,
                    TransactionSignaturePayloadTaggedTransaction::TxFeeBump(b.tx.clone()),
                );
                let inner_hash =
                    tx_hash(passphrase, TransactionSignaturePayloadTaggedTransaction::Tx(inner.tx.clone()));
                let ops = inner.tx.operations.len() as i64 + 1;
                let fee_source = muxed_key(&b.tx.fee_source);
                if !self.authorized(&fee_source, &outer, &b.signatures) {
                    return Sent::Error {
                        hash: hex(&outer),
                        result_xdr: result(TransactionResultResult::TxBadAuth, 0),
                    };
                }
                (
                    inner.tx.clone(),
                    inner.signatures.to_vec(),
                    inner_hash,
                    b.tx.fee / ops,
                    Some((outer, fee_source, b.tx.fee)),
                )
            }
            TransactionEnvelope::TxV0(_) => {
                return Sent::Error {
                    hash: String::new(),
                    result_xdr: result(TransactionResultResult::TxNotSupported, 0),
                };
            }
        };
        let shown_hash = hex(&bump.map_or(hash, |(outer, ..)| outer));
        let refuse =
            |r: TransactionResultResult| Sent::Error { hash: shown_hash.clone(), result_xdr: result(r, 0) };
        if fee_per_op < BASE_FEE {
            return refuse(TransactionResultResult::TxInsufficientFee);
        }
        if fee_per_op < self.congested_below {
            return Sent::TryAgainLater { hash: shown_hash };
        }
        let source = muxed_key(&tx.source_account);
        let Some(acct) = self.accounts.get(&g(&source)) else {
            return refuse(TransactionResultResult::TxNoAccount);
        };
        if tx.seq_num.0 != acct.seq + 1 {
            return refuse(TransactionResultResult::TxBadSeq);
        }
        if let Preconditions::Time(tb) = &tx.cond
            && tb.max_time.0 != 0
            && (tb.max_time.0 as i64) < now
        {
            return refuse(TransactionResultResult::TxTooLate);
        }
        // Every account whose authority the transaction uses must have signed.
        let mut needed = vec![source];
        needed.extend(tx.operations.iter().filter_map(|op| op.source_account.as_ref().map(muxed_key)));
        if needed.iter().any(|a| self.accounts.contains_key(&g(a)) && !self.authorized(a, &hash, &signatures))
        {
            return refuse(TransactionResultResult::TxBadAuth);
        }
        // Accepted: the sequence number and the fee are spent whatever the operations do.
        let fee = bump.map_or(i64::from(tx.fee), |(.., fee)| fee);
        let payer = bump.map_or(source, |(_, payer, _)| payer);
        self.accounts.get_mut(&g(&source)).unwrap().seq = tx.seq_num.0;
        if let Some(p) = self.accounts.get_mut(&g(&payer)) {
            p.balance -= fee;
        }
        let before = self.accounts.clone();
        let (codes, movements) = self.apply_ops(&tx, source, ledger);
        let success = codes.iter().all(|c| matches!(c, OperationResult::OpInner(r) if op_ok(r)));
        if !success {
            // Operations are all or nothing.
            let (seq, balance) =
                (self.accounts[&g(&source)].seq, self.accounts.get(&g(&payer)).map(|p| p.balance));
            self.accounts = before;
            self.accounts.get_mut(&g(&source)).unwrap().seq = seq;
            if let (Some(b), Some(p)) = (balance, self.accounts.get_mut(&g(&payer))) {
                p.balance = b;
            }
        }
        let list = codes.try_into().unwrap();
        let inner = if success {
            TransactionResultResult::TxSuccess(list)
        } else {
            TransactionResultResult::TxFailed(list)
        };
        let result_xdr = result(inner, fee);
        self.txs.insert(
            shown_hash.clone(),
            Applied { success, result_xdr, envelope_xdr: envelope_xdr.into(), ledger },
        );
        Sent::Pending { hash: shown_hash, movements: if success { movements } else { Vec::new() } }
    }

    fn apply_ops(
        &mut self,
        tx: &Transaction,
        source: [u8; 32],
        ledger: u32,
    ) -> (Vec<OperationResult>, Vec<Movement>) {
        let memo = match &tx.memo {
            Memo::None => EventMemo::None,
            Memo::Id(id) => EventMemo::Id(*id),
            Memo::Text(t) => EventMemo::Text(String::from_utf8_lossy(t.as_slice()).into_owned()),
            Memo::Hash(h) | Memo::Return(h) => EventMemo::Bytes(h.0),
        };
        let mut codes = Vec::new();
        let mut movements = Vec::new();
        for op in tx.operations.iter() {
            let from = op.source_account.as_ref().map_or(source, muxed_key);
            let from_g = g(&from);
            let code = match &op.body {
                OperationBody::CreateAccount(c) => {
                    let to = g(&account_key(&c.destination));
                    if self.accounts.contains_key(&to) {
                        OperationResultTr::CreateAccount(CreateAccountResult::AlreadyExist)
                    } else if self.accounts.get(&from_g).is_none_or(|a| a.balance < c.starting_balance) {
                        OperationResultTr::CreateAccount(CreateAccountResult::Underfunded)
                    } else {
                        self.accounts.get_mut(&from_g).unwrap().balance -= c.starting_balance;
                        // A new account's sequence starts at its ledger's, shifted (as in core).
                        self.accounts.insert(to, Account::new(c.starting_balance, i64::from(ledger) << 32));
                        OperationResultTr::CreateAccount(CreateAccountResult::Success)
                    }
                }
                OperationBody::ChangeTrust(c) => {
                    let asset = match &c.line {
                        ChangeTrustAsset::CreditAlphanum4(a) => Asset::CreditAlphanum4(a.clone()),
                        ChangeTrustAsset::CreditAlphanum12(a) => Asset::CreditAlphanum12(a.clone()),
                        _ => {
                            codes.push(OperationResult::OpNotSupported);
                            continue;
                        }
                    };
                    let name = asset_name(&asset);
                    let issuer = name.split_once(':').map(|(_, i)| i.to_string()).unwrap_or_default();
                    if !self.accounts.contains_key(&issuer) {
                        OperationResultTr::ChangeTrust(ChangeTrustResult::NoIssuer)
                    } else {
                        let acct = self.accounts.get_mut(&from_g).unwrap();
                        acct.trustlines.entry(name).or_insert(0);
                        OperationResultTr::ChangeTrust(ChangeTrustResult::Success)
                    }
                }
                OperationBody::SetOptions(s) => {
                    if let Some(home) = &s.home_domain {
                        self.accounts.get_mut(&from_g).unwrap().home_domain =
                            String::from_utf8_lossy(home.as_slice()).into_owned();
                    }
                    OperationResultTr::SetOptions(SetOptionsResult::Success)
                }
                OperationBody::Payment(p) => {
                    let to = g(&muxed_key(&p.destination));
                    let name = asset_name(&p.asset);
                    let code = self.pay(&from_g, &to, &name, p.amount);
                    if code == PaymentResult::Success {
                        let issuer = name.split_once(':').map(|(_, i)| i.to_string());
                        movements.push(Movement {
                            mint: issuer.as_deref() == Some(from_g.as_str()),
                            from: Addr::Account(from_g.clone()),
                            to: Addr::Account(to),
                            asset: name,
                            stroops: i128::from(p.amount),
                            memo: memo.clone(),
                            contract: None,
                        });
                    }
                    OperationResultTr::Payment(code)
                }
                _ => {
                    codes.push(OperationResult::OpNotSupported);
                    continue;
                }
            };
            codes.push(OperationResult::OpInner(code));
        }
        (codes, movements)
    }

    fn pay(&mut self, from: &str, to: &str, asset: &str, amount: i64) -> PaymentResult {
        if amount <= 0 {
            return PaymentResult::Malformed;
        }
        if !self.accounts.contains_key(to) {
            return PaymentResult::NoDestination;
        }
        if asset == "native" {
            if self.accounts[from].balance < amount {
                return PaymentResult::Underfunded;
            }
            self.accounts.get_mut(from).unwrap().balance -= amount;
            self.accounts.get_mut(to).unwrap().balance += amount;
            return PaymentResult::Success;
        }
        let issuer = asset.split_once(':').map_or("", |(_, i)| i);
        if from != issuer {
            match self.accounts[from].trustlines.get(asset) {
                None => return PaymentResult::SrcNoTrust,
                Some(b) if *b < amount => return PaymentResult::Underfunded,
                _ => {}
            }
        }
        if to != issuer && !self.accounts[to].trustlines.contains_key(asset) {
            return PaymentResult::NoTrust;
        }
        if from != issuer {
            *self.accounts.get_mut(from).unwrap().trustlines.get_mut(asset).unwrap() -= amount;
        }
        if to != issuer {
            *self.accounts.get_mut(to).unwrap().trustlines.get_mut(asset).unwrap() += amount;
        }
        PaymentResult::Success
    }

    /// The account's `LedgerEntryData`, base64.
    pub fn account_entry(&self, account: &str) -> Option<String> {
        let a = self.accounts.get(account)?;
        let key = stellar_strkey::ed25519::PublicKey::from_string(account).ok()?.0;
        let entry = LedgerEntryData::Account(AccountEntry {
            account_id: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key))),
            balance: a.balance,
            seq_num: SequenceNumber(a.seq),
            num_sub_entries: (a.signers.len() + a.trustlines.len()) as u32,
            inflation_dest: None,
            flags: 0,
            home_domain: String32::try_from(a.home_domain.as_bytes().to_vec()).ok()?,
            thresholds: Thresholds([a.master_weight, 1, a.med_threshold, a.med_threshold]),
            signers: a
                .signers
                .iter()
                .map(|(k, w)| Signer { key: SignerKey::Ed25519(Uint256(*k)), weight: *w })
                .collect::<Vec<_>>()
                .try_into()
                .ok()?,
            ext: AccountEntryExt::V0,
        });
        Some(entry.to_xdr_base64(Limits::none()).unwrap())
    }

    /// A trustline's `LedgerEntryData`, base64.
    pub fn trustline_entry(&self, account: [u8; 32], asset: &TrustLineAsset) -> Option<String> {
        let name = match asset {
            TrustLineAsset::CreditAlphanum4(a) => asset_name(&Asset::CreditAlphanum4(a.clone())),
            TrustLineAsset::CreditAlphanum12(a) => asset_name(&Asset::CreditAlphanum12(a.clone())),
            _ => return None,
        };
        let balance = *self.accounts.get(&g(&account))?.trustlines.get(&name)?;
        let entry = LedgerEntryData::Trustline(TrustLineEntry {
            account_id: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(account))),
            asset: asset.clone(),
            balance,
            limit: i64::MAX,
            flags: 1,
            ext: TrustLineEntryExt::V0,
        });
        Some(entry.to_xdr_base64(Limits::none()).unwrap())
    }
}

fn op_ok(r: &OperationResultTr) -> bool {
    matches!(
        r,
        OperationResultTr::CreateAccount(CreateAccountResult::Success)
            | OperationResultTr::ChangeTrust(ChangeTrustResult::Success)
            | OperationResultTr::SetOptions(SetOptionsResult::Success)
            | OperationResultTr::Payment(PaymentResult::Success)
    )
}
