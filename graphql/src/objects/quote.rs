//! SEP-38: off-chain currencies, corridors with their live rate, and firm quotes.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_anchor::quotes::Quote;
use mooring_tenants::{Corridor, OffchainAsset, RateSource};

use super::amount;
use crate::scope::core;

/// A way a currency reaches the receiver.
#[derive(SimpleObject)]
pub struct DeliveryMethodObj {
    /// Name (SEP-38 `buy_delivery_methods[].name`).
    pub name: String,
    /// What it is.
    pub description: String,
}

/// A currency the tenant pays out off-chain.
pub struct OffchainAssetObj(pub OffchainAsset);

#[Object(name = "OffchainAsset")]
impl OffchainAssetObj {
    /// SEP-38 identifier, `iso4217:CCY`.
    async fn asset(&self) -> String {
        self.0.sep38().to_string()
    }
    /// ISO 4217 code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Decimals its amounts carry.
    async fn decimals(&self) -> u32 {
        self.0.decimals
    }
    /// ISO 3166-1 alpha-2 countries it is paid out in.
    async fn country_codes(&self) -> &[String] {
        &self.0.country_codes
    }
    /// How it reaches the receiver.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn delivery_methods(&self) -> Vec<DeliveryMethodObj> {
        self.0
            .delivery_methods
            .iter()
            .map(|m| DeliveryMethodObj { name: m.name.clone(), description: m.description.clone() })
            .collect()
    }
}

/// The rate a corridor quotes on now.
#[derive(SimpleObject)]
pub struct CorridorRate {
    /// Units of the buy asset for one unit of the sell asset (before the spread).
    pub value: String,
    /// When it was true.
    pub as_of: DateTime<Utc>,
    /// Older than the corridor's maximum rate age: firm quotes are refused.
    pub stale: bool,
    /// The SEP-38 price after the spread: sell units for one buy unit.
    pub price: String,
}

/// A pair the tenant quotes: a Stellar asset sold for an off-chain currency.
pub struct CorridorObj(pub Corridor);

#[Object(name = "Corridor")]
impl CorridorObj {
    /// Corridor id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `stellar:CODE:ISSUER`.
    async fn sell_asset(&self) -> String {
        self.0.sell.to_string()
    }
    /// `iso4217:CCY`.
    async fn buy_asset(&self) -> String {
        self.0.buy.to_string()
    }
    /// Whether it is quoted.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// The rate feed polled for it (null: a manual rate).
    async fn rate_feed_url(&self) -> Option<&str> {
        match &self.0.rate {
            RateSource::Feed { url } => Some(url),
            RateSource::Manual { .. } => None,
        }
    }
    /// The rate quoted on now, as this replica has it (null: the feed has not answered yet).
    async fn rate(&self, ctx: &Context<'_>) -> Option<CorridorRate> {
        let rate = core(ctx).rates.rate(&self.0)?;
        let stale = mooring_anchor::quotes::check_fresh(&self.0, rate, Utc::now()).is_err();
        let price = mooring_anchor::quotes::price::price(&self.0, rate).ok()?;
        Some(CorridorRate {
            value: rate.value.normalize().to_string(),
            as_of: rate.as_of,
            stale,
            price: price.to_string(),
        })
    }
    /// The feed's last error, if its last poll failed (the last good rate is kept).
    async fn rate_feed_error(&self, ctx: &Context<'_>) -> Option<String> {
        core(ctx).rates.state(self.0.id).and_then(|s| s.last_error)
    }
    /// Seconds after which a rate refuses firm quotes (null: never).
    async fn max_rate_age_secs(&self) -> Option<i64> {
        self.0.max_rate_age.map(|a| a.num_seconds())
    }
    /// The margin off the market rate, in basis points.
    async fn spread_bps(&self) -> u32 {
        self.0.spread_bps
    }
    /// How long a firm quote lasts.
    async fn quote_lifetime_secs(&self) -> i64 {
        self.0.quote_lifetime.num_seconds()
    }
    /// Smallest sell amount quoted.
    async fn min_amount(&self) -> Option<String> {
        self.0.min_sell.map(|a| amount(a.0))
    }
    /// Largest sell amount quoted.
    async fn max_amount(&self) -> Option<String> {
        self.0.max_sell.map(|a| amount(a.0))
    }
    /// Fixed fee, in the sell asset.
    async fn fee_fixed(&self) -> String {
        amount(self.0.fee_fixed.0)
    }
    /// Percentage fee of the sell amount.
    async fn fee_percent(&self) -> String {
        amount(self.0.fee_percent.0)
    }
    /// The most of the buy asset unexpired firm quotes may promise at once (null: no limit).
    async fn max_outstanding_amount(&self) -> Option<String> {
        self.0.max_outstanding.map(|a| amount(a.0))
    }
    /// How much of the buy asset unexpired firm quotes promise now.
    #[graphql(complexity = "crate::cost::read(child_complexity)")]
    async fn outstanding_amount(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let db = &core(ctx).db;
        let promised =
            mooring_anchor::quotes::outstanding(db, self.0.id).await.map_err(crate::error::from_anchor)?;
        Ok(amount(promised.0))
    }
    /// Fees by sell amount (replacing the flat fee from each tier's minimum up).
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn fee_tiers(&self) -> Vec<super::fee_tier::FeeTierObj> {
        self.0.fee_tiers.iter().map(|t| super::fee_tier::FeeTierObj::from(*t)).collect()
    }
}

/// A firm SEP-38 quote.
pub struct QuoteObj(pub Quote);

#[Object(name = "Quote")]
impl QuoteObj {
    /// Quote id (SEP-38 `id`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The sending anchor that asked for it.
    async fn sa_account(&self) -> &str {
        &self.0.sa_account
    }
    /// What the sending anchor pays in.
    async fn sell_asset(&self) -> &str {
        &self.0.sell_asset
    }
    /// How much it pays (fee included).
    async fn sell_amount(&self) -> String {
        amount(self.0.sell_amount)
    }
    /// What the receiver is paid in.
    async fn buy_asset(&self) -> &str {
        &self.0.buy_asset
    }
    /// How much the receiver is paid: the payout to make.
    async fn buy_amount(&self) -> String {
        amount(self.0.buy_amount)
    }
    /// Sell units per buy unit, before the fee.
    async fn price(&self) -> &str {
        &self.0.price
    }
    /// Sell units per buy unit, fee included.
    async fn total_price(&self) -> &str {
        &self.0.total_price
    }
    /// Fee, in the sell asset.
    async fn fee(&self) -> String {
        amount(self.0.fee_total)
    }
    /// How the receiver is paid, if chosen.
    async fn buy_delivery_method(&self) -> Option<&str> {
        self.0.buy_delivery_method.as_deref()
    }
    /// Receiver's country, if given.
    async fn country_code(&self) -> Option<&str> {
        self.0.country_code.as_deref()
    }
    /// Funds must arrive (ledger close time) by then.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// Asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The transaction it backs, if used.
    async fn transaction_id(&self) -> Option<ID> {
        self.0.transaction_id.map(|t| ID(t.to_string()))
    }
}
