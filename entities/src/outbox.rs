use sea_orm::entity::prelude::*;

/// A callback to deliver: written in the same database transaction as the change it
/// reports, delivered (and retried) by the outbox worker, so a restart loses none.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `transaction` or `customer`.
    pub kind: Kind,
    pub subject_id: Uuid,
    pub url: String,
    /// The exact JSON body to POST (signed at send time).
    pub body: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    /// Set when a worker claims the row; only that claim may send it and record the
    /// result, and only while `next_attempt_at` (the claim's expiry) is ahead.
    pub claim_token: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a callback is about; deliveries for one subject keep their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Kind {
    /// A SEP-31 transaction callback.
    #[sea_orm(string_value = "transaction")]
    Transaction,
    /// A SEP-12 customer callback.
    #[sea_orm(string_value = "customer")]
    Customer,
}
