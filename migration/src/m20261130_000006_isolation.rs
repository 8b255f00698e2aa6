//! Isolation for hostile callers:
//! - A SEP-10 token may carry a memo (or be muxed): it then speaks for one user of a
//!   shared account. Transactions remember that memo so such a token sees only its own.
//! - `tenants.info_requires_auth`: SEP-31 `/info` is public by default (as anchors'
//!   validators and peers expect); a tenant may require a token.

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
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::InfoRequiresAuth).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Transactions::Table).drop_column(Transactions::SaMemo).to_owned())
            .await
    }
}
