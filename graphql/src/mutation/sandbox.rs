//! The testnet sandbox: provisioning and the self-test (the work is the server's).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use mooring_tenants::admin;
use mooring_tenants::api_keys::{self, KeyScope};

use crate::error::{coded, codes, from_anchor, from_tenants, invalid, not_found};
use crate::objects::{NewApiKey, SelfTestReport, TenantObj, TestnetProvisioning, WebhookEndpointWithSecret};
use crate::scope::{self, core};

/// A testnet asset to carry over, with its mainnet issuer.
#[derive(InputObject)]
pub struct PromotedAssetInput {
    /// The asset code, as configured on the testnet tenant.
    pub code: String,
    /// The issuer on the public network.
    pub issuer: String,
}

/// The public-network tenant to create from a testnet one.
#[derive(InputObject)]
pub struct PromoteInput {
    /// Display name.
    pub name: String,
    /// Its domains (the testnet tenant keeps its own).
    pub domains: Vec<String>,
    /// The mainnet account sending anchors pay.
    pub distribution_account: String,
    /// The testnet assets to carry over (by code), each with its mainnet issuer.
    pub assets: Vec<PromotedAssetInput>,
}

/// The public tenant created from a testnet one.
#[derive(SimpleObject)]
pub struct PromotedTenant {
    /// The public-network tenant.
    pub tenant: TenantObj,
    /// Its first API key (shown once).
    pub api_key: NewApiKey,
    /// Sending anchors copied disabled: enable each once its mainnet account is confirmed.
    pub senders_to_confirm: Vec<String>,
    /// The webhook endpoints copied, with new secrets (shown once).
    pub webhook_endpoints: Vec<WebhookEndpointWithSecret>,
}

#[derive(Default)]
pub struct SandboxMutation;

#[Object]
impl SandboxMutation {
    /// Creates on testnet what the tenant's sandbox lacks: an issuer, the distribution
    /// account (when Mooring generated it), its trustline, the issuer's home domain,
    /// an initial supply, the asset configured, and a funded, approved test sending
    /// anchor. Re-running does only what is missing. Testnet tenants only.
    async fn provision_testnet(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "The asset code to issue (first run only; default USDC).")] asset_code: Option<
            String,
        >,
    ) -> Result<TestnetProvisioning> {
        let tenant = scope::tenant(ctx, tenant_id.as_ref())?;
        if tenant.network.is_public() {
            return Err(invalid("provisionTestnet is for testnet tenants only"));
        }
        let c = core(ctx);
        let p = c.sandbox.provision(tenant.id, asset_code).await.map_err(|e| coded(codes::CONFLICT, e))?;
        c.tenants.changed().await.map_err(crate::error::internal)?;
        Ok(TestnetProvisioning {
            state: p.state.into(),
            steps: p.steps.into_iter().map(Into::into).collect(),
            test_sender_secret: p.test_sender_secret,
        })
    }

    /// Creates a public-network tenant from a testnet one (operators only): the same
    /// customer types, off-chain currencies, assets by code (with the mainnet issuers
    /// given) and their corridors, policies and webhook endpoints (new secrets); a new
    /// SEP-10 key; the domains and distribution account given. Approved senders are
    /// copied disabled, to be re-confirmed one by one. The testnet tenant keeps running.
    async fn promote_to_public(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The testnet tenant.")] tenant_id: ID,
        #[graphql(desc = "The public tenant.")] input: PromoteInput,
    ) -> Result<PromotedTenant> {
        scope::operator(ctx)?;
        let from = scope::tenant(ctx, Some(&tenant_id))?;
        for d in &input.domains {
            super::tenants::check_domain_allowed(ctx, d)?;
        }
        let c = core(ctx);
        let skip: Vec<String> = mooring_tenants::sandbox::sender_account(&c.db, &c.master_key, from.id)
            .await
            .map_err(from_tenants)?
            .into_iter()
            .collect();
        let policy = c.outbound.for_network(&mooring_stellar::Network::public());
        let promotion = admin::Promotion {
            name: input.name,
            domains: input.domains,
            distribution_account: input.distribution_account,
            assets: input.assets.into_iter().map(|a| (a.code, a.issuer)).collect(),
            horizon_url: c.horizon_public_url.clone(),
        };
        let promoted =
            admin::promote_to_public(super::writer(ctx), &c.master_key, &from, promotion, &skip, policy)
                .await
                .map_err(from_tenants)?;
        let id = promoted.tenant_id;
        let mut endpoints = Vec::new();
        for e in mooring_anchor::webhooks::list(&c.db, from.id).await.map_err(from_anchor)? {
            let types = mooring_anchor::webhooks::event_types(&e);
            let created = mooring_anchor::webhooks::create(&c.db, &c.master_key, id, &e.url, &types, policy)
                .await
                .map_err(from_anchor)?;
            endpoints.push(WebhookEndpointWithSecret {
                endpoint: created.endpoint.into(),
                secret: created.secret,
            });
        }
        let (row, key) = api_keys::create(&c.db, KeyScope::Tenant(id), "first key", &[api_keys::Role::Admin])
            .await
            .map_err(from_tenants)?;
        c.tenants.changed().await.map_err(crate::error::internal)?;
        let tenant = c.tenants.by_id(id).ok_or_else(|| not_found("tenant"))?;
        Ok(PromotedTenant {
            tenant: TenantObj(tenant),
            api_key: NewApiKey { api_key: row.into(), key },
            senders_to_confirm: promoted.senders_to_confirm,
            webhook_endpoints: endpoints,
        })
    }

    /// Plays a sending anchor against the tenant's public endpoints (SEP-1, 10, 12,
    /// 31, 38) and, on testnet, pays the transaction it created from the sandbox's test
    /// sending anchor and follows it to `completed` (or refunds it). The report is stored.
    async fn run_self_test(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "How the paid transaction ends (testnet).", default)]
        finish: crate::sandbox::SelfTestFinish,
    ) -> Result<SelfTestReport> {
        let tenant = scope::tenant(ctx, tenant_id.as_ref())?;
        let report =
            core(ctx).sandbox.self_test(tenant.id, finish).await.map_err(|e| coded(codes::CONFLICT, e))?;
        Ok(report.into())
    }
}
