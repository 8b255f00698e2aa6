//! The SEP-31 view of a transaction, as `GET /transactions/:id` and callbacks send it.

use mooring_entities::{refund, transaction};
use mooring_stellar::Amount;
use mooring_stellar::sep31::Status;
use serde_json::{Value, json};

pub(crate) fn amount(v: i64) -> String {
    Amount(v).to_decimal().to_string()
}

/// The SEP-31 transaction object: the body of `GET /transactions/:id` (inside
/// `{"transaction": …}`) and of every callback.
pub fn sep31_json(t: &transaction::Model, refunds: &[refund::Model]) -> Value {
    let asset = format!("stellar:{}:{}", t.asset_code, t.asset_issuer);
    let out_asset = t.amount_out_asset.as_deref().unwrap_or(&asset);
    let mut v = json!({
        "id": t.id,
        "status": t.status.as_str(),
        "amount_in": amount(t.amount_in),
        "amount_in_asset": asset,
        "amount_out": amount(t.amount_out),
        "amount_out_asset": out_asset,
        "amount_fee": amount(t.amount_fee),
        "amount_fee_asset": asset,
        "fee_details": {
            "total": amount(t.amount_fee),
            "asset": asset,
            "details": t.fee_details,
        },
        "stellar_account_id": t.stellar_account_id,
        "stellar_memo_type": t.stellar_memo_type.as_str(),
        "stellar_memo": t.stellar_memo,
        "started_at": t.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated_at": t.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "refunded": false,
    });
    let optional = [
        ("status_message", t.status_message.clone().map(Value::from)),
        ("funding_method", t.funding_method.clone().map(Value::from)),
        ("completed_at", t.completed_at.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into())),
        ("stellar_transaction_id", t.stellar_transaction_id.clone().map(Value::from)),
        ("external_transaction_id", t.external_transaction_id.clone().map(Value::from)),
        ("refund_memo", t.refund_memo.clone().map(Value::from)),
        ("refund_memo_type", t.refund_memo_type.map(|m| m.as_str().into())),
        ("required_info_message", t.required_info_message.clone().map(Value::from)),
        ("quote_id", t.quote_id.map(|q| q.to_string().into())),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            v[key] = value;
        }
    }
    if t.status == Status::PendingTransactionInfoUpdate
        && let Some(updates) = &t.required_info_updates
    {
        v["required_info_updates"] = updates.clone();
    }
    if let Some(refunds) = sep31_refunds(refunds) {
        v["refunded"] = json!(refunds["amount_refunded"] == json!(amount(t.amount_in)));
        v["refunds"] = refunds;
    }
    v
}

/// SEP-31's `refunds` object, or `None` when nothing was refunded.
pub fn sep31_refunds(refunds: &[refund::Model]) -> Option<Value> {
    if refunds.is_empty() {
        return None;
    }
    let decimal = |v: i64| Amount(v).to_decimal().to_string();
    // Recorded totals never exceed amount_in (an i64), so these sums cannot overflow.
    let amount: i64 = refunds.iter().map(|r| r.amount + r.fee).sum();
    let fee: i64 = refunds.iter().map(|r| r.fee).sum();
    Some(json!({
        "amount_refunded": decimal(amount),
        "amount_fee": decimal(fee),
        "payments": refunds.iter().map(|r| json!({
            "id": r.stellar_transaction_id,
            "amount": decimal(r.amount + r.fee),
            "fee": decimal(r.fee),
        })).collect::<Vec<_>>(),
    }))
}
