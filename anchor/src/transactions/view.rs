//! The SEP-31 view of a transaction, as `GET /transactions/:id`, callbacks and webhooks
//! show it (`mooring_wire::sep31::Transaction`).

use mooring_entities::json_columns::{FeeParts, RequestedFields};
use mooring_entities::{refund, transaction};
use mooring_stellar::Amount;
use mooring_stellar::sep31::Status;
use mooring_wire::error::TransactionFields;
use mooring_wire::sep31::{FeeDetails, RefundPayment, Refunds, Transaction, TransactionResponse};
use mooring_wire::{FeeDetail, FieldSpec};

pub(crate) fn amount(v: i64) -> String {
    Amount(v).to_decimal().to_string()
}

/// Stored fee parts as SEP-31 `fee_details.details` and SEP-38 `fee.details` show them.
pub fn fee_details(parts: &FeeParts) -> Vec<FeeDetail> {
    parts
        .0
        .iter()
        .map(|p| FeeDetail {
            name: p.name.clone(),
            amount: p.amount.clone(),
            description: p.description.clone(),
        })
        .collect()
}

/// Stored requested fields as SEP-31's `{"transaction": {…}}`.
pub fn requested(fields: &RequestedFields) -> TransactionFields {
    TransactionFields {
        transaction: fields
            .transaction
            .iter()
            .map(|(name, f)| (name.clone(), FieldSpec::new(&f.description, f.optional, f.choices.as_deref())))
            .collect(),
    }
}

/// The SEP-31 transaction object: inside `{"transaction": …}` the body of
/// `GET /transactions/:id` and of every callback.
pub fn sep31(t: &transaction::Model, refunds: &[refund::Model]) -> Transaction {
    let asset = format!("stellar:{}:{}", t.asset_code, t.asset_issuer);
    let refunds = sep31_refunds(refunds);
    Transaction {
        id: t.id,
        status: t.status,
        status_eta: None,
        status_message: t.status_message.clone(),
        amount_in: amount(t.amount_in),
        amount_out: amount(t.amount_out),
        amount_out_asset: t.amount_out_asset.clone().unwrap_or_else(|| asset.clone()),
        amount_fee: Some(amount(t.amount_fee)),
        amount_fee_asset: Some(asset.clone()),
        fee_details: FeeDetails {
            total: amount(t.amount_fee),
            asset: asset.clone(),
            details: fee_details(&t.fee_details),
        },
        amount_in_asset: asset,
        quote_id: t.quote_id,
        stellar_account_id: t.stellar_account_id.clone(),
        stellar_memo_type: t.stellar_memo_type,
        stellar_memo: t.stellar_memo.clone(),
        started_at: t.started_at,
        updated_at: t.updated_at,
        completed_at: t.completed_at,
        stellar_transaction_id: t.stellar_transaction_id.clone(),
        external_transaction_id: t.external_transaction_id.clone(),
        funding_method: t.funding_method.clone(),
        refund_memo: t.refund_memo.clone(),
        refund_memo_type: t.refund_memo_type,
        refunded: refunds.as_ref().is_some_and(|r| r.amount_refunded == amount(t.amount_in)),
        refunds,
        required_info_message: t.required_info_message.clone(),
        required_info_updates: t
            .required_info_updates
            .as_ref()
            .filter(|_| t.status == Status::PendingTransactionInfoUpdate)
            .map(requested),
    }
}

/// `{"transaction": …}`: what `GET /transactions/:id` answers and a callback carries.
pub fn sep31_response(t: &transaction::Model, refunds: &[refund::Model]) -> TransactionResponse {
    TransactionResponse { transaction: sep31(t, refunds) }
}

/// SEP-31's `refunds` object, or `None` when nothing was refunded.
pub fn sep31_refunds(refunds: &[refund::Model]) -> Option<Refunds> {
    if refunds.is_empty() {
        return None;
    }
    // Recorded totals never exceed amount_in (an i64), so these sums cannot overflow.
    let total: i64 = refunds.iter().map(|r| r.amount + r.fee).sum();
    let fee: i64 = refunds.iter().map(|r| r.fee).sum();
    Some(Refunds {
        amount_refunded: amount(total),
        amount_fee: amount(fee),
        payments: refunds
            .iter()
            .map(|r| RefundPayment {
                id: r.stellar_transaction_id.clone(),
                id_type: None,
                amount: amount(r.amount + r.fee),
                fee: amount(r.fee),
            })
            .collect(),
    })
}
