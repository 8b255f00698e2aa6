//! SEP-12 customers (per tenant, per sending anchor account and memo) with their KYC
//! fields, SEP-31 transactions with their event history, and the callback outbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CustomerTypes {
    Table,
    Id,
    TenantId,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum CustomerTypeFields {
    Table,
    Id,
    CustomerTypeId,
    Name,
    FieldType,
    Description,
    Optional,
    Choices,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    TenantId,
    SaAccount,
    Memo,
    ReviewStatus,
    Message,
    CallbackUrl,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomerFields {
    Table,
    CustomerId,
    Name,
    Value,
    Data,
    ContentType,
    Status,
    Error,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    Id,
    TenantId,
    SaAccount,
    AssetCode,
    AssetIssuer,
    AmountIn,
    AmountFee,
    AmountOut,
    FeeDetails,
    Status,
    StatusMessage,
    FundingMethod,
    SenderId,
    ReceiverId,
    StellarAccountId,
    StellarMemoType,
    StellarMemo,
    RefundMemo,
    RefundMemoType,
    Lang,
    Fields,
    RequiredInfoMessage,
    RequiredInfoUpdates,
    StellarTransactionId,
    ExternalTransactionId,
    Refunds,
    CallbackUrl,
    IdempotencyKey,
    RequestHash,
    StartedAt,
    UpdatedAt,
    CompletedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum TransactionEvents {
    Table,
    Id,
    TenantId,
    TransactionId,
    At,
    FromStatus,
    ToStatus,
    Actor,
    Message,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TenantId,
    Kind,
    SubjectId,
    Url,
    Body,
    Attempts,
    NextAttemptAt,
    DeliveredAt,
    FailedAt,
    LastError,
    CreatedAt,
}

fn to_tenant(table: impl IntoIden + 'static, column: impl IntoIden + 'static) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn unique(name: &str, table: impl IntoIden + 'static, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for c in cols {
        index.col(c);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CustomerTypes::Table)
                .col(pk_uuid(CustomerTypes::Id))
                .col(uuid(CustomerTypes::TenantId))
                .col(string(CustomerTypes::Name))
                .col(text(CustomerTypes::Description).default(""))
                .foreign_key(&mut to_tenant(CustomerTypes::Table, CustomerTypes::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "customer_types_tenant_name",
            CustomerTypes::Table,
            vec![CustomerTypes::TenantId.into_iden(), CustomerTypes::Name.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CustomerTypeFields::Table)
                .col(pk_uuid(CustomerTypeFields::Id))
                .col(uuid(CustomerTypeFields::CustomerTypeId))
                .col(string(CustomerTypeFields::Name))
                .col(string(CustomerTypeFields::FieldType))
                .col(text(CustomerTypeFields::Description))
                .col(boolean(CustomerTypeFields::Optional).default(false))
                .col(json_null(CustomerTypeFields::Choices))
                .foreign_key(
                    ForeignKey::create()
                        .from(CustomerTypeFields::Table, CustomerTypeFields::CustomerTypeId)
                        .to(CustomerTypes::Table, CustomerTypes::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "customer_type_fields_type_name",
            CustomerTypeFields::Table,
            vec![CustomerTypeFields::CustomerTypeId.into_iden(), CustomerTypeFields::Name.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Customers::Table)
                .col(pk_uuid(Customers::Id))
                .col(uuid(Customers::TenantId))
                .col(string(Customers::SaAccount))
                // "" when the sending anchor authenticated without a memo.
                .col(string(Customers::Memo))
                .col(string_null(Customers::ReviewStatus))
                .col(text_null(Customers::Message))
                .col(text_null(Customers::CallbackUrl))
                .col(timestamp_with_time_zone(Customers::CreatedAt))
                .col(timestamp_with_time_zone(Customers::UpdatedAt))
                .foreign_key(&mut to_tenant(Customers::Table, Customers::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "customers_tenant_account_memo",
            Customers::Table,
            vec![
                Customers::TenantId.into_iden(),
                Customers::SaAccount.into_iden(),
                Customers::Memo.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CustomerFields::Table)
                .col(uuid(CustomerFields::CustomerId))
                .col(string(CustomerFields::Name))
                .col(text_null(CustomerFields::Value))
                .col(blob_null(CustomerFields::Data))
                .col(string_null(CustomerFields::ContentType))
                .col(string(CustomerFields::Status))
                .col(text_null(CustomerFields::Error))
                .col(timestamp_with_time_zone(CustomerFields::UpdatedAt))
                .primary_key(Index::create().col(CustomerFields::CustomerId).col(CustomerFields::Name))
                .foreign_key(
                    ForeignKey::create()
                        .from(CustomerFields::Table, CustomerFields::CustomerId)
                        .to(Customers::Table, Customers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Transactions::Table)
                .col(pk_uuid(Transactions::Id))
                .col(uuid(Transactions::TenantId))
                .col(string(Transactions::SaAccount))
                .col(string(Transactions::AssetCode))
                .col(string(Transactions::AssetIssuer))
                .col(big_integer(Transactions::AmountIn))
                .col(big_integer(Transactions::AmountFee))
                .col(big_integer(Transactions::AmountOut))
                .col(json(Transactions::FeeDetails))
                .col(string(Transactions::Status))
                .col(text_null(Transactions::StatusMessage))
                .col(string_null(Transactions::FundingMethod))
                .col(uuid_null(Transactions::SenderId))
                .col(uuid_null(Transactions::ReceiverId))
                .col(string(Transactions::StellarAccountId))
                .col(string(Transactions::StellarMemoType))
                .col(string(Transactions::StellarMemo))
                .col(string_null(Transactions::RefundMemo))
                .col(string_null(Transactions::RefundMemoType))
                .col(string_null(Transactions::Lang))
                .col(json(Transactions::Fields))
                .col(text_null(Transactions::RequiredInfoMessage))
                .col(json_null(Transactions::RequiredInfoUpdates))
                .col(string_null(Transactions::StellarTransactionId))
                .col(string_null(Transactions::ExternalTransactionId))
                .col(json_null(Transactions::Refunds))
                .col(text_null(Transactions::CallbackUrl))
                .col(string_null(Transactions::IdempotencyKey))
                .col(string_null(Transactions::RequestHash))
                .col(timestamp_with_time_zone(Transactions::StartedAt))
                .col(timestamp_with_time_zone(Transactions::UpdatedAt))
                .col(timestamp_with_time_zone_null(Transactions::CompletedAt))
                .col(timestamp_with_time_zone(Transactions::ExpiresAt))
                .foreign_key(&mut to_tenant(Transactions::Table, Transactions::TenantId))
                .to_owned(),
        )
        .await?;
        // A memo identifies one transaction of a tenant: the payment watcher matches on it.
        m.create_index(unique(
            "transactions_tenant_memo",
            Transactions::Table,
            vec![
                Transactions::TenantId.into_iden(),
                Transactions::StellarMemoType.into_iden(),
                Transactions::StellarMemo.into_iden(),
            ],
        ))
        .await?;
        // NULL keys never collide, in PostgreSQL and SQLite alike.
        m.create_index(unique(
            "transactions_idempotency",
            Transactions::Table,
            vec![
                Transactions::TenantId.into_iden(),
                Transactions::SaAccount.into_iden(),
                Transactions::IdempotencyKey.into_iden(),
            ],
        ))
        .await?;
        m.create_index(
            Index::create()
                .name("transactions_status_expiry")
                .table(Transactions::Table)
                .col(Transactions::Status)
                .col(Transactions::ExpiresAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TransactionEvents::Table)
                .col(pk_uuid(TransactionEvents::Id))
                .col(uuid(TransactionEvents::TenantId))
                .col(uuid(TransactionEvents::TransactionId))
                .col(timestamp_with_time_zone(TransactionEvents::At))
                .col(string_null(TransactionEvents::FromStatus))
                .col(string(TransactionEvents::ToStatus))
                .col(string(TransactionEvents::Actor))
                .col(text_null(TransactionEvents::Message))
                .foreign_key(
                    ForeignKey::create()
                        .from(TransactionEvents::Table, TransactionEvents::TransactionId)
                        .to(Transactions::Table, Transactions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("transaction_events_transaction")
                .table(TransactionEvents::Table)
                .col(TransactionEvents::TransactionId)
                .col(TransactionEvents::At)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(pk_uuid(Outbox::Id))
                .col(uuid(Outbox::TenantId))
                .col(string(Outbox::Kind))
                .col(uuid(Outbox::SubjectId))
                .col(text(Outbox::Url))
                .col(text(Outbox::Body))
                .col(integer(Outbox::Attempts).default(0))
                .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(Outbox::DeliveredAt))
                .col(timestamp_with_time_zone_null(Outbox::FailedAt))
                .col(text_null(Outbox::LastError))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .foreign_key(&mut to_tenant(Outbox::Table, Outbox::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_due")
                .table(Outbox::Table)
                .col(Outbox::DeliveredAt)
                .col(Outbox::FailedAt)
                .col(Outbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            TransactionEvents::Table.into_iden(),
            Transactions::Table.into_iden(),
            CustomerFields::Table.into_iden(),
            Customers::Table.into_iden(),
            CustomerTypeFields::Table.into_iden(),
            CustomerTypes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
