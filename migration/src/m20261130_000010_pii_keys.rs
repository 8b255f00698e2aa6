//! `tenants.data_key`: each tenant's data key for customer PII, sealed under the master
//! key. Filled for existing tenants at start-up (only the server holds the master
//! key), which then seals their plaintext customer fields in the background.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    DataKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Tenants::Table).add_column(string_null(Tenants::DataKey)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::DataKey).to_owned()).await
    }
}
