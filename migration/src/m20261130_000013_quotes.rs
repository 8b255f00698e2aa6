//! SEP-38 quotes and cross-currency SEP-31.
//!
//! `offchain_assets`: the fiat currencies a tenant pays out (`iso4217:CCY`), with their
//! decimals, countries and delivery methods. `corridors`: sell asset → buy asset, named
//! by their SEP-38 identifiers rather than by row id (a Stellar asset is replaced, not
//! updated, when reconfigured; its corridors must survive that), with the rate source,
//! spread, quote lifetime, limits and fee. `quotes`: every firm quote, and the one
//! transaction it backed (unique: a quote is used once).
//! `transactions` gains the quote it was created with, the payout asset, the quote's
//! deadline (checked by the watcher against the ledger time) and a hold for review.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OffchainAssets {
    Table,
    Id,
    TenantId,
    Code,
    Decimals,
    CountryCodes,
    DeliveryMethods,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Corridors {
    Table,
    Id,
    TenantId,
    SellAsset,
    BuyAsset,
    Rate,
    RateAsOf,
    RateFeedUrl,
    MaxRateAgeSecs,
    SpreadBps,
    QuoteLifetimeSecs,
    MinSell,
    MaxSell,
    FeeFixed,
    FeePercent,
    FeeTiers,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Quotes {
    Table,
    Id,
    TenantId,
    CorridorId,
    SaAccount,
    SaMemo,
    Context,
    SellAsset,
    SellAmount,
    BuyAsset,
    BuyAmount,
    Price,
    TotalPrice,
    FeeTotal,
    FeeDetails,
    SellDeliveryMethod,
    BuyDeliveryMethod,
    CountryCode,
    ExpiresAt,
    CreatedAt,
    TransactionId,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    ExpiredQuotePolicy,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    QuotesRequired,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    QuoteId,
    AmountOutAsset,
    QuoteExpiresAt,
    HeldReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OffchainAssets::Table)
                .col(uuid(OffchainAssets::Id).primary_key())
                .col(uuid(OffchainAssets::TenantId))
                .col(string(OffchainAssets::Code))
                .col(integer(OffchainAssets::Decimals))
                .col(json(OffchainAssets::CountryCodes))
                .col(json(OffchainAssets::DeliveryMethods))
                .col(timestamp_with_time_zone(OffchainAssets::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OffchainAssets::Table, OffchainAssets::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .index(Index::create().unique().col(OffchainAssets::TenantId).col(OffchainAssets::Code))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Corridors::Table)
                .col(uuid(Corridors::Id).primary_key())
                .col(uuid(Corridors::TenantId))
                .col(string(Corridors::SellAsset))
                .col(string(Corridors::BuyAsset))
                .col(string_null(Corridors::Rate))
                .col(timestamp_with_time_zone_null(Corridors::RateAsOf))
                .col(string_null(Corridors::RateFeedUrl))
                .col(big_integer_null(Corridors::MaxRateAgeSecs))
                .col(integer(Corridors::SpreadBps))
                .col(big_integer(Corridors::QuoteLifetimeSecs))
                .col(big_integer_null(Corridors::MinSell))
                .col(big_integer_null(Corridors::MaxSell))
                .col(big_integer(Corridors::FeeFixed))
                .col(big_integer(Corridors::FeePercent))
                .col(json_null(Corridors::FeeTiers))
                .col(boolean(Corridors::Enabled))
                .col(timestamp_with_time_zone(Corridors::CreatedAt))
                .col(timestamp_with_time_zone(Corridors::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Corridors::Table, Corridors::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .index(
                    Index::create()
                        .unique()
                        .col(Corridors::TenantId)
                        .col(Corridors::SellAsset)
                        .col(Corridors::BuyAsset),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Quotes::Table)
                .col(uuid(Quotes::Id).primary_key())
                .col(uuid(Quotes::TenantId))
                .col(uuid(Quotes::CorridorId))
                .col(string(Quotes::SaAccount))
                .col(string_null(Quotes::SaMemo))
                .col(string(Quotes::Context))
                .col(string(Quotes::SellAsset))
                .col(big_integer(Quotes::SellAmount))
                .col(string(Quotes::BuyAsset))
                .col(big_integer(Quotes::BuyAmount))
                .col(string(Quotes::Price))
                .col(string(Quotes::TotalPrice))
                .col(big_integer(Quotes::FeeTotal))
                .col(json(Quotes::FeeDetails))
                .col(string_null(Quotes::SellDeliveryMethod))
                .col(string_null(Quotes::BuyDeliveryMethod))
                .col(string_null(Quotes::CountryCode))
                .col(timestamp_with_time_zone(Quotes::ExpiresAt))
                .col(timestamp_with_time_zone(Quotes::CreatedAt))
                .col(uuid_null(Quotes::TransactionId).unique_key())
                .foreign_key(
                    ForeignKey::create()
                        .from(Quotes::Table, Quotes::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("quotes_tenant_created")
                .table(Quotes::Table)
                .col(Quotes::TenantId)
                .col(Quotes::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(string(Tenants::ExpiredQuotePolicy).default("hold"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Assets::Table)
                .add_column(boolean(Assets::QuotesRequired).default(false))
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter().table(Transactions::Table).add_column(uuid_null(Transactions::QuoteId)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Transactions::Table)
                .add_column(string_null(Transactions::AmountOutAsset))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Transactions::Table)
                .add_column(timestamp_with_time_zone_null(Transactions::QuoteExpiresAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Transactions::Table)
                .add_column(text_null(Transactions::HeldReason))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Transactions::HeldReason,
            Transactions::QuoteExpiresAt,
            Transactions::AmountOutAsset,
            Transactions::QuoteId,
        ] {
            m.alter_table(Table::alter().table(Transactions::Table).drop_column(column).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Assets::Table).drop_column(Assets::QuotesRequired).to_owned())
            .await?;
        m.alter_table(
            Table::alter().table(Tenants::Table).drop_column(Tenants::ExpiredQuotePolicy).to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Quotes::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Corridors::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(OffchainAssets::Table).to_owned()).await
    }
}
