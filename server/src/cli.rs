//! What the `mooring` CLI does besides serving: the self-test, and re-sealing under a
//! new master key.

use std::sync::Arc;

use anyhow::Context;
use mooring_tenants::{Directory, MasterKey};

use crate::cfg::Config;
use crate::sandbox;
use crate::{connect_db, fence, migrate, rpc_client};

/// `mooring selftest --tenant <id|domain>`: runs the self-test from this process (the
/// serving replicas' watcher sees its payment) and renders the report as a table.
/// Returns the table and whether every step passed.
pub async fn self_test_cli(
    cfg: &Config,
    tenant: &str,
    finish: mooring_graphql::sandbox::SelfTestFinish,
) -> anyhow::Result<(String, bool)> {
    let master_key = master_key(cfg)?;
    let db = connect_db(&cfg.database_url).await?;
    let tenants = Arc::new(Directory::load(db.clone(), master_key.clone()).await?);
    let found = tenant
        .parse::<uuid::Uuid>()
        .ok()
        .and_then(|id| tenants.by_id(id))
        .or_else(|| tenants.resolve(tenant))
        .with_context(|| format!("no tenant with id or domain {tenant:?}"))?;
    let fence = fence(cfg);
    let rpc = rpc_client(cfg, &fence);
    let sandbox =
        sandbox::Sandbox::new(cfg, db, master_key, tenants, rpc, &fence, uuid::Uuid::new_v4().to_string());
    let report = sandbox.run_self_test(found.id, finish).await?;
    Ok((sandbox::selftest::table(&report), report.passed))
}

pub fn master_key(cfg: &Config) -> anyhow::Result<MasterKey> {
    let current = MasterKey::parse(
        cfg.master_key.as_deref().context("MOORING_MASTER_KEY is required (32 bytes, base64 or hex)")?,
    )
    .context("MOORING_MASTER_KEY")?;
    Ok(match &cfg.master_key_previous {
        Some(previous) => {
            current.with_previous(&MasterKey::parse(previous).context("MOORING_MASTER_KEY_PREVIOUS")?)
        }
        None => current,
    })
}

/// Re-seals everything under the current master key (`mooring rotate-master-key`), in
/// batches; `limit` bounds how many rows this call changes (`None`: all).
pub async fn rotate_master_key(
    cfg: &Config,
    limit: Option<u64>,
) -> anyhow::Result<mooring_tenants::rotation::Progress> {
    let key = master_key(cfg)?;
    let db = connect_db(&cfg.database_url).await?;
    migrate(&db).await?;
    Ok(mooring_tenants::rotation::reseal(&db, &key, 200, limit).await?)
}
