//! Stellar RPC as a ledger source beside Horizon.
//!
//! - `tenants.rpc_url`: an RPC an operator gave one tenant (NULL: the platform's).
//! - `stream_cursors` learn which network epoch they follow (bumped at each testnet
//!   reset, and part of every RPC payment's identity, because event ids repeat after
//!   one), the ledger they last checked (sequence and hash: a different hash at the
//!   same sequence is a reset), and how many resets they went through.
//! - `ledger_gaps`: ledgers a tenant's payments could not be read for (RPC no longer
//!   kept them), shown to the tenant until caught up from Horizon.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    RpcUrl,
}

#[derive(DeriveIden)]
enum StreamCursors {
    Table,
    Epoch,
    Ledger,
    LedgerHash,
    Resets,
    LastResetAt,
}

#[derive(DeriveIden)]
enum LedgerGaps {
    Table,
    Id,
    TenantId,
    Stream,
    FromLedger,
    ToLedger,
    DetectedAt,
    ResolvedAt,
    Resolution,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).add_column(text_null(Tenants::RpcUrl)).to_owned())
            .await?;
        // SQLite alters one column per statement.
        for column in [
            integer(StreamCursors::Epoch).default(0).to_owned(),
            big_integer_null(StreamCursors::Ledger),
            text_null(StreamCursors::LedgerHash),
            integer(StreamCursors::Resets).default(0).to_owned(),
            timestamp_with_time_zone_null(StreamCursors::LastResetAt),
        ] {
            let mut column = column;
            m.alter_table(Table::alter().table(StreamCursors::Table).add_column(&mut column).to_owned())
                .await?;
        }
        m.create_table(
            Table::create()
                .table(LedgerGaps::Table)
                .col(uuid(LedgerGaps::Id).primary_key())
                .col(uuid(LedgerGaps::TenantId))
                .col(text(LedgerGaps::Stream))
                .col(big_integer(LedgerGaps::FromLedger))
                .col(big_integer(LedgerGaps::ToLedger))
                .col(timestamp_with_time_zone(LedgerGaps::DetectedAt))
                .col(timestamp_with_time_zone_null(LedgerGaps::ResolvedAt))
                .col(text_null(LedgerGaps::Resolution))
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerGaps::Table, LedgerGaps::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ledger_gaps_tenant")
                .table(LedgerGaps::Table)
                .col(LedgerGaps::TenantId)
                .col(LedgerGaps::DetectedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LedgerGaps::Table).to_owned()).await?;
        for column in [
            StreamCursors::Epoch,
            StreamCursors::Ledger,
            StreamCursors::LedgerHash,
            StreamCursors::Resets,
            StreamCursors::LastResetAt,
        ] {
            m.alter_table(Table::alter().table(StreamCursors::Table).drop_column(column).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::RpcUrl).to_owned()).await
    }
}
