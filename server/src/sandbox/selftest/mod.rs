//! The self-test: Mooring plays a sending anchor against a tenant's public endpoints,
//! found the way a remote anchor finds them (its stellar.toml), over HTTP, and keeps
//! each step's request, response and verdict.
//!
//! On testnet it pays the transaction it created from the sandbox's test sending
//! anchor, waits for the watcher to see the payment (`pending_receiver`) and completes
//! it. On the public network it stops before paying. The SEP-10 key it uses is
//! approved for the run only and removed afterwards, whatever happened.

//!
//! `exchange` records each request and answer; `forms` reads stellar.toml and fills
//! SEP-12/31 forms; `flow` is the SEP conversation; `ledger` pays, follows, refunds and
//! checks the webhook.

mod callback;

/// Where the platform receives a run's SEP-31 callback (`{path}/{token}`, any host).
pub const CALLBACK_PATH: &str = "/.mooring/selftest-callback";
mod exchange;
mod flow;
mod forms;
mod ledger;

use std::time::Duration;

use chrono::Utc;
use mooring_graphql::sandbox::SelfTestFinish;
use mooring_stellar::Keypair;
use mooring_tenants::admin;
use mooring_tenants::self_tests::{self, Check, Report};
use uuid::Uuid;

use super::{Sandbox, SandboxError};
use crate::cfg::Config;
use exchange::Run;

/// How the self-test reaches tenants.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Send every request to this base URL with the tenant's `Host` (for a deployment
    /// whose public names do not resolve from inside, and for tests); `None`: DNS.
    pub via: Option<String>,
    /// How long to wait for the watcher to see the test payment.
    pub payment_wait: Duration,
    /// How long replicas may take to learn that the run's key is approved.
    pub approval_wait: Duration,
    /// Where the run's SEP-31 callback receiver is reached: `via`, else the admin host.
    pub callback_base: String,
}

impl Options {
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            via: Some(cfg.selftest_via.trim().trim_end_matches('/').to_string()).filter(|v| !v.is_empty()),
            payment_wait: cfg.testnet_submit_timeout_secs.max(Duration::from_secs(10)) * 2,
            approval_wait: cfg
                .config_poll_ms
                .saturating_mul(3)
                .clamp(Duration::from_secs(1), Duration::from_secs(30)),
            callback_base: match cfg.selftest_via.trim().trim_end_matches('/') {
                "" => format!("https://{}", cfg.admin_host),
                via => via.to_string(),
            },
        }
    }
}

impl Sandbox {
    pub async fn run_self_test(
        &self,
        tenant_id: Uuid,
        finish: SelfTestFinish,
    ) -> Result<Report, SandboxError> {
        let tenant = self.tenants.by_id(tenant_id).ok_or(SandboxError::NotFound)?;
        let domain = tenant
            .domains
            .first()
            .cloned()
            .ok_or(SandboxError::Refused("the tenant has no domain".into()))?;
        let started_at = Utc::now();
        // A sending anchor of the run's own, approved now and removed after.
        let key = Keypair::generate();
        let account = key.public_key().to_string();
        admin::approve_sender(&self.db, tenant_id, &account, "Mooring self-test (removed after the run)")
            .await?;
        self.tenants.refresh().await?;
        let mut run = Run { sandbox: self, tenant: tenant.clone(), domain, finish, checks: Vec::new() };
        run.go(&key).await;
        let removed = admin::remove_sender(&self.db, tenant_id, &account).await;
        self.tenants.refresh().await?;
        if let Err(e) = removed {
            run.checks.push(Check {
                name: "cleanup".into(),
                passed: false,
                message: format!("the self-test key {account} could not be removed: {e}"),
                request: String::new(),
                response: String::new(),
            });
        }
        let report = Report {
            id: Uuid::new_v4(),
            tenant_id,
            started_at,
            finished_at: Some(Utc::now()),
            passed: run.checks.iter().all(|c| c.passed),
            steps: run.checks,
        };
        self_tests::save(&self.db, &report).await?;
        Ok(report)
    }
}

/// Ends a step that returns early after recording its verdict.
fn void(_: bool) {}

/// The report as the CLI prints it: one line per step, then the verdict.
pub fn table(report: &Report) -> String {
    let width = report.steps.iter().map(|s| s.name.chars().count()).max().unwrap_or(4).max(4);
    let mut out = format!("{:<width$}  {:<6}  {}\n", "STEP", "RESULT", "MESSAGE");
    for s in &report.steps {
        let message = s.message.replace('\n', " ");
        out += &format!("{:<width$}  {:<6}  {}\n", s.name, if s.passed { "pass" } else { "FAIL" }, message);
    }
    let verdict = if report.passed { "PASSED" } else { "FAILED" };
    out += &format!("self-test {} ({verdict}): {} steps\n", report.id, report.steps.len());
    out
}
