//! SEP-38 configuration: the currencies a tenant pays out, its corridors with their
//! rate source, spread, lifetime, limits and fee, and what happens to a payment that
//! arrives after its quote expired.

use chrono::{DateTime, Utc};
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{asset, corridor, offchain_asset, tenant};
use mooring_stellar::Amount;
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::config_write;
use super::fee_tiers::tiers_json;
use crate::{DeliveryMethod, Error, ExpiredQuotePolicy, FeeTier, RateSource, rules};

pub struct NewOffchainAsset {
    /// ISO 4217, e.g. `MXN`.
    pub code: String,
    pub decimals: u32,
    /// ISO 3166-1 alpha-2.
    pub country_codes: Vec<String>,
    pub delivery_methods: Vec<DeliveryMethod>,
}

/// Creates or updates (by code) an off-chain currency.
pub async fn set_offchain_asset(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    new: NewOffchainAsset,
) -> Result<Uuid, Error> {
    let w = w.into();
    rules::check_offchain_asset(&new)?;
    config_write(w, tenant_id, async move |txn| {
        let methods: Vec<_> = new
            .delivery_methods
            .iter()
            .map(|m| json!({ "name": m.name, "description": m.description }))
            .collect();
        let existing = offchain_asset::Entity::of_tenant(tenant_id)
            .filter(offchain_asset::Column::Code.eq(&new.code))
            .one(txn)
            .await?;
        let is_new = existing.is_none();
        let mut row = match existing {
            Some(row) => offchain_asset::ActiveModel::from(row),
            None => offchain_asset::ActiveModel {
                id: Set(Uuid::new_v4()),
                tenant_id: Set(tenant_id),
                code: Set(new.code.clone()),
                created_at: Set(Utc::now()),
                ..Default::default()
            },
        };
        row.decimals = Set(i32::try_from(new.decimals).unwrap_or(7));
        row.country_codes = Set(json!(new.country_codes));
        row.delivery_methods = Set(json!(methods));
        // `save` would take a row whose id is set for an update.
        let row = if is_new { row.insert(txn).await? } else { row.update(txn).await? };
        Ok(row.id)
    })
    .await
}

/// Removes an off-chain currency; refused while a corridor pays it out.
pub async fn remove_offchain_asset(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    code: &str,
) -> Result<bool, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let used = corridor::Entity::of_tenant(tenant_id)
            .filter(corridor::Column::BuyAsset.eq(format!("iso4217:{code}")))
            .one(txn)
            .await?;
        if used.is_some() {
            return Err(Error::WrongState(format!("a corridor pays out {code}: remove it first")));
        }
        let deleted = offchain_asset::Entity::delete_of_tenant(tenant_id)
            .filter(offchain_asset::Column::Code.eq(code))
            .exec(txn)
            .await?;
        Ok(deleted.rows_affected > 0)
    })
    .await
}

pub struct NewCorridor {
    /// `stellar:CODE:ISSUER`: one of the tenant's SEP-31 assets.
    pub sell_asset: String,
    /// `iso4217:CCY`: one of the tenant's off-chain currencies.
    pub buy_asset: String,
    pub rate: RateSource,
    pub max_rate_age_secs: Option<i64>,
    pub spread_bps: u32,
    pub quote_lifetime_secs: i64,
    pub min_sell: Option<Amount>,
    pub max_sell: Option<Amount>,
    pub fee_fixed: Amount,
    pub fee_percent: Amount,
    pub fee_tiers: Vec<FeeTier>,
    pub enabled: bool,
    /// The most of the buy asset unexpired firm quotes may promise at once.
    pub max_outstanding: Option<Amount>,
}

fn rate_columns(row: &mut corridor::ActiveModel, rate: &RateSource) {
    match rate {
        RateSource::Manual { rate, as_of } => {
            row.rate = Set(Some(rate.normalize().to_string()));
            row.rate_as_of = Set(Some(*as_of));
            row.rate_feed_url = Set(None);
        }
        RateSource::Feed { url } => {
            row.rate = Set(None);
            row.rate_as_of = Set(None);
            row.rate_feed_url = Set(Some(url.clone()));
        }
    }
}

/// Creates or replaces (by sell and buy asset) a corridor; both assets must be the
/// tenant's.
/// `policy`: which feed URLs the platform may call for this tenant.
pub async fn set_corridor(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    new: NewCorridor,
    policy: crate::public_net::UrlPolicy,
) -> Result<Uuid, Error> {
    let w = w.into();
    rules::check_corridor(&new, policy)?;
    let sell: mooring_stellar::sep38::Asset =
        new.sell_asset.parse().map_err(|e: mooring_stellar::Error| Error::Invalid(e.to_string()))?;
    let buy: mooring_stellar::sep38::Asset =
        new.buy_asset.parse().map_err(|e: mooring_stellar::Error| Error::Invalid(e.to_string()))?;
    config_write(w, tenant_id, async move |txn| {
        let mooring_stellar::sep38::Asset::Stellar { code, issuer } = &sell else {
            return Err(Error::Invalid(
                "the sell asset must be a Stellar asset (stellar:CODE:ISSUER)".into(),
            ));
        };
        let mooring_stellar::sep38::Asset::Iso4217(currency) = &buy else {
            return Err(Error::Invalid("the buy asset must be an off-chain currency (iso4217:CCY)".into()));
        };
        let sold = asset::Entity::of_tenant(tenant_id)
            .filter(asset::Column::Code.eq(code))
            .filter(asset::Column::Issuer.eq(issuer))
            .one(txn)
            .await?;
        if sold.is_none() {
            return Err(Error::Invalid(format!("{sell} is not one of this tenant's assets: add it first")));
        }
        let bought = offchain_asset::Entity::of_tenant(tenant_id)
            .filter(offchain_asset::Column::Code.eq(currency))
            .one(txn)
            .await?;
        if bought.is_none() {
            return Err(Error::Invalid(format!(
                "{buy} is not one of this tenant's off-chain assets: add it first"
            )));
        }
        let existing = corridor::Entity::of_tenant(tenant_id)
            .filter(corridor::Column::SellAsset.eq(sell.to_string()))
            .filter(corridor::Column::BuyAsset.eq(buy.to_string()))
            .one(txn)
            .await?;
        let now = Utc::now();
        let is_new = existing.is_none();
        let mut row = match existing {
            Some(row) => corridor::ActiveModel::from(row),
            None => corridor::ActiveModel {
                id: Set(Uuid::new_v4()),
                tenant_id: Set(tenant_id),
                sell_asset: Set(sell.to_string()),
                buy_asset: Set(buy.to_string()),
                created_at: Set(now),
                ..Default::default()
            },
        };
        rate_columns(&mut row, &new.rate);
        row.max_rate_age_secs = Set(new.max_rate_age_secs);
        row.spread_bps = Set(i32::try_from(new.spread_bps).unwrap_or(i32::MAX));
        row.quote_lifetime_secs = Set(new.quote_lifetime_secs);
        row.min_sell = Set(new.min_sell.map(|a| a.0));
        row.max_sell = Set(new.max_sell.map(|a| a.0));
        row.fee_fixed = Set(new.fee_fixed.0);
        row.fee_percent = Set(new.fee_percent.0);
        row.fee_tiers = Set(tiers_json(&new.fee_tiers));
        row.enabled = Set(new.enabled);
        row.max_outstanding = Set(new.max_outstanding.map(|a| a.0));
        row.updated_at = Set(now);
        let row = if is_new { row.insert(txn).await? } else { row.update(txn).await? };
        Ok(row.id)
    })
    .await
}

pub async fn remove_corridor(w: impl Into<Writer<'_>>, tenant_id: Uuid, id: Uuid) -> Result<bool, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let deleted = corridor::Entity::delete_of_tenant(tenant_id)
            .filter(corridor::Column::Id.eq(id))
            .exec(txn)
            .await?;
        Ok(deleted.rows_affected > 0)
    })
    .await
}

/// Sets a corridor's manual rate (units of the buy asset per unit of the sell asset),
/// true as of `as_of`; a corridor on a feed switches to this manual rate.
pub async fn set_corridor_rate(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    id: Uuid,
    rate: Decimal,
    as_of: DateTime<Utc>,
) -> Result<(), Error> {
    let w = w.into();
    rules::check_rate(&rate)?;
    if as_of > Utc::now() + chrono::Duration::minutes(5) {
        return Err(Error::Invalid("as_of is in the future".into()));
    }
    config_write(w, tenant_id, async move |txn| {
        let row = corridor::Entity::of_tenant(tenant_id)
            .filter(corridor::Column::Id.eq(id))
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound("corridor".into()))?;
        let mut row = corridor::ActiveModel::from(row);
        rate_columns(&mut row, &RateSource::Manual { rate, as_of });
        row.updated_at = Set(Utc::now());
        row.update(txn).await?;
        Ok(())
    })
    .await
}

pub async fn set_expired_quote_policy(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    policy: ExpiredQuotePolicy,
) -> Result<(), Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let updated = tenant::Entity::update_many()
            .col_expr(tenant::Column::ExpiredQuotePolicy, Expr::value(policy))
            .col_expr(tenant::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(tenant::Column::Id.eq(tenant_id))
            .exec(txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(Error::NotFound("tenant".into()));
        }
        Ok(())
    })
    .await
}

/// Corridors selling a Stellar asset that is being removed go with it.
pub(super) async fn remove_corridors_selling(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    code: &str,
) -> Result<(), Error> {
    corridor::Entity::delete_of_tenant(tenant_id)
        .filter(corridor::Column::SellAsset.starts_with(format!("stellar:{code}:")))
        .exec(txn)
        .await?;
    Ok(())
}
