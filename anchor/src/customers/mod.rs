//! SEP-12 customers. A customer belongs to one tenant and one sending-anchor account
//! (plus the memo telling that account's users apart); its status is computed per
//! SEP-12 type from the fields that type asks for and the state of each provided field.

mod side;
mod view;
mod write;

use mooring_entities::TenantScoped;
use mooring_entities::{customer, customer_field};
use mooring_tenants::api_keys::KeyScope;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{AnchorResult, Owner};

pub use side::{Side, accepted, accepted_id};
pub use view::{status, view};
pub(crate) use write::notify_if_changed;
pub use write::{PutCustomer, Review, delete, put_in, reject_fields, review_in, set_callback};

/// A customer's SEP-12 status for one type, computed from its fields.
pub use mooring_wire::sep12::CustomerStatus as Status;

pub use customer::ReviewStatus;
pub use customer_field::Status as FieldStatus;

/// A value sent with `PUT /customer`.
#[derive(Debug, Clone)]
pub enum Incoming {
    Text(String),
    File { bytes: Vec<u8>, content_type: Option<String> },
}

/// Which customer a request is about.
#[derive(Debug, Clone)]
pub enum Target {
    Id(Uuid),
    /// "" for none.
    Memo(String),
}

pub async fn find(
    db: &impl ConnectionTrait,
    owner: &Owner,
    target: &Target,
) -> AnchorResult<Option<customer::Model>> {
    let query = customer::Entity::of_tenant(owner.tenant_id)
        .filter(customer::Column::SaAccount.eq(&owner.sa_account));
    let query = match target {
        Target::Id(id) => query.filter(customer::Column::Id.eq(*id)),
        Target::Memo(memo) => query.filter(customer::Column::Memo.eq(memo)),
    };
    let query = match &owner.memo {
        Some(memo) => query.filter(customer::Column::Memo.eq(memo)),
        None => query,
    };
    Ok(query.one(db).await?)
}

pub async fn fields_of(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> AnchorResult<Vec<customer_field::Model>> {
    Ok(customer_field::Entity::find()
        .filter(customer_field::Column::CustomerId.eq(customer_id))
        .all(db)
        .await?)
}

/// A customer and its provided fields, loaded together.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub customer: customer::Model,
    pub fields: Vec<customer_field::Model>,
}

pub async fn load(db: &impl ConnectionTrait, owner: &Owner, target: &Target) -> AnchorResult<Option<Loaded>> {
    with_fields(db, find(db, owner, target).await?).await
}

/// The owner's customers among `ids`, with their fields: two queries however many ids
/// (a transaction names a sender and a receiver). Ids the owner has no customer for are
/// absent.
pub async fn load_ids(
    db: &impl ConnectionTrait,
    owner: &Owner,
    ids: &[Uuid],
) -> AnchorResult<std::collections::HashMap<Uuid, Loaded>> {
    let mut loaded = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(loaded);
    }
    let query = customer::Entity::of_tenant(owner.tenant_id)
        .filter(customer::Column::SaAccount.eq(&owner.sa_account))
        .filter(customer::Column::Id.is_in(ids.iter().copied()));
    let query = match &owner.memo {
        Some(memo) => query.filter(customer::Column::Memo.eq(memo)),
        None => query,
    };
    // One round trip: the customers with their fields joined (a customer without
    // fields comes once, with none). This read starts every POST /transactions.
    let fields_of = customer_field::Entity::belongs_to(customer::Entity)
        .from(customer_field::Column::CustomerId)
        .to(customer::Column::Id)
        .into();
    let rows = query
        .select_also(customer_field::Entity)
        .join(sea_orm::JoinType::LeftJoin, sea_orm::RelationDef::rev(fields_of))
        .all(db)
        .await?;
    for (customer, field) in rows {
        let entry = loaded.entry(customer.id).or_insert_with(|| Loaded { customer, fields: Vec::new() });
        entry.fields.extend(field);
    }
    Ok(loaded)
}

pub async fn load_by_id(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> AnchorResult<Option<Loaded>> {
    find_in_scope(db, KeyScope::Tenant(tenant_id), id).await
}

async fn with_fields(
    db: &impl ConnectionTrait,
    customer: Option<customer::Model>,
) -> AnchorResult<Option<Loaded>> {
    let Some(customer) = customer else { return Ok(None) };
    let fields = fields_of(db, customer.id).await?;
    Ok(Some(Loaded { customer, fields }))
}

/// A page of a tenant's customers, newest first, and how many it has in all.
pub async fn list(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    offset: u64,
    limit: u64,
) -> AnchorResult<(Vec<customer::Model>, u64)> {
    use sea_orm::{PaginatorTrait, QueryOrder, QuerySelect};
    let query = customer::Entity::of_tenant(tenant_id);
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(customer::Column::CreatedAt).offset(offset).limit(limit).all(db).await?;
    Ok((rows, total))
}

/// A customer `scope` may see, with its fields; `None` for another tenant's as for a
/// missing one.
pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: KeyScope,
    id: Uuid,
) -> AnchorResult<Option<Loaded>> {
    let query = customer::Entity::find_by_id(id);
    let query = match scope {
        KeyScope::Operator => query,
        KeyScope::Tenant(t) => query.filter(customer::Column::TenantId.eq(t)),
    };
    with_fields(db, query.one(db).await?).await
}

/// Seals customer fields still stored in plaintext (written before PII encryption),
/// in pages, each row compare-and-set on its `updated_at` so a concurrent write wins.
/// Idempotent and resumable: sealed rows are recognised and skipped, so a crash
/// midway just means the next start goes on. Returns how many rows it sealed.
pub async fn seal_plaintext(
    db: &DatabaseConnection,
    key_of: impl Fn(Uuid) -> Option<std::sync::Arc<mooring_tenants::pii::DataKey>>,
) -> AnchorResult<u64> {
    use mooring_tenants::pii::{Slot, is_sealed_file, is_sealed_text};
    use sea_orm::sea_query::Expr;
    use sea_orm::{Condition, QueryOrder, QuerySelect};
    const PAGE: u64 = 500;
    let mut after: Option<(Uuid, String)> = None;
    let mut sealed = 0;
    loop {
        let mut query = customer_field::Entity::find()
            .order_by_asc(customer_field::Column::CustomerId)
            .order_by_asc(customer_field::Column::Name)
            .limit(PAGE);
        if let Some((customer, name)) = &after {
            query = query.filter(
                Condition::any().add(customer_field::Column::CustomerId.gt(*customer)).add(
                    Condition::all()
                        .add(customer_field::Column::CustomerId.eq(*customer))
                        .add(customer_field::Column::Name.gt(name.clone())),
                ),
            );
        }
        let rows = query.all(db).await?;
        let Some(last) = rows.last() else { return Ok(sealed) };
        after = Some((last.customer_id, last.name.clone()));
        let plain: Vec<&customer_field::Model> = rows
            .iter()
            .filter(|r| {
                r.value.as_deref().is_some_and(|v| !is_sealed_text(v))
                    || r.data.as_deref().is_some_and(|d| !is_sealed_file(d))
            })
            .collect();
        if !plain.is_empty() {
            let ids: Vec<Uuid> = plain.iter().map(|r| r.customer_id).collect();
            let owners: std::collections::HashMap<Uuid, Uuid> = customer::Entity::find()
                .filter(customer::Column::Id.is_in(ids))
                .all(db)
                .await?
                .into_iter()
                .map(|c| (c.id, c.tenant_id))
                .collect();
            for r in plain {
                let Some(tenant) = owners.get(&r.customer_id).copied() else { continue };
                let Some(key) = key_of(tenant) else { continue };
                let slot = Slot { tenant, customer: r.customer_id, field: &r.name };
                let value = r
                    .value
                    .as_deref()
                    .map(|v| if is_sealed_text(v) { v.to_string() } else { key.seal_text(slot, v) });
                let data = r
                    .data
                    .as_deref()
                    .map(|d| if is_sealed_file(d) { d.to_vec() } else { key.seal_file(slot, d) });
                let done = customer_field::Entity::update_many()
                    .col_expr(customer_field::Column::Value, Expr::value(value))
                    .col_expr(customer_field::Column::Data, Expr::value(data))
                    .filter(customer_field::Column::CustomerId.eq(r.customer_id))
                    .filter(customer_field::Column::Name.eq(r.name.clone()))
                    .filter(customer_field::Column::UpdatedAt.eq(r.updated_at))
                    .exec(db)
                    .await?;
                sealed += done.rows_affected;
            }
        }
        if rows.len() < PAGE as usize {
            return Ok(sealed);
        }
    }
}
