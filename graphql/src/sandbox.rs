//! What the admin API asks of the server's testnet sandbox (ledger writes, Friendbot,
//! the self-test): a seam, because this crate does no network I/O of its own.

use mooring_tenants::sandbox::{RunState, Step};
use mooring_tenants::self_tests::Report;
use uuid::Uuid;

/// Re-exported so the implementing crate needs no dependency of its own.
pub use async_trait::async_trait;

/// A provisioning run's answer.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub state: RunState,
    pub steps: Vec<Step>,
    /// The test sending anchor's secret: in the first successful answer only.
    pub test_sender_secret: Option<String>,
}

/// How the self-test ends its paid transaction on testnet.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum SelfTestFinish {
    /// Marked completed, as the back office would after paying out.
    #[default]
    Complete,
    /// Refunded on the ledger from the distribution account to the test sending anchor
    /// (only where Mooring holds that account's key), and recorded as a refund.
    Refund,
}

#[async_trait::async_trait]
pub trait SandboxOps: Send + Sync {
    /// Creates what the tenant's sandbox lacks (see `server/src/sandbox`). `Err` is a
    /// message for the caller (not provisionable, already running, RPC down).
    async fn provision(&self, tenant: Uuid, asset_code: Option<String>) -> Result<Provisioned, String>;

    /// Plays a sending anchor against the tenant's public endpoints; the stored report.
    async fn self_test(&self, tenant: Uuid, finish: SelfTestFinish) -> Result<Report, String>;
}
