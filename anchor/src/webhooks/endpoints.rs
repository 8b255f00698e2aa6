//! A tenant's webhook endpoints: registered (URL fenced, event types checked, at most
//! `MAX_ENDPOINTS`), listed, changed and deleted.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::webhook_endpoint;
use mooring_tenants::MasterKey;
use mooring_tenants::public_net::UrlPolicy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::{AnchorError, AnchorResult};

use super::{Endpoint, EventType, give_up_pending, new_secret};

/// A new endpoint's (or a rotation's) secret, shown once: `whsec_` + base64.
pub struct WithSecret {
    pub endpoint: Endpoint,
    pub secret: String,
}
fn check_types(types: &[String]) -> AnchorResult<String> {
    for t in types {
        if EventType::parse(t).is_none() {
            let known: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect();
            return Err(AnchorError::invalid(format!(
                "unknown event type {t:?}; known: {}",
                known.join(", ")
            )));
        }
    }
    Ok(serde_json::to_string(types).expect("strings serialize"))
}

fn check_url(url: &str, policy: UrlPolicy) -> AnchorResult<String> {
    mooring_tenants::rules::check_tenant_url(url, "webhook URL", policy)
        .map_err(|e| AnchorError::invalid(e.to_string()))
}

/// Tells every replica the tenant's endpoints changed (its snapshot's `has_webhooks`),
/// in the write's own transaction.
async fn mark_changed(txn: &impl ConnectionTrait, tenant_id: Uuid) -> AnchorResult<()> {
    mooring_tenants::admin::mark_changed(txn, tenant_id).await.map_err(|e| match e {
        mooring_tenants::Error::Db(e) => AnchorError::Db(e),
        other => AnchorError::Unavailable(other.to_string()),
    })
}

/// Most endpoints one tenant may register.
pub const MAX_ENDPOINTS: u64 = 20;

pub async fn create(
    w: impl Into<Writer<'_>>,
    key: &MasterKey,
    tenant_id: Uuid,
    url: &str,
    types: &[String],
    policy: UrlPolicy,
) -> AnchorResult<WithSecret> {
    let w = w.into();
    let url = check_url(url, policy)?;
    let types = check_types(types)?;
    let count = webhook_endpoint::Entity::of_tenant(tenant_id).count(w.db).await?;
    if count >= MAX_ENDPOINTS {
        return Err(AnchorError::invalid(format!("at most {MAX_ENDPOINTS} webhook endpoints per tenant")));
    }
    let id = Uuid::new_v4();
    let (secret, sealed) = new_secret(key, id);
    let now = Utc::now();
    // A transaction, so the admin API's audit row commits with the change.
    let txn = w.begin().await?;
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        url: Set(url),
        event_types: Set(types),
        enabled: Set(true),
        secret: Set(sealed),
        previous_secret: Set(None),
        previous_until: Set(None),
        failing_since: Set(None),
        disabled_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    mark_changed(&txn, tenant_id).await?;
    txn.commit().await?;
    Ok(WithSecret { endpoint, secret })
}

pub async fn find(db: &impl ConnectionTrait, tenant_id: Uuid, id: Uuid) -> AnchorResult<Endpoint> {
    webhook_endpoint::Entity::of_tenant(tenant_id)
        .filter(webhook_endpoint::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AnchorError::NotFound("webhook endpoint not found".into()))
}

pub async fn list(db: &DatabaseConnection, tenant_id: Uuid) -> AnchorResult<Vec<Endpoint>> {
    Ok(webhook_endpoint::Entity::of_tenant(tenant_id)
        .order_by_asc(webhook_endpoint::Column::CreatedAt)
        .all(db)
        .await?)
}

/// What an update changes (`None`: unchanged). Enabling clears the platform's reason
/// for disabling.
#[derive(Debug, Default)]
pub struct Changes {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

pub async fn update(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    id: Uuid,
    c: Changes,
    policy: UrlPolicy,
) -> AnchorResult<Endpoint> {
    let w = w.into();
    let current = find(w.db, tenant_id, id).await?;
    let mut row: webhook_endpoint::ActiveModel = current.into();
    if let Some(url) = c.url {
        row.url = Set(check_url(&url, policy)?);
    }
    if let Some(types) = c.event_types {
        row.event_types = Set(check_types(&types)?);
    }
    if let Some(enabled) = c.enabled {
        row.enabled = Set(enabled);
        if enabled {
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
        }
    }
    row.updated_at = Set(Utc::now());
    let txn = w.begin().await?;
    let updated = row.update(&txn).await?;
    mark_changed(&txn, tenant_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Removes an endpoint; what it had not received yet is given up.
pub async fn delete(w: impl Into<Writer<'_>>, tenant_id: Uuid, id: Uuid) -> AnchorResult<bool> {
    let w = w.into();
    let txn = w.begin().await?;
    give_up_pending(&txn, id, "the endpoint was deleted").await?;
    let deleted = webhook_endpoint::Entity::delete_many()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
        .exec(&txn)
        .await?;
    mark_changed(&txn, tenant_id).await?;
    txn.commit().await?;
    Ok(deleted.rows_affected == 1)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_and_unknown_ones_are_refused() {
        for e in EventType::SUBSCRIBABLE {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
        }
        assert_eq!(EventType::parse("webhook.test"), None, "not subscribable");
        assert!(check_types(&["transaction.created".into()]).is_ok());
        assert!(check_types(&["transaction.deleted".into()]).is_err());
    }
}
