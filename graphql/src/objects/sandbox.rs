//! The testnet sandbox and self-test reports as the API shows them.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_tenants::sandbox::{Record, RunState, Step};
use mooring_tenants::self_tests::{Check, Report};

/// Where a tenant's testnet sandbox stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SandboxState {
    /// A provisioning run is under way (or stopped half-way by a crash; run it again).
    Running,
    /// Every step done.
    Ready,
    /// A step failed; its message says why. Running again does only what is missing.
    Failed,
    /// Testnet was reset: the sandbox's accounts are gone until provisioned again
    /// (automatically when `testnetAutoProvision` is on).
    Reset,
}

impl From<RunState> for SandboxState {
    fn from(s: RunState) -> Self {
        match s {
            RunState::Running => Self::Running,
            RunState::Done => Self::Ready,
            RunState::Failed => Self::Failed,
            RunState::Reset => Self::Reset,
        }
    }
}

/// One provisioning step.
#[derive(SimpleObject, Clone)]
pub struct ProvisioningStep {
    /// What the step makes sure of (e.g. "issuer account", "initial supply").
    pub name: String,
    /// Its end state is on the ledger (or in the configuration).
    pub done: bool,
    /// What it did or found, or why it failed.
    pub message: String,
}

impl From<Step> for ProvisioningStep {
    fn from(s: Step) -> Self {
        Self { name: s.name, done: s.done, message: s.message }
    }
}

/// The answer of `provisionTestnet`.
#[derive(SimpleObject)]
pub struct TestnetProvisioning {
    /// How the run ended.
    pub state: SandboxState,
    /// Every step, in order, with its result.
    pub steps: Vec<ProvisioningStep>,
    /// The test sending anchor's secret seed: in the first successful answer only.
    /// Hand it to the first wallet that wants to try; Mooring never shows it again.
    pub test_sender_secret: Option<String>,
}

/// A tenant's testnet sandbox.
#[derive(SimpleObject)]
pub struct TestnetSandbox {
    /// Where it stands.
    pub state: SandboxState,
    /// The code of the asset the sandbox issues.
    pub asset_code: String,
    /// The last run's steps.
    pub steps: Vec<ProvisioningStep>,
    /// When a run last finished with every step done.
    pub provisioned_at: Option<DateTime<Utc>>,
    /// When a run last recorded progress.
    pub updated_at: DateTime<Utc>,
}

impl From<Record> for TestnetSandbox {
    fn from(r: Record) -> Self {
        Self {
            state: r.state.into(),
            asset_code: r.asset_code,
            steps: r.steps.into_iter().map(Into::into).collect(),
            provisioned_at: r.provisioned_at,
            updated_at: r.updated_at,
        }
    }
}

/// One self-test check.
#[derive(SimpleObject)]
pub struct SelfTestStep {
    /// The check (e.g. "SEP-10 token", "payment seen (pending_receiver)").
    pub name: String,
    /// Whether it passed (a skipped check passes and says why).
    pub passed: bool,
    /// What was found, or why it failed.
    pub message: String,
    /// The request as sent (the bearer token left out).
    pub request: String,
    /// The response as received (cut at 4 KiB).
    pub response: String,
}

impl From<Check> for SelfTestStep {
    fn from(c: Check) -> Self {
        Self { name: c.name, passed: c.passed, message: c.message, request: c.request, response: c.response }
    }
}

/// A self-test run.
#[derive(SimpleObject)]
pub struct SelfTestReport {
    /// The report's id.
    pub id: ID,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Every step passed.
    pub passed: bool,
    /// Each check, in the order it ran.
    pub steps: Vec<SelfTestStep>,
}

impl From<Report> for SelfTestReport {
    fn from(r: Report) -> Self {
        Self {
            id: ID(r.id.to_string()),
            started_at: r.started_at,
            finished_at: r.finished_at,
            passed: r.passed,
            steps: r.steps.into_iter().map(Into::into).collect(),
        }
    }
}
