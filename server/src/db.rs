//! The system of record: connecting (SQLite or PostgreSQL) and migrating, one replica
//! at a time.

use std::time::Duration;

use anyhow::Context;
use mooring_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// Connects with the default pool size ([`connect_pool`]).
pub async fn connect_db(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_pool(url, None).await
}

/// Connects with at most `max_connections` connections (unset: 8 on SQLite, whose one
/// writer at a time needs few; 32 on PostgreSQL). On a 2-core machine 16 gave the
/// write path a lower p99 (`bench/writes.sh`), but a replica starting under load then
/// answered nginx with errors for about a second (the rolling-restart test under the
/// full suite): the background work a starting replica does needs its share of
/// connections. 16 is an operator's choice (`MOORING_DATABASE_MAX_CONNECTIONS`).
pub async fn connect_pool(url: &str, max_connections: Option<u32>) -> anyhow::Result<DatabaseConnection> {
    let sqlite = url.starts_with("sqlite");
    let mut opts = ConnectOptions::new(url.to_string());
    // Every statement is logged at TRACE under `sqlx::query` (off unless RUST_LOG asks:
    // `bench/writes.sh` counts statements per request that way).
    opts.sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Trace)
        .max_connections(max_connections.unwrap_or(if sqlite { 8 } else { 32 }))
        .connect_timeout(Duration::from_secs(10))
        // WAL lets readers proceed while one writer writes; writers wait their turn.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(opts).await.context("connecting to the database")
}

/// Runs pending migrations, one process at a time: on PostgreSQL under an advisory
/// lock held by a transaction for the whole run, so replicas starting together (or a
/// rolling update with a new migration) apply each step once and the others wait, then
/// find nothing to do. SQLite serves one process and is single-writer.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Migrator::up(db, None).await.context("running migrations");
    }
    let lock = db.begin().await.context("taking the migration lock")?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await
        .context("taking the migration lock")?;
    let ran = Migrator::up(db, None).await.context("running migrations");
    lock.commit().await.context("releasing the migration lock")?;
    ran
}

/// The advisory lock key of `migrate` ("mooring" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x006d_6f6f_7269_6e67;

/// Migrations this database has not run yet, by name.
pub async fn pending_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let pending = Migrator::get_pending_migrations(db).await.context("reading the schema version")?;
    Ok(pending.iter().map(|m| m.name().to_string()).collect())
}
