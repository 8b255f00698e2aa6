//! `provisionTestnet`: what a testnet tenant lacks, created on the ledger and in its
//! configuration, one step at a time. Every step first reads the ledger (or the
//! configuration) and does nothing when its end state is there already, so a second
//! run — or the run after a testnet reset — does exactly what is missing.

use std::time::{SystemTime, UNIX_EPOCH};

use mooring_stellar::tx::{self, ClassicAsset, Draft, Op};
use mooring_stellar::{Amount, Keypair, PublicKey};
use mooring_tenants::admin;
use mooring_tenants::sandbox::{self, Pending, RunState, SandboxKeys, Step};
use uuid::Uuid;

use super::writer::{WriteError, Writer, friendbot};
use super::{Provisioned, Sandbox, SandboxError};

/// Units issued to the distribution account, and sent to the test sending anchor.
pub const INITIAL_SUPPLY: i64 = 1_000_000;
pub const TEST_SENDER_BALANCE: i64 = 10_000;

pub const STEPS: [&str; 8] = [
    "issuer account",
    "distribution account",
    "distribution trustline",
    "issuer home domain",
    "initial supply",
    "asset configured",
    "test sending anchor",
    "test sending anchor approved",
];

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One run, holding what every step needs.
struct Run<'a> {
    sandbox: &'a Sandbox,
    tenant_id: Uuid,
    writer: Writer<'a>,
    keys: SandboxKeys,
    asset: ClassicAsset,
    distribution: PublicKey,
    domain: String,
}

impl Sandbox {
    pub(super) async fn provision_now(
        &self,
        tenant_id: Uuid,
        asset_code: Option<&str>,
    ) -> Result<Provisioned, SandboxError> {
        let tenant = self.tenants.by_id(tenant_id).ok_or(SandboxError::NotFound)?;
        if tenant.network.is_public() {
            return Err(SandboxError::Refused("provisioning is for testnet tenants only".into()));
        }
        let url = self.rpc_url(&tenant)?;
        let lease = format!("sandbox:{tenant_id}");
        let ttl = chrono::Duration::seconds(self.submit_timeout.as_secs() as i64 * 4 + 60);
        if !mooring_anchor::leases::acquire(&self.db, &lease, &self.instance_id, ttl).await? {
            return Err(SandboxError::Refused("this tenant's sandbox is being provisioned already".into()));
        }
        let result = async {
            let keys = sandbox::ensure(&self.db, &self.master_key, tenant_id, asset_code).await?;
            let writer = Writer::connect(&self.rpc, &url, &tenant.network, self.max_fee, self.poll).await?;
            let asset = ClassicAsset::credit(&keys.asset_code, keys.issuer.public_key())
                .map_err(|e| SandboxError::Refused(e.to_string()))?;
            let distribution: PublicKey = tenant.distribution_account.parse().map_err(|_| {
                SandboxError::Refused("the distribution account is not a G... account".into())
            })?;
            if keys.distribution.as_ref().is_some_and(|k| k.public_key() != distribution) {
                // The tenant switched to an account of its own since: Mooring no longer signs for it.
                tracing::info!(tenant = %tenant_id, "the distribution account is the tenant's own now");
            }
            let domain = tenant.domains.first().cloned().unwrap_or_default();
            let run = Run { sandbox: self, tenant_id, writer, keys, asset, distribution, domain };
            run.go().await
        }
        .await;
        mooring_anchor::leases::release(&self.db, &lease, &self.instance_id).await?;
        let (state, steps) = result?;
        let secret = if state == RunState::Done && sandbox::claim_secret_showing(&self.db, tenant_id).await? {
            let keys = sandbox::ensure(&self.db, &self.master_key, tenant_id, None).await?;
            Some(keys.sender.secret())
        } else {
            None
        };
        Ok(Provisioned { state, steps, test_sender_secret: secret })
    }
}

impl Run<'_> {
    async fn go(&self) -> Result<(RunState, Vec<Step>), SandboxError> {
        self.settle_pending().await?;
        let mut steps: Vec<Step> = Vec::with_capacity(STEPS.len());
        let mut failed = false;
        for name in STEPS {
            let step = if failed {
                Step { name: name.into(), done: false, message: "not run: an earlier step failed".into() }
            } else {
                match self.step(name).await {
                    Ok(message) => Step { name: name.into(), done: true, message },
                    Err(e) => {
                        failed = true;
                        Step { name: name.into(), done: false, message: e.to_string() }
                    }
                }
            };
            steps.push(step);
            let state = if failed { RunState::Failed } else { RunState::Running };
            sandbox::save_run(&self.sandbox.db, self.tenant_id, state, &steps).await?;
        }
        let state = if failed { RunState::Failed } else { RunState::Done };
        sandbox::save_run(&self.sandbox.db, self.tenant_id, state, &steps).await?;
        self.sandbox.tenants.refresh().await?;
        Ok((state, steps))
    }

    /// A step's message says what it did, or that nothing was missing.
    async fn step(&self, name: &str) -> Result<String, SandboxError> {
        let issuer = &self.keys.issuer;
        let sender = &self.keys.sender;
        match name {
            "issuer account" => self.funded(&issuer.public_key()).await,
            "distribution account" => match &self.keys.distribution {
                Some(k) if k.public_key() == self.distribution => self.funded(&self.distribution).await,
                _ => match self.writer.account(&self.distribution).await? {
                    Some(_) => Ok("exists (the tenant's own account)".into()),
                    None => Err(SandboxError::Refused(format!(
                        "{} is not on the ledger, and it is the tenant's own account: Mooring holds no key for it; fund it first",
                        self.distribution
                    ))),
                },
            },
            "distribution trustline" => {
                let key = self.distribution_key();
                self.trustline(&self.distribution, key).await
            }
            "issuer home domain" => {
                let state = self
                    .writer
                    .account(&issuer.public_key())
                    .await?
                    .ok_or(SandboxError::Missing("issuer"))?;
                if state.home_domain == self.domain {
                    return Ok(format!("already {}", self.domain));
                }
                let op = Op::SetHomeDomain { domain: self.domain.clone() };
                self.submit(name, issuer, vec![(None, op)], &[issuer]).await?;
                Ok(format!("set to {}", self.domain))
            }
            "initial supply" => self.topped_up(name, &self.distribution, INITIAL_SUPPLY).await,
            "asset configured" => self.asset_configured().await,
            "test sending anchor" => {
                let pk = sender.public_key();
                let funded = self.funded(&pk).await?;
                let trust = self.trustline(&pk, Some(sender)).await?;
                let balance = self.topped_up(name, &pk, TEST_SENDER_BALANCE).await?;
                Ok(format!("{pk}: {funded}; trustline {trust}; balance {balance}"))
            }
            "test sending anchor approved" => {
                let pk = sender.public_key().to_string();
                let tenant = self.sandbox.tenants.by_id(self.tenant_id).ok_or(SandboxError::NotFound)?;
                if tenant.approved_senders.contains(&sender.public_key()) {
                    return Ok("already approved".into());
                }
                admin::approve_sender(
                    &self.sandbox.db,
                    self.tenant_id,
                    &pk,
                    "Mooring testnet sandbox sender",
                )
                .await?;
                Ok(format!("{pk} approved"))
            }
            other => Err(SandboxError::Refused(format!("unknown step {other}"))),
        }
    }

    /// The distribution account's key, when Mooring generated that account.
    fn distribution_key(&self) -> Option<&Keypair> {
        self.keys.distribution.as_ref().filter(|k| k.public_key() == self.distribution)
    }

    async fn funded(&self, account: &PublicKey) -> Result<String, SandboxError> {
        if self.writer.account(account).await?.is_some() {
            return Ok("exists".into());
        }
        friendbot(&self.sandbox.http, &self.sandbox.friendbot_url, account).await?;
        // Friendbot's answer is not the ledger: read it.
        for _ in 0..20 {
            if self.writer.account(account).await?.is_some() {
                return Ok("created and funded by Friendbot".into());
            }
            tokio::time::sleep(self.sandbox.poll).await;
        }
        Err(SandboxError::Write(WriteError::Friendbot(format!("{account} is still not on the ledger"))))
    }

    async fn trustline(&self, account: &PublicKey, key: Option<&Keypair>) -> Result<String, SandboxError> {
        if self.writer.trustline(account, &self.asset).await?.is_some() {
            return Ok("exists".into());
        }
        let Some(key) = key else {
            return Err(SandboxError::Refused(format!(
                "{account} has no trustline to {} and Mooring holds no key for it: add the trustline",
                self.asset_label()
            )));
        };
        self.submit("trustline", key, vec![(None, Op::ChangeTrust { asset: self.asset.clone() })], &[key])
            .await?;
        Ok(format!("created to {}", self.asset_label()))
    }

    /// Pays `to` from the issuer when its balance is zero.
    async fn topped_up(&self, step: &str, to: &PublicKey, units: i64) -> Result<String, SandboxError> {
        let balance =
            self.writer.trustline(to, &self.asset).await?.ok_or(SandboxError::Missing("trustline"))?;
        if balance > Amount::ZERO {
            return Ok(format!("holds {balance}"));
        }
        let issuer = &self.keys.issuer;
        let amount = Amount::from_units(units);
        let op = Op::Payment { destination: *to, asset: self.asset.clone(), amount };
        self.submit(step, issuer, vec![(None, op)], &[issuer]).await?;
        Ok(format!("{amount} {} issued", self.asset_label()))
    }

    async fn asset_configured(&self) -> Result<String, SandboxError> {
        let issuer = self.keys.issuer.public_key().to_string();
        let tenant = self.sandbox.tenants.by_id(self.tenant_id).ok_or(SandboxError::NotFound)?;
        if tenant.assets.iter().any(|a| a.code == self.keys.asset_code && a.issuer == issuer) {
            return Ok("already configured".into());
        }
        // The guide's customer types first (the asset names them), where missing.
        for t in crate::demo::guide_customer_types() {
            if !tenant.customer_types.iter().any(|c| c.name == t.name) {
                admin::add_customer_type(&self.sandbox.db, self.tenant_id, t).await?;
            }
        }
        let mut asset = crate::demo::guide_asset(issuer);
        asset.code = self.keys.asset_code.clone();
        asset.description = "Testnet sandbox asset issued by Mooring, paid out 1:1".into();
        admin::add_asset(&self.sandbox.db, self.tenant_id, asset).await?;
        self.sandbox.tenants.refresh().await?;
        Ok(format!("{} added", self.asset_label()))
    }

    fn asset_label(&self) -> String {
        format!("{}:{}", self.keys.asset_code, self.keys.issuer.public_key())
    }

    /// Builds, records (before sending: a crash after this settles it next run instead of
    /// paying twice), submits and settles one transaction.
    async fn submit(
        &self,
        step: &str,
        source: &Keypair,
        ops: Vec<(Option<PublicKey>, Op)>,
        signers: &[&Keypair],
    ) -> Result<(), SandboxError> {
        let state = self
            .writer
            .account(&source.public_key())
            .await?
            .ok_or(SandboxError::Missing("source account"))?;
        let max_time = unix_now().max(self.writer.ledger_time().await?.max(0) as u64)
            + self.sandbox.submit_timeout.as_secs();
        let draft = Draft {
            source: source.public_key(),
            account_sequence: state.sequence,
            fee_per_op: tx::BASE_FEE,
            max_time,
            memo: None,
            ops,
        };
        let signed = tx::sign(&draft, self.writer.network(), signers)
            .map_err(|e| SandboxError::Refused(e.to_string()))?;
        let pending = Pending {
            step: step.into(),
            xdr: signed.xdr.clone(),
            source: source.public_key().to_string(),
            sequence: state.sequence + 1,
            max_time,
        };
        sandbox::set_pending(&self.sandbox.db, self.tenant_id, Some(&pending)).await?;
        let result = self.writer.submit(&signed, source, max_time).await;
        match &result {
            // Unknown outcomes stay pending: the next run settles them first.
            Err(WriteError::Rpc(_)) => {}
            _ => sandbox::set_pending(&self.sandbox.db, self.tenant_id, None).await?,
        }
        match result {
            Ok(landed) => {
                tracing::info!(tenant = %self.tenant_id, step, hash = %landed.hash, ledger = landed.ledger, "sandbox transaction landed");
                Ok(())
            }
            // It (or a bump of it) applied already: the step reads the ledger again next.
            Err(e) if e.sequence_moved_on() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A transaction an earlier run sent and never saw settle: once the account's
    /// sequence reached it, it applied (or failed, consuming it); once its time bound
    /// passed, it never will. Until then the very same envelope is sent again.
    async fn settle_pending(&self) -> Result<(), SandboxError> {
        let Some(p) = sandbox::pending(&self.sandbox.db, self.tenant_id).await? else { return Ok(()) };
        let source: PublicKey =
            p.source.parse().map_err(|_| SandboxError::Refused("pending source".into()))?;
        let applied = self.writer.account(&source).await?.is_some_and(|a| a.sequence >= p.sequence);
        let expired = self.writer.ledger_time().await? > p.max_time as i64;
        if !applied && !expired {
            let signed = tx::Signed::from_xdr(&p.xdr, self.writer.network())
                .map_err(|e| SandboxError::Refused(format!("the pending envelope: {e}")))?;
            tracing::info!(tenant = %self.tenant_id, step = %p.step, "resending a sandbox transaction whose outcome was unknown");
            match self.writer.submit(&signed, &self.keys.issuer, p.max_time).await {
                Ok(_) | Err(WriteError::Failed(_) | WriteError::Expired) => {}
                Err(e) => return Err(e.into()),
            }
        }
        sandbox::set_pending(&self.sandbox.db, self.tenant_id, None).await?;
        Ok(())
    }
}
