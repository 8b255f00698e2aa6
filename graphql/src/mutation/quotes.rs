//! SEP-38 configuration: off-chain currencies, corridors and their rates, the policy for
//! payments after a quote expired; and releasing a payout held by that policy.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use mooring_anchor::transactions;
use mooring_tenants::admin::{self, NewCorridor, NewOffchainAsset};
use mooring_tenants::{DeliveryMethod, RateSource};
use rust_decimal::Decimal;

use super::config::{FeeTierInput, fee_tiers};
use super::{amount, configure, configure_tenant};
use crate::enums::ExpiredQuotePolicy;
use crate::error::{from_anchor, invalid};
use crate::objects::{TenantObj, TransactionObj};
use crate::scope::{self};

/// A way a currency reaches the receiver.
#[derive(InputObject)]
pub struct DeliveryMethodInput {
    /// Name, as sending anchors will send it (`buy_delivery_method`).
    pub name: String,
    /// What it is.
    #[graphql(default)]
    pub description: String,
}

/// A currency paid out off-chain.
#[derive(InputObject)]
pub struct OffchainAssetInput {
    /// ISO 4217 code, e.g. MXN.
    pub code: String,
    /// Decimals its amounts carry (0 to 7).
    #[graphql(default = 2)]
    pub decimals: u32,
    /// ISO 3166-1 alpha-2 countries it is paid out in.
    #[graphql(default)]
    pub country_codes: Vec<String>,
    /// How it reaches the receiver.
    #[graphql(default)]
    pub delivery_methods: Vec<DeliveryMethodInput>,
}

/// A corridor: one of the tenant's Stellar assets sold for one of its off-chain
/// currencies. Give `rate` (with `rateAsOf`) or `rateFeedUrl`. Amounts are decimal strings.
#[derive(InputObject)]
pub struct CorridorInput {
    /// `stellar:CODE:ISSUER`.
    pub sell_asset: String,
    /// `iso4217:CCY`.
    pub buy_asset: String,
    /// A manual market rate: units of the buy asset for one unit of the sell asset.
    pub rate: Option<String>,
    /// When the manual rate was true (default: now).
    pub rate_as_of: Option<DateTime<Utc>>,
    /// A URL polled for the rate instead: it answers `{"rate": "17.05", "as_of": "<RFC 3339>"}`.
    pub rate_feed_url: Option<String>,
    /// A rate older than this refuses firm quotes (null: never).
    pub max_rate_age_secs: Option<i64>,
    /// The anchor's margin off the market rate, in basis points.
    #[graphql(default)]
    pub spread_bps: u32,
    /// How long a firm quote lasts.
    #[graphql(default = 300)]
    pub quote_lifetime_secs: i64,
    /// Smallest sell amount quoted.
    pub min_amount: Option<String>,
    /// Largest sell amount quoted.
    pub max_amount: Option<String>,
    /// Fixed fee, in the sell asset.
    #[graphql(default_with = "String::from(\"0\")")]
    pub fee_fixed: String,
    /// Percentage fee of the sell amount.
    #[graphql(default_with = "String::from(\"0\")")]
    pub fee_percent: String,
    /// Fees by sell amount: from each tier's minAmount up, its fees replace the flat ones.
    #[graphql(default)]
    pub fee_tiers: Vec<FeeTierInput>,
    /// Whether it is quoted.
    #[graphql(default = true)]
    pub enabled: bool,
    /// The most of the buy asset its unexpired firm quotes may promise at once (SEP-38:
    /// a firm quote's amount is held in reserve until it expires); null: no limit.
    pub max_outstanding_amount: Option<String>,
}

fn decimal(field: &str, v: &str) -> Result<Decimal> {
    v.trim().parse::<Decimal>().map_err(|_| invalid(format!("{field}: {v:?} is not a decimal")))
}

fn rate_source(input: &CorridorInput) -> Result<RateSource> {
    match (&input.rate, &input.rate_feed_url) {
        (Some(rate), None) => Ok(RateSource::Manual {
            rate: decimal("rate", rate)?,
            as_of: input.rate_as_of.unwrap_or_else(Utc::now),
        }),
        (None, Some(url)) => Ok(RateSource::Feed { url: url.clone() }),
        _ => Err(invalid("give rate or rateFeedUrl, one of them")),
    }
}

#[derive(Default)]
pub struct QuotesMutation;

#[Object]
impl QuotesMutation {
    /// Creates or updates (by code) a currency the tenant pays out off-chain.
    async fn set_offchain_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "The currency.")] input: OffchainAssetInput,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let new = NewOffchainAsset {
            code: input.code,
            decimals: input.decimals,
            country_codes: input.country_codes,
            delivery_methods: input
                .delivery_methods
                .into_iter()
                .map(|m| DeliveryMethod { name: m.name, description: m.description })
                .collect(),
        };
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::set_offchain_asset(db, id, new).await
        })
        .await
    }

    /// Removes an off-chain currency (refused while a corridor pays it out); returns
    /// whether there was one.
    async fn remove_offchain_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "ISO 4217 code.")] code: String,
    ) -> Result<bool> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let removed =
            configure(ctx, async move |db| admin::remove_offchain_asset(db, id, &code).await).await?;
        Ok(removed)
    }

    /// Creates or replaces (by sell and buy asset) a corridor.
    async fn set_corridor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "The corridor.")] input: CorridorInput,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let new = NewCorridor {
            rate: rate_source(&input)?,
            max_rate_age_secs: input.max_rate_age_secs,
            spread_bps: input.spread_bps,
            quote_lifetime_secs: input.quote_lifetime_secs,
            min_sell: input.min_amount.as_deref().map(|a| amount("minAmount", a)).transpose()?,
            max_sell: input.max_amount.as_deref().map(|a| amount("maxAmount", a)).transpose()?,
            fee_fixed: amount("feeFixed", &input.fee_fixed)?,
            fee_percent: amount("feePercent", &input.fee_percent)?,
            fee_tiers: fee_tiers(&input.fee_tiers)?,
            enabled: input.enabled,
            max_outstanding: input
                .max_outstanding_amount
                .as_deref()
                .map(|a| amount("maxOutstandingAmount", a))
                .transpose()?,
            sell_asset: input.sell_asset,
            buy_asset: input.buy_asset,
        };
        let policy = scope::url_policy(ctx, id)?;
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::set_corridor(db, id, new, policy).await
        })
        .await
    }

    /// Removes a corridor; returns whether there was one. Quotes already given stay
    /// valid until they expire.
    async fn remove_corridor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Corridor id.")] corridor_id: ID,
    ) -> Result<bool> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let corridor = scope::parse_id(&corridor_id, "corridor")?;
        let removed = configure(ctx, async move |db| admin::remove_corridor(db, id, corridor).await).await?;
        Ok(removed)
    }

    /// Sets a corridor's manual rate (units of the buy asset per unit of the sell asset);
    /// a corridor on a feed switches to it.
    async fn set_corridor_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Corridor id.")] corridor_id: ID,
        #[graphql(desc = "The market rate, a decimal string.")] rate: String,
        #[graphql(desc = "When it was true (default: now).")] as_of: Option<DateTime<Utc>>,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let corridor = scope::parse_id(&corridor_id, "corridor")?;
        let rate = decimal("rate", &rate)?;
        let as_of = as_of.unwrap_or_else(Utc::now);
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::set_corridor_rate(db, id, corridor, rate, as_of).await
        })
        .await
    }

    /// What happens to a payment that arrives after its quote expired (default HOLD).
    async fn set_expired_quote_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "The policy.")] policy: ExpiredQuotePolicy,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::set_expired_quote_policy(db, id, policy.into()).await
        })
        .await
    }

    /// Releases a payout held for review (a payment after its quote expired): the quote
    /// is honoured after all. To return the funds instead, use refundTransaction.
    async fn release_held_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
    ) -> Result<TransactionObj> {
        let id = scope::parse_id(&id, "transaction")?;
        let actor = super::transactions::actor(ctx);
        let t = transactions::release_hold(super::writer(ctx), scope::key_scope(ctx)?, id, &actor)
            .await
            .map_err(from_anchor)?;
        Ok(t.into())
    }
}
