//! Callbacks as rows: enqueued in the same database transaction as the change they
//! report, claimed by a worker with a lease, retried with exponential backoff.

use chrono::{DateTime, Duration, Utc};
use mooring_entities::outbox;
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

/// After this many failed attempts a callback is given up (and kept for the operator).
pub const MAX_ATTEMPTS: i32 = 12;
/// How long a worker owns a claimed row before another may retry it.
const LEASE: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Transaction,
    Customer,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::Customer => "customer",
        }
    }
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    kind: Kind,
    subject_id: Uuid,
    url: &str,
    body: String,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(tenant_id),
        kind: Set(kind.as_str().into()),
        subject_id: Set(subject_id),
        url: Set(url.to_string()),
        body: Set(body),
        attempts: Set(0),
        next_attempt_at: Set(now),
        delivered_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Claims up to `limit` due callbacks, oldest first. A row is claimed by moving its
/// `next_attempt_at` forward by a lease, compare-and-set on the value read, so two
/// replicas never both send it.
pub async fn claim_due(db: &DatabaseConnection, limit: u64) -> Result<Vec<outbox::Model>, sea_orm::DbErr> {
    let now = Utc::now();
    let due = outbox::Entity::find()
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for row in due {
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + LEASE))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::NextAttemptAt.eq(row.next_attempt_at))
            .filter(outbox::Column::DeliveredAt.is_null())
            .exec(db)
            .await?;
        if result.rows_affected == 1 {
            claimed.push(row);
        }
    }
    Ok(claimed)
}

pub async fn mark_delivered(db: &DatabaseConnection, id: Uuid) -> Result<(), sea_orm::DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::DeliveredAt, Expr::value(Utc::now()))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The delay before attempt `attempts + 1`: 1 s, 2 s, 4 s, … capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds(1i64 << attempts.clamp(0, 12)).min(Duration::hours(1))
}

pub async fn mark_failed(
    db: &DatabaseConnection,
    row: &outbox::Model,
    error: &str,
) -> Result<(), sea_orm::DbErr> {
    let attempts = row.attempts + 1;
    let now: DateTime<Utc> = Utc::now();
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::LastError, Expr::value(error.chars().take(500).collect::<String>()))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now + backoff(attempts - 1)));
    if attempts >= MAX_ATTEMPTS {
        update = update.col_expr(outbox::Column::FailedAt, Expr::value(now));
    }
    update.filter(outbox::Column::Id.eq(row.id)).exec(db).await?;
    Ok(())
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
}
