//! Where a write goes, and on whose account. An admin mutation hands its writes a
//! [`Writer`] carrying the mutation's [`Audit`] slot: the first write transaction begun
//! through it inserts the audit row, so the change and its record commit together.
//! Everything else (SEP requests, the watcher, setup) writes unaudited.

use std::sync::{Arc, Mutex};

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, TransactionOptions, TransactionTrait,
};

use crate::audit_entry;

/// One request's audit slot: the GraphQL audit extension arms it with a root
/// mutation's row before the mutation runs and disarms it afterwards; the mutation's
/// first audited write transaction takes the row out.
#[derive(Clone, Default)]
pub struct Audit(Arc<Mutex<Option<audit_entry::ActiveModel>>>);

impl Audit {
    /// Makes `row` pending for the next write transaction begun through this slot.
    pub fn arm(&self, row: audit_entry::ActiveModel) {
        *self.0.lock().expect("audit slot") = Some(row);
    }

    /// Empties the slot; the row if no write transaction took it.
    pub fn disarm(&self) -> Option<audit_entry::ActiveModel> {
        self.0.lock().expect("audit slot").take()
    }
}

/// The database a write goes to, and the audit slot of the mutation it is made for
/// (none outside admin mutations).
#[derive(Clone, Copy)]
pub struct Writer<'a> {
    pub db: &'a DatabaseConnection,
    audit: Option<&'a Audit>,
}

impl<'a> Writer<'a> {
    /// A write made for an admin mutation, carrying its audit row.
    pub fn audited(db: &'a DatabaseConnection, audit: &'a Audit) -> Self {
        Self { db, audit: Some(audit) }
    }

    /// A write no admin mutation asked for (SEP requests, the watcher, setup).
    pub fn unaudited(db: &'a DatabaseConnection) -> Self {
        Self { db, audit: None }
    }

    /// [`begin_write`], inserting the pending audit row, if any, first.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        let txn = begin_write(self.db).await?;
        if let Some(row) = self.audit.and_then(Audit::disarm) {
            audit_entry::Entity::insert(row).exec_without_returning(&txn).await?;
        }
        Ok(txn)
    }
}

impl<'a> From<&'a DatabaseConnection> for Writer<'a> {
    fn from(db: &'a DatabaseConnection) -> Self {
        Self::unaudited(db)
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so that concurrent writers queue on the busy timeout instead
/// of failing at once when a read lock cannot be upgraded; elsewhere it is a plain
/// `BEGIN`. Writes made for an admin mutation begin through [`Writer::begin`].
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
