//! A testnet tenant's sandbox as stored: the keys Mooring generated for it (sealed under
//! the master key, each bound to the tenant and its role), the last provisioning run's
//! steps, and the one submission in flight. The ledger work itself is the server's
//! (`server/src/sandbox`); this module only keeps its state.

use chrono::{DateTime, Utc};
use mooring_entities::{tenant, testnet_sandbox};
use mooring_stellar::Keypair;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Error, MasterKey};

pub const ISSUER_PURPOSE: &str = "sandbox-issuer";
pub const DISTRIBUTION_PURPOSE: &str = "sandbox-distribution";
pub const SENDER_PURPOSE: &str = "sandbox-sender";

/// The code of the asset a sandbox issues unless the first run names another.
pub const DEFAULT_ASSET_CODE: &str = "USDC";

/// The keys of a sandbox, opened.
pub struct SandboxKeys {
    pub asset_code: String,
    pub issuer: Keypair,
    /// `None`: the tenant brought its own distribution account.
    pub distribution: Option<Keypair>,
    pub sender: Keypair,
}

/// One provisioning step as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub done: bool,
    pub message: String,
}

/// How the last run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Done,
    Failed,
    /// The network was reset: the accounts are gone until provisioned again.
    Reset,
}

impl RunState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Reset => "reset",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "done" => Self::Done,
            "failed" => Self::Failed,
            "reset" => Self::Reset,
            _ => Self::Running,
        }
    }
}

/// What the API shows of a sandbox.
#[derive(Debug, Clone)]
pub struct Record {
    pub asset_code: String,
    pub state: RunState,
    pub steps: Vec<Step>,
    pub provisioned_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A transaction submitted and not yet known to have landed or died: a later run
/// settles it first (same envelope, same hash) before deciding anything new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub step: String,
    pub xdr: String,
    /// The source account and the sequence number the transaction uses: once the
    /// account's sequence reaches it, the transaction (or a fee bump of it) applied.
    pub source: String,
    pub sequence: i64,
    /// After this (unix seconds) it can never apply.
    pub max_time: u64,
}

/// Inserts a sandbox row with fresh issuer and sender keys (and `distribution`'s, when
/// Mooring generated the tenant's distribution account). Nothing if one exists.
pub(crate) async fn create_in(
    db: &impl ConnectionTrait,
    master_key: &MasterKey,
    tenant_id: Uuid,
    distribution: Option<&Keypair>,
) -> Result<(), Error> {
    let seal = |purpose: &str, k: &Keypair| master_key.seal(purpose, tenant_id, &k.seed());
    let row = testnet_sandbox::ActiveModel {
        tenant_id: Set(tenant_id),
        asset_code: Set(DEFAULT_ASSET_CODE.into()),
        issuer_seed: Set(seal(ISSUER_PURPOSE, &Keypair::generate())),
        distribution_seed: Set(distribution.map(|k| seal(DISTRIBUTION_PURPOSE, k))),
        sender_seed: Set(seal(SENDER_PURPOSE, &Keypair::generate())),
        sender_secret_shown: Set(false),
        state: Set(RunState::Running.as_str().into()),
        steps: Set("[]".into()),
        pending: Set(None),
        provisioned_at: Set(None),
        updated_at: Set(Utc::now()),
    };
    testnet_sandbox::Entity::insert(row)
        .on_conflict(OnConflict::column(testnet_sandbox::Column::TenantId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The tenant's sandbox keys, made on the first call (concurrent first calls agree:
/// the row is inserted once). A first run may choose the asset code; later runs keep it.
pub async fn ensure(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    tenant_id: Uuid,
    asset_code: Option<&str>,
) -> Result<SandboxKeys, Error> {
    if let Some(code) = asset_code {
        mooring_stellar::tx::check_code(code).map_err(|e| Error::Invalid(e.to_string()))?;
    }
    let fresh = row(db, tenant_id).await?.is_none();
    if fresh {
        create_in(db, master_key, tenant_id, None).await?;
        if let Some(code) = asset_code {
            testnet_sandbox::Entity::update_many()
                .col_expr(testnet_sandbox::Column::AssetCode, Expr::value(code))
                .filter(testnet_sandbox::Column::TenantId.eq(tenant_id))
                .filter(testnet_sandbox::Column::ProvisionedAt.is_null())
                .exec(db)
                .await?;
        }
    }
    let keys =
        open(master_key, &row(db, tenant_id).await?.ok_or_else(|| Error::NotFound("sandbox".into()))?)?;
    if let Some(code) = asset_code.filter(|c| *c != keys.asset_code) {
        return Err(Error::Invalid(format!(
            "this sandbox issues {}; it cannot switch to {code}",
            keys.asset_code
        )));
    }
    Ok(keys)
}

async fn row(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<Option<testnet_sandbox::Model>, Error> {
    Ok(testnet_sandbox::Entity::find_by_id(tenant_id).one(db).await?)
}

fn open(master_key: &MasterKey, r: &testnet_sandbox::Model) -> Result<SandboxKeys, Error> {
    let key =
        |purpose: &str, stored: &str| master_key.open(purpose, r.tenant_id, stored).map(Keypair::from_seed);
    Ok(SandboxKeys {
        asset_code: r.asset_code.clone(),
        issuer: key(ISSUER_PURPOSE, &r.issuer_seed)?,
        distribution: r.distribution_seed.as_deref().map(|s| key(DISTRIBUTION_PURPOSE, s)).transpose()?,
        sender: key(SENDER_PURPOSE, &r.sender_seed)?,
    })
}

/// The test sending anchor's account, if the tenant has a sandbox (never created here).
pub async fn sender_account(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    tenant_id: Uuid,
) -> Result<Option<String>, Error> {
    let Some(r) = row(db, tenant_id).await? else { return Ok(None) };
    Ok(Some(open(master_key, &r)?.sender.public_key().to_string()))
}

/// The sandbox as the API shows it; `None` before the first provisioning.
pub async fn record(db: &DatabaseConnection, tenant_id: Uuid) -> Result<Option<Record>, Error> {
    let Some(r) = row(db, tenant_id).await? else { return Ok(None) };
    let steps = serde_json::from_str(&r.steps).map_err(|e| Error::Corrupt(format!("sandbox steps: {e}")))?;
    Ok(Some(Record {
        asset_code: r.asset_code,
        state: RunState::parse(&r.state),
        steps,
        provisioned_at: r.provisioned_at,
        updated_at: r.updated_at,
    }))
}

/// Stores a run's progress (after every step, so GraphQL shows it while it runs).
pub async fn save_run(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    state: RunState,
    steps: &[Step],
) -> Result<(), Error> {
    let steps = serde_json::to_string(steps).expect("steps serialize");
    let mut update = testnet_sandbox::Entity::update_many()
        .col_expr(testnet_sandbox::Column::State, Expr::value(state.as_str()))
        .col_expr(testnet_sandbox::Column::Steps, Expr::value(steps))
        .col_expr(testnet_sandbox::Column::UpdatedAt, Expr::value(Utc::now()));
    if state == RunState::Done {
        update = update.col_expr(testnet_sandbox::Column::ProvisionedAt, Expr::value(Utc::now()));
    }
    update.filter(testnet_sandbox::Column::TenantId.eq(tenant_id)).exec(db).await?;
    Ok(())
}

/// True exactly once per sandbox: the caller that gets it may show the test sending
/// anchor's secret; every later caller, on any replica, gets false.
pub async fn claim_secret_showing(db: &DatabaseConnection, tenant_id: Uuid) -> Result<bool, Error> {
    let claimed = testnet_sandbox::Entity::update_many()
        .col_expr(testnet_sandbox::Column::SenderSecretShown, Expr::value(true))
        .filter(testnet_sandbox::Column::TenantId.eq(tenant_id))
        .filter(testnet_sandbox::Column::SenderSecretShown.eq(false))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

pub async fn pending(db: &DatabaseConnection, tenant_id: Uuid) -> Result<Option<Pending>, Error> {
    let Some(r) = row(db, tenant_id).await? else { return Ok(None) };
    r.pending
        .map(|p| serde_json::from_str(&p).map_err(|e| Error::Corrupt(format!("sandbox pending: {e}"))))
        .transpose()
}

/// Records (before sending) or clears (once settled) the submission in flight.
pub async fn set_pending(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    pending: Option<&Pending>,
) -> Result<(), Error> {
    let value = pending.map(|p| serde_json::to_string(p).expect("pending serializes"));
    testnet_sandbox::Entity::update_many()
        .col_expr(testnet_sandbox::Column::Pending, Expr::value(value))
        .filter(testnet_sandbox::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sandboxes a network reset emptied whose tenants asked to be provisioned again.
pub async fn awaiting_reprovision(db: &DatabaseConnection) -> Result<Vec<Uuid>, Error> {
    let reset: Vec<Uuid> = testnet_sandbox::Entity::find()
        .filter(testnet_sandbox::Column::State.eq(RunState::Reset.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.tenant_id)
        .collect();
    let opted: Vec<Uuid> = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(reset))
        .filter(tenant::Column::TestnetAutoProvision.eq(true))
        .filter(tenant::Column::Status.eq(tenant::Status::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    Ok(opted)
}

/// Re-seals the sandbox seeds not under the current master key (see `rotation`).
pub(crate) async fn reseal(db: &DatabaseConnection, key: &MasterKey) -> Result<u64, Error> {
    let mut resealed = 0;
    for r in testnet_sandbox::Entity::find().all(db).await? {
        let again = |purpose: &str, stored: &str| -> Result<String, Error> {
            Ok(key.seal(purpose, r.tenant_id, &key.open(purpose, r.tenant_id, stored)?))
        };
        let stale = !key.is_current(&r.issuer_seed)
            || !key.is_current(&r.sender_seed)
            || r.distribution_seed.as_deref().is_some_and(|s| !key.is_current(s));
        if !stale {
            continue;
        }
        let update = testnet_sandbox::Entity::update_many()
            .col_expr(
                testnet_sandbox::Column::IssuerSeed,
                Expr::value(again(ISSUER_PURPOSE, &r.issuer_seed)?),
            )
            .col_expr(
                testnet_sandbox::Column::SenderSeed,
                Expr::value(again(SENDER_PURPOSE, &r.sender_seed)?),
            )
            .col_expr(
                testnet_sandbox::Column::DistributionSeed,
                Expr::value(
                    r.distribution_seed.as_deref().map(|s| again(DISTRIBUTION_PURPOSE, s)).transpose()?,
                ),
            )
            .filter(testnet_sandbox::Column::TenantId.eq(r.tenant_id))
            .filter(testnet_sandbox::Column::IssuerSeed.eq(r.issuer_seed.clone()))
            .exec(db)
            .await?;
        resealed += update.rows_affected;
    }
    Ok(resealed)
}
