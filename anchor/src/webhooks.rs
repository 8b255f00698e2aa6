//! Tenant webhooks: events about a tenant's own business (a transaction created or
//! moved, a payment nobody's memo matched, a customer updated), delivered to the
//! endpoints the tenant registered, signed per the Standard Webhooks spec.
//!
//! An event is written as one outbox row per subscribed endpoint in the same database
//! transaction as the change it reports, so it is delivered if and only if the change
//! committed; the outbox worker retries it for more than a day. The signing secret is
//! shown once, stored encrypted under the master key (bound to its endpoint), and on
//! rotation the previous one keeps signing too until the overlap ends.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use mooring_entities::{outbox, webhook_endpoint};
use mooring_tenants::MasterKey;
use mooring_tenants::crypto::WEBHOOK_SECRET_PURPOSE as SECRET_PURPOSE;
use mooring_tenants::public_net::UrlPolicy;
use mooring_wire::webhook::{Envelope, TestEvent};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{AnchorError, AnchorResult};

pub use outbox::Model as Delivery;
pub use webhook_endpoint::Model as Endpoint;

/// What a tenant can subscribe to (the payload types are in `mooring_wire::webhook`).
pub use mooring_wire::webhook::EventType;

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
    use sea_orm::QuerySelect;
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
    let endpoints: Vec<Endpoint> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
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

/// A new endpoint's (or a rotation's) secret, shown once: `whsec_` + base64.
pub struct WithSecret {
    pub endpoint: Endpoint,
    pub secret: String,
}

fn new_secret(key: &MasterKey, endpoint_id: Uuid) -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("operating system random source");
    (format!("whsec_{}", B64.encode(bytes)), key.seal(SECRET_PURPOSE, endpoint_id, &bytes))
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

/// Most endpoints one tenant may register.
pub const MAX_ENDPOINTS: u64 = 20;

pub async fn create(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant_id: Uuid,
    url: &str,
    types: &[String],
    policy: UrlPolicy,
) -> AnchorResult<WithSecret> {
    let url = check_url(url, policy)?;
    let types = check_types(types)?;
    let count = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
        .count(db)
        .await?;
    if count >= MAX_ENDPOINTS {
        return Err(AnchorError::invalid(format!("at most {MAX_ENDPOINTS} webhook endpoints per tenant")));
    }
    let id = Uuid::new_v4();
    let (secret, sealed) = new_secret(key, id);
    let now = Utc::now();
    // A transaction, so the admin API's audit row commits with the change.
    let txn = mooring_entities::begin_write(db).await?;
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
    txn.commit().await?;
    Ok(WithSecret { endpoint, secret })
}

pub async fn find(db: &impl ConnectionTrait, tenant_id: Uuid, id: Uuid) -> AnchorResult<Endpoint> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or_else(|| AnchorError::NotFound("webhook endpoint not found".into()))
}

pub async fn list(db: &DatabaseConnection, tenant_id: Uuid) -> AnchorResult<Vec<Endpoint>> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
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
    db: &DatabaseConnection,
    tenant_id: Uuid,
    id: Uuid,
    c: Changes,
    policy: UrlPolicy,
) -> AnchorResult<Endpoint> {
    let current = find(db, tenant_id, id).await?;
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
    let txn = mooring_entities::begin_write(db).await?;
    let updated = row.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A new secret; the current one keeps signing (beside it) for `overlap`.
pub async fn rotate(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant_id: Uuid,
    id: Uuid,
    overlap: Duration,
) -> AnchorResult<WithSecret> {
    if overlap < Duration::zero() || overlap > Duration::days(7) {
        return Err(AnchorError::invalid("the overlap must be between 0 and 7 days"));
    }
    let current = find(db, tenant_id, id).await?;
    let (secret, sealed) = new_secret(key, id);
    let previous = current.secret.clone();
    let mut row: webhook_endpoint::ActiveModel = current.into();
    row.secret = Set(sealed);
    row.previous_secret = Set((overlap > Duration::zero()).then_some(previous));
    row.previous_until = Set((overlap > Duration::zero()).then(|| Utc::now() + overlap));
    row.updated_at = Set(Utc::now());
    let txn = mooring_entities::begin_write(db).await?;
    let endpoint = row.update(&txn).await?;
    txn.commit().await?;
    Ok(WithSecret { endpoint, secret })
}

/// Removes an endpoint; what it had not received yet is given up.
pub async fn delete(db: &DatabaseConnection, tenant_id: Uuid, id: Uuid) -> AnchorResult<bool> {
    let txn = mooring_entities::begin_write(db).await?;
    give_up_pending(&txn, id, "the endpoint was deleted").await?;
    let deleted = webhook_endpoint::Entity::delete_many()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .filter(webhook_endpoint::Column::TenantId.eq(tenant_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected == 1)
}

async fn give_up_pending(
    db: &impl ConnectionTrait,
    endpoint_id: Uuid,
    why: &str,
) -> Result<(), sea_orm::DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::FailedAt, Expr::value(Utc::now()))
        .col_expr(outbox::Column::LastError, Expr::value(why))
        .filter(outbox::Column::EndpointId.eq(endpoint_id))
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The endpoint's deliveries, newest first, before `before` (a delivery's creation).
pub async fn deliveries(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    endpoint_id: Uuid,
    before: Option<DateTime<Utc>>,
    limit: u64,
) -> AnchorResult<Vec<Delivery>> {
    find(db, tenant_id, endpoint_id).await?;
    let mut q = outbox::Entity::find()
        .filter(outbox::Column::TenantId.eq(tenant_id))
        .filter(outbox::Column::EndpointId.eq(endpoint_id));
    if let Some(before) = before {
        q = q.filter(outbox::Column::CreatedAt.lt(before));
    }
    Ok(q.order_by_desc(outbox::Column::CreatedAt).limit(limit).all(db).await?)
}

/// Sends a delivery again (same webhook id, so a receiver that has it can tell), from
/// now, with a fresh retry budget.
pub async fn redeliver(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    delivery_id: Uuid,
) -> AnchorResult<Delivery> {
    let row = outbox::Entity::find_by_id(delivery_id)
        .filter(outbox::Column::TenantId.eq(tenant_id))
        .filter(outbox::Column::Kind.eq(outbox::Kind::Webhook))
        .one(db)
        .await?
        .ok_or_else(|| AnchorError::NotFound("webhook delivery not found".into()))?;
    let endpoint = find(db, tenant_id, row.endpoint_id.unwrap_or_default()).await?;
    if !endpoint.enabled {
        return Err(AnchorError::WrongState("the endpoint is disabled; enable it first".into()));
    }
    let mut active: outbox::ActiveModel = row.into();
    active.attempts = Set(0);
    active.delivered_at = Set(None);
    active.failed_at = Set(None);
    active.claim_token = Set(None);
    active.next_attempt_at = Set(Utc::now());
    active.url = Set(endpoint.url);
    let txn = mooring_entities::begin_write(db).await?;
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// A `webhook.test` event to one endpoint.
pub async fn send_test(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    endpoint_id: Uuid,
) -> AnchorResult<Delivery> {
    let endpoint = find(db, tenant_id, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(AnchorError::WrongState("the endpoint is disabled; enable it first".into()));
    }
    let body = crate::outbox::to_json(&Envelope {
        event: EventType::Test,
        timestamp: Utc::now(),
        data: TestEvent { endpoint_id: endpoint.id, tenant_id },
    })?;
    let txn = mooring_entities::begin_write(db).await?;
    let delivery = enqueue(&txn, &endpoint, EventType::Test, Uuid::new_v4(), &body).await?;
    txn.commit().await?;
    Ok(delivery)
}

/// What signs a delivery to `endpoint_id` now: its secret, then the previous one while
/// the rotation overlap lasts. `None`: the endpoint is gone.
pub async fn signing_secrets(
    db: &DatabaseConnection,
    key: &MasterKey,
    endpoint_id: Uuid,
) -> AnchorResult<Option<(Endpoint, Vec<[u8; 32]>)>> {
    let Some(e) = webhook_endpoint::Entity::find_by_id(endpoint_id).one(db).await? else { return Ok(None) };
    let open = |sealed: &str| {
        key.open(SECRET_PURPOSE, e.id, sealed)
            .map_err(|_| AnchorError::invalid("a webhook secret cannot be decrypted"))
    };
    let mut secrets = vec![open(&e.secret)?];
    if let (Some(previous), Some(until)) = (&e.previous_secret, e.previous_until)
        && until > Utc::now()
    {
        secrets.push(open(previous)?);
    }
    Ok(Some((e, secrets)))
}

/// Records how a delivery to the endpoint went. An endpoint failing without a single
/// success for `disable_after` is turned off, with the reason, and what it had not
/// received is given up (the tenant can redeliver once it is back).
pub async fn record_outcome(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    ok: bool,
    why: &str,
    disable_after: Duration,
) -> AnchorResult<bool> {
    let now = Utc::now();
    if ok {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(webhook_endpoint::Column::Id.eq(endpoint_id))
            .filter(webhook_endpoint::Column::FailingSince.is_not_null())
            .exec(db)
            .await?;
        return Ok(false);
    }
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint_id))
        .filter(webhook_endpoint::Column::FailingSince.is_null())
        .exec(db)
        .await?;
    let txn = mooring_entities::begin_write(db).await?;
    let reason = format!("disabled after failing for {} s; last error: {why}", disable_after.num_seconds());
    let disabled = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason.chars().take(500).collect::<String>()),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint_id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(webhook_endpoint::Column::FailingSince.lte(now - disable_after))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if disabled {
        give_up_pending(&txn, endpoint_id, "the endpoint was disabled").await?;
    }
    txn.commit().await?;
    Ok(disabled)
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
