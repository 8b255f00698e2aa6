use sea_orm::entity::prelude::*;

/// What a corridor's firm quotes expiring by `until` (a whole minute, rounded up from
/// each quote's `expires_at`) promise of its buy asset, fixed-point with 7 decimals.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quote_reserves")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub corridor_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub until: DateTimeUtc,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
