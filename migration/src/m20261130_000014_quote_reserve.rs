//! `corridors.max_outstanding`: the most of the buy asset a corridor's unexpired firm
//! quotes may promise at once (SEP-38: a firm quote's amount is held in reserve until it
//! expires). The index serves the sum taken before each quote.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Corridors {
    Table,
    MaxOutstanding,
}

#[derive(DeriveIden)]
enum Quotes {
    Table,
    CorridorId,
    ExpiresAt,
}

const BY_CORRIDOR: &str = "quotes_corridor_expires";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Corridors::Table)
                .add_column(big_integer_null(Corridors::MaxOutstanding))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(BY_CORRIDOR)
                .table(Quotes::Table)
                .col(Quotes::CorridorId)
                .col(Quotes::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(BY_CORRIDOR).table(Quotes::Table).to_owned()).await?;
        m.alter_table(
            Table::alter().table(Corridors::Table).drop_column(Corridors::MaxOutstanding).to_owned(),
        )
        .await
    }
}
