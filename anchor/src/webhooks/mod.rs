//! Tenant webhooks: events about a tenant's own business (a transaction created or
//! moved, a payment nobody's memo matched, a customer updated), delivered to the
//! endpoints the tenant registered, signed per the Standard Webhooks spec.
//!
//! An event is written as one outbox row per subscribed endpoint in the same database
//! transaction as the change it reports, so it is delivered if and only if the change
//! committed; the outbox worker retries it for more than a day. The signing secret is
//! shown once, stored encrypted under the master key (bound to its endpoint), and on
//! rotation the previous one keeps signing too until the overlap ends.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::{outbox, webhook_endpoint};
use mooring_wire::webhook::Envelope;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;
use uuid::Uuid;

pub use outbox::Model as Delivery;
pub use webhook_endpoint::Model as Endpoint;

/// What a tenant can subscribe to (the payload types are in `mooring_wire::webhook`).
pub use mooring_wire::webhook::EventType;

mod deliveries;
mod endpoints;
mod secrets;

use deliveries::give_up_pending;
pub use deliveries::{deliveries, record_outcome, redeliver, send_test};
pub use endpoints::{Changes, MAX_ENDPOINTS, WithSecret, create, delete, find, list, update};
use secrets::new_secret;
pub use secrets::{rotate, signing_secrets};

/// An endpoint's subscription: the event types it wants (empty: all).
pub fn event_types(e: &Endpoint) -> Vec<String> {
    serde_json::from_str(&e.event_types).unwrap_or_default()
}

fn subscribed(e: &Endpoint, event: EventType) -> bool {
    let wanted = event_types(e);
    event == EventType::Test || wanted.is_empty() || wanted.iter().any(|w| w == event.as_str())
}

/// Which of `tenants` have an enabled endpoint (a batch of payments skips `emit` for
/// the others).
pub async fn tenants_with_endpoints(
    db: &impl ConnectionTrait,
    tenants: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, sea_orm::DbErr> {
    let mut hooked = std::collections::HashSet::new();
    for chunk in tenants.chunks(500) {
        let rows: Vec<Uuid> = webhook_endpoint::Entity::find()
            .select_only()
            .column(webhook_endpoint::Column::TenantId)
            .filter(webhook_endpoint::Column::TenantId.is_in(chunk.iter().copied()))
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        hooked.extend(rows);
    }
    Ok(hooked)
}

/// Writes `event` for every enabled endpoint of the tenant subscribed to it, in the
/// caller's transaction. `data` is built only if some endpoint wants it.
pub async fn emit<D>(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    event: EventType,
    subject_id: Uuid,
    data: impl FnOnce() -> D,
) -> Result<(), sea_orm::DbErr>
where
    D: Serialize,
{
    let endpoints: Vec<Endpoint> = webhook_endpoint::Entity::of_tenant(tenant_id)
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(db)
        .await?;
    let endpoints: Vec<&Endpoint> = endpoints.iter().filter(|e| subscribed(e, event)).collect();
    if endpoints.is_empty() {
        return Ok(());
    }
    let body = crate::outbox::to_json(&Envelope { event, timestamp: Utc::now(), data: data() })?;
    for e in endpoints {
        enqueue(db, e, event, subject_id, &body).await?;
    }
    Ok(())
}

async fn enqueue(
    db: &impl ConnectionTrait,
    e: &Endpoint,
    event: EventType,
    subject_id: Uuid,
    body: &str,
) -> Result<Delivery, sea_orm::DbErr> {
    // Events about one subject reach one endpoint in order; other endpoints (and the
    // sending anchors' callbacks about the same subject) do not wait for it.
    let subject = Uuid::new_v5(&e.id, subject_id.as_bytes());
    let mut row = crate::outbox::row(e.tenant_id, outbox::Kind::Webhook, subject, &e.url, body.to_string());
    row.endpoint_id = Set(Some(e.id));
    row.event_type = Set(Some(event.as_str().to_string()));
    row.insert(db).await
}
