use sea_orm::entity::prelude::*;

/// Ledgers whose payments to a tenant could not be read: the RPC it is followed
/// through no longer kept them. Open until caught up from Horizon (`resolved_at`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_gaps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The stream (`rpc:{url}`) that found the gap.
    pub stream: String,
    pub from_ledger: i64,
    pub to_ledger: i64,
    pub detected_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    /// How it was closed (e.g. "caught up from Horizon").
    pub resolution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
