//! Callbacks as rows: enqueued in the same database transaction as the change they
//! report, claimed by a worker with a lease, retried with exponential backoff.

use chrono::{DateTime, Duration, Utc};
use mooring_entities::outbox;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

/// After this many failed attempts a callback is given up (and kept for the operator).
pub const MAX_ATTEMPTS: i32 = 12;
/// How long a worker owns a claimed row before another may retry it. Longer than any
/// one send (the HTTP client's timeout), so a claim renewed just before sending holds
/// until the send is over.
pub const LEASE: Duration = Duration::seconds(60);

pub use outbox::Kind;
/// One row: a callback or webhook delivery and its attempts.
pub type Row = outbox::Model;

pub async fn enqueue(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    kind: Kind,
    subject_id: Uuid,
    url: &str,
    body: &impl serde::Serialize,
) -> Result<(), sea_orm::DbErr> {
    row(tenant_id, kind, subject_id, url, to_json(body)?).insert(db).await?;
    Ok(())
}

/// A wire body as the text an outbox row carries (and its signature covers).
pub(crate) fn to_json(body: &impl serde::Serialize) -> Result<String, sea_orm::DbErr> {
    serde_json::to_string(body)
        .map_err(|e| sea_orm::DbErr::Custom(format!("serializing an outbox body: {e}")))
}

/// A new row, due now. Webhook rows also name their endpoint and event type.
pub(crate) fn row(
    tenant_id: Uuid,
    kind: Kind,
    subject_id: Uuid,
    url: &str,
    body: String,
) -> outbox::ActiveModel {
    let now = Utc::now();
    outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(tenant_id),
        kind: Set(kind),
        subject_id: Set(subject_id),
        url: Set(url.to_string()),
        body: Set(body),
        attempts: Set(0),
        next_attempt_at: Set(now),
        delivered_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        claim_token: Set(None),
        endpoint_id: Set(None),
        event_type: Set(None),
        last_status: Set(None),
        last_latency_ms: Set(None),
    }
}

/// A row claimed by one worker: only this claim may send it and record the outcome.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub row: outbox::Model,
    pub token: Uuid,
}

/// Claims up to `limit` due callbacks, soonest due first. A row is claimed by moving
/// its `next_attempt_at` forward by [`LEASE`] and setting a fresh claim token,
/// compare-and-set on the value read, so two replicas never both claim it.
pub async fn claim_due(db: &DatabaseConnection, limit: u64) -> Result<Vec<Claimed>, sea_orm::DbErr> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    // One subject's callbacks go out in the order they were written: a row waits while
    // an older one of the same subject is still pending (delivered or given up frees
    // it), so a sending anchor never sees a status older than the one it has.
    let older = Alias::new("older");
    let pending_older = Query::select()
        .expr(Expr::val(1))
        .from_as(outbox::Entity, older.clone())
        .and_where(
            Expr::col((older.clone(), outbox::Column::SubjectId))
                .equals((outbox::Entity, outbox::Column::SubjectId)),
        )
        .and_where(Expr::col((older.clone(), outbox::Column::DeliveredAt)).is_null())
        .and_where(Expr::col((older.clone(), outbox::Column::FailedAt)).is_null())
        .and_where(
            Expr::col((older, outbox::Column::CreatedAt))
                .lt(Expr::col((outbox::Entity, outbox::Column::CreatedAt))),
        )
        .to_owned();
    let due = outbox::Entity::find()
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(Expr::exists(pending_older).not())
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for row in due {
        let token = Uuid::new_v4();
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + LEASE))
            .col_expr(outbox::Column::ClaimToken, Expr::value(token))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::NextAttemptAt.eq(row.next_attempt_at))
            .filter(outbox::Column::DeliveredAt.is_null())
            .exec(db)
            .await?;
        if result.rows_affected == 1 {
            claimed.push(Claimed { row, token });
        }
    }
    Ok(claimed)
}

/// Renews a claim right before sending: `false` if it expired or was taken over, and
/// then the row must not be sent. A send is bounded by the HTTP timeout, well inside
/// [`LEASE`], so a renewed claim cannot run out while its request is in flight.
pub async fn renew(db: &DatabaseConnection, c: &Claimed) -> Result<bool, sea_orm::DbErr> {
    let now = Utc::now();
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + LEASE))
        .filter(outbox::Column::Id.eq(c.row.id))
        .filter(outbox::Column::ClaimToken.eq(c.token))
        .filter(outbox::Column::NextAttemptAt.gt(now))
        .filter(outbox::Column::DeliveredAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives a claimed row back without counting an attempt, due again at `at` (its
/// destination is busy or backing off).
pub async fn release(db: &DatabaseConnection, c: &Claimed, at: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
        .col_expr(outbox::Column::ClaimToken, Expr::value(Option::<Uuid>::None))
        .filter(outbox::Column::Id.eq(c.row.id))
        .filter(outbox::Column::ClaimToken.eq(c.token))
        .exec(db)
        .await?;
    Ok(())
}

/// The delay before attempt `attempts + 1`: 1 s, 2 s, 4 s, … capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds(1i64 << attempts.clamp(0, 12)).min(Duration::hours(1))
}

/// How many attempts a row gets: a sending anchor's callback about an hour's worth,
/// a tenant's webhook more than a day's (its back office may be down overnight).
pub fn max_attempts(kind: Kind) -> i32 {
    match kind {
        Kind::Transaction | Kind::Customer => MAX_ATTEMPTS,
        Kind::Webhook => MAX_WEBHOOK_ATTEMPTS,
    }
}

/// 12 doubling delays (about 68 minutes), then hourly: 36 attempts span > 24 hours.
pub const MAX_WEBHOOK_ATTEMPTS: i32 = 36;

/// How an attempt went, for the delivery log: the HTTP status (none: no answer) and
/// how long it took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempt {
    pub status: Option<u16>,
    pub latency_ms: i64,
}

pub async fn mark_delivered(
    db: &DatabaseConnection,
    c: &Claimed,
    attempt: Attempt,
) -> Result<(), sea_orm::DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::DeliveredAt, Expr::value(Utc::now()))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::LastStatus, Expr::value(attempt.status.map(i32::from)))
        .col_expr(outbox::Column::LastLatencyMs, Expr::value(attempt.latency_ms))
        .col_expr(outbox::Column::LastError, Expr::value(Option::<String>::None))
        .filter(outbox::Column::Id.eq(c.row.id))
        .filter(outbox::Column::ClaimToken.eq(c.token))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn mark_failed(
    db: &DatabaseConnection,
    c: &Claimed,
    error: &str,
    attempt: Attempt,
) -> Result<(), sea_orm::DbErr> {
    let attempts = c.row.attempts + 1;
    let now: DateTime<Utc> = Utc::now();
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::LastError, Expr::value(error.chars().take(500).collect::<String>()))
        .col_expr(outbox::Column::LastStatus, Expr::value(attempt.status.map(i32::from)))
        .col_expr(outbox::Column::LastLatencyMs, Expr::value(attempt.latency_ms))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + backoff(attempts - 1)));
    if attempts >= max_attempts(c.row.kind) {
        update = update.col_expr(outbox::Column::FailedAt, Expr::value(now));
    }
    update
        .filter(outbox::Column::Id.eq(c.row.id))
        .filter(outbox::Column::ClaimToken.eq(c.token))
        .exec(db)
        .await?;
    Ok(())
}

/// What waits in the outbox: rows neither delivered nor given up, and when the oldest
/// of them was written (an operator's "are callbacks flowing" signal).
pub async fn backlog(db: &DatabaseConnection) -> Result<(u64, Option<DateTime<Utc>>), sea_orm::DbErr> {
    let row: Option<(i64, Option<DateTime<Utc>>)> = outbox::Entity::find()
        .select_only()
        .column_as(outbox::Column::Id.count(), "pending")
        .column_as(outbox::Column::CreatedAt.min(), "oldest")
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map_or((0, None), |(n, oldest)| (Ord::max(n, 0) as u64, oldest)))
}

/// The SEP-31 callbacks sent (or being sent) about one of a tenant's transactions,
/// newest first: what the console shows beside the transaction.
pub async fn transaction_callbacks(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    transaction_id: Uuid,
    limit: u64,
) -> Result<Vec<outbox::Model>, sea_orm::DbErr> {
    use mooring_entities::TenantScoped;
    outbox::Entity::of_tenant(tenant_id)
        .filter(outbox::Column::Kind.eq(Kind::Transaction))
        .filter(outbox::Column::SubjectId.eq(transaction_id))
        .order_by_desc(outbox::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::seconds(1));
        assert_eq!(backoff(3), Duration::seconds(8));
        assert_eq!(backoff(40), Duration::hours(1));
    }

    #[test]
    fn webhooks_are_retried_for_more_than_a_day() {
        let total: Duration = (0..MAX_WEBHOOK_ATTEMPTS - 1).map(backoff).sum();
        assert!(total > Duration::hours(24), "{total}");
        let callbacks: Duration = (0..MAX_ATTEMPTS - 1).map(backoff).sum();
        assert!(callbacks < Duration::hours(2), "{callbacks}");
    }
}
