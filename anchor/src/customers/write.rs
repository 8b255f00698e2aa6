//! SEP-12 writes: `PUT /customer`, deletion, callbacks, and the tenant's review. Each
//! runs inside the caller's database transaction (see `crate::kyc`, which also resumes
//! the transactions waiting on the customer).

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::{customer, customer_field};
use mooring_stellar::sep9::{self, FieldType};
use mooring_tenants::{CustomerType, Tenant};
use mooring_wire::webhook::CustomerUpdated;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use super::{
    FieldStatus, Incoming, Loaded, ReviewStatus, Target, fields_of, find, load, load_by_id, status, view,
};
use crate::outbox::{self, Kind};
use mooring_tenants::pii::Slot;

use crate::webhooks::{self, EventType};
use crate::{AnchorError, AnchorResult, Owner};

/// Checks one incoming value against what the tenant's type (or SEP-9) says of it.
fn check(tenant: &Tenant, ty: &CustomerType, name: &str, value: &Incoming) -> AnchorResult<()> {
    let declared = ty
        .fields
        .iter()
        .chain(tenant.customer_types.iter().flat_map(|t| t.fields.iter()))
        .find(|f| f.name == name);
    let field_type = declared
        .map(|f| f.field_type)
        .or_else(|| sep9::field_type(name))
        .ok_or_else(|| AnchorError::invalid(format!("{name} is not a SEP-9 field this anchor accepts")))?;
    match (value, field_type) {
        (Incoming::File { bytes, .. }, FieldType::Binary) => {
            if bytes.is_empty() {
                return Err(AnchorError::invalid(format!("{name} is an empty file")));
            }
            Ok(())
        }
        (Incoming::File { .. }, _) => Err(AnchorError::invalid(format!("{name} is not a file field"))),
        (Incoming::Text(text), ty) => {
            sep9::validate(name, ty, text, declared.and_then(|f| f.choices.as_deref()))
                .map_err(|e| AnchorError::invalid(e.to_string()))
        }
    }
}

pub struct PutCustomer {
    pub target: Target,
    pub type_name: String,
    pub values: Vec<(String, Incoming)>,
}

/// `PUT /customer`: validates every value first (nothing is written if one is bad),
/// then creates or updates the customer and its fields, and queues the callback if
/// its status changed. Returns the customer id.
pub async fn put_in(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    owner: &Owner,
    put: PutCustomer,
) -> AnchorResult<Uuid> {
    let ty = tenant
        .customer_type(&put.type_name)
        .ok_or_else(|| AnchorError::invalid(format!("unknown customer type {:?}", put.type_name)))?;
    for (name, value) in &put.values {
        check(tenant, ty, name, value)?;
    }
    // Review happens off-line on the public network; testnet accepts what is valid.
    let field_status =
        if tenant.network.is_public() { FieldStatus::Processing } else { FieldStatus::Accepted };

    let now = Utc::now();
    let before = load(txn, owner, &put.target).await?;
    let customer = match (&before, &put.target) {
        (Some(l), _) => l.customer.clone(),
        (None, Target::Id(_)) => return Err(AnchorError::NotFound("customer not found".into())),
        (None, Target::Memo(memo)) => {
            // Concurrent first PUTs for one (account, memo) race here: the loser's
            // insert does nothing (after waiting for the winner), and it reads the
            // winner's row, so every request gets its 202.
            let row = customer::ActiveModel {
                id: Set(Uuid::new_v4()),
                tenant_id: Set(owner.tenant_id),
                sa_account: Set(owner.sa_account.clone()),
                memo: Set(memo.clone()),
                review_status: Set(None),
                message: Set(None),
                callback_url: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            customer::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        customer::Column::TenantId,
                        customer::Column::SaAccount,
                        customer::Column::Memo,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            load(txn, owner, &put.target)
                .await?
                .ok_or_else(|| AnchorError::Conflict("the customer changed concurrently; try again".into()))?
                .customer
        }
    };
    for (name, value) in put.values {
        // Sealed before it reaches the database (see `mooring_tenants::pii`).
        let slot = Slot { tenant: tenant.id, customer: customer.id, field: &name };
        let (text, data, content_type) = match value {
            Incoming::Text(t) => (Some(tenant.data_key.seal_text(slot, t.trim())), None, None),
            Incoming::File { bytes, content_type } => {
                (None, Some(tenant.data_key.seal_file(slot, &bytes)), content_type)
            }
        };
        let field = customer_field::ActiveModel {
            customer_id: Set(customer.id),
            name: Set(name),
            value: Set(text),
            data: Set(data),
            content_type: Set(content_type),
            status: Set(field_status),
            error: Set(None),
            updated_at: Set(now),
        };
        // An upsert, not delete-then-insert: concurrent updates of one field both
        // succeed (the last one wins) instead of one hitting the primary key.
        use customer_field::Column as F;
        customer_field::Entity::insert(field)
            .on_conflict(
                OnConflict::columns([F::CustomerId, F::Name])
                    .update_columns([F::Value, F::Data, F::ContentType, F::Status, F::Error, F::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let mut touched: customer::ActiveModel = customer.clone().into();
    touched.updated_at = Set(now);
    let customer = touched.update(txn).await?;
    let after = Loaded { fields: fields_of(txn, customer.id).await?, customer };
    notify_if_changed(txn, ty, before.as_ref(), &after).await?;
    Ok(after.customer.id)
}

/// Queues the SEP-12 callback when the customer's status for `ty` changed.
pub(crate) async fn notify_if_changed(
    db: &impl ConnectionTrait,
    ty: &CustomerType,
    before: Option<&Loaded>,
    after: &Loaded,
) -> AnchorResult<()> {
    let now = status(ty, Some(after));
    let changed = before.is_none_or(|b| status(ty, Some(b)) != now);
    // The tenant's back office hears of every write (ids and status only: it reads the
    // fields through the admin API, so no PII travels in webhooks).
    let c = &after.customer;
    webhooks::emit(db, c.tenant_id, EventType::CustomerUpdated, c.id, || CustomerUpdated {
        customer_id: c.id,
        customer_type: ty.name.clone(),
        status: now,
        status_changed: changed,
    })
    .await?;
    if let (true, Some(url)) = (changed, &after.customer.callback_url) {
        let body = view(ty, Some(after));
        outbox::enqueue(db, after.customer.tenant_id, Kind::Customer, after.customer.id, url, &body).await?;
    }
    Ok(())
}

/// Marks provided fields as rejected with a reason: the customer needs to send them
/// again (SEP-31's `pending_customer_info_update`).
pub async fn reject_fields(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    fields: &[(String, String)],
) -> AnchorResult<()> {
    for (name, reason) in fields {
        let row = customer_field::Entity::find_by_id((customer_id, name.clone())).one(db).await?;
        let Some(row) = row else {
            return Err(AnchorError::invalid(format!("customer has not provided {name}")));
        };
        let mut row: customer_field::ActiveModel = row.into();
        row.status = Set(FieldStatus::Rejected);
        row.error = Set(Some(reason.clone()));
        row.updated_at = Set(Utc::now());
        row.update(db).await?;
    }
    Ok(())
}

/// Accepts the named fields (each must have been provided).
async fn accept_fields(db: &impl ConnectionTrait, customer_id: Uuid, names: &[String]) -> AnchorResult<()> {
    for name in names {
        let row = customer_field::Entity::find_by_id((customer_id, name.clone())).one(db).await?;
        let Some(row) = row else {
            return Err(AnchorError::invalid(format!("customer has not provided {name}")));
        };
        let mut row: customer_field::ActiveModel = row.into();
        row.status = Set(FieldStatus::Accepted);
        row.error = Set(None);
        row.updated_at = Set(Utc::now());
        row.update(db).await?;
    }
    Ok(())
}

/// `DELETE /customer/{account}`: erases the customer and every field it provided.
pub async fn delete(db: &DatabaseConnection, owner: &Owner, memo: &str) -> AnchorResult<bool> {
    let deleted = customer::Entity::delete_of_tenant(owner.tenant_id)
        .filter(customer::Column::SaAccount.eq(&owner.sa_account))
        .filter(customer::Column::Memo.eq(memo))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// `PUT /customer/callback`: a new URL replaces the old one, stored sealed (see
/// [`crate::sealed`]).
pub async fn set_callback(
    db: &DatabaseConnection,
    key: &mooring_tenants::pii::DataKey,
    owner: &Owner,
    target: &Target,
    url: &str,
) -> AnchorResult<()> {
    let customer =
        find(db, owner, target).await?.ok_or_else(|| AnchorError::NotFound("customer not found".into()))?;
    let sealed = crate::sealed::seal_url(key, owner.tenant_id, customer.id, url);
    let mut customer: customer::ActiveModel = customer.into();
    customer.callback_url = Set(Some(sealed));
    customer.update(db).await?;
    Ok(())
}

/// A tenant's review decision on a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    Accept,
    Reject,
    NeedsInfo,
}

/// Records a review: ACCEPTED accepts every field under review; REJECTED is final;
/// NEEDS_INFO rejects the named fields with their reasons. Both accept the fields in
/// `accepted`, even ones sent back before (a review field by field). Queues the SEP-12 callback for each type whose
/// status changed.
pub async fn review_in(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    customer_id: Uuid,
    decision: Review,
    message: Option<String>,
    field_errors: &[(String, String)],
    accepted: &[String],
) -> AnchorResult<Loaded> {
    let before = load_by_id(txn, tenant.id, customer_id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("customer not found".into()))?;
    match decision {
        Review::Accept => {
            customer_field::Entity::update_many()
                .col_expr(customer_field::Column::Status, FieldStatus::Accepted.into())
                .col_expr(customer_field::Column::Error, Option::<String>::None.into())
                .filter(customer_field::Column::CustomerId.eq(customer_id))
                .filter(customer_field::Column::Status.ne(FieldStatus::Rejected))
                .exec(txn)
                .await?;
            // A field sent back before is accepted only when named.
            accept_fields(txn, customer_id, accepted).await?;
        }
        Review::NeedsInfo => {
            if field_errors.is_empty() {
                return Err(AnchorError::invalid("NEEDS_INFO needs at least one field and its reason"));
            }
            if let Some(both) = accepted.iter().find(|a| field_errors.iter().any(|(n, _)| n == *a)) {
                return Err(AnchorError::invalid(format!("{both} cannot be both accepted and sent back")));
            }
            reject_fields(txn, customer_id, field_errors).await?;
            accept_fields(txn, customer_id, accepted).await?;
        }
        Review::Reject => {
            if message.as_deref().is_none_or(str::is_empty) {
                return Err(AnchorError::invalid("REJECTED needs a message for the sending anchor"));
            }
        }
    }
    let mut row: customer::ActiveModel = before.customer.clone().into();
    row.review_status = Set((decision == Review::Reject).then_some(ReviewStatus::Rejected));
    row.message = Set(message);
    row.updated_at = Set(Utc::now());
    row.update(txn).await?;
    let after = load_by_id(txn, tenant.id, customer_id).await?.expect("still there");
    for ty in &tenant.customer_types {
        let involved = ty.fields.iter().any(|f| after.fields.iter().any(|p| p.name == f.name));
        if involved {
            notify_if_changed(txn, ty, Some(&before), &after).await?;
        }
    }
    Ok(after)
}
