//! SEP-12 customer types and the fields each asks for.

use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{customer_type, customer_type_field};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, Set};
use uuid::Uuid;

use super::config_write;
use crate::{Error, rules};

pub struct NewCustomerType {
    pub name: String,
    pub description: String,
    pub fields: Vec<NewCustomerField>,
}

pub struct NewCustomerField {
    pub name: String,
    /// A name outside SEP-9, used on purpose (see [`rules::field_type`]).
    pub custom: bool,
    /// `None` for a standard SEP-9 field (its type comes from SEP-9).
    pub field_type: Option<mooring_stellar::sep9::FieldType>,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Vec<String>>,
}

/// Adds a SEP-12 customer type. Fields must be SEP-9 names, or custom names that say
/// their type explicitly.
pub async fn add_customer_type(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    new: NewCustomerType,
) -> Result<Uuid, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let id = insert_customer_type(txn, tenant_id, new).await?;
        Ok(id)
    })
    .await
}

async fn insert_customer_type(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    new: NewCustomerType,
) -> Result<Uuid, Error> {
    rules::check_customer_type(&new)?;
    let id = Uuid::new_v4();
    customer_type::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        name: Set(new.name),
        description: Set(new.description),
    }
    .insert(txn)
    .await?;
    for f in new.fields {
        let field_type = rules::field_type(&f)?;
        customer_type_field::ActiveModel {
            id: Set(Uuid::new_v4()),
            customer_type_id: Set(id),
            name: Set(f.name),
            field_type: Set(field_type.as_str().to_string()),
            description: Set(f.description),
            optional: Set(f.optional),
            choices: Set(f.choices.map(Into::into)),
        }
        .insert(txn)
        .await?;
    }
    Ok(id)
}

/// Creates or replaces (by name) a SEP-12 customer type.
pub async fn set_customer_type(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    new: NewCustomerType,
) -> Result<Uuid, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        customer_type::Entity::delete_of_tenant(tenant_id)
            .filter(customer_type::Column::Name.eq(&new.name))
            .exec(txn)
            .await?;
        let id = insert_customer_type(txn, tenant_id, new).await?;
        Ok(id)
    })
    .await
}

pub async fn remove_customer_type(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    name: &str,
) -> Result<bool, Error> {
    let w = w.into();
    config_write(w, tenant_id, async move |txn| {
        let deleted = customer_type::Entity::delete_of_tenant(tenant_id)
            .filter(customer_type::Column::Name.eq(name))
            .exec(txn)
            .await?;
        Ok(deleted.rows_affected > 0)
    })
    .await
}
