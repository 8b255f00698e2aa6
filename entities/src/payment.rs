use sea_orm::entity::prelude::*;

/// A payment to a tenant's distribution account, as the watcher observed it. Keyed by
/// (tenant, account, operation id): an operation id alone comes from a Horizon and
/// must not let one tenant's rows shadow another's.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// The watched (receiving) account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    /// Horizon's operation id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub transaction_id: Option<Uuid>,
    /// `payment`, `path_payment_strict_receive` or `path_payment_strict_send`.
    pub op_type: String,
    pub from_account: String,
    pub to_muxed: Option<String>,
    pub asset_code: String,
    pub asset_issuer: String,
    /// Amount received, fixed-point with 7 decimals.
    pub amount: i64,
    /// `none`, `id`, `text`, `hash` or `return`.
    pub memo_type: String,
    pub memo: Option<String>,
    pub tx_hash: String,
    pub ledger_time: String,
    /// `matched`, `overpaid`, `mismatched` or `unmatched`.
    pub outcome: Outcome,
    pub note: Option<String>,
    /// Received beyond `amount_in`, to refund. Fixed-point, 7 decimals.
    pub excess: i64,
    pub observed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What an incoming payment did to the transaction its memo names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Outcome {
    /// The expected asset and amount: the transaction moved to `pending_receiver`.
    #[sea_orm(string_value = "matched")]
    Matched,
    /// More than expected: matched, and `excess` is owed back.
    #[sea_orm(string_value = "overpaid")]
    Overpaid,
    /// Wrong asset or too little: the transaction moved to `error`.
    #[sea_orm(string_value = "mismatched")]
    Mismatched,
    /// No transaction waiting for funds has this memo; kept for the tenant to resolve.
    #[sea_orm(string_value = "unmatched")]
    Unmatched,
}
