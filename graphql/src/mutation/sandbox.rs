//! The testnet sandbox: provisioning and the self-test (the work is the server's).

use async_graphql::{Context, ID, Object, Result};

use crate::error::{codes, coded, invalid};
use crate::objects::{SelfTestReport, TestnetProvisioning};
use crate::scope::{self, core};

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
        #[graphql(desc = "The asset code to issue (first run only; default USDC).")] asset_code: Option<String>,
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

    /// Plays a sending anchor against the tenant's public endpoints (SEP-1, 10, 12,
    /// 31, 38) and, on testnet, pays the transaction it created from the sandbox's test
    /// sending anchor and follows it to `completed`. The report is stored.
    async fn run_self_test(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
    ) -> Result<SelfTestReport> {
        let tenant = scope::tenant(ctx, tenant_id.as_ref())?;
        let report = core(ctx).sandbox.self_test(tenant.id).await.map_err(|e| coded(codes::CONFLICT, e))?;
        Ok(report.into())
    }
}
