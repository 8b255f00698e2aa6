//! One payments stream per Horizon instead of one per tenant account.
//!
//! `stream_cursors`: where the shared stream of one Horizon resumes (a network-wide
//! paging token). `stream_members`: the accounts a shared stream routes payments to,
//! each with the token it joined at — the stream covers the account's operations
//! after `joined_at`; the account's own feed was (or is being) caught up to it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StreamCursors {
    Table,
    Stream,
    Cursor,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StreamMembers {
    Table,
    TenantId,
    Account,
    Stream,
    JoinedAt,
    CaughtUp,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

const MEMBERS_BY_STREAM: &str = "stream_members_stream";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StreamCursors::Table)
                .col(string(StreamCursors::Stream).primary_key())
                .col(string(StreamCursors::Cursor))
                .col(timestamp_with_time_zone(StreamCursors::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StreamMembers::Table)
                .col(uuid(StreamMembers::TenantId))
                .col(string(StreamMembers::Account))
                .col(string(StreamMembers::Stream))
                .col(string(StreamMembers::JoinedAt))
                .col(boolean(StreamMembers::CaughtUp).default(false))
                .col(timestamp_with_time_zone(StreamMembers::UpdatedAt))
                .primary_key(Index::create().col(StreamMembers::TenantId).col(StreamMembers::Account))
                .foreign_key(
                    ForeignKey::create()
                        .from(StreamMembers::Table, StreamMembers::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(MEMBERS_BY_STREAM)
                .table(StreamMembers::Table)
                .col(StreamMembers::Stream)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StreamMembers::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(StreamCursors::Table).to_owned()).await
    }
}
