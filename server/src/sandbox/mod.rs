//! The testnet sandbox: Mooring writing to testnet for a tenant — never to the public
//! network, never with a key the tenant gave it.
//!
//! - `writer`: account reads, submission with bounded fee bumps, Friendbot.
//! - `provision`: `provisionTestnet`, step by step, each step idempotent.
//! - `selftest`: Mooring as a sending anchor against a tenant's public endpoints.
//! - here: the service the admin API calls, and the sweeper that provisions opted-in
//!   sandboxes again after a testnet reset.

mod provision;
pub mod selftest;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use mooring_graphql::sandbox::{Provisioned, SandboxOps};
use mooring_tenants::ledger_source::{PlatformLedgers, Source};
use mooring_tenants::sandbox as stored;
use mooring_tenants::{Directory, MasterKey, Tenant};
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use mooring_graphql::sandbox::SelfTestFinish;
pub use provision::{INITIAL_SUPPLY, STEPS, TEST_SENDER_BALANCE};
pub use writer::WriteError;

use crate::cfg::Config;
use crate::rpc::Rpc;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("tenant not found")]
    NotFound,
    #[error("{0}")]
    Refused(String),
    #[error("{0} is not on the ledger")]
    Missing(&'static str),
    #[error("{0}")]
    Write(#[from] WriteError),
    #[error("{0}")]
    Tenants(#[from] mooring_tenants::Error),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Anchor(#[from] mooring_anchor::AnchorError),
}

impl From<crate::rpc::RpcError> for SandboxError {
    fn from(e: crate::rpc::RpcError) -> Self {
        Self::Write(WriteError::Rpc(e))
    }
}

pub struct Sandbox {
    db: DatabaseConnection,
    master_key: MasterKey,
    tenants: Arc<Directory>,
    rpc: Rpc,
    ledgers: PlatformLedgers,
    /// For Friendbot and the platform's own addresses (`selftest_via`).
    http: reqwest::Client,
    /// For the self-test's requests to tenants' public URLs.
    fenced: crate::outbound::FencedClient,
    friendbot_url: String,
    max_fee: u32,
    submit_timeout: Duration,
    poll: Duration,
    instance_id: String,
    selftest: selftest::Options,
}

impl Sandbox {
    pub fn new(
        cfg: &Config,
        db: DatabaseConnection,
        master_key: MasterKey,
        tenants: Arc<Directory>,
        rpc: Rpc,
        fence: &crate::outbound::Fence,
        instance_id: String,
    ) -> Self {
        let timeout = cfg.horizon_timeout_ms;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mooring/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client");
        Self {
            db,
            master_key,
            tenants,
            rpc,
            ledgers: cfg.ledgers(),
            http,
            fenced: crate::outbound::FencedClient::new(fence, Some(timeout), timeout),
            friendbot_url: cfg.friendbot_url.clone(),
            max_fee: cfg.testnet_max_fee,
            submit_timeout: cfg.testnet_submit_timeout_secs.max(Duration::from_secs(10)),
            // A ledger closes about every 5 s; the stand-ins close one per submission.
            poll: cfg.rpc_poll_ms.clamp(Duration::from_millis(50), Duration::from_secs(1)),
            instance_id,
            selftest: selftest::Options::from_config(cfg),
        }
    }

    /// Sandbox writes go through Stellar RPC: the tenant's, else its network's.
    fn rpc_url(&self, tenant: &Tenant) -> Result<String, SandboxError> {
        match self.ledgers.source(tenant) {
            Source::Rpc { url, .. } => Ok(url),
            Source::Horizon { .. } => Err(SandboxError::Refused(
                "sandbox provisioning writes through Stellar RPC: the platform has none for testnet \
                 (MOORING_RPC_TESTNET_URL) and the tenant has none of its own"
                    .into(),
            )),
        }
    }

    /// Provisions again, once, each opted-in sandbox a network reset emptied, and tells
    /// its tenant what was recreated.
    pub async fn reprovision_after_resets(&self) -> Result<usize, SandboxError> {
        let mut done = 0;
        for tenant_id in stored::awaiting_reprovision(&self.db).await? {
            match self.provision_now(tenant_id, None).await {
                Ok(p) => {
                    let steps = p
                        .steps
                        .iter()
                        .map(|s| mooring_wire::webhook::RecreatedStep {
                            name: s.name.clone(),
                            done: s.done,
                            message: s.message.clone(),
                        })
                        .collect();
                    mooring_anchor::ledger::sandbox_recreated(&self.db, tenant_id, steps).await?;
                    tracing::info!(tenant = %tenant_id, state = ?p.state, "sandbox provisioned again after a network reset");
                    done += 1;
                }
                // Another replica holds it, or the RPC is down: the next sweep tries again.
                Err(e) => {
                    tracing::warn!(tenant = %tenant_id, error = %e, "could not provision a sandbox again yet")
                }
            }
        }
        Ok(done)
    }
}

#[mooring_graphql::sandbox::async_trait]
impl SandboxOps for Sandbox {
    async fn provision(&self, tenant: Uuid, asset_code: Option<String>) -> Result<Provisioned, String> {
        self.provision_now(tenant, asset_code.as_deref()).await.map_err(|e| e.to_string())
    }

    async fn self_test(
        &self,
        tenant: Uuid,
        finish: mooring_graphql::sandbox::SelfTestFinish,
    ) -> Result<mooring_tenants::self_tests::Report, String> {
        self.run_self_test(tenant, finish).await.map_err(|e| e.to_string())
    }
}

/// The sweeper: after a reset marks sandboxes, provisions the opted-in ones again.
pub fn spawn(
    sandbox: Arc<Sandbox>,
    every: Duration,
    tasks: &tokio_util::task::TaskTracker,
    shutdown: CancellationToken,
) {
    crate::tasks::every(tasks, every, crate::tasks::First::AfterPeriod, shutdown, move || {
        let sandbox = sandbox.clone();
        async move {
            if let Err(e) = sandbox.reprovision_after_resets().await {
                tracing::warn!(error = %e, "sandbox sweep failed");
            }
        }
    });
}
