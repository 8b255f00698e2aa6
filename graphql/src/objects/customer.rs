//! Customers and their KYC as the tenant reviews them.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_anchor::customers;
use mooring_tenants::pii::{self, Slot};

use crate::enums::{CustomerStatus, FieldStatus};
use crate::error::{internal, not_found};
use crate::scope::core;

/// A SEP-12 customer, as the tenant reviews it.
pub struct CustomerObj(pub customers::Loaded);

#[Object(name = "Customer")]
impl CustomerObj {
    /// Customer id (the SEP-12 id).
    async fn id(&self) -> ID {
        ID(self.0.customer.id.to_string())
    }
    /// Sending anchor account that registered it.
    async fn sa_account(&self) -> &str {
        &self.0.customer.sa_account
    }
    /// The sending anchor's memo for this user ("" for none).
    async fn memo(&self) -> &str {
        &self.0.customer.memo
    }
    /// SEP-12 status for each of the tenant's customer types.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn statuses(&self, ctx: &Context<'_>) -> Result<Vec<TypeStatus>> {
        let tenant = core(ctx).tenants.by_id(self.0.customer.tenant_id);
        Ok(tenant
            .iter()
            .flat_map(|t| t.customer_types.iter())
            .map(|ty| TypeStatus {
                customer_type: ty.name.clone(),
                status: customers::status(ty, Some(&self.0)).into(),
            })
            .collect())
    }
    /// The message shown to the sending anchor.
    async fn message(&self) -> Option<&str> {
        self.0.customer.message.as_deref()
    }
    /// Fields provided (files as metadata only).
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn fields(&self, ctx: &Context<'_>) -> Result<Vec<ProvidedField>> {
        let c = &self.0.customer;
        let tenant = core(ctx).tenants.by_id(c.tenant_id).ok_or_else(|| not_found("tenant"))?;
        // Every view of personal data is in the audit log: who read whose fields.
        let reads_values = ctx.look_ahead().field("value").exists();
        let may_read = crate::roles::granted(ctx) >= Some(mooring_tenants::api_keys::Role::Operate);
        if reads_values
            && may_read
            && let Some(actor) = ctx.data_opt::<mooring_tenants::audit::Actor>()
        {
            let row = mooring_tenants::audit::entry(
                actor,
                Some(c.tenant_id),
                "viewCustomerPii",
                Some(c.id.to_string()),
                "{}".into(),
            );
            mooring_tenants::audit::settle(&core(ctx).db, row, true).await.map_err(internal)?;
        }
        self.0
            .fields
            .iter()
            .map(|f| {
                // Stored sealed with the tenant's data key; opened only here, for the
                // tenant's (or the operator's) eyes.
                let slot = Slot { tenant: c.tenant_id, customer: c.id, field: &f.name };
                let value = f
                    .value
                    .as_deref()
                    .map(|v| tenant.data_key.open_text(slot, v))
                    .transpose()
                    .map_err(|_| internal("a customer field cannot be decrypted"))?;
                Ok(ProvidedField {
                    name: f.name.clone(),
                    value,
                    is_file: f.data.is_some(),
                    content_type: f.content_type.clone(),
                    size: f.data.as_deref().map(|d| pii::file_size(d) as i64),
                    status: f.status.into(),
                    error: f.error.clone(),
                })
            })
            .collect()
    }
    /// Registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.customer.created_at
    }
}

/// A customer's status for one type.
#[derive(SimpleObject)]
pub struct TypeStatus {
    /// The SEP-12 type.
    pub customer_type: String,
    /// Its SEP-12 status.
    pub status: CustomerStatus,
}

/// A provided KYC field.
#[derive(SimpleObject)]
pub struct ProvidedField {
    /// SEP-9 name.
    pub name: String,
    /// Text value (none for files). Personal data: OPERATE and ADMIN keys only.
    #[graphql(guard = "crate::roles::AtLeast(mooring_tenants::api_keys::Role::Operate)")]
    pub value: Option<String>,
    /// Whether it is a file.
    pub is_file: bool,
    /// A file's content type.
    pub content_type: Option<String>,
    /// A file's size in bytes.
    pub size: Option<i64>,
    /// Where it stands in review.
    pub status: FieldStatus,
    /// Why it was rejected.
    pub error: Option<String>,
}
