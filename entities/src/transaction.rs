use sea_orm::entity::prelude::*;

pub use mooring_stellar::memo::MemoType;
pub use mooring_stellar::sep31::Status;

/// A SEP-31 transaction. Amounts are fixed-point with 7 decimals.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sa_account: String,
    /// The memo (or muxed id) of the SEP-10 token that created it, if any: a token
    /// with a memo sees only the transactions created under that memo.
    pub sa_memo: Option<String>,
    pub asset_code: String,
    pub asset_issuer: String,
    pub amount_in: i64,
    pub amount_fee: i64,
    pub amount_out: i64,
    /// `[{name, amount}]` making up `amount_fee`.
    pub fee_details: crate::json_columns::FeeParts,
    pub status: Status,
    pub status_message: Option<String>,
    pub funding_method: Option<String>,
    pub sender_id: Option<Uuid>,
    pub receiver_id: Option<Uuid>,
    pub stellar_account_id: String,
    pub stellar_memo_type: MemoType,
    pub stellar_memo: String,
    pub refund_memo: Option<String>,
    pub refund_memo_type: Option<MemoType>,
    pub lang: Option<String>,
    /// The transaction fields the sending anchor provided (`fields.transaction`).
    pub fields: Json,
    pub required_info_message: Option<String>,
    pub required_info_updates: Option<crate::json_columns::RequestedFields>,
    pub stellar_transaction_id: Option<String>,
    pub external_transaction_id: Option<String>,
    pub callback_url: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub started_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
    /// The SEP-38 quote it was created with.
    pub quote_id: Option<Uuid>,
    /// The payout asset (`iso4217:CCY`) when quoted; `None`: the Stellar asset itself.
    pub amount_out_asset: Option<String>,
    /// The quote's deadline, copied so the watcher checks the ledger time against it
    /// without another read.
    pub quote_expires_at: Option<DateTimeUtc>,
    /// Why the payout waits for the tenant's review (a payment after its quote
    /// expired); no payout moves while it is set.
    pub held_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
