//! What the watcher learns about the ledger itself, beyond payments: gaps it could not
//! read, and network resets (testnet starts again from ledger 1 about every three
//! months).
//!
//! - A **gap** is a range of ledgers whose payments to a tenant could not be read (the
//!   RPC followed no longer keeps them). It is recorded per tenant, told to the
//!   tenant (`ledger.gap` webhook, `Tenant.ledgerGap`) and stays open until caught up
//!   from Horizon — it is never silently taken for "no payments".
//! - A **reset** bumps the stream's epoch (part of every RPC payment's identity: event
//!   ids repeat on the new network), moves its cursor to the new network's start and
//!   tells every member tenant (`network.reset`), all in one database transaction
//!   under the stream's lease. Configuration and history stay.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::{ledger_gap, stream_cursor, stream_member, tenant, testnet_sandbox};
use mooring_wire::webhook::{LedgerGap, NetworkReset, RecreatedStep};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::leases::{Fence, fenced};
use crate::webhooks::{self, EventType};
use crate::{AnchorError, AnchorResult};

pub use ledger_gap::Model as Gap;

/// A stream's position on the ledger, as stored with its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub epoch: i32,
    /// The last ledger checked for a reset (sequence, hash).
    pub ledger: Option<(u32, String)>,
}

/// The stream's epoch and last checked ledger (`None`: it never ran).
pub async fn checkpoint(db: &DatabaseConnection, stream: &str) -> AnchorResult<Option<Checkpoint>> {
    let Some(row) = stream_cursor::Entity::find_by_id(stream.to_string()).one(db).await? else {
        return Ok(None);
    };
    let ledger = match (row.ledger, row.ledger_hash) {
        (Some(seq), Some(hash)) => u32::try_from(seq).ok().map(|s| (s, hash)),
        _ => None,
    };
    Ok(Some(Checkpoint { epoch: row.epoch, ledger }))
}

/// Remembers a ledger the stream saw (sequence and hash), to notice a reset later.
pub async fn store_checked_ledger(
    db: &DatabaseConnection,
    stream: &str,
    sequence: u32,
    hash: &str,
    fence: &Fence<'_>,
) -> AnchorResult<()> {
    let txn = mooring_entities::begin_write(db).await?;
    fenced(&txn, fence).await?;
    stream_cursor::Entity::update_many()
        .col_expr(stream_cursor::Column::Ledger, i64::from(sequence).into())
        .col_expr(stream_cursor::Column::LedgerHash, hash.into())
        .filter(stream_cursor::Column::Stream.eq(stream))
        .exec(&txn)
        .await?;
    Ok(txn.commit().await?)
}

/// What a reset found, for the webhook and the log.
#[derive(Debug, Clone)]
pub struct Reset {
    /// Why it is a reset (the latest ledger is below ours, or a ledger's hash changed).
    pub reason: String,
    /// Where the stream starts again.
    pub new_cursor: String,
}

/// A sandbox whose accounts went with a network reset (`testnet_sandboxes.state`).
pub const SANDBOX_RESET: &str = "reset";

/// Tells a tenant that its sandbox was provisioned again after a reset: the second
/// `network.reset` event, listing each step and whether it recreated something.
pub async fn sandbox_recreated(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    steps: Vec<RecreatedStep>,
) -> AnchorResult<()> {
    let txn = mooring_entities::begin_write(db).await?;
    webhooks::emit(&txn, tenant_id, EventType::NetworkReset, Uuid::new_v4(), || {
        NetworkReset::SandboxRecreated { recreated: steps, at: Utc::now() }
    })
    .await?;
    Ok(txn.commit().await?)
}

/// Starts `stream` again on a reset network: new epoch, cursor at the new network's
/// start, every member told. Returns the new epoch and the tenants told.
pub async fn reset(
    db: &DatabaseConnection,
    stream: &str,
    what: &Reset,
    fence: &Fence<'_>,
) -> AnchorResult<(i32, Vec<Uuid>)> {
    let txn = mooring_entities::begin_write(db).await?;
    fenced(&txn, fence).await?;
    let row = stream_cursor::Entity::find_by_id(stream.to_string())
        .one(&txn)
        .await?
        .ok_or_else(|| AnchorError::Conflict("the stream has no cursor".into()))?;
    let epoch = row.epoch + 1;
    let resets = row.resets + 1;
    let now = Utc::now();
    let mut active: stream_cursor::ActiveModel = row.into();
    active.epoch = Set(epoch);
    active.resets = Set(resets);
    active.last_reset_at = Set(Some(now));
    active.cursor = Set(what.new_cursor.clone());
    active.ledger = Set(None);
    active.ledger_hash = Set(None);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let members =
        stream_member::Entity::find().filter(stream_member::Column::Stream.eq(stream)).all(&txn).await?;
    // Members caught up to a pre-reset position: the new network's start covers them.
    stream_member::Entity::update_many()
        .col_expr(stream_member::Column::JoinedAt, what.new_cursor.clone().into())
        .col_expr(stream_member::Column::CaughtUp, true.into())
        .filter(stream_member::Column::Stream.eq(stream))
        .exec(&txn)
        .await?;
    // Sandboxes' accounts are gone with the old network: marked in this same
    // transaction, so a crash cannot lose the fact; the sandbox sweeper provisions the
    // opted-in ones again and the others wait for their tenant.
    let ids: Vec<Uuid> = members.iter().map(|m| m.tenant_id).collect();
    let sandboxes: Vec<Uuid> = testnet_sandbox::Entity::find()
        .filter(testnet_sandbox::Column::TenantId.is_in(ids.clone()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.tenant_id)
        .collect();
    let auto: Vec<Uuid> = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(sandboxes.clone()))
        .filter(tenant::Column::TestnetAutoProvision.eq(true))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    testnet_sandbox::Entity::update_many()
        .col_expr(testnet_sandbox::Column::State, SANDBOX_RESET.into())
        .filter(testnet_sandbox::Column::TenantId.is_in(sandboxes.clone()))
        .exec(&txn)
        .await?;
    let mut told = Vec::with_capacity(members.len());
    for m in &members {
        let subject = Uuid::new_v5(&m.tenant_id, format!("{stream}#{epoch}").as_bytes());
        let sandbox = if auto.contains(&m.tenant_id) {
            Some(
                "its accounts are gone with the old network; it is being provisioned again (a second network.reset event lists what was recreated)",
            )
        } else if sandboxes.contains(&m.tenant_id) {
            Some("its accounts are gone with the old network; call provisionTestnet to recreate them")
        } else {
            None
        };
        webhooks::emit(&txn, m.tenant_id, EventType::NetworkReset, subject, || {
            NetworkReset::Detected {
                account: m.account.clone(), epoch, reason: what.reason.clone(), detected_at: now,
                kept: "configuration, transactions, customers and payments are kept; watching starts again at the new network's first ledger".into(),
                sandbox: sandbox.map(str::to_string),
            }
        })
        .await?;
        told.push(m.tenant_id);
    }
    txn.commit().await?;
    Ok((epoch, told))
}

/// Records that `tenants` could not be read for ledgers `from..=to` on `stream`, and
/// tells each of them. Returns the gap ids, in the order of `tenants`.
pub async fn record_gap(
    db: &DatabaseConnection,
    stream: &str,
    tenants: &[(Uuid, &str)],
    from: u32,
    to: u32,
    fence: &Fence<'_>,
) -> AnchorResult<Vec<Uuid>> {
    let txn = mooring_entities::begin_write(db).await?;
    fenced(&txn, fence).await?;
    let now = Utc::now();
    let mut ids = Vec::with_capacity(tenants.len());
    for (tenant_id, account) in tenants {
        let id = Uuid::new_v4();
        ledger_gap::ActiveModel {
            id: Set(id),
            tenant_id: Set(*tenant_id),
            stream: Set(stream.to_string()),
            from_ledger: Set(i64::from(from)),
            to_ledger: Set(i64::from(to)),
            detected_at: Set(now),
            resolved_at: Set(None),
            resolution: Set(None),
        }
        .insert(&txn)
        .await?;
        webhooks::emit(&txn, *tenant_id, EventType::LedgerGap, id, || {
            LedgerGap {
                gap_id: id, account: account.to_string(), from_ledger: from, to_ledger: to, detected_at: now,
                note: "payments in these ledgers could not be read from RPC; Mooring catches them up from Horizon where one is configured".into(),
            }
        })
        .await?;
        ids.push(id);
    }
    txn.commit().await?;
    Ok(ids)
}

/// Closes a gap (e.g. "caught up from Horizon").
pub async fn resolve_gap(db: &DatabaseConnection, gap_id: Uuid, how: &str) -> AnchorResult<()> {
    ledger_gap::Entity::update_many()
        .col_expr(ledger_gap::Column::ResolvedAt, Some(Utc::now()).into())
        .col_expr(ledger_gap::Column::Resolution, Some(how.to_string()).into())
        .filter(ledger_gap::Column::Id.eq(gap_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The tenant's newest open gap, if any.
pub async fn open_gap(db: &DatabaseConnection, tenant_id: Uuid) -> AnchorResult<Option<Gap>> {
    Ok(ledger_gap::Entity::of_tenant(tenant_id)
        .filter(ledger_gap::Column::ResolvedAt.is_null())
        .order_by_desc(ledger_gap::Column::DetectedAt)
        .one(db)
        .await?)
}
