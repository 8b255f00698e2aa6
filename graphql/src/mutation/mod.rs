//! Mutation roots, one per domain, merged: the operator's, a tenant's configuration
//! and keys, transaction and customer operations, and webhook endpoints. Every configuration change is
//! validated below the API, written in one database transaction with a config-version
//! bump, and reloaded here at once (other replicas follow within their poll interval).

mod config;
mod customers;
mod keys;
mod quotes;
mod sandbox;
pub(crate) mod tenants;
mod transactions;
mod webhooks;

use async_graphql::{Context, ID, MergedObject, Result};
use mooring_stellar::Amount;

use crate::error::{internal, invalid};
use crate::objects::TenantObj;
use crate::scope::{self, core};

#[derive(MergedObject, Default)]
pub struct Mutation(
    tenants::OperatorMutation,
    config::ConfigMutation,
    keys::KeysMutation,
    transactions::OperationsMutation,
    customers::CustomersMutation,
    webhooks::WebhooksMutation,
    quotes::QuotesMutation,
    sandbox::SandboxMutation,
);

async fn reload(ctx: &Context<'_>) -> Result<()> {
    core(ctx).tenants.changed().await.map_err(internal)
}

/// After a configuration write: reload (here and, through the hook, everywhere) and
/// answer with the tenant as it now is.
async fn reloaded(ctx: &Context<'_>, tenant_id: Option<&ID>) -> Result<TenantObj> {
    reload(ctx).await?;
    Ok(TenantObj(scope::tenant(ctx, tenant_id)?))
}

fn amount(field: &str, v: &str) -> Result<Amount> {
    v.parse::<Amount>().map_err(|e| invalid(format!("{field}: {e}")))
}
