//! The admin API: API keys (stored as SHA-256 hashes; the key itself is shown once),
//! per-tenant settings the admin API edits, and fee tiers by amount.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    TransactionExpirySecs,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    FeeTiers,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    KeyHash,
    Prefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(big_integer_null(Tenants::TransactionExpirySecs))
                .to_owned(),
        )
        .await?;
        // `[{min_amount, fee_fixed, fee_percent}]`, fixed-point strings; NULL: flat fees.
        m.alter_table(Table::alter().table(Assets::Table).add_column(json_null(Assets::FeeTiers)).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(pk_uuid(ApiKeys::Id))
                // NULL: an operator key.
                .col(uuid_null(ApiKeys::TenantId))
                .col(string(ApiKeys::Name))
                .col(string_uniq(ApiKeys::KeyHash))
                .col(string(ApiKeys::Prefix))
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiKeys::Table, ApiKeys::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Assets::Table).drop_column(Assets::FeeTiers).to_owned()).await?;
        m.alter_table(
            Table::alter().table(Tenants::Table).drop_column(Tenants::TransactionExpirySecs).to_owned(),
        )
        .await
    }
}
