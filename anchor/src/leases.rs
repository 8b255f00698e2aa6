//! Leases in the database: which replica does a singleton job (watching one account)
//! for now. Works the same on PostgreSQL and SQLite, so the embedded default needs no
//! Redis. The holder renews; if it dies, the lease expires and another takes over.

use chrono::{Duration, Utc};
use mooring_entities::watch_lease;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::{AnchorError, AnchorResult};

/// A lease holder's identity and the lease's key, checked inside a transaction that
/// writes work done under the lease.
pub struct Fence<'a> {
    pub key: &'a str,
    pub holder: &'a str,
}

/// Fails (`Conflict`) unless `fence` still holds its lease: work of a replica that lost
/// it is not committed.
pub async fn fenced(db: &impl ConnectionTrait, fence: &Fence<'_>) -> AnchorResult<()> {
    if still_held(db, fence.key, fence.holder).await? {
        Ok(())
    } else {
        Err(AnchorError::Conflict("the watch lease was lost to another replica".into()))
    }
}

/// Takes the lease if it is free, expired or already ours; extends it by `ttl`.
/// Returns whether we hold it now.
pub async fn acquire(
    db: &impl ConnectionTrait,
    key: &str,
    holder: &str,
    ttl: Duration,
) -> Result<bool, sea_orm::DbErr> {
    let now = Utc::now();
    let row = watch_lease::ActiveModel {
        key: Set(key.to_string()),
        holder: Set(holder.to_string()),
        expires_at: Set(now + ttl),
    };
    // Insert if absent; nothing happens if present (handled by the update below).
    watch_lease::Entity::insert(row)
        .on_conflict(OnConflict::column(watch_lease::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let taken = watch_lease::Entity::update_many()
        .col_expr(watch_lease::Column::Holder, Expr::value(holder))
        .col_expr(watch_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(watch_lease::Column::Key.eq(key))
        .filter(
            Condition::any()
                .add(watch_lease::Column::Holder.eq(holder))
                .add(watch_lease::Column::ExpiresAt.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Whether `holder` still holds an unexpired lease (used inside a batch's transaction
/// as a fence: work of a replica that lost its lease is not committed).
pub async fn still_held(db: &impl ConnectionTrait, key: &str, holder: &str) -> Result<bool, sea_orm::DbErr> {
    let lease = watch_lease::Entity::find_by_id(key.to_string()).one(db).await?;
    Ok(lease.is_some_and(|l| l.holder == holder && l.expires_at > Utc::now()))
}

/// Gives the lease up (on shutdown), so another replica need not wait for expiry.
pub async fn release(db: &impl ConnectionTrait, key: &str, holder: &str) -> Result<(), sea_orm::DbErr> {
    watch_lease::Entity::delete_many()
        .filter(watch_lease::Column::Key.eq(key))
        .filter(watch_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}
