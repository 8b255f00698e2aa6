//! Classic transactions Mooring writes to testnet (sandbox provisioning, the self-test's
//! payment): build, sign, wrap in a fee bump, and read a result into a clear error.
//!
//! Only the four operations provisioning needs exist here. Idempotency rests on the
//! sequence number: a transaction and any fee bump of it share one inner hash and one
//! sequence number, so at most one of them can ever apply.

use stellar_xdr::{
    AccountId, AlphaNum4, AlphaNum12, Asset, AssetCode4, AssetCode12, ChangeTrustAsset, ChangeTrustOp,
    CreateAccountOp, FeeBumpTransaction, FeeBumpTransactionEnvelope, FeeBumpTransactionExt,
    FeeBumpTransactionInnerTx, InnerTransactionResultResult, Limits, Memo as XdrMemo, MuxedAccount,
    Operation, OperationBody, OperationResult, OperationResultTr, PaymentOp, Preconditions,
    PublicKey as XdrPublicKey, ReadXdr, SequenceNumber, SetOptionsOp, String32, TimeBounds, TimePoint,
    Transaction, TransactionEnvelope, TransactionExt, TransactionResult, TransactionResultResult,
    TransactionV1Envelope, Uint256, WriteXdr,
};

use crate::{Amount, Error, Keypair, MemoType, Network, PublicKey};

/// Stellar's base fee per operation, in stroops.
pub const BASE_FEE: u32 = 100;

/// A classic asset: lumens or `CODE:ISSUER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassicAsset {
    Native,
    Credit { code: String, issuer: PublicKey },
}

impl ClassicAsset {
    pub fn credit(code: &str, issuer: PublicKey) -> Result<Self, Error> {
        check_code(code)?;
        Ok(Self::Credit { code: code.to_string(), issuer })
    }

    pub fn to_xdr(&self) -> Asset {
        match self {
            Self::Native => Asset::Native,
            Self::Credit { code, issuer } => {
                let issuer = account_id(issuer);
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
        }
    }
}

/// A classic asset code: 1 to 12 ASCII letters or digits.
pub fn check_code(code: &str) -> Result<(), Error> {
    let ok = !code.is_empty() && code.len() <= 12 && code.bytes().all(|b| b.is_ascii_alphanumeric());
    if !ok {
        return Err(Error::InvalidAsset(format!("{code:?} is not an asset code (1-12 letters or digits)")));
    }
    Ok(())
}

/// One operation, with an optional source other than the transaction's.
#[derive(Debug, Clone)]
pub enum Op {
    CreateAccount {
        destination: PublicKey,
        starting_balance: Amount,
    },
    /// A trustline with the largest limit.
    ChangeTrust {
        asset: ClassicAsset,
    },
    SetHomeDomain {
        domain: String,
    },
    Payment {
        destination: PublicKey,
        asset: ClassicAsset,
        amount: Amount,
    },
}

/// A transaction before signing.
#[derive(Debug, Clone)]
pub struct Draft {
    pub source: PublicKey,
    /// The account's current sequence number; the transaction uses the next one.
    pub account_sequence: i64,
    pub fee_per_op: u32,
    /// Unix seconds after which the transaction can never apply: a submission whose
    /// outcome is unknown is decided for good once this has passed.
    pub max_time: u64,
    pub memo: Option<(MemoType, String)>,
    /// `(operation source, operation)`; `None`: the transaction's source.
    pub ops: Vec<(Option<PublicKey>, Op)>,
}

/// A signed envelope, ready to submit.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Base64 `TransactionEnvelope`.
    pub xdr: String,
    /// The hash RPC and Horizon know the transaction by (for a fee bump: the outer one).
    pub hash: [u8; 32],
    /// The inner transaction's hash: the same for the original and every fee bump of it.
    pub inner_hash: [u8; 32],
}

impl Signed {
    /// A stored plain (not fee-bumped) envelope, with its hash computed again.
    pub fn from_xdr(xdr: &str, network: &Network) -> Result<Self, Error> {
        let envelope = TransactionEnvelope::from_xdr_base64(xdr, Limits::len(256 * 1024)).map_err(invalid)?;
        let TransactionEnvelope::Tx(v1) = &envelope else { return Err(invalid("not a plain transaction")) };
        let hash = v1.tx.hash(network.id()).map_err(invalid)?;
        Ok(Self { xdr: xdr.to_string(), hash, inner_hash: hash })
    }

    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn account_id(key: &PublicKey) -> AccountId {
    AccountId(XdrPublicKey::PublicKeyTypeEd25519(Uint256(key.0)))
}

fn muxed(key: &PublicKey) -> MuxedAccount {
    MuxedAccount::Ed25519(Uint256(key.0))
}

fn invalid(e: impl std::fmt::Display) -> Error {
    Error::InvalidTransaction(e.to_string())
}

fn memo_xdr(memo: &Option<(MemoType, String)>) -> Result<XdrMemo, Error> {
    let Some((kind, value)) = memo else { return Ok(XdrMemo::None) };
    Ok(match kind {
        MemoType::Id => {
            XdrMemo::Id(value.parse().map_err(|_| Error::InvalidMemo(format!("{value:?} is not an id")))?)
        }
        MemoType::Text => XdrMemo::Text(
            value
                .as_bytes()
                .to_vec()
                .try_into()
                .map_err(|_| Error::InvalidMemo("text memo over 28 bytes".into()))?,
        ),
        MemoType::Hash => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|_| Error::InvalidMemo("hash memo is not base64".into()))?;
            let bytes: [u8; 32] =
                bytes.try_into().map_err(|_| Error::InvalidMemo("hash memo is not 32 bytes".into()))?;
            XdrMemo::Hash(stellar_xdr::Hash(bytes))
        }
    })
}

fn op_xdr(source: &Option<PublicKey>, op: &Op) -> Result<Operation, Error> {
    let body = match op {
        Op::CreateAccount { destination, starting_balance } => {
            OperationBody::CreateAccount(CreateAccountOp {
                destination: account_id(destination),
                starting_balance: starting_balance.0,
            })
        }
        Op::ChangeTrust { asset } => {
            let line = match asset.to_xdr() {
                Asset::Native => return Err(invalid("lumens need no trustline")),
                Asset::CreditAlphanum4(a) => ChangeTrustAsset::CreditAlphanum4(a),
                Asset::CreditAlphanum12(a) => ChangeTrustAsset::CreditAlphanum12(a),
            };
            OperationBody::ChangeTrust(ChangeTrustOp { line, limit: i64::MAX })
        }
        Op::SetHomeDomain { domain } => {
            let home: String32 =
                domain.as_bytes().to_vec().try_into().map_err(|_| invalid("home domain over 32 bytes"))?;
            OperationBody::SetOptions(SetOptionsOp { home_domain: Some(home), ..Default::default() })
        }
        Op::Payment { destination, asset, amount } => OperationBody::Payment(PaymentOp {
            destination: muxed(destination),
            asset: asset.to_xdr(),
            amount: amount.0,
        }),
    };
    Ok(Operation { source_account: source.as_ref().map(muxed), body })
}

/// Builds the transaction and signs it with every key in `signers` (the source's and
/// each operation source's).
pub fn sign(draft: &Draft, network: &Network, signers: &[&Keypair]) -> Result<Signed, Error> {
    let ops = draft.ops.iter().map(|(s, o)| op_xdr(s, o)).collect::<Result<Vec<_>, _>>()?;
    let count = u32::try_from(ops.len()).map_err(invalid)?;
    let tx = Transaction {
        source_account: muxed(&draft.source),
        fee: draft.fee_per_op.checked_mul(count).ok_or_else(|| invalid("fee overflows"))?,
        seq_num: SequenceNumber(
            draft.account_sequence.checked_add(1).ok_or_else(|| invalid("sequence overflows"))?,
        ),
        cond: Preconditions::Time(TimeBounds { min_time: TimePoint(0), max_time: TimePoint(draft.max_time) }),
        memo: memo_xdr(&draft.memo)?,
        operations: ops.try_into().map_err(|_| invalid("1 to 100 operations"))?,
        ext: TransactionExt::V0,
    };
    if tx.operations.is_empty() {
        return Err(invalid("a transaction needs an operation"));
    }
    let hash = tx.hash(network.id()).map_err(invalid)?;
    let signatures: Vec<_> = signers.iter().map(|k| k.sign_decorated(&hash)).collect();
    let envelope = TransactionEnvelope::Tx(TransactionV1Envelope {
        tx,
        signatures: signatures.try_into().map_err(|_| invalid("at most 20 signatures"))?,
    });
    Ok(Signed { xdr: envelope.to_xdr_base64(Limits::none()).map_err(invalid)?, hash, inner_hash: hash })
}

/// Wraps a signed transaction in a fee bump paying `fee_per_op` per operation (plus
/// one, as the protocol counts the bump itself), paid and signed by `fee_source`. The
/// inner transaction — and so its sequence number — is unchanged.
pub fn fee_bump(
    inner: &Signed,
    fee_per_op: u32,
    fee_source: &Keypair,
    network: &Network,
) -> Result<Signed, Error> {
    let envelope =
        TransactionEnvelope::from_xdr_base64(&inner.xdr, Limits::len(256 * 1024)).map_err(invalid)?;
    let TransactionEnvelope::Tx(v1) = envelope else {
        return Err(invalid("only a plain transaction is bumped"));
    };
    let ops = v1.tx.operations.len() as i64;
    let bump = FeeBumpTransaction {
        fee_source: muxed(&fee_source.public_key()),
        fee: i64::from(fee_per_op) * (ops + 1),
        inner_tx: FeeBumpTransactionInnerTx::Tx(v1),
        ext: FeeBumpTransactionExt::V0,
    };
    let hash = bump.hash(network.id()).map_err(invalid)?;
    let signature = fee_source.sign_decorated(&hash);
    let envelope = TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
        tx: bump,
        signatures: vec![signature].try_into().expect("one signature fits"),
    });
    Ok(Signed {
        xdr: envelope.to_xdr_base64(Limits::none()).map_err(invalid)?,
        hash,
        inner_hash: inner.inner_hash,
    })
}

/// What a `TransactionResult` says, in the result codes Horizon and the SDKs show
/// (`tx_failed`, `op_underfunded`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub success: bool,
    /// The transaction's code.
    pub transaction: String,
    /// One code per operation (empty when the transaction failed before them).
    pub operations: Vec<String>,
}

impl Outcome {
    /// The transaction failed because its sequence number was already used or skipped.
    pub fn is_bad_seq(&self) -> bool {
        self.transaction == "tx_bad_seq"
    }

    pub fn is_too_late(&self) -> bool {
        self.transaction == "tx_too_late"
    }

    pub fn is_insufficient_fee(&self) -> bool {
        self.transaction == "tx_insufficient_fee"
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.operations.is_empty() {
            f.write_str(&self.transaction)
        } else {
            write!(f, "{} [{}]", self.transaction, self.operations.join(", "))
        }
    }
}

/// `TxBadSeq` → `tx_bad_seq`.
fn snake(prefix: &str, name: &str) -> String {
    let mut out = String::from(prefix);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn op_code(result: &OperationResult) -> String {
    let OperationResult::OpInner(tr) = result else { return snake("", result.name()) };
    let name = match tr {
        OperationResultTr::CreateAccount(r) => r.name(),
        OperationResultTr::Payment(r) => r.name(),
        OperationResultTr::SetOptions(r) => r.name(),
        OperationResultTr::ChangeTrust(r) => r.name(),
        other => other.name(),
    };
    snake("op_", name)
}

/// Reads a base64 `TransactionResult` (RPC's `resultXdr`/`errorResultXdr`).
pub fn outcome(result_xdr: &str) -> Result<Outcome, Error> {
    let result = TransactionResult::from_xdr_base64(result_xdr, Limits::len(64 * 1024)).map_err(invalid)?;
    let ops = |list: &[OperationResult]| list.iter().map(op_code).collect::<Vec<_>>();
    Ok(match &result.result {
        TransactionResultResult::TxSuccess(list) => {
            Outcome { success: true, transaction: "tx_success".into(), operations: ops(list) }
        }
        TransactionResultResult::TxFailed(list) => {
            Outcome { success: false, transaction: "tx_failed".into(), operations: ops(list) }
        }
        TransactionResultResult::TxFeeBumpInnerSuccess(pair)
        | TransactionResultResult::TxFeeBumpInnerFailed(pair) => {
            // A fee bump's verdict is its inner transaction's.
            let inner = &pair.result.result;
            let operations = match inner {
                InnerTransactionResultResult::TxSuccess(l) | InnerTransactionResultResult::TxFailed(l) => {
                    ops(l)
                }
                _ => Vec::new(),
            };
            Outcome {
                success: matches!(inner, InnerTransactionResultResult::TxSuccess(_)),
                transaction: snake("", inner.name()),
                operations,
            }
        }
        other => Outcome { success: false, transaction: snake("", other.name()), operations: Vec::new() },
    })
}

/// A result built here (the stand-ins and tests use it too): success or a failure code.
pub fn result_xdr(result: TransactionResultResult, fee_charged: i64) -> String {
    TransactionResult { fee_charged, result, ext: stellar_xdr::TransactionResultExt::V0 }
        .to_xdr_base64(Limits::none())
        .expect("a result always encodes")
}

#[cfg(test)]
mod tests;
