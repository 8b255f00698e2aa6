use sea_orm::entity::prelude::*;

use mooring_stellar::sep31::Status;

/// One status change of a transaction: the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transaction_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub transaction_id: Uuid,
    pub at: DateTimeUtc,
    pub from_status: Option<Status>,
    pub to_status: Status,
    /// Who caused it: `sending_anchor:<account>`, `operator`, `system`, ….
    pub actor: String,
    pub message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
