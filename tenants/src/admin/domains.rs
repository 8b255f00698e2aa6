//! The domains a tenant answers on.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::tenant_domain;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

use super::config_write;
use crate::{Error, host, rules};

pub(super) async fn insert_domain(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    domain: String,
) -> Result<(), Error> {
    if tenant_domain::Entity::find_by_id(domain.clone()).one(db).await?.is_some() {
        return Err(Error::DomainTaken(domain));
    }
    tenant_domain::ActiveModel {
        domain: Set(domain),
        tenant_id: Set(tenant_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn add_domain(w: impl Into<Writer<'_>>, tenant_id: Uuid, domain: &str) -> Result<(), Error> {
    let w = w.into();
    let domain = rules::check_domain(domain)?;
    config_write(w, tenant_id, async move |txn| {
        insert_domain(txn, tenant_id, domain).await?;
        Ok(())
    })
    .await
}

/// Removes a domain; a tenant keeps at least one.
pub async fn remove_domain(w: impl Into<Writer<'_>>, tenant_id: Uuid, domain: &str) -> Result<(), Error> {
    let w = w.into();
    let domain = host::normalize(domain);
    config_write(w, tenant_id, async move |txn| {
        let owned = tenant_domain::Entity::of_tenant(tenant_id).all(txn).await?;
        if !owned.iter().any(|d| d.domain == domain) {
            return Err(Error::NotFound(format!("domain {domain}")));
        }
        if owned.len() == 1 {
            return Err(Error::Invalid("a tenant keeps at least one domain".into()));
        }
        tenant_domain::Entity::delete_by_id(domain).exec(txn).await?;
        Ok(())
    })
    .await
}

/// The tenant serving `domain`, if any: how the demo seed finds what it made before.
pub async fn tenant_for_domain(db: &DatabaseConnection, domain: &str) -> Result<Option<Uuid>, Error> {
    Ok(tenant_domain::Entity::find_by_id(host::normalize(domain)).one(db).await?.map(|d| d.tenant_id))
}
