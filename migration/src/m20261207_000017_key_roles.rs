//! `api_keys.roles`: what a key may do (`read`, `operate`, `admin`, comma-separated);
//! every key made before roles existed is `admin`, as it was all-powerful.
//! `audit_log.key_roles`: the roles of the key that made a change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Roles,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    KeyRoles,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(string(ApiKeys::Roles).default("admin"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(AuditLog::Table).add_column(string_null(AuditLog::KeyRoles)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::KeyRoles).to_owned())
            .await?;
        m.alter_table(Table::alter().table(ApiKeys::Table).drop_column(ApiKeys::Roles).to_owned()).await
    }
}
