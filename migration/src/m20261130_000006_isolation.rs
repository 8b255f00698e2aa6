//! Isolation for hostile callers:
//! - A SEP-10 token may carry a memo (or be muxed): it then speaks for one user of a
//!   shared account. Transactions remember that memo so such a token sees only its own.
//! - `tenants.info_requires_auth`: SEP-31 `/info` is public by default (as anchors'
//!   validators and peers expect); a tenant may require a token.
//! - `tenants.rate_limit_per_second` / `rate_limit_burst`: the operator's cap on all
//!   of a tenant's SEP traffic together (NULL: the platform default), so a flood on
//!   one tenant is answered with cheap 429s instead of work that slows the others.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Transactions {
    Table,
    SaMemo,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    InfoRequiresAuth,
    RateLimitPerSecond,
    RateLimitBurst,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Transactions::Table)
                .add_column(string_null(Transactions::SaMemo))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(boolean(Tenants::InfoRequiresAuth).default(false))
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        for column in [Tenants::RateLimitPerSecond, Tenants::RateLimitBurst] {
            m.alter_table(Table::alter().table(Tenants::Table).add_column(integer_null(column)).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Tenants::RateLimitPerSecond, Tenants::RateLimitBurst] {
            m.alter_table(Table::alter().table(Tenants::Table).drop_column(column).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::InfoRequiresAuth).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Transactions::Table).drop_column(Transactions::SaMemo).to_owned())
            .await
    }
}
