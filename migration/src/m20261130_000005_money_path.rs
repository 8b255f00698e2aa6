//! The money path, hardened:
//! - `tenants.watch_from`: when the tenant's distribution account was configured. A
//!   first watch catches up from there, so a payment made before the watcher starts is
//!   never skipped.
//! - A distribution account belongs to one tenant per network (unique index), so one
//!   tenant cannot watch, and race for, another's payments.
//! - Payments are keyed by (tenant, account, operation id): no tenant's rows can shadow
//!   another's, whatever its Horizon reports.
//! - Refunds are rows (one per refund payment) instead of a JSON blob rewritten in
//!   place; existing blobs are moved into rows and the column is dropped.
//! - `outbox.claim_token`: the claim a delivery holds; a worker whose claim was taken
//!   over can no longer send or record the row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::Uuid;
use sea_orm_migration::sea_orm::{ConnectionTrait, JsonValue};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    NetworkPassphrase,
    DistributionAccount,
    CreatedAt,
    WatchFrom,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    Id,
    TenantId,
    Refunds,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    TenantId,
    TransactionId,
    Account,
    OpType,
    FromAccount,
    ToMuxed,
    AssetCode,
    AssetIssuer,
    Amount,
    MemoType,
    Memo,
    TxHash,
    LedgerTime,
    Outcome,
    Note,
    Excess,
    ObservedAt,
}

#[derive(DeriveIden)]
enum PaymentsScoped {
    Table,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    SubjectId,
    CreatedAt,
    ClaimToken,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    TenantId,
    TransactionId,
    StellarTransactionId,
    Amount,
    Fee,
    Reason,
    Actor,
    CreatedAt,
}

const PAYMENT_COLUMNS: [Payments; 18] = [
    Payments::Id,
    Payments::TenantId,
    Payments::TransactionId,
    Payments::Account,
    Payments::OpType,
    Payments::FromAccount,
    Payments::ToMuxed,
    Payments::AssetCode,
    Payments::AssetIssuer,
    Payments::Amount,
    Payments::MemoType,
    Payments::Memo,
    Payments::TxHash,
    Payments::LedgerTime,
    Payments::Outcome,
    Payments::Note,
    Payments::Excess,
    Payments::ObservedAt,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on every backend (SQLite too): a table is rebuilt and data moved,
    /// and a crash half-way must not leave a schema no run can continue from.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(timestamp_with_time_zone_null(Tenants::WatchFrom))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Tenants::Table)
                .value(Tenants::WatchFrom, Expr::col(Tenants::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tenants_network_distribution_account")
                .table(Tenants::Table)
                .col(Tenants::NetworkPassphrase)
                .col(Tenants::DistributionAccount)
                .unique()
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter().table(Outbox::Table).add_column(uuid_null(Outbox::ClaimToken)).to_owned(),
        )
        .await?;
        // A callback waits for older ones of its subject: found by this index.
        m.create_index(
            Index::create()
                .name("outbox_subject_created")
                .table(Outbox::Table)
                .col(Outbox::SubjectId)
                .col(Outbox::CreatedAt)
                .to_owned(),
        )
        .await?;
        scope_payments(m).await?;
        refunds_as_rows(m).await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("the money-path migration is not reversible".into()))
    }
}

/// Rebuilds `payments` with the primary key (tenant, account, operation id). SQLite
/// cannot change a primary key in place, so both backends copy into a new table.
async fn scope_payments(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(PaymentsScoped::Table)
            .col(string(Payments::Id))
            .col(uuid(Payments::TenantId))
            .col(uuid_null(Payments::TransactionId))
            .col(string(Payments::Account))
            .col(string(Payments::OpType))
            .col(string(Payments::FromAccount))
            .col(string_null(Payments::ToMuxed))
            .col(string(Payments::AssetCode))
            .col(string(Payments::AssetIssuer))
            .col(big_integer(Payments::Amount))
            .col(string(Payments::MemoType))
            .col(string_null(Payments::Memo))
            .col(string(Payments::TxHash))
            .col(string(Payments::LedgerTime))
            .col(string(Payments::Outcome))
            .col(text_null(Payments::Note))
            .col(big_integer(Payments::Excess).default(0))
            .col(timestamp_with_time_zone(Payments::ObservedAt))
            .primary_key(Index::create().col(Payments::TenantId).col(Payments::Account).col(Payments::Id))
            .foreign_key(
                ForeignKey::create()
                    .from(PaymentsScoped::Table, Payments::TenantId)
                    .to(Tenants::Table, Tenants::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned(),
    )
    .await?;
    m.exec_stmt(
        Query::insert()
            .into_table(PaymentsScoped::Table)
            .columns(PAYMENT_COLUMNS)
            .select_from(Query::select().columns(PAYMENT_COLUMNS).from(Payments::Table).to_owned())
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned(),
    )
    .await?;
    m.drop_table(Table::drop().table(Payments::Table).to_owned()).await?;
    m.rename_table(Table::rename().table(PaymentsScoped::Table, Payments::Table).to_owned()).await?;
    for (name, col) in [
        ("payments_tenant_outcome", Payments::Outcome),
        ("payments_tenant_transaction", Payments::TransactionId),
    ] {
        m.create_index(
            Index::create().name(name).table(Payments::Table).col(Payments::TenantId).col(col).to_owned(),
        )
        .await?;
    }
    Ok(())
}

async fn refunds_as_rows(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(Refunds::Table)
            .col(pk_uuid(Refunds::Id))
            .col(uuid(Refunds::TenantId))
            .col(uuid(Refunds::TransactionId))
            // The refund payment's Stellar transaction hash.
            .col(string(Refunds::StellarTransactionId))
            .col(big_integer(Refunds::Amount))
            .col(big_integer(Refunds::Fee))
            .col(text_null(Refunds::Reason))
            .col(string(Refunds::Actor))
            .col(timestamp_with_time_zone(Refunds::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .from(Refunds::Table, Refunds::TransactionId)
                    .to(Transactions::Table, Transactions::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned(),
    )
    .await?;
    // One refund payment is recorded once: a retried mutation cannot count it twice.
    m.create_index(
        Index::create()
            .name("refunds_transaction_payment")
            .table(Refunds::Table)
            .col(Refunds::TransactionId)
            .col(Refunds::StellarTransactionId)
            .unique()
            .to_owned(),
    )
    .await?;

    let db = m.get_connection();
    let backend = db.get_database_backend();
    let select = Query::select()
        .columns([Transactions::Id, Transactions::TenantId, Transactions::Refunds])
        .from(Transactions::Table)
        .and_where(Expr::col(Transactions::Refunds).is_not_null())
        .to_owned();
    for row in db.query_all_raw(backend.build(&select)).await? {
        let id: Uuid = row.try_get("", "id")?;
        let tenant_id: Uuid = row.try_get("", "tenant_id")?;
        let refunds: JsonValue = row.try_get("", "refunds")?;
        let payments = refunds["payments"].as_array().cloned().unwrap_or_default();
        for p in payments {
            let amount = fixed_point(&p["amount"]);
            let fee = fixed_point(&p["fee"]);
            let insert = Query::insert()
                .into_table(Refunds::Table)
                .columns([
                    Refunds::Id,
                    Refunds::TenantId,
                    Refunds::TransactionId,
                    Refunds::StellarTransactionId,
                    Refunds::Amount,
                    Refunds::Fee,
                    Refunds::Reason,
                    Refunds::Actor,
                    Refunds::CreatedAt,
                ])
                .values_panic([
                    Expr::value(Uuid::new_v4()),
                    Expr::value(tenant_id),
                    Expr::value(id),
                    Expr::value(p["id"].as_str().unwrap_or_default().to_string()),
                    Expr::value(amount),
                    Expr::value(fee),
                    Expr::value(Option::<String>::None),
                    Expr::value("migrated".to_string()),
                    Expr::value(chrono::Utc::now()),
                ])
                .on_conflict(
                    OnConflict::columns([Refunds::TransactionId, Refunds::StellarTransactionId])
                        .do_nothing()
                        .to_owned(),
                )
                .to_owned();
            db.execute_raw(backend.build(&insert)).await?;
        }
    }
    m.alter_table(Table::alter().table(Transactions::Table).drop_column(Transactions::Refunds).to_owned())
        .await?;
    Ok(())
}

/// "12.5" → 125000000 (7 decimals); what the JSON blob stored.
fn fixed_point(v: &JsonValue) -> i64 {
    let s = v.as_str().unwrap_or("0");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{:0<7}", &frac[..frac.len().min(7)]);
    whole.parse::<i64>().unwrap_or(0).saturating_mul(10_000_000).saturating_add(frac.parse().unwrap_or(0))
}
