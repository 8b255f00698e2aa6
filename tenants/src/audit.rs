//! The admin audit log: every GraphQL mutation leaves a row — who, which tenant, which
//! mutation on what, a redacted summary of its arguments, the outcome, the request id.
//! The row is handed to the mutation's writes in its [`Audit`] slot (through a
//! `mooring_entities::Writer`) and rides in the first write transaction, so a committed
//! change always has its record; a mutation that wrote nothing (refused, or failed) is
//! recorded on its own afterwards.

use chrono::{DateTime, Utc};
use mooring_entities::audit_entry;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::Error;
use crate::api_keys::KeyScope;

pub use audit_entry::Model as Entry;
pub use mooring_entities::{Audit, Writer};

/// Who made a request to the admin API.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The platform operator's token (no key id), or an API key.
    pub key: Option<(Uuid, String)>,
    /// The key's roles as stored (none: the operator token).
    pub key_roles: Option<String>,
    pub request_id: String,
}

/// The row for one mutation, before it runs.
pub fn entry(
    actor: &Actor,
    tenant_id: Option<Uuid>,
    mutation: &str,
    target_id: Option<String>,
    summary: String,
) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        id: Set(Uuid::new_v4()),
        at: Set(Utc::now()),
        tenant_id: Set(tenant_id),
        actor: Set(if actor.key.is_some() { "api_key" } else { "operator_token" }.into()),
        key_id: Set(actor.key.as_ref().map(|(id, _)| *id)),
        key_name: Set(actor.key.as_ref().map(|(_, name)| name.clone())),
        key_roles: Set(actor.key_roles.clone()),
        mutation: Set(mutation.to_string()),
        target_id: Set(target_id),
        summary: Set(summary),
        outcome: Set("ok".into()),
        request_id: Set(actor.request_id.clone()),
    }
}

/// After the mutation: the row committed with its change stays as it is (a committed
/// change succeeded); otherwise it is written now, with the outcome.
pub async fn settle(
    db: &DatabaseConnection,
    mut row: audit_entry::ActiveModel,
    ok: bool,
) -> Result<(), Error> {
    let ActiveValue::Set(id) = row.id else { return Ok(()) };
    if audit_entry::Entity::find_by_id(id).one(db).await?.is_some() {
        return Ok(());
    }
    row.outcome = Set(if ok { "ok" } else { "error" }.into());
    audit_entry::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The log `scope` may read, newest first: a tenant its own, the operator all (or one
/// tenant's).
pub async fn list(
    db: &DatabaseConnection,
    scope: KeyScope,
    tenant: Option<Uuid>,
    before: Option<DateTime<Utc>>,
    limit: u64,
) -> Result<Vec<Entry>, Error> {
    let mut q = audit_entry::Entity::find();
    let tenant = match scope {
        KeyScope::Tenant(t) => Some(t),
        KeyScope::Operator => tenant,
    };
    if let Some(t) = tenant {
        q = q.filter(audit_entry::Column::TenantId.eq(t));
    }
    if let Some(before) = before {
        q = q.filter(audit_entry::Column::At.lt(before));
    }
    Ok(q.order_by_desc(audit_entry::Column::At).limit(limit).all(db).await?)
}

/// Deletes rows older than `keep` (retention); returns how many.
pub async fn purge(db: &DatabaseConnection, keep: chrono::Duration) -> Result<u64, Error> {
    let cutoff = Utc::now() - keep;
    Ok(audit_entry::Entity::delete_many()
        .filter(audit_entry::Column::At.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
