use sea_orm::entity::prelude::*;

/// A firm SEP-38 quote, as promised to the sending anchor. Amounts are fixed-point
/// with 7 decimals (each already rounded to its asset's decimals).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quotes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub corridor_id: Uuid,
    /// The SEP-10 account that asked for it, and the memo of its token, if any: only
    /// that owner reads or uses it.
    pub sa_account: String,
    pub sa_memo: Option<String>,
    /// `sep31`.
    pub context: String,
    pub sell_asset: String,
    pub sell_amount: i64,
    pub buy_asset: String,
    pub buy_amount: i64,
    /// Decimal strings, as sent.
    pub price: String,
    pub total_price: String,
    /// In the sell asset.
    pub fee_total: i64,
    /// `[{name, amount, description?}]`, amounts as strings.
    pub fee_details: crate::json_columns::FeeParts,
    pub sell_delivery_method: Option<String>,
    pub buy_delivery_method: Option<String>,
    pub country_code: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// The transaction it backs: set once, in that transaction's creation.
    #[sea_orm(unique)]
    pub transaction_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
