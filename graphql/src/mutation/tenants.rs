//! The operator's mutations: onboarding tenants, their domains, keys, status and caps.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use mooring_stellar::Network;
use mooring_tenants::admin::{self, NewTenant};
use mooring_tenants::api_keys::{self, KeyScope};

use super::{configure, configure_tenant};
use crate::error::{from_tenants, invalid, not_found};
use crate::objects::{NewApiKey, TenantObj};
use crate::scope::{self, core};

pub(super) fn check_domain_allowed(ctx: &Context<'_>, domain: &str) -> Result<()> {
    if mooring_tenants::host::normalize(domain) == mooring_tenants::host::normalize(&core(ctx).admin_host) {
        return Err(invalid("that domain is the admin API's own"));
    }
    Ok(())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StellarNetwork {
    /// Stellar's public network.
    Public,
    /// Stellar's test network.
    Testnet,
}

/// A new tenant.
#[derive(InputObject)]
pub struct CreateTenantInput {
    /// Display name.
    pub name: String,
    /// Domains it will be served on (at least one).
    pub domains: Vec<String>,
    /// The Stellar network.
    pub network: StellarNetwork,
    /// Horizon URL; null: the platform's Horizon for the network.
    pub horizon_url: Option<String>,
    /// Account sending anchors pay. Null on testnet: Mooring generates one (its key
    /// sealed) and `provisionTestnet` creates it on the ledger.
    pub distribution_account: Option<String>,
}

/// The tenant created, and its first API key.
#[derive(SimpleObject)]
pub struct CreateTenantPayload {
    /// The tenant.
    pub tenant: TenantObj,
    /// Its first API key (shown once).
    pub api_key: NewApiKey,
}

#[derive(Default)]
pub struct OperatorMutation;

#[Object]
impl OperatorMutation {
    /// Onboards a tenant: generates its SEP-10 signing key and its first API key.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant.")] input: CreateTenantInput,
    ) -> Result<CreateTenantPayload> {
        scope::operator(ctx)?;
        for d in &input.domains {
            check_domain_allowed(ctx, d)?;
        }
        let c = core(ctx);
        let (network, platform_horizon) = match input.network {
            StellarNetwork::Public => (Network::public(), &c.horizon_public_url),
            StellarNetwork::Testnet => (Network::testnet(), &c.horizon_testnet_url),
        };
        let new = NewTenant {
            name: input.name,
            domains: input.domains,
            network,
            horizon_url: input.horizon_url.unwrap_or_else(|| platform_horizon.clone()),
            distribution_account: input.distribution_account,
            org_name: None,
            org_url: None,
            org_description: None,
        };
        let (id, row, key) = configure(ctx, async move |db| {
            let id = admin::create_tenant(db, &c.master_key, new).await?;
            let (row, key) =
                api_keys::create(db, KeyScope::Tenant(id), "first key", &[api_keys::Role::Admin]).await?;
            Ok((id, row, key))
        })
        .await?;
        let tenant = c.tenants.by_id(id).ok_or_else(|| not_found("tenant"))?;
        Ok(CreateTenantPayload { tenant: TenantObj(tenant), api_key: NewApiKey { api_key: row.into(), key } })
    }

    /// Adds a domain to a tenant (a domain belongs to one tenant only).
    async fn add_domain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "The domain.")] domain: String,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        check_domain_allowed(ctx, &domain)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        configure_tenant(ctx, Some(&tenant_id), async move |db| admin::add_domain(db, id, &domain).await)
            .await
    }

    /// Removes a domain (a tenant keeps at least one).
    async fn remove_domain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "The domain.")] domain: String,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        configure_tenant(ctx, Some(&tenant_id), async move |db| admin::remove_domain(db, id, &domain).await)
            .await
    }

    /// Replaces the SEP-10 signing key. Tokens already issued stay valid until they
    /// expire (they are not signed with it); returns the new public key.
    async fn rotate_signing_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
    ) -> Result<String> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        let master_key = &core(ctx).master_key;
        configure(ctx, async move |db| admin::rotate_signing_key(db, master_key, id).await).await
    }

    /// Suspends a tenant: its SEP endpoints answer 503 until resumed.
    async fn suspend_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
    ) -> Result<TenantObj> {
        set_suspended(ctx, tenant_id, true).await
    }

    /// Resumes a suspended tenant.
    async fn resume_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
    ) -> Result<TenantObj> {
        set_suspended(ctx, tenant_id, false).await
    }

    /// Conformance mode for a testnet tenant: while on, its SEP-10 authenticates any
    /// account (an anchor validator generates fresh keys). Refused on the public
    /// network. Turn it off before go-live.
    async fn set_conformance_mode(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "On or off.")] enabled: bool,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        configure_tenant(ctx, Some(&tenant_id), async move |db| {
            admin::set_conformance_mode(db, id, enabled).await
        })
        .await
    }

    /// Deletes a suspended tenant for good: its customers' data becomes unreadable at
    /// once (its data key is destroyed), its domains answer 404, its watchers, keys,
    /// webhooks and callbacks stop, and its rows are deleted in the background.
    /// Export its transactions first (`exportTransactions`).
    async fn delete_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "The tenant's primary domain, repeated: a wrong id deletes nothing.")]
        confirm: String,
    ) -> Result<bool> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        configure(ctx, async move |db| admin::delete_tenant(db, id, &confirm).await).await?;
        tracing::warn!(tenant = %id, "tenant deleted by the operator");
        Ok(true)
    }

    /// Caps all of a tenant's SEP requests together (from every client address), so a
    /// flood on it is answered with cheap 429s instead of work that slows other
    /// tenants. Both null: back to the platform default (MOORING_TENANT_RATE_LIMIT_*).
    async fn set_tenant_rate_limit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "Sustained requests per second; null with burst for the default.")]
        per_second: Option<i32>,
        #[graphql(desc = "Requests allowed at once before the rate applies.")] burst: Option<i32>,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        let limit = match (per_second, burst) {
            (None, None) => None,
            (Some(rate), Some(burst)) => Some((
                u32::try_from(rate).map_err(|_| invalid("perSecond must be positive"))?,
                u32::try_from(burst).map_err(|_| invalid("burst must be positive"))?,
            )),
            _ => return Err(invalid("give perSecond and burst together, or neither")),
        };
        configure_tenant(ctx, Some(&tenant_id), async move |db| admin::set_rate_limit(db, id, limit).await)
            .await
    }

    /// Creates an operator API key (shown once).
    async fn create_operator_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name for people.")] name: String,
    ) -> Result<NewApiKey> {
        scope::operator(ctx)?;
        let (row, key) =
            api_keys::create(super::writer(ctx), KeyScope::Operator, &name, &[api_keys::Role::Admin])
                .await
                .map_err(from_tenants)?;
        Ok(NewApiKey { api_key: row.into(), key })
    }
}

async fn set_suspended(ctx: &Context<'_>, tenant_id: ID, suspended: bool) -> Result<TenantObj> {
    scope::operator(ctx)?;
    let id = scope::tenant_id(ctx, Some(&tenant_id))?;
    configure_tenant(ctx, Some(&tenant_id), async move |db| admin::set_status(db, id, suspended).await).await
}
