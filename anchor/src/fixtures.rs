//! Rows for unit tests.

use chrono::Utc;
use mooring_entities::transaction;
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use uuid::Uuid;

/// A transaction of `amount_in` units of SRT in `status`.
pub fn tx(status: Status, amount_in: i64) -> transaction::Model {
    let now = Utc::now();
    transaction::Model {
        id: Uuid::new_v4(),
        tenant_id: Uuid::new_v4(),
        sa_account: "G".into(),
        sa_memo: None,
        asset_code: "SRT".into(),
        asset_issuer: "GISSUER".into(),
        amount_in,
        amount_fee: 0,
        amount_out: amount_in,
        fee_details: Default::default(),
        status,
        status_message: None,
        funding_method: None,
        sender_id: None,
        receiver_id: None,
        stellar_account_id: "GDIST".into(),
        stellar_memo_type: MemoType::Id,
        stellar_memo: "1".into(),
        refund_memo: None,
        refund_memo_type: None,
        lang: None,
        fields: serde_json::json!({}),
        required_info_message: None,
        required_info_updates: None,
        stellar_transaction_id: None,
        external_transaction_id: None,
        callback_url: None,
        idempotency_key: None,
        request_hash: None,
        started_at: now,
        updated_at: now,
        completed_at: None,
        expires_at: now,
        quote_id: None,
        amount_out_asset: None,
        quote_expires_at: None,
        held_reason: None,
    }
}
