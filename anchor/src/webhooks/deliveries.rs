//! The delivery log: what an endpoint was sent, redelivery, the test event, and turning
//! off an endpoint that keeps failing.

use chrono::{DateTime, Duration, Utc};
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{outbox, webhook_endpoint};
use mooring_wire::webhook::{Envelope, TestEvent};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{AnchorError, AnchorResult};

use super::{Delivery, EventType, enqueue, find};

pub(super) async fn give_up_pending(
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
    let mut q = outbox::Entity::of_tenant(tenant_id).filter(outbox::Column::EndpointId.eq(endpoint_id));
    if let Some(before) = before {
        q = q.filter(outbox::Column::CreatedAt.lt(before));
    }
    Ok(q.order_by_desc(outbox::Column::CreatedAt).limit(limit).all(db).await?)
}

/// Sends a delivery again (same webhook id, so a receiver that has it can tell), from
/// now, with a fresh retry budget.
pub async fn redeliver(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    delivery_id: Uuid,
) -> AnchorResult<Delivery> {
    let w = w.into();
    let row = outbox::Entity::of_tenant(tenant_id)
        .filter(outbox::Column::Id.eq(delivery_id))
        .filter(outbox::Column::Kind.eq(outbox::Kind::Webhook))
        .one(w.db)
        .await?
        .ok_or_else(|| AnchorError::NotFound("webhook delivery not found".into()))?;
    let endpoint = find(w.db, tenant_id, row.endpoint_id.unwrap_or_default()).await?;
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
    let txn = w.begin().await?;
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// A `webhook.test` event to one endpoint.
pub async fn send_test(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    endpoint_id: Uuid,
) -> AnchorResult<Delivery> {
    let w = w.into();
    let endpoint = find(w.db, tenant_id, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(AnchorError::WrongState("the endpoint is disabled; enable it first".into()));
    }
    let body = crate::outbox::to_json(&Envelope {
        event: EventType::Test,
        timestamp: Utc::now(),
        data: TestEvent { endpoint_id: endpoint.id, tenant_id },
    })?;
    let txn = w.begin().await?;
    let delivery = enqueue(&txn, &endpoint, EventType::Test, Uuid::new_v4(), &body).await?;
    txn.commit().await?;
    Ok(delivery)
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
