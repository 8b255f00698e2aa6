use sea_orm::entity::prelude::*;

/// One refund payment sent back to the sending anchor for a transaction. Amounts are
/// fixed-point with 7 decimals; `amount + fee` over all rows never exceeds `amount_in`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub transaction_id: Uuid,
    /// The refund payment's Stellar transaction hash; unique per transaction.
    pub stellar_transaction_id: String,
    pub amount: i64,
    /// Kept by the anchor out of the refund.
    pub fee: i64,
    pub reason: Option<String>,
    pub actor: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
