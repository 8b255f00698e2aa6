//! Payments observed on a tenant's distribution account: matched to transactions by
//! memo only, checked for asset and amount, applied exactly once.
//!
//! A batch of observed payments is applied in one database transaction together with
//! the watcher's cursor and its lease check, so a crash or a lost lease leaves either
//! all of a batch applied (cursor moved) or none of it.

use mooring_entities::TenantScoped;
use mooring_wire::webhook::{PaymentUnmatched, QuoteExpiredWithPayment};
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use mooring_entities::{payment, transaction, watch_cursor};
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use mooring_tenants::{ExpiredQuotePolicy, Tenant};
use sea_orm::ActiveEnum;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use crate::leases::{self, Fence};
use crate::webhooks::{self, EventType};
use crate::{Actor, AnchorResult, streams, transactions};

pub use payment::{Model as Payment, Outcome};

mod verdict;

pub use verdict::{Observed, Verdict, decide};
use verdict::{late_for_quote, relevant};

/// What applying one observed operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Not a payment to this account, or a failed one.
    Ignored,
    /// Already applied before (a replay after a crash or a reconnect).
    AlreadySeen,
    /// Recorded with this outcome, and the transaction moved as the outcome says.
    Recorded(Outcome),
}

/// What one batch read up front, so that each payment costs no look-up of its own: the
/// transactions its memos name (one query per tenant, not one per payment), and which
/// tenants have a webhook endpoint at all. A transaction a payment moved is dropped
/// from it, so a second payment to the same memo reads the moved row.
#[derive(Default)]
struct Known {
    /// (tenant, memo type, memo) → the transaction, or `None`: looked for, none.
    transactions: HashMap<(Uuid, MemoType, String), Option<transaction::Model>>,
    /// Tenants with an enabled webhook endpoint (`None`: not read; ask `emit`).
    hooked: Option<HashSet<Uuid>>,
}

fn memo_key(tenant_id: Uuid, p: &Observed) -> Option<(Uuid, MemoType, String)> {
    // Horizon also reports `none` and `return` memos; no transaction has those.
    let (Some(memo), Ok(memo_type)) = (&p.memo, MemoType::parse(&p.memo_type)) else { return None };
    Some((tenant_id, memo_type, memo.clone()))
}

impl Known {
    async fn read(txn: &DatabaseTransaction, items: &[(Uuid, &Observed)]) -> AnchorResult<Self> {
        let mut by_tenant: HashMap<Uuid, HashSet<String>> = HashMap::new();
        let mut keys = Vec::new();
        for (tenant_id, p) in items {
            if let Some(key) = memo_key(*tenant_id, p) {
                by_tenant.entry(*tenant_id).or_default().insert(key.2.clone());
                keys.push(key);
            }
        }
        let mut transactions: HashMap<_, _> = keys.into_iter().map(|k| (k, None)).collect();
        for (tenant_id, memos) in &by_tenant {
            let memos: Vec<&String> = memos.iter().collect();
            for chunk in memos.chunks(500) {
                let found = transaction::Entity::of_tenant(*tenant_id)
                    .filter(transaction::Column::StellarMemo.is_in(chunk.iter().map(|m| m.as_str())))
                    .all(txn)
                    .await?;
                for t in found {
                    let key = (*tenant_id, t.stellar_memo_type, t.stellar_memo.clone());
                    if let Some(slot) = transactions.get_mut(&key) {
                        *slot = Some(t);
                    }
                }
            }
        }
        let tenants: Vec<Uuid> = items.iter().map(|(t, _)| *t).collect::<HashSet<_>>().into_iter().collect();
        let hooked = webhooks::tenants_with_endpoints(txn, &tenants).await?;
        Ok(Self { transactions, hooked: Some(hooked) })
    }

    fn hooked(&self, tenant_id: Uuid) -> bool {
        self.hooked.as_ref().is_none_or(|h| h.contains(&tenant_id))
    }
}

async fn find_by_memo(
    txn: &DatabaseTransaction,
    known: &Known,
    tenant_id: Uuid,
    p: &Observed,
) -> AnchorResult<Option<transaction::Model>> {
    let Some(key) = memo_key(tenant_id, p) else { return Ok(None) };
    if let Some(read) = known.transactions.get(&key) {
        return Ok(read.clone());
    }
    let (_, memo_type, memo) = key;
    Ok(transaction::Entity::of_tenant(tenant_id)
        .filter(transaction::Column::StellarMemoType.eq(memo_type))
        .filter(transaction::Column::StellarMemo.eq(memo))
        .one(txn)
        .await?)
}

async fn apply_one(
    txn: &DatabaseTransaction,
    known: &mut Known,
    tenant: &Tenant,
    account: &str,
    p: &Observed,
) -> AnchorResult<Applied> {
    if !relevant(p, account) {
        return Ok(Applied::Ignored);
    }
    let t = find_by_memo(txn, known, tenant.id, p).await?;
    let verdict = decide(t.as_ref(), p);
    let row = payment::ActiveModel {
        id: Set(p.operation_id.clone()),
        tenant_id: Set(tenant.id),
        transaction_id: Set(t.as_ref().map(|t| t.id)),
        account: Set(account.to_string()),
        op_type: Set(p.op_type.clone()),
        from_account: Set(p.from.clone()),
        to_muxed: Set(p.to_muxed.clone()),
        asset_code: Set(p.asset_code.clone()),
        asset_issuer: Set(p.asset_issuer.clone()),
        amount: Set(p.amount.0),
        memo_type: Set(p.memo_type.clone()),
        memo: Set(p.memo.clone()),
        tx_hash: Set(p.tx_hash.clone()),
        ledger_time: Set(p.ledger_time.clone()),
        outcome: Set(verdict.outcome),
        note: Set(Some(verdict.note.clone())),
        excess: Set(verdict.excess.0),
        observed_at: Set(Utc::now()),
    };
    // (tenant, account, operation id) is the primary key: a payment this watch saw
    // before inserts nothing, and then has no effect either. Another tenant's rows,
    // whatever ids its Horizon reported, cannot collide with ours.
    let inserted = payment::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([payment::Column::TenantId, payment::Column::Account, payment::Column::Id])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if inserted == 0 {
        return Ok(Applied::AlreadySeen);
    }
    if verdict.outcome == Outcome::Unmatched && known.hooked(tenant.id) {
        webhooks::emit(
            txn,
            tenant.id,
            EventType::PaymentUnmatched,
            Uuid::new_v5(&tenant.id, p.operation_id.as_bytes()),
            || PaymentUnmatched {
                operation_id: p.operation_id.clone(),
                account: account.to_string(),
                from: p.from.clone(),
                amount: p.amount.to_string(),
                asset_code: p.asset_code.clone(),
                asset_issuer: p.asset_issuer.clone(),
                memo_type: p.memo_type.clone(),
                memo: p.memo.clone(),
                stellar_transaction_id: p.tx_hash.clone(),
                transaction_id: t.as_ref().map(|t| t.id),
                note: verdict.note.clone(),
            },
        )
        .await?;
    }
    let Some(t) = t else { return Ok(Applied::Recorded(verdict.outcome)) };
    let (mut to, mut message) = match verdict.outcome {
        Outcome::Unmatched => return Ok(Applied::Recorded(Outcome::Unmatched)),
        Outcome::Mismatched => (Status::Error, Some(verdict.note.clone())),
        Outcome::Matched => (Status::PendingReceiver, None),
        // The sending anchor is told what it overpaid.
        Outcome::Overpaid => (Status::PendingReceiver, Some(verdict.note.clone())),
    };
    let mut held = None;
    if to == Status::PendingReceiver
        && let Some(late) = late_for_quote(&t, p)
    {
        let policy = tenant.expired_quote_policy;
        webhooks::emit(txn, tenant.id, EventType::QuoteExpiredWithPayment, t.id, || {
            QuoteExpiredWithPayment {
                transaction_id: t.id,
                quote_id: t.quote_id,
                quote_expires_at: t.quote_expires_at,
                ledger_time: p.ledger_time.clone(),
                stellar_transaction_id: p.tx_hash.clone(),
                amount: p.amount.to_string(),
                policy: policy.to_value(),
            }
        })
        .await?;
        match policy {
            ExpiredQuotePolicy::Honour => {}
            ExpiredQuotePolicy::Hold => {
                let why = format!("{late}; held for the anchor's review");
                message = Some(why.clone());
                held = Some(why);
            }
            ExpiredQuotePolicy::Error => {
                to = Status::Error;
                message = Some(format!("{late}; the funds will be refunded"));
            }
        }
    }
    // The row moves: a later payment in this batch to the same memo reads it again.
    if let Some(key) = memo_key(tenant.id, p) {
        known.transactions.remove(&key);
    }
    let hash = p.tx_hash.clone();
    transactions::transition_in(txn, tenant.id, t.id, to, &Actor::System, Some(&verdict.note), |row| {
        row.stellar_transaction_id = Set(Some(hash));
        row.status_message = Set(message);
        row.held_reason = Set(held);
    })
    .await?;
    Ok(Applied::Recorded(verdict.outcome))
}

/// Applies a batch of observed operations in order, then stores the cursor (the
/// paging token of the last record read, which may carry no payment), all in one
/// database transaction. Fails without applying anything if the lease was lost to
/// another replica.
pub async fn apply_batch(
    db: &DatabaseConnection,
    tenant: &Tenant,
    account: &str,
    batch: &[Observed],
    cursor: &str,
    fence: &Fence<'_>,
) -> AnchorResult<Vec<Applied>> {
    let txn = mooring_entities::begin_write(db).await?;
    leases::fenced(&txn, fence).await?;
    let outcomes = apply_each(&txn, tenant, account, batch).await?;
    streams::store_account_cursor(&txn, tenant.id, account, cursor).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// One account's payments in the caller's transaction, the transactions they name read
/// once for the whole batch.
async fn apply_each(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    account: &str,
    batch: &[Observed],
) -> AnchorResult<Vec<Applied>> {
    let items: Vec<(Uuid, &Observed)> = batch.iter().map(|p| (tenant.id, p)).collect();
    let mut known = Known::read(txn, &items).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for p in batch {
        outcomes.push(apply_one(txn, &mut known, tenant, account, p).await?);
    }
    Ok(outcomes)
}

/// [`apply_batch`] without moving the account's own cursor: for catch-ups whose
/// progress is kept elsewhere (an RPC stream's member, a gap read from Horizon).
pub async fn apply_observed(
    db: &DatabaseConnection,
    tenant: &Tenant,
    account: &str,
    batch: &[Observed],
    fence: &Fence<'_>,
) -> AnchorResult<Vec<Applied>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let txn = mooring_entities::begin_write(db).await?;
    leases::fenced(&txn, fence).await?;
    let outcomes = apply_each(&txn, tenant, account, batch).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// One operation of a shared stream, routed to the tenant whose account it pays.
pub struct Routed<'a> {
    pub tenant: &'a Tenant,
    pub observed: &'a Observed,
}

/// Applies a shared stream's batch: each routed operation to its tenant, in order,
/// then the stream's cursor (`last`, the batch's last token, routed or not), all in
/// one database transaction. Fails without applying anything if the lease was lost.
pub async fn apply_routed(
    db: &DatabaseConnection,
    stream: &str,
    routed: &[Routed<'_>],
    last: &str,
    fence: &Fence<'_>,
) -> AnchorResult<Vec<Applied>> {
    let txn = mooring_entities::begin_write(db).await?;
    leases::fenced(&txn, fence).await?;
    let items: Vec<(Uuid, &Observed)> = routed.iter().map(|r| (r.tenant.id, r.observed)).collect();
    let mut known = Known::read(&txn, &items).await?;
    let mut outcomes = Vec::with_capacity(routed.len());
    for r in routed {
        // The stream routes by the base account an operation pays.
        outcomes.push(apply_one(&txn, &mut known, r.tenant, &r.observed.to, r.observed).await?);
    }
    streams::store_cursor_in(&txn, stream, last).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// Records where a first watch starts, unless a cursor exists already.
pub async fn init_cursor(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    account: &str,
    cursor: &str,
) -> AnchorResult<()> {
    streams::put_account_cursor(db, tenant_id, account, cursor, false).await
}

/// Where watching `account` resumes (`None`: from now on).
pub async fn cursor(db: &DatabaseConnection, tenant_id: Uuid, account: &str) -> AnchorResult<Option<String>> {
    Ok(watch_cursor::Entity::find_by_id((tenant_id, account.to_string())).one(db).await?.map(|c| c.cursor))
}

/// Payments that match no waiting transaction: the tenant refunds or resolves them.
/// The oldest `limit` of them.
pub async fn unmatched(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    limit: u64,
) -> AnchorResult<Vec<payment::Model>> {
    Ok(payment::Entity::of_tenant(tenant_id)
        .filter(payment::Column::Outcome.eq("unmatched"))
        .order_by_asc(payment::Column::ObservedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Payments linked to one transaction.
pub async fn for_transaction(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    transaction_id: Uuid,
    limit: u64,
) -> AnchorResult<Vec<payment::Model>> {
    Ok(payment::Entity::of_tenant(tenant_id)
        .filter(payment::Column::TransactionId.eq(transaction_id))
        .order_by_asc(payment::Column::ObservedAt)
        .limit(limit)
        .all(db)
        .await?)
}
