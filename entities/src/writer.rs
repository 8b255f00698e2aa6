//! Where a write goes, and on whose account. An admin mutation hands its writes a
//! [`Writer`] carrying the mutation's [`Audit`] slot: the first write transaction begun
//! through it inserts the audit row, so the change and its record commit together.
//! Everything else (SEP requests, the watcher, setup) writes unaudited.

use std::sync::{Arc, Mutex};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult,
    QueryResult, Statement, TransactionOptions, TransactionTrait,
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
    pub async fn begin(&self) -> Result<WriteTxn, DbErr> {
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
/// (`BEGIN IMMEDIATE`), after waiting its turn at this process's writer gate for the
/// database: writers queue in arrival order on a semaphore instead of polling the lock
/// in SQLite's busy handler, whose sleeps (1 ms growing to 100 ms per try) put a tail
/// of hundreds of milliseconds on a busy write path. Elsewhere it is a plain `BEGIN`.
/// Writes made for an admin mutation begin through [`Writer::begin`].
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = write_turn(db).await?;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

/// For a write of one statement outside a transaction (autocommit): this process's
/// turn to write the database, held until dropped (SQLite); `None` elsewhere. Without
/// it the statement would meet the gated writers in SQLite's busy handler.
pub async fn write_turn(db: &DatabaseConnection) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, DbErr> {
    match gate::for_sqlite(db) {
        Some(gate) => Ok(Some(gate::wait(gate).await?)),
        None => Ok(None),
    }
}

/// A write transaction, holding its turn at the writer gate (SQLite) until it commits
/// or is dropped. Used wherever a `DatabaseTransaction` is (it derefs to one).
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// One writer gate per SQLite database file in this process.
mod gate {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Arc, LazyLock, Mutex};
    use std::time::Duration;

    use sea_orm::{DatabaseConnection, DbBackend, DbErr};
    use tokio::sync::{OwnedSemaphorePermit, Semaphore};

    /// As long as SQLite's own busy timeout would have waited (`server::db`): a writer
    /// that waits longer fails as it did before, with "database is busy".
    const WAIT: Duration = Duration::from_secs(10);

    static GATES: LazyLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> = LazyLock::new(Default::default);

    pub(super) fn for_sqlite(db: &DatabaseConnection) -> Option<Arc<Semaphore>> {
        if db.get_database_backend() != DbBackend::Sqlite {
            return None;
        }
        let file = db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf();
        let mut gates = GATES.lock().expect("writer gates");
        Some(gates.entry(file).or_insert_with(|| Arc::new(Semaphore::new(1))).clone())
    }

    pub(super) async fn wait(gate: Arc<Semaphore>) -> Result<OwnedSemaphorePermit, DbErr> {
        match tokio::time::timeout(WAIT, gate.acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            _ => Err(DbErr::Custom("database is busy: no write turn within 10 s".into())),
        }
    }
}
