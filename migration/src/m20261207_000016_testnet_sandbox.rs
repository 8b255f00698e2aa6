//! Testnet sandboxes and self-tests.
//!
//! - `tenants.testnet_auto_provision`: after a testnet reset, provision the tenant again.
//! - `testnet_sandboxes`: one row per provisioned testnet tenant: the asset code, the
//!   keys Mooring generated for it (issuer, distribution account when the tenant gave
//!   none, the test sending anchor; each sealed under the master key), whether the test
//!   sender's secret was shown, the last run's steps, and the submission in flight (so a
//!   run after a crash resubmits that very envelope instead of paying twice).
//! - `self_tests`: each self-test run's report.
//! - `self_test_callbacks`: the SEP-31 callback a self-test run waits for, by an
//!   unguessable token (the receiver only fills a row the run made).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    TestnetAutoProvision,
}

#[derive(DeriveIden)]
enum TestnetSandboxes {
    Table,
    TenantId,
    AssetCode,
    IssuerSeed,
    DistributionSeed,
    SenderSeed,
    SenderSecretShown,
    State,
    Steps,
    Pending,
    ProvisionedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SelfTests {
    Table,
    Id,
    TenantId,
    StartedAt,
    FinishedAt,
    Passed,
    Steps,
}

#[derive(DeriveIden)]
enum SelfTestCallbacks {
    Table,
    Token,
    TenantId,
    CreatedAt,
    ReceivedAt,
    Signature,
    Host,
    Body,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(boolean(Tenants::TestnetAutoProvision).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TestnetSandboxes::Table)
                .col(uuid(TestnetSandboxes::TenantId).primary_key())
                .col(text(TestnetSandboxes::AssetCode))
                .col(text(TestnetSandboxes::IssuerSeed))
                .col(text_null(TestnetSandboxes::DistributionSeed))
                .col(text(TestnetSandboxes::SenderSeed))
                .col(boolean(TestnetSandboxes::SenderSecretShown).default(false))
                .col(text(TestnetSandboxes::State))
                .col(text(TestnetSandboxes::Steps))
                .col(text_null(TestnetSandboxes::Pending))
                .col(timestamp_with_time_zone_null(TestnetSandboxes::ProvisionedAt))
                .col(timestamp_with_time_zone(TestnetSandboxes::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TestnetSandboxes::Table, TestnetSandboxes::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SelfTests::Table)
                .col(uuid(SelfTests::Id).primary_key())
                .col(uuid(SelfTests::TenantId))
                .col(timestamp_with_time_zone(SelfTests::StartedAt))
                .col(timestamp_with_time_zone_null(SelfTests::FinishedAt))
                .col(boolean(SelfTests::Passed).default(false))
                .col(text(SelfTests::Steps))
                .foreign_key(
                    ForeignKey::create()
                        .from(SelfTests::Table, SelfTests::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SelfTestCallbacks::Table)
                .col(uuid(SelfTestCallbacks::Token).primary_key())
                .col(uuid(SelfTestCallbacks::TenantId))
                .col(timestamp_with_time_zone(SelfTestCallbacks::CreatedAt))
                .col(timestamp_with_time_zone_null(SelfTestCallbacks::ReceivedAt))
                .col(text_null(SelfTestCallbacks::Signature))
                .col(text_null(SelfTestCallbacks::Host))
                .col(text_null(SelfTestCallbacks::Body))
                .foreign_key(
                    ForeignKey::create()
                        .from(SelfTestCallbacks::Table, SelfTestCallbacks::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("self_tests_tenant")
                .table(SelfTests::Table)
                .col(SelfTests::TenantId)
                .col(SelfTests::StartedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SelfTestCallbacks::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(SelfTests::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(TestnetSandboxes::Table).to_owned()).await?;
        m.alter_table(
            Table::alter().table(Tenants::Table).drop_column(Tenants::TestnetAutoProvision).to_owned(),
        )
        .await
    }
}
