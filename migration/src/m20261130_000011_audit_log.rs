//! `audit_log`: one row per admin API mutation — who (operator token or API key, by id
//! and name), for which tenant, which mutation on which target, a redacted summary of
//! its arguments, the outcome, when, and the request id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    TenantId,
    Actor,
    KeyId,
    KeyName,
    Mutation,
    TargetId,
    Summary,
    Outcome,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(uuid(AuditLog::Id).primary_key())
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(uuid_null(AuditLog::TenantId))
                .col(string(AuditLog::Actor))
                .col(uuid_null(AuditLog::KeyId))
                .col(string_null(AuditLog::KeyName))
                .col(string(AuditLog::Mutation))
                .col(string_null(AuditLog::TargetId))
                .col(text(AuditLog::Summary))
                .col(string(AuditLog::Outcome))
                .col(string(AuditLog::RequestId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_log_tenant_at")
                .table(AuditLog::Table)
                .col(AuditLog::TenantId)
                .col(AuditLog::At)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("audit_log_at").table(AuditLog::Table).col(AuditLog::At).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await
    }
}
