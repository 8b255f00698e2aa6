//! Writes to tenant configuration. Every write runs in one database transaction that
//! also bumps `config_state.version`, which is how every replica learns that its cache
//! is stale: nothing half-written, nothing missed.

mod assets;
mod customer_types;
mod domains;
mod fee_tiers;
mod offboard;
mod promote;
mod quotes;
mod senders;
mod tenant_settings;

use mooring_entities::{Writer, approved_sender, config_state, tenant};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::Error;

pub use approved_sender::Model as Sender;
pub use assets::{NewAsset, NewAssetField, add_asset, remove_asset, upsert_asset};
pub use customer_types::{
    NewCustomerField, NewCustomerType, add_customer_type, remove_customer_type, set_customer_type,
};
pub use domains::{add_domain, remove_domain, tenant_for_domain};
pub use offboard::delete_tenant;
pub use promote::{Promoted, Promotion, promote_to_public};
pub use quotes::{
    NewCorridor, NewOffchainAsset, remove_corridor, remove_offchain_asset, set_corridor, set_corridor_rate,
    set_expired_quote_policy, set_offchain_asset,
};
pub use senders::{approve_sender, remove_sender, senders, set_sender_enabled};
pub use tenant_settings::{
    NewTenant, Settings, create_tenant, rotate_signing_key, set_conformance_mode, set_horizon_url,
    set_rate_limit, set_rpc_url, set_status, update_settings,
};

/// Runs `write` (a change to `tenant_id`'s configuration) in one write transaction that
/// also bumps the config version and stamps the tenant with it, so every replica learns
/// that this tenant, and only this one, changed; nothing is written if `write` fails.
async fn config_write<T>(
    w: Writer<'_>,
    tenant_id: Uuid,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, Error>,
) -> Result<T, Error> {
    let txn = w.begin().await?;
    // An offboarded tenant is never configured again (nor brought back).
    let status: Option<tenant::Status> = tenant::Entity::find_by_id(tenant_id)
        .select_only()
        .column(tenant::Column::Status)
        .into_tuple()
        .one(&txn)
        .await?;
    if status == Some(tenant::Status::Deleted) {
        return Err(Error::NotFound("tenant".into()));
    }
    let value = write(&txn).await?;
    let version = bump_version(&txn).await?;
    tenant::Entity::update_many()
        .col_expr(tenant::Column::ConfigVersion, Expr::value(version))
        .filter(tenant::Column::Id.eq(tenant_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(value)
}

/// Marks `tenant_id`'s configuration changed in the caller's transaction (the config
/// version moves on and the tenant is stamped with it), for writes outside
/// `tenants::admin` that the snapshot reflects (a webhook endpoint created, enabled or
/// deleted: [`crate::Tenant::has_webhooks`]).
pub async fn mark_changed(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<(), Error> {
    let version = bump_version(db).await?;
    tenant::Entity::update_many()
        .col_expr(tenant::Column::ConfigVersion, Expr::value(version))
        .filter(tenant::Column::Id.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves the config version on and returns the new one. The row stays locked until
/// the caller's transaction ends, so versions commit in the order they are handed out:
/// a replica that sees version V has every change up to V to read.
pub async fn bump_version(db: &impl ConnectionTrait) -> Result<i64, Error> {
    config_state::Entity::update_many()
        .col_expr(config_state::Column::Version, Expr::col(config_state::Column::Version).add(1))
        .filter(config_state::Column::Id.eq(1))
        .exec(db)
        .await?;
    let state = config_state::Entity::find_by_id(1).one(db).await?;
    Ok(state.map_or(0, |s| s.version))
}

#[cfg(test)]
mod tests;
