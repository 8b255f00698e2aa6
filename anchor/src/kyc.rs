//! Customer writes and what they set moving. A `PUT /customer` or a tenant's review is
//! written, its SEP-12 callback queued, and the transactions waiting on the customer
//! resumed, all in one database transaction: a committed update never leaves its
//! transactions stuck. This sits above `customers` and `transactions`, so neither
//! depends on the other's writes.

use mooring_entities::Writer;
use mooring_tenants::Tenant;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::customers::{self, Loaded, PutCustomer, Review};
use crate::{AnchorResult, Owner, transactions};

/// `PUT /customer`. Returns the customer id.
pub async fn put(
    db: &DatabaseConnection,
    tenant: &Tenant,
    owner: &Owner,
    put: PutCustomer,
) -> AnchorResult<Uuid> {
    let txn = mooring_entities::begin_write(db).await?;
    let id = customers::put_in(&txn, tenant, owner, put).await?;
    transactions::resume_after_customer_update(&txn, tenant, id).await?;
    txn.commit().await?;
    Ok(id)
}

/// The tenant's review of a customer (see [`customers::review_in`]).
pub async fn review(
    w: impl Into<Writer<'_>>,
    tenant: &Tenant,
    customer_id: Uuid,
    decision: Review,
    message: Option<String>,
    field_errors: &[(String, String)],
    accepted: &[String],
) -> AnchorResult<Loaded> {
    let w = w.into();
    let txn = w.begin().await?;
    let after =
        customers::review_in(&txn, tenant, customer_id, decision, message, field_errors, accepted).await?;
    transactions::resume_after_customer_update(&txn, tenant, customer_id).await?;
    txn.commit().await?;
    Ok(after)
}
