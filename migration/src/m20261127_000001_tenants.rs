//! Tenants and what the SEP endpoints need to know about them: domains, approved
//! sending anchors, assets, the transaction fields an asset requires, and the config
//! version every replica polls to drop its cache.
//!
//! Money columns are `big_integer` fixed-point with 7 decimals (Stellar's stroops), so
//! SQLite, which has no exact decimal type, stores them exactly too.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    NetworkPassphrase,
    HorizonUrl,
    SigningPublicKey,
    SigningSeedCiphertext,
    DistributionAccount,
    Status,
    OrgName,
    OrgUrl,
    OrgDescription,
    OrgLogo,
    OrgOfficialEmail,
    OrgSupportEmail,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TenantDomains {
    Table,
    Domain,
    TenantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApprovedSenders {
    Table,
    Id,
    TenantId,
    Account,
    Name,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Assets {
    Table,
    Id,
    TenantId,
    Code,
    Issuer,
    Status,
    Sep31Enabled,
    MinAmount,
    MaxAmount,
    FeeFixed,
    FeePercent,
    MemoType,
    SenderSep12Type,
    ReceiverSep12Type,
    FundingMethods,
    AnchorAssetType,
    Description,
    DisplayDecimals,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AssetFields {
    Table,
    Id,
    AssetId,
    Name,
    Description,
    Optional,
    Choices,
}

#[derive(DeriveIden)]
enum ConfigState {
    Table,
    Id,
    Version,
}

fn tenant_fk(table: impl IntoIden + 'static, column: impl IntoIden + 'static) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(pk_uuid(Tenants::Id))
                .col(string(Tenants::Name))
                .col(string(Tenants::NetworkPassphrase))
                .col(string(Tenants::HorizonUrl))
                .col(string(Tenants::SigningPublicKey))
                .col(text(Tenants::SigningSeedCiphertext))
                .col(string(Tenants::DistributionAccount))
                .col(string(Tenants::Status).default("active"))
                .col(string_null(Tenants::OrgName))
                .col(string_null(Tenants::OrgUrl))
                .col(text_null(Tenants::OrgDescription))
                .col(string_null(Tenants::OrgLogo))
                .col(string_null(Tenants::OrgOfficialEmail))
                .col(string_null(Tenants::OrgSupportEmail))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TenantDomains::Table)
                .col(string(TenantDomains::Domain).primary_key())
                .col(uuid(TenantDomains::TenantId))
                .col(timestamp_with_time_zone(TenantDomains::CreatedAt))
                .foreign_key(&mut tenant_fk(TenantDomains::Table, TenantDomains::TenantId))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApprovedSenders::Table)
                .col(pk_uuid(ApprovedSenders::Id))
                .col(uuid(ApprovedSenders::TenantId))
                .col(string(ApprovedSenders::Account))
                .col(string(ApprovedSenders::Name))
                .col(boolean(ApprovedSenders::Enabled).default(true))
                .col(timestamp_with_time_zone(ApprovedSenders::CreatedAt))
                .foreign_key(&mut tenant_fk(ApprovedSenders::Table, ApprovedSenders::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("approved_senders_tenant_account")
                .table(ApprovedSenders::Table)
                .col(ApprovedSenders::TenantId)
                .col(ApprovedSenders::Account)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Assets::Table)
                .col(pk_uuid(Assets::Id))
                .col(uuid(Assets::TenantId))
                .col(string(Assets::Code))
                .col(string(Assets::Issuer))
                .col(string(Assets::Status).default("test"))
                .col(boolean(Assets::Sep31Enabled).default(true))
                .col(big_integer_null(Assets::MinAmount))
                .col(big_integer_null(Assets::MaxAmount))
                .col(big_integer(Assets::FeeFixed).default(0))
                .col(big_integer(Assets::FeePercent).default(0))
                .col(string(Assets::MemoType).default("id"))
                .col(string_null(Assets::SenderSep12Type))
                .col(string_null(Assets::ReceiverSep12Type))
                .col(json(Assets::FundingMethods))
                .col(string(Assets::AnchorAssetType).default("fiat"))
                .col(text(Assets::Description).default(""))
                .col(integer(Assets::DisplayDecimals).default(2))
                .col(timestamp_with_time_zone(Assets::CreatedAt))
                .foreign_key(&mut tenant_fk(Assets::Table, Assets::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("assets_tenant_code_issuer")
                .table(Assets::Table)
                .col(Assets::TenantId)
                .col(Assets::Code)
                .col(Assets::Issuer)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AssetFields::Table)
                .col(pk_uuid(AssetFields::Id))
                .col(uuid(AssetFields::AssetId))
                .col(string(AssetFields::Name))
                .col(text(AssetFields::Description))
                .col(boolean(AssetFields::Optional).default(false))
                .col(json_null(AssetFields::Choices))
                .foreign_key(
                    ForeignKey::create()
                        .from(AssetFields::Table, AssetFields::AssetId)
                        .to(Assets::Table, Assets::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("asset_fields_asset_name")
                .table(AssetFields::Table)
                .col(AssetFields::AssetId)
                .col(AssetFields::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConfigState::Table)
                .col(integer(ConfigState::Id).primary_key())
                .col(big_integer(ConfigState::Version))
                .to_owned(),
        )
        .await?;
        let seed = Query::insert()
            .into_table(ConfigState::Table)
            .columns([ConfigState::Id, ConfigState::Version])
            .values_panic([1.into(), 1i64.into()])
            .to_owned();
        m.exec_stmt(seed).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ConfigState::Table.into_iden(),
            AssetFields::Table.into_iden(),
            Assets::Table.into_iden(),
            ApprovedSenders::Table.into_iden(),
            TenantDomains::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
