use sea_orm::entity::prelude::*;

/// A callback to deliver: written in the same database transaction as the change it
/// reports, delivered (and retried) by the outbox worker, so a restart loses none.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `transaction` or `customer` (callbacks), or `webhook`.
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
    /// For a webhook: the endpoint it is for, and the event type.
    pub endpoint_id: Option<Uuid>,
    pub event_type: Option<String>,
    /// The last attempt's HTTP status (none: no answer) and how long it took.
    pub last_status: Option<i32>,
    pub last_latency_ms: Option<i64>,
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
    /// An event for one of the tenant's own webhook endpoints.
    #[sea_orm(string_value = "webhook")]
    Webhook,
}
