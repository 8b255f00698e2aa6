//! Horizon's payment records as Mooring reads them: payments, path payments and
//! contract invocations (asset balance changes), their memos and muxed ids, as
//! observed payments.

use super::HorizonError;

use serde::Deserialize;

/// One record of `GET /accounts/{id}/payments?join=transactions` (or the network-wide
/// `GET /payments`), as Horizon sends it.
/// Operations other than payments (e.g. `create_account`) lack most fields.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentRecord {
    pub id: String,
    pub paging_token: String,
    #[serde(rename = "type")]
    pub op_type: String,
    #[serde(default = "yes")]
    pub transaction_successful: bool,
    pub transaction_hash: String,
    pub created_at: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub to_muxed: Option<String>,
    #[serde(default)]
    pub to_muxed_id: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub asset_type: Option<String>,
    #[serde(default)]
    pub asset_code: Option<String>,
    #[serde(default)]
    pub asset_issuer: Option<String>,
    #[serde(default)]
    pub transaction: Option<JoinedTransaction>,
    /// `invoke_host_function` only: the asset movements of its Stellar Asset Contract
    /// events (a smart wallet's payment is one of these, not a `payment`). Horizon
    /// derives them only from events whose contract is the asset's own SAC.
    #[serde(default)]
    pub asset_balance_changes: Vec<BalanceChange>,
}

/// One entry of an `invoke_host_function` record's `asset_balance_changes`.
#[derive(Debug, Clone, Deserialize)]
pub struct BalanceChange {
    /// `transfer`, `mint`, `burn`, `clawback`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    pub amount: String,
    pub asset_type: String,
    #[serde(default)]
    pub asset_code: Option<String>,
    #[serde(default)]
    pub asset_issuer: Option<String>,
    #[serde(default)]
    pub destination_muxed_id: Option<String>,
    /// `uint64`, `string` or `bytes`.
    #[serde(default)]
    pub destination_muxed_id_type: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct JoinedTransaction {
    #[serde(default)]
    pub memo_type: Option<String>,
    #[serde(default)]
    pub memo: Option<String>,
    #[serde(default = "yes")]
    pub successful: bool,
}

/// A destination muxed id as a memo, the way CAP-67 maps it (`uint64` → id, `string`
/// → text, `bytes` → hash).
fn muxed_memo(kind: Option<&str>, id: Option<&str>) -> Option<(&'static str, String)> {
    let id = id?;
    let kind = match kind.map(str::to_ascii_lowercase).as_deref() {
        None | Some("uint64" | "id") => "id",
        Some("string" | "text") => "text",
        Some("bytes" | "hash") => "hash",
        Some(_) => return None,
    };
    Some((kind, id.to_string()))
}

impl PaymentRecord {
    /// The accounts this record may pay (what a shared stream routes by).
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.to
            .as_deref()
            .into_iter()
            .chain(self.asset_balance_changes.iter().filter_map(|c| c.to.as_deref()))
    }

    /// The payments in this record as the matcher sees them: one for a payment
    /// operation, one per crediting SAC movement for `invoke_host_function` (the
    /// first keeps the operation id, later ones add `-n`), none for the rest.
    pub fn payments(&self) -> Result<Vec<mooring_anchor::payments::Observed>, HorizonError> {
        if self.op_type != "invoke_host_function" {
            return Ok(vec![self.observed()?]);
        }
        let tx = self.transaction.as_ref();
        let mut out = Vec::new();
        for change in
            self.asset_balance_changes.iter().filter(|c| matches!(c.kind.as_str(), "transfer" | "mint"))
        {
            let amount = change.amount.parse().map_err(|_| {
                HorizonError::Body(format!("operation {}: bad amount {}", self.id, change.amount))
            })?;
            let native = change.asset_type == "native";
            let (memo_type, memo) = match muxed_memo(
                change.destination_muxed_id_type.as_deref(),
                change.destination_muxed_id.as_deref(),
            ) {
                Some((kind, id)) => (kind.to_string(), Some(id)),
                None => (
                    tx.and_then(|t| t.memo_type.clone()).unwrap_or_else(|| "none".into()),
                    tx.and_then(|t| t.memo.clone()),
                ),
            };
            let operation_id =
                if out.is_empty() { self.id.clone() } else { format!("{}-{}", self.id, out.len()) };
            out.push(mooring_anchor::payments::Observed {
                operation_id,
                paging_token: self.paging_token.clone(),
                op_type: change.kind.clone(),
                successful: self.transaction_successful && tx.is_none_or(|t| t.successful),
                from: change.from.clone().unwrap_or_default(),
                to: change.to.clone().unwrap_or_default(),
                to_muxed: None,
                asset_code: if native {
                    "native".into()
                } else {
                    change.asset_code.clone().unwrap_or_default()
                },
                asset_issuer: if native {
                    String::new()
                } else {
                    change.asset_issuer.clone().unwrap_or_default()
                },
                amount,
                memo_type,
                memo,
                tx_hash: self.transaction_hash.clone(),
                ledger_time: self.created_at.clone(),
            });
        }
        Ok(out)
    }

    /// A payment operation as the matcher sees it. Amounts are parsed exactly; a
    /// record that cannot be read is reported, not guessed at.
    fn observed(&self) -> Result<mooring_anchor::payments::Observed, HorizonError> {
        let amount = match &self.amount {
            Some(a) => {
                a.parse().map_err(|_| HorizonError::Body(format!("operation {}: bad amount {a}", self.id)))?
            }
            None => mooring_stellar::Amount::ZERO,
        };
        let native = self.asset_type.as_deref() == Some("native");
        let tx = self.transaction.as_ref();
        // The transaction's memo names the SEP-31 transaction; without one, a muxed
        // destination's id does (as in CAP-67's events, where it replaces the memo).
        let tx_memo =
            tx.and_then(|t| Some((t.memo_type.clone()?, t.memo.clone()?))).filter(|(k, _)| k != "none");
        let (memo_type, memo) = match (tx_memo, muxed_memo(Some("uint64"), self.to_muxed_id.as_deref())) {
            (Some((kind, memo)), _) => (kind, Some(memo)),
            (None, Some((kind, id))) => (kind.to_string(), Some(id)),
            (None, None) => ("none".to_string(), None),
        };
        Ok(mooring_anchor::payments::Observed {
            operation_id: self.id.clone(),
            paging_token: self.paging_token.clone(),
            op_type: self.op_type.clone(),
            successful: self.transaction_successful && tx.is_none_or(|t| t.successful),
            from: self.from.clone().unwrap_or_default(),
            to: self.to.clone().unwrap_or_default(),
            to_muxed: self.to_muxed.clone(),
            asset_code: if native { "native".into() } else { self.asset_code.clone().unwrap_or_default() },
            asset_issuer: if native { String::new() } else { self.asset_issuer.clone().unwrap_or_default() },
            amount,
            memo_type,
            memo,
            tx_hash: self.transaction_hash.clone(),
            ledger_time: self.created_at.clone(),
        })
    }
}
