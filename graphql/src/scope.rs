//! Authorization. Every resolver resolves its tenant through here, so a tenant key can
//! only ever name its own tenant; anything else looks exactly like a missing object.

use std::sync::Arc;

use async_graphql::{Context, ID, Result};
use mooring_tenants::Tenant;
use mooring_tenants::api_keys::KeyScope;
use uuid::Uuid;

use crate::error::{coded, codes, invalid, not_found};
use crate::{Caller, CoreContext};

pub fn core<'a>(ctx: &Context<'a>) -> &'a CoreContext {
    ctx.data_unchecked::<CoreContext>()
}

/// Which URLs the platform may call for `tenant` (webhooks, rate feeds).
pub fn url_policy(ctx: &Context<'_>, tenant: Uuid) -> Result<mooring_tenants::public_net::UrlPolicy> {
    let core = core(ctx);
    let t = core.tenants.by_id(tenant).ok_or_else(|| not_found("tenant"))?;
    Ok(core.outbound.for_network(&t.network))
}

pub fn caller(ctx: &Context<'_>) -> Result<Caller> {
    ctx.data_opt::<Caller>().copied().ok_or_else(|| coded(codes::UNAUTHENTICATED, "authentication required"))
}

pub fn operator(ctx: &Context<'_>) -> Result<()> {
    match caller(ctx)? {
        Caller::Operator => Ok(()),
        Caller::Tenant(_) => Err(coded(codes::FORBIDDEN, "this needs an operator key")),
    }
}

pub fn parse_id(id: &ID, what: &str) -> Result<Uuid> {
    id.parse().map_err(|_| not_found(what))
}

/// The tenant a call is about: a tenant caller's own (naming another is "not found");
/// for the operator, the one it names.
pub fn tenant_id(ctx: &Context<'_>, named: Option<&ID>) -> Result<Uuid> {
    match (caller(ctx)?, named) {
        (Caller::Tenant(own), None) => Ok(own),
        (Caller::Tenant(own), Some(id)) => {
            if parse_id(id, "tenant")? == own {
                Ok(own)
            } else {
                Err(not_found("tenant"))
            }
        }
        (Caller::Operator, Some(id)) => {
            let id = parse_id(id, "tenant")?;
            core(ctx).tenants.by_id(id).map(|t| t.id).ok_or_else(|| not_found("tenant"))
        }
        (Caller::Operator, None) => Err(invalid("tenantId is required for operator keys")),
    }
}

pub fn tenant(ctx: &Context<'_>, named: Option<&ID>) -> Result<Arc<Tenant>> {
    let id = tenant_id(ctx, named)?;
    core(ctx).tenants.by_id(id).ok_or_else(|| not_found("tenant"))
}

/// What the caller may see, for the domain's scoped loaders.
pub fn key_scope(ctx: &Context<'_>) -> Result<KeyScope> {
    Ok(match caller(ctx)? {
        Caller::Operator => KeyScope::Operator,
        Caller::Tenant(own) => KeyScope::Tenant(own),
    })
}
