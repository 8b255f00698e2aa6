use sea_orm::entity::prelude::*;

/// A Stellar asset a tenant receives through SEP-31.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub code: String,
    pub issuer: String,
    /// SEP-1 `status`: `live`, `dead`, `test` or `private`.
    pub status: Status,
    pub sep31_enabled: bool,
    /// Fixed-point, 7 decimals.
    pub min_amount: Option<i64>,
    /// Fixed-point, 7 decimals.
    pub max_amount: Option<i64>,
    /// Fixed-point, 7 decimals, in units of the asset.
    pub fee_fixed: i64,
    /// Fixed-point, 7 decimals, in percentage points (1.0000000 = 1 %).
    pub fee_percent: i64,
    /// Stellar memo type issued for payments: `id`, `text` or `hash`.
    pub memo_type: mooring_stellar::memo::MemoType,
    pub sender_sep12_type: Option<String>,
    pub receiver_sep12_type: Option<String>,
    /// JSON array of funding method names, e.g. `["SEPA","SWIFT"]`.
    pub funding_methods: Json,
    pub anchor_asset_type: String,
    pub description: String,
    pub display_decimals: i32,
    pub created_at: DateTimeUtc,
    /// Fees by amount: `[{"min_amount", "fee_fixed", "fee_percent"}]` as decimal
    /// strings, replacing the flat fees from each `min_amount` up. `None`: flat fees.
    pub fee_tiers: Option<Json>,
    /// SEP-31 transactions in this asset need a SEP-38 quote.
    pub quotes_required: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenant::Entity",
        from = "Column::TenantId",
        to = "super::tenant::Column::Id",
        on_delete = "Cascade"
    )]
    Tenant,
    #[sea_orm(has_many = "super::asset_field::Entity")]
    Fields,
}

impl Related<super::tenant::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenant.def()
    }
}

impl Related<super::asset_field::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Fields.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// SEP-1 `[[CURRENCIES]] status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Status {
    #[sea_orm(string_value = "live")]
    Live,
    #[sea_orm(string_value = "dead")]
    Dead,
    #[sea_orm(string_value = "test")]
    Test,
    #[sea_orm(string_value = "private")]
    Private,
}

impl Status {
    /// The SEP-1 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Dead => "dead",
            Self::Test => "test",
            Self::Private => "private",
        }
    }
}
