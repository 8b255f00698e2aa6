//! Approved sending anchors: the only accounts SEP-10 authenticates.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::approved_sender;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Sender, config_write};
use crate::{Error, rules};

/// A tenant's first `limit` approved sending anchors, enabled or not, oldest first.
pub async fn senders(db: &DatabaseConnection, tenant_id: Uuid, limit: u64) -> Result<Vec<Sender>, Error> {
    Ok(approved_sender::Entity::of_tenant(tenant_id)
        .order_by_asc(approved_sender::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Adds an approved sending anchor, or re-enables it. Idempotent.
pub async fn approve_sender(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    account: &str,
    name: &str,
) -> Result<(), Error> {
    let w = w.into();
    rules::check_account(account, "sending anchor account")?;
    config_write(w, tenant_id, async move |txn| {
        let existing = approved_sender::Entity::of_tenant(tenant_id)
            .filter(approved_sender::Column::Account.eq(account))
            .one(txn)
            .await?;
        match existing {
            Some(row) if row.enabled => {}
            Some(row) => {
                let mut row: approved_sender::ActiveModel = row.into();
                row.enabled = Set(true);
                row.update(txn).await?;
            }
            None => {
                approved_sender::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    tenant_id: Set(tenant_id),
                    account: Set(account.to_string()),
                    name: Set(name.to_string()),
                    enabled: Set(true),
                    created_at: Set(Utc::now()),
                }
                .insert(txn)
                .await?;
            }
        }
        Ok(())
    })
    .await
}

pub async fn set_sender_enabled(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    account: &str,
    enabled: bool,
) -> Result<(), Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let updated = approved_sender::Entity::update_many()
            .col_expr(approved_sender::Column::Enabled, Expr::value(enabled))
            .filter(approved_sender::Column::TenantId.eq(tenant_id))
            .filter(approved_sender::Column::Account.eq(account))
            .exec(txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(Error::NotFound(format!("sender {account}")));
        }
        Ok(())
    })
    .await
}

/// Removes an approved sending anchor: it can no longer obtain SEP-10 tokens.
pub async fn remove_sender(w: impl Into<Writer<'_>>, tenant_id: Uuid, account: &str) -> Result<bool, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let deleted = approved_sender::Entity::delete_of_tenant(tenant_id)
            .filter(approved_sender::Column::Account.eq(account))
            .exec(txn)
            .await?
            .rows_affected;
        Ok(deleted > 0)
    })
    .await
}
