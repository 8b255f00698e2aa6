use sea_orm::entity::prelude::*;

/// A pair a tenant quotes: a Stellar asset it receives, sold for a currency it pays
/// out. Assets are named by their SEP-38 identifiers.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "corridors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `stellar:CODE:ISSUER`.
    pub sell_asset: String,
    /// `iso4217:CCY`.
    pub buy_asset: String,
    /// The manual market rate: units of the buy asset for one unit of the sell asset,
    /// as a decimal string. `None` with a feed.
    pub rate: Option<String>,
    /// When the manual rate was true.
    pub rate_as_of: Option<DateTimeUtc>,
    /// A URL the platform polls for the rate instead (see `server::rates`).
    pub rate_feed_url: Option<String>,
    /// A rate older than this refuses firm quotes; `None`: never stale.
    pub max_rate_age_secs: Option<i64>,
    /// The anchor's margin off the market rate, in basis points.
    pub spread_bps: i32,
    pub quote_lifetime_secs: i64,
    /// Limits on the sell amount, fixed-point with 7 decimals.
    pub min_sell: Option<i64>,
    pub max_sell: Option<i64>,
    /// The fee in the sell asset: fixed (7 decimals) plus percentage points (7 decimals).
    pub fee_fixed: i64,
    pub fee_percent: i64,
    /// Tiers by sell amount, shaped like `asset::Model::fee_tiers`.
    pub fee_tiers: Option<Json>,
    pub enabled: bool,
    /// The most of the buy asset (fixed-point, 7 decimals) its unexpired firm quotes may
    /// promise at once; `None`: no limit.
    pub max_outstanding: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
