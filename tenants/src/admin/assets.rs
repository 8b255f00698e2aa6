//! The assets a tenant receives through SEP-31, with their terms and fields.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{asset, asset_field, customer_type};
use mooring_stellar::Amount;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::config_write;
use super::fee_tiers::tiers_json;
use crate::{AssetStatus, Error, MemoType, rules};

pub struct NewAsset {
    pub code: String,
    pub issuer: String,
    pub status: AssetStatus,
    pub min_amount: Option<Amount>,
    pub max_amount: Option<Amount>,
    pub fee_fixed: Amount,
    pub fee_percent: Amount,
    pub memo_type: MemoType,
    pub sender_sep12_type: Option<String>,
    pub receiver_sep12_type: Option<String>,
    pub funding_methods: Vec<String>,
    pub anchor_asset_type: String,
    pub description: String,
    pub display_decimals: i32,
    pub fields: Vec<NewAssetField>,
    /// Fees by amount; empty: flat fees only.
    pub fee_tiers: Vec<crate::FeeTier>,
    /// SEP-31 transactions in it need a SEP-38 quote.
    pub quotes_required: bool,
}

pub struct NewAssetField {
    pub name: String,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Vec<String>>,
}

pub async fn add_asset(w: impl Into<Writer<'_>>, tenant_id: Uuid, new: NewAsset) -> Result<Uuid, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let id = insert_asset(txn, tenant_id, new).await?;
        Ok(id)
    })
    .await
}

async fn insert_asset(txn: &impl ConnectionTrait, tenant_id: Uuid, new: NewAsset) -> Result<Uuid, Error> {
    rules::check_asset(&new)?;
    for ty in [&new.sender_sep12_type, &new.receiver_sep12_type].into_iter().flatten() {
        let exists = customer_type::Entity::of_tenant(tenant_id)
            .filter(customer_type::Column::Name.eq(ty))
            .one(txn)
            .await?
            .is_some();
        if !exists {
            return Err(Error::Invalid(format!("customer type {ty:?} does not exist: create it first")));
        }
    }
    let id = Uuid::new_v4();
    asset::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        code: Set(new.code),
        issuer: Set(new.issuer),
        status: Set(new.status),
        sep31_enabled: Set(true),
        min_amount: Set(new.min_amount.map(|a| a.0)),
        max_amount: Set(new.max_amount.map(|a| a.0)),
        fee_fixed: Set(new.fee_fixed.0),
        fee_percent: Set(new.fee_percent.0),
        memo_type: Set(new.memo_type),
        sender_sep12_type: Set(new.sender_sep12_type),
        receiver_sep12_type: Set(new.receiver_sep12_type),
        funding_methods: Set(new.funding_methods.into()),
        anchor_asset_type: Set(new.anchor_asset_type),
        description: Set(new.description),
        display_decimals: Set(new.display_decimals),
        created_at: Set(Utc::now()),
        fee_tiers: Set(tiers_json(&new.fee_tiers)),
        quotes_required: Set(new.quotes_required),
    }
    .insert(txn)
    .await?;
    for f in new.fields {
        asset_field::ActiveModel {
            id: Set(Uuid::new_v4()),
            asset_id: Set(id),
            name: Set(f.name),
            description: Set(f.description),
            optional: Set(f.optional),
            choices: Set(f.choices.map(Into::into)),
        }
        .insert(txn)
        .await?;
    }
    Ok(id)
}

/// Creates or replaces (by code and issuer) an asset with its transaction fields.
pub async fn upsert_asset(w: impl Into<Writer<'_>>, tenant_id: Uuid, new: NewAsset) -> Result<Uuid, Error> {
    let w = w.into();
    rules::check_asset(&new)?;
    config_write(w, tenant_id, async move |txn| {
        // The replacement happens in the same transaction as the removal it needs.
        let existing = asset::Entity::of_tenant(tenant_id)
            .filter(asset::Column::Code.eq(&new.code))
            .filter(asset::Column::Issuer.eq(&new.issuer))
            .one(txn)
            .await?;
        if let Some(old) = existing {
            asset::Entity::delete_by_id(old.id).exec(txn).await?;
        }
        insert_asset(txn, tenant_id, new).await
    })
    .await
}

/// Removes an asset (by code); `false` if the tenant has none with that code.
pub async fn remove_asset(w: impl Into<Writer<'_>>, tenant_id: Uuid, code: &str) -> Result<bool, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        super::quotes::remove_corridors_selling(txn, tenant_id, code).await?;
        let deleted =
            asset::Entity::delete_of_tenant(tenant_id).filter(asset::Column::Code.eq(code)).exec(txn).await?;
        Ok(deleted.rows_affected > 0)
    })
    .await
}
