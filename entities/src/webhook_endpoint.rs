use sea_orm::entity::prelude::*;

/// Where a tenant wants its events delivered (Standard Webhooks).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    /// JSON array of event types; empty: every event.
    pub event_types: String,
    pub enabled: bool,
    /// The signing secret, encrypted under the master key.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_until`.
    pub previous_secret: Option<String>,
    pub previous_until: Option<DateTimeUtc>,
    /// Since when every delivery has failed (none: the last one succeeded).
    pub failing_since: Option<DateTimeUtc>,
    /// Why the platform turned the endpoint off.
    pub disabled_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
