//! What the payment watcher keeps: every payment it observed (unique on the Horizon
//! operation id, so a replay never applies one twice), the streaming cursor per
//! watched account, and the lease that lets one replica watch an account at a time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
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
enum WatchCursors {
    Table,
    TenantId,
    Account,
    Cursor,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WatchLeases {
    Table,
    Key,
    Holder,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Payments::Table)
                // Horizon's operation id: the natural, globally unique key.
                .col(string(Payments::Id).primary_key())
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
                // matched | overpaid | mismatched | unmatched
                .col(string(Payments::Outcome))
                .col(text_null(Payments::Note))
                .col(big_integer(Payments::Excess).default(0))
                .col(timestamp_with_time_zone(Payments::ObservedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Payments::Table, Payments::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("payments_tenant_outcome")
                .table(Payments::Table)
                .col(Payments::TenantId)
                .col(Payments::Outcome)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WatchCursors::Table)
                .col(uuid(WatchCursors::TenantId))
                .col(string(WatchCursors::Account))
                .col(string(WatchCursors::Cursor))
                .col(timestamp_with_time_zone(WatchCursors::UpdatedAt))
                .primary_key(Index::create().col(WatchCursors::TenantId).col(WatchCursors::Account))
                .foreign_key(
                    ForeignKey::create()
                        .from(WatchCursors::Table, WatchCursors::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WatchLeases::Table)
                .col(string(WatchLeases::Key).primary_key())
                .col(string(WatchLeases::Holder))
                .col(timestamp_with_time_zone(WatchLeases::ExpiresAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [WatchLeases::Table.into_iden(), WatchCursors::Table.into_iden(), Payments::Table.into_iden()]
        {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
