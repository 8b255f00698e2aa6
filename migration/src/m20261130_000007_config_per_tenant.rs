//! `tenants.config_version`: the config version of the tenant's last configuration
//! write. A replica that cached version V reloads only the tenants above V, so a
//! change costs one tenant's reload however many tenants the platform hosts.
//! `tenant_domains (tenant_id)`: reloading one tenant finds its domains by index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    ConfigVersion,
}

#[derive(DeriveIden)]
enum TenantDomains {
    Table,
    TenantId,
}

const INDEX: &str = "tenants_config_version";
const DOMAINS_INDEX: &str = "tenant_domains_tenant";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(big_integer(Tenants::ConfigVersion).default(0))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name(INDEX).table(Tenants::Table).col(Tenants::ConfigVersion).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(DOMAINS_INDEX)
                .table(TenantDomains::Table)
                .col(TenantDomains::TenantId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(DOMAINS_INDEX).table(TenantDomains::Table).to_owned()).await?;
        m.drop_index(Index::drop().name(INDEX).table(Tenants::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::ConfigVersion).to_owned())
            .await
    }
}
