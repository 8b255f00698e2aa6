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
use mooring_tenants::audit::{Audit, Writer};

use crate::error::{from_tenants, internal, invalid};
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

/// How a resolver writes: to the database, carrying the mutation's audit row (the
/// request's [`Audit`] slot, armed by the audit extension) into its first write
/// transaction.
pub(crate) fn writer<'a>(ctx: &'a Context<'_>) -> Writer<'a> {
    let db = &core(ctx).db;
    match ctx.data_opt::<Audit>() {
        Some(audit) => Writer::audited(db, audit),
        None => Writer::unaudited(db),
    }
}

/// How every resolver writes configuration: the write (`tenants::admin`, handed the
/// [`writer`]), then the tenant snapshot reloaded here and, through the hook, on every
/// replica, in one call. The write and the reload cannot be separated, so no resolver
/// answers from the snapshot its write made stale.
async fn configure<T>(
    ctx: &Context<'_>,
    write: impl AsyncFnOnce(Writer<'_>) -> Result<T, mooring_tenants::Error>,
) -> Result<T> {
    let value = write(writer(ctx)).await.map_err(from_tenants)?;
    core(ctx).tenants.changed().await.map_err(internal)?;
    Ok(value)
}

/// [`configure`], answering with the tenant as it now is.
async fn configure_tenant<T>(
    ctx: &Context<'_>,
    tenant_id: Option<&ID>,
    write: impl AsyncFnOnce(Writer<'_>) -> Result<T, mooring_tenants::Error>,
) -> Result<TenantObj> {
    configure(ctx, write).await?;
    Ok(TenantObj(scope::tenant(ctx, tenant_id)?))
}

fn amount(field: &str, v: &str) -> Result<Amount> {
    v.parse::<Amount>().map_err(|e| invalid(format!("{field}: {e}")))
}
