//! SEP-38's reserve: "the amount requested must be held in reserve … until the
//! expiration". `corridors.max_outstanding` caps what a corridor's unexpired firm quotes
//! may promise; `quote_reserves` keeps that promise as running totals per minute of
//! expiry, so checking it sums a handful of rows (one per minute of quote lifetime)
//! rather than every quote still open.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Corridors {
    Table,
    Id,
    MaxOutstanding,
}

#[derive(DeriveIden)]
enum QuoteReserves {
    Table,
    CorridorId,
    Until,
    Amount,
}

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
        m.create_table(
            Table::create()
                .table(QuoteReserves::Table)
                .col(uuid(QuoteReserves::CorridorId))
                .col(timestamp_with_time_zone(QuoteReserves::Until))
                .col(big_integer(QuoteReserves::Amount))
                .primary_key(Index::create().col(QuoteReserves::CorridorId).col(QuoteReserves::Until))
                .foreign_key(
                    ForeignKey::create()
                        .from(QuoteReserves::Table, QuoteReserves::CorridorId)
                        .to(Corridors::Table, Corridors::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(QuoteReserves::Table).to_owned()).await?;
        m.alter_table(
            Table::alter().table(Corridors::Table).drop_column(Corridors::MaxOutstanding).to_owned(),
        )
        .await
    }
}
