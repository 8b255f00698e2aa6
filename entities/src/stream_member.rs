use sea_orm::entity::prelude::*;

/// An account the shared stream of a Horizon routes payments to. The stream covers
/// the account's operations after `joined_at`; those up to it come from the
/// account's own feed (`watch_cursors` tracks that catch-up), done when `caught_up`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stream_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    pub stream: String,
    pub joined_at: String,
    pub caught_up: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
