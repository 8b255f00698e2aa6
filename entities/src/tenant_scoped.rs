//! Rows that belong to one tenant. `transaction::Entity::of_tenant(id)` instead of a
//! hand-written `find().filter(Column::TenantId.eq(id))`: the scope is in the name of
//! the query, so a read cannot forget whose rows it is after.

use sea_orm::{ColumnTrait, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany};
use uuid::Uuid;

pub trait TenantScoped: EntityTrait {
    /// The column naming the owning tenant.
    fn tenant_column() -> Self::Column;

    /// This tenant's rows.
    fn of_tenant(tenant_id: Uuid) -> Select<Self> {
        Self::find().filter(Self::tenant_column().eq(tenant_id))
    }

    /// Deletes among this tenant's rows only.
    fn delete_of_tenant(tenant_id: Uuid) -> DeleteMany<Self> {
        Self::delete_many().filter(Self::tenant_column().eq(tenant_id))
    }

    /// Updates among this tenant's rows only.
    fn update_of_tenant(tenant_id: Uuid) -> UpdateMany<Self> {
        Self::update_many().filter(Self::tenant_column().eq(tenant_id))
    }
}

macro_rules! tenant_scoped {
    ($($table:ident),* $(,)?) => {$(
        impl TenantScoped for crate::$table::Entity {
            fn tenant_column() -> Self::Column {
                crate::$table::Column::TenantId
            }
        }
    )*};
}

tenant_scoped!(
    approved_sender,
    asset,
    corridor,
    customer,
    customer_type,
    ledger_gap,
    offchain_asset,
    outbox,
    payment,
    quote,
    refund,
    self_test,
    self_test_callback,
    stream_member,
    tenant_domain,
    testnet_sandbox,
    transaction,
    transaction_event,
    watch_cursor,
    webhook_endpoint,
);
