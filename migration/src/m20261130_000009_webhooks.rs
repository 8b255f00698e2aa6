//! Tenant webhooks.
//!
//! `webhook_endpoints`: where a tenant wants its events, which ones, and the signing
//! secret (encrypted under the master key; the previous one kept until
//! `previous_until` so receivers can switch over). `failing_since` and
//! `disabled_reason` record an endpoint that kept failing and was turned off.
//! `outbox` gains what a webhook delivery needs beside a callback's: its endpoint and
//! event type, and the last attempt's HTTP status and latency (the delivery log).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    TenantId,
    Url,
    EventTypes,
    Enabled,
    Secret,
    PreviousSecret,
    PreviousUntil,
    FailingSince,
    DisabledReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    EndpointId,
    EventType,
    LastStatus,
    LastLatencyMs,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

const BY_TENANT: &str = "webhook_endpoints_tenant";
const OUTBOX_BY_ENDPOINT: &str = "outbox_endpoint_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(uuid(WebhookEndpoints::Id).primary_key())
                .col(uuid(WebhookEndpoints::TenantId))
                .col(string(WebhookEndpoints::Url))
                .col(text(WebhookEndpoints::EventTypes))
                .col(boolean(WebhookEndpoints::Enabled))
                .col(string(WebhookEndpoints::Secret))
                .col(string_null(WebhookEndpoints::PreviousSecret))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::PreviousUntil))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::FailingSince))
                .col(text_null(WebhookEndpoints::DisabledReason))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(BY_TENANT)
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::TenantId)
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter().table(Outbox::Table).add_column(uuid_null(Outbox::EndpointId)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Outbox::Table).add_column(string_null(Outbox::EventType)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Outbox::Table).add_column(integer_null(Outbox::LastStatus)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(big_integer_null(Outbox::LastLatencyMs))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(OUTBOX_BY_ENDPOINT)
                .table(Outbox::Table)
                .col(Outbox::EndpointId)
                .col(Outbox::EventType)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(OUTBOX_BY_ENDPOINT).table(Outbox::Table).to_owned()).await?;
        for column in [Outbox::LastLatencyMs, Outbox::LastStatus, Outbox::EventType, Outbox::EndpointId] {
            m.alter_table(Table::alter().table(Outbox::Table).drop_column(column).to_owned()).await?;
        }
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await
    }
}
