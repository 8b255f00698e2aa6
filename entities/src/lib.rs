//! sea-orm entities: one module per table.
//!
//! Invariant: this crate knows nothing about HTTP, SEP JSON or caching. Money columns
//! are `i64` fixed-point with 7 decimals; `mooring_stellar::Amount` converts them.

pub mod api_key;
pub mod approved_sender;
pub mod asset;
pub mod asset_field;
pub mod config_state;
pub mod customer;
pub mod customer_field;
pub mod customer_type;
pub mod customer_type_field;
pub mod outbox;
pub mod payment;
pub mod refund;
pub mod tenant;
pub mod tenant_domain;
pub mod transaction;
pub mod transaction_event;
pub mod watch_cursor;
pub mod watch_lease;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionOptions, TransactionTrait};

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so that concurrent writers queue on the busy timeout instead
/// of failing at once when a read lock cannot be upgraded; elsewhere it is a plain
/// `BEGIN`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
