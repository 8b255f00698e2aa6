use sea_orm::entity::prelude::*;

/// A currency a tenant pays out off-chain (SEP-38 `iso4217:CCY`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "offchain_assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// ISO 4217 code, e.g. `MXN`.
    pub code: String,
    /// Decimals amounts of it carry (at most 7).
    pub decimals: i32,
    /// JSON array of ISO 3166-1 alpha-2 codes where it is paid out.
    pub country_codes: Json,
    /// JSON array of `{"name", "description"}`: how it reaches the receiver.
    pub delivery_methods: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
