//! Shared payment streams: one per Horizon, routing each operation to the tenant whose
//! distribution account it pays. What is stored here keeps that exactly-once:
//!
//! - the stream's cursor (a network-wide paging token), moved in the same database
//!   transaction as the payments it covers (`payments::apply_routed`);
//! - each member account with the token it joined at. From `joined_at` on, every batch
//!   the stream applies routes to the account; what the account received before is
//!   caught up from its own feed (`payments::apply_batch`, tracked by its
//!   `watch_cursors` row) and then marked `caught_up`. A member that leaves the stream
//!   loses its row, so rejoining catches up again rather than trusting a stale join.

use chrono::Utc;
use mooring_entities::{stream_cursor, stream_member, watch_cursor};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::leases::{Fence, fenced};
use crate::{AnchorError, AnchorResult};

pub use stream_member::Model as Member;

/// Where `stream` resumes (`None`: it never ran).
pub async fn cursor(db: &DatabaseConnection, stream: &str) -> AnchorResult<Option<String>> {
    Ok(stream_cursor::Entity::find_by_id(stream.to_string()).one(db).await?.map(|c| c.cursor))
}

/// Records where a stream that never ran starts, unless another replica did already;
/// returns the stored start.
pub async fn init_cursor(db: &DatabaseConnection, stream: &str, start: &str) -> AnchorResult<String> {
    let row = stream_cursor::ActiveModel {
        stream: Set(stream.to_string()),
        cursor: Set(start.to_string()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    stream_cursor::Entity::insert(row)
        .on_conflict(OnConflict::column(stream_cursor::Column::Stream).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    cursor(db, stream).await?.ok_or_else(|| AnchorError::Conflict("the stream cursor vanished".into()))
}

/// Moves the stream's cursor inside the caller's transaction.
pub(crate) async fn store_cursor_in(
    db: &impl ConnectionTrait,
    stream: &str,
    cursor: &str,
) -> AnchorResult<()> {
    let row = stream_cursor::ActiveModel {
        stream: Set(stream.to_string()),
        cursor: Set(cursor.to_string()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    stream_cursor::Entity::insert(row)
        .on_conflict(
            OnConflict::column(stream_cursor::Column::Stream)
                .update_columns([stream_cursor::Column::Cursor, stream_cursor::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Moves the stream's cursor past operations none of its members received.
pub async fn store_cursor(
    db: &DatabaseConnection,
    stream: &str,
    cursor: &str,
    fence: &Fence<'_>,
) -> AnchorResult<()> {
    let txn = mooring_entities::begin_write(db).await?;
    fenced(&txn, fence).await?;
    store_cursor_in(&txn, stream, cursor).await?;
    Ok(txn.commit().await?)
}

/// The accounts `stream` routes to, as stored.
pub async fn members(db: &DatabaseConnection, stream: &str) -> AnchorResult<Vec<Member>> {
    Ok(stream_member::Entity::find().filter(stream_member::Column::Stream.eq(stream)).all(db).await?)
}

/// Accounts (tenant, account) join `stream` at token `at`: the stream's next batches
/// route to them, and what they received up to `at` must be caught up. Replaces an
/// earlier membership (another stream's, or a stale one of this stream). One
/// transaction per few hundred accounts: a stream's first start may join thousands.
pub async fn join(
    db: &DatabaseConnection,
    stream: &str,
    accounts: &[(Uuid, &str)],
    at: &str,
    fence: &Fence<'_>,
) -> AnchorResult<()> {
    for chunk in accounts.chunks(500) {
        let txn = mooring_entities::begin_write(db).await?;
        fenced(&txn, fence).await?;
        let rows = chunk.iter().map(|(tenant_id, account)| stream_member::ActiveModel {
            tenant_id: Set(*tenant_id),
            account: Set(account.to_string()),
            stream: Set(stream.to_string()),
            joined_at: Set(at.to_string()),
            caught_up: Set(false),
            updated_at: Set(Utc::now()),
        });
        stream_member::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([stream_member::Column::TenantId, stream_member::Column::Account])
                    .update_columns([
                        stream_member::Column::Stream,
                        stream_member::Column::JoinedAt,
                        stream_member::Column::CaughtUp,
                        stream_member::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
    }
    Ok(())
}

/// `account` no longer belongs to `stream` (its tenant was suspended, the account or
/// the Horizon changed). Its `watch_cursors` row stays: a later join catches up from
/// there, so payments made meanwhile are applied then.
pub async fn leave(
    db: &DatabaseConnection,
    stream: &str,
    tenant_id: Uuid,
    account: &str,
) -> AnchorResult<()> {
    stream_member::Entity::delete_many()
        .filter(stream_member::Column::Stream.eq(stream))
        .filter(stream_member::Column::TenantId.eq(tenant_id))
        .filter(stream_member::Column::Account.eq(account))
        .exec(db)
        .await?;
    Ok(())
}

/// The account's own feed is caught up to where it joined: the stream alone covers
/// it from now on (and, for a Horizon stream, the account's own cursor moves there).
pub async fn mark_caught_up(
    db: &DatabaseConnection,
    stream: &str,
    tenant_id: Uuid,
    account: &str,
    joined_at: &str,
    store_account_cursor: bool,
    fence: &Fence<'_>,
) -> AnchorResult<bool> {
    let txn = mooring_entities::begin_write(db).await?;
    fenced(&txn, fence).await?;
    // Only the join this catch-up was for: a rejoin since then has its own.
    let updated = stream_member::Entity::update_many()
        .col_expr(stream_member::Column::CaughtUp, true.into())
        .filter(stream_member::Column::Stream.eq(stream))
        .filter(stream_member::Column::TenantId.eq(tenant_id))
        .filter(stream_member::Column::Account.eq(account))
        .filter(stream_member::Column::JoinedAt.eq(joined_at))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    // An RPC stream's positions mean nothing to the account's own (Horizon) feed.
    if store_account_cursor {
        self::store_account_cursor(&txn, tenant_id, account, joined_at).await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Moves one account's own cursor (`watch_cursors`) inside the caller's transaction.
pub(crate) async fn store_account_cursor(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    account: &str,
    cursor: &str,
) -> AnchorResult<()> {
    put_account_cursor(db, tenant_id, account, cursor, true).await
}

/// The one writer of `watch_cursors`: inserts the account's cursor, or, when it has
/// one, moves it (`overwrite`) or keeps it (a first watch's start never rewinds one).
pub(crate) async fn put_account_cursor(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    account: &str,
    cursor: &str,
    overwrite: bool,
) -> AnchorResult<()> {
    let row = watch_cursor::ActiveModel {
        tenant_id: Set(tenant_id),
        account: Set(account.to_string()),
        cursor: Set(cursor.to_string()),
        updated_at: Set(Utc::now()),
    };
    let mut conflict = OnConflict::columns([watch_cursor::Column::TenantId, watch_cursor::Column::Account]);
    if overwrite {
        conflict.update_columns([watch_cursor::Column::Cursor, watch_cursor::Column::UpdatedAt]);
    } else {
        conflict.do_nothing();
    }
    watch_cursor::Entity::insert(row).on_conflict(conflict).exec_without_returning(db).await?;
    Ok(())
}
