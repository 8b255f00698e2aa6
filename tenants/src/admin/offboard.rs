//! Offboarding: a suspended tenant is deleted for good. In one transaction: its data
//! key is destroyed (its customers' PII is unreadable from that moment: crypto-
//! shredding), its signing seed wiped, its domains and distribution account freed, its
//! API keys revoked, its webhook endpoints and undelivered callbacks stopped; the config
//! bump takes it out of every replica's snapshot (SEP endpoints answer 404, watchers
//! stop). Its rows are then deleted in the background (`mooring_anchor::offboarding`).

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{api_key, outbox, tenant, tenant_domain, webhook_endpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::config_write;
use crate::{Error, TenantStatus};

/// Deletes `tenant_id`, which must be suspended; `confirm` must repeat its primary
/// domain (the first one added), so a wrong id in a script deletes nothing.
pub async fn delete_tenant(w: impl Into<Writer<'_>>, tenant_id: Uuid, confirm: &str) -> Result<(), Error> {
    let w = w.into();
    config_write(w, tenant_id, async |txn| {
        let t = tenant::Entity::find_by_id(tenant_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound("tenant".into()))?;
        if t.status != TenantStatus::Suspended {
            return Err(Error::WrongState("suspend the tenant before deleting it".into()));
        }
        let primary = tenant_domain::Entity::of_tenant(tenant_id)
            .order_by_asc(tenant_domain::Column::CreatedAt)
            .order_by_asc(tenant_domain::Column::Domain)
            .one(txn)
            .await?
            .map(|d| d.domain)
            .unwrap_or_default();
        if confirm.trim().to_ascii_lowercase() != primary {
            return Err(Error::Invalid("to confirm, repeat the tenant's primary domain".into()));
        }
        let now = Utc::now();
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Status, Expr::value(TenantStatus::Deleted))
            .col_expr(tenant::Column::DataKey, Expr::value(Option::<String>::None))
            .col_expr(tenant::Column::SigningSeedCiphertext, Expr::value(""))
            // Free for another tenant: the unique index is on (network, account).
            .col_expr(tenant::Column::DistributionAccount, Expr::value(format!("deleted:{tenant_id}")))
            .col_expr(tenant::Column::UpdatedAt, Expr::value(now))
            .filter(tenant::Column::Id.eq(tenant_id))
            .exec(txn)
            .await?;
        tenant_domain::Entity::delete_of_tenant(tenant_id).exec(txn).await?;
        api_key::Entity::delete_many().filter(api_key::Column::TenantId.eq(tenant_id)).exec(txn).await?;
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
            .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value("the tenant was deleted"))
            .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
            .exec(txn)
            .await?;
        outbox::Entity::update_many()
            .col_expr(outbox::Column::FailedAt, Expr::value(now))
            .col_expr(outbox::Column::LastError, Expr::value("the tenant was deleted"))
            .filter(outbox::Column::TenantId.eq(tenant_id))
            .filter(outbox::Column::DeliveredAt.is_null())
            .filter(outbox::Column::FailedAt.is_null())
            .exec(txn)
            .await?;
        Ok(())
    })
    .await
}
