//! Payments observed on a tenant's distribution account: matched to transactions by
//! memo only, checked for asset and amount, applied exactly once.
//!
//! A batch of observed payments is applied in one database transaction together with
//! the watcher's cursor and its lease check, so a crash or a lost lease leaves either
//! all of a batch applied (cursor moved) or none of it.

use mooring_wire::webhook::{PaymentUnmatched, QuoteExpiredWithPayment};
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use mooring_entities::{payment, transaction, watch_cursor};
use mooring_stellar::Amount;
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

/// What moves funds to an account: Horizon's payment operations, and the CAP-67
/// `transfer`/`mint` of an asset's contract (a smart wallet's payment, or any payment
/// read from RPC's events).
const PAYMENT_TYPES: [&str; 5] =
    ["payment", "path_payment_strict_receive", "path_payment_strict_send", "transfer", "mint"];

/// One payment to an account, parsed: an operation from Horizon's payments feed, or an
/// asset event from Stellar RPC. `operation_id` is its identity (with the network
/// epoch where ids can repeat after a reset).
#[derive(Debug, Clone)]
pub struct Observed {
    pub operation_id: String,
    pub paging_token: String,
    pub op_type: String,
    pub successful: bool,
    pub from: String,
    /// The `G...` receiving account (for a muxed destination, its base account).
    pub to: String,
    pub to_muxed: Option<String>,
    /// `native` for lumens.
    pub asset_code: String,
    pub asset_issuer: String,
    /// For path payments, the amount delivered (never `send_max`/`dest_min`).
    pub amount: Amount,
    /// `none`, `id`, `text`, `hash` or `return`.
    pub memo_type: String,
    pub memo: Option<String>,
    pub tx_hash: String,
    pub ledger_time: String,
}

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

/// What a payment means for the transaction its memo names (pure; see tests): the
/// outcome to record, the note explaining it, and what was paid beyond the amount due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub note: String,
    pub excess: Amount,
}

pub fn decide(t: Option<&transaction::Model>, p: &Observed) -> Verdict {
    let verdict = |outcome, note: String| Verdict { outcome, note, excess: Amount::ZERO };
    let Some(t) = t else { return verdict(Outcome::Unmatched, "no transaction has this memo".into()) };
    if !matches!(t.status, Status::PendingSender | Status::PendingStellar) {
        let why = format!("transaction {} is {}, not waiting for funds", t.id, t.status);
        return verdict(Outcome::Unmatched, why);
    }
    let expected = Amount(t.amount_in);
    if p.asset_code != t.asset_code || p.asset_issuer != t.asset_issuer {
        let why = format!(
            "received {} {}:{} but expected {}:{}",
            p.amount, p.asset_code, p.asset_issuer, t.asset_code, t.asset_issuer
        );
        return verdict(Outcome::Mismatched, why);
    }
    let received = format!("received {} {}", p.amount, p.asset_code);
    match p.amount.cmp(&expected) {
        std::cmp::Ordering::Less => {
            verdict(Outcome::Mismatched, format!("{received}, less than the {expected} expected"))
        }
        std::cmp::Ordering::Equal => verdict(Outcome::Matched, received),
        std::cmp::Ordering::Greater => {
            let excess = Amount(p.amount.0 - expected.0);
            let note = format!("{received}: {excess} more than expected, to refund");
            Verdict { outcome: Outcome::Overpaid, note, excess }
        }
    }
}

fn relevant(p: &Observed, account: &str) -> bool {
    p.successful && PAYMENT_TYPES.contains(&p.op_type.as_str()) && p.to == account && p.from != account
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
                let found = transaction::Entity::find()
                    .filter(transaction::Column::TenantId.eq(*tenant_id))
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
    Ok(transaction::Entity::find()
        .filter(transaction::Column::TenantId.eq(tenant_id))
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

/// Why a payment is late for the quote behind its transaction (the ledger closed after
/// the quote expired), or `None` when it is not.
fn late_for_quote(t: &transaction::Model, p: &Observed) -> Option<String> {
    let expires_at = t.quote_expires_at?;
    // Horizon always sends the close time; an unreadable one is judged as "now", the
    // moment we saw it, which can only be later than the ledger's.
    let closed = chrono::DateTime::parse_from_rfc3339(&p.ledger_time)
        .map(|c| c.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    (closed > expires_at).then(|| {
        format!(
            "the payment (ledger closed {}) arrived after quote {} expired at {}",
            closed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            t.quote_id.map(|q| q.to_string()).unwrap_or_default(),
            expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    })
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
    let items: Vec<(Uuid, &Observed)> = batch.iter().map(|p| (tenant.id, p)).collect();
    let mut known = Known::read(&txn, &items).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for p in batch {
        outcomes.push(apply_one(&txn, &mut known, tenant, account, p).await?);
    }
    streams::store_account_cursor(&txn, tenant.id, account, cursor).await?;
    txn.commit().await?;
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
    let items: Vec<(Uuid, &Observed)> = batch.iter().map(|p| (tenant.id, p)).collect();
    let mut known = Known::read(&txn, &items).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for p in batch {
        outcomes.push(apply_one(&txn, &mut known, tenant, account, p).await?);
    }
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
    Ok(payment::Entity::find()
        .filter(payment::Column::TenantId.eq(tenant_id))
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
    Ok(payment::Entity::find()
        .filter(payment::Column::TenantId.eq(tenant_id))
        .filter(payment::Column::TransactionId.eq(transaction_id))
        .order_by_asc(payment::Column::ObservedAt)
        .limit(limit)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::tx;

    fn paid(code: &str, amount: i64) -> Observed {
        Observed {
            operation_id: "1".into(),
            paging_token: "1".into(),
            op_type: "payment".into(),
            successful: true,
            from: "GSA".into(),
            to: "GDIST".into(),
            to_muxed: None,
            asset_code: code.into(),
            asset_issuer: "GISSUER".into(),
            amount: Amount(amount),
            memo_type: "id".into(),
            memo: Some("1".into()),
            tx_hash: "h".into(),
            ledger_time: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn verdicts() {
        let t = tx(Status::PendingSender, 100);
        let outcome = |t: Option<&transaction::Model>, p: &Observed| decide(t, p).outcome;
        assert_eq!(decide(Some(&t), &paid("SRT", 100)).outcome, Outcome::Matched);
        let over = decide(Some(&t), &paid("SRT", 150));
        assert_eq!((over.outcome, over.excess), (Outcome::Overpaid, Amount(50)));
        assert_eq!(outcome(Some(&t), &paid("SRT", 99)), Outcome::Mismatched);
        assert_eq!(outcome(Some(&t), &paid("USDC", 100)), Outcome::Mismatched);
        assert_eq!(outcome(None, &paid("SRT", 100)), Outcome::Unmatched);
        assert_eq!(outcome(Some(&tx(Status::Expired, 100)), &paid("SRT", 100)), Outcome::Unmatched);
        assert_eq!(outcome(Some(&tx(Status::PendingStellar, 100)), &paid("SRT", 100)), Outcome::Matched);
        assert_eq!(decide(Some(&t), &paid("SRT", 100)).excess, Amount::ZERO);
    }

    #[test]
    fn a_payment_is_late_for_its_quote_by_the_ledgers_close_time() {
        let at = |s: &str| s.parse::<chrono::DateTime<Utc>>().unwrap();
        let mut t = tx(Status::PendingSender, 100);
        assert_eq!(late_for_quote(&t, &paid("SRT", 100)), None, "no quote, never late");
        t.quote_id = Some(Uuid::nil());
        // The ledger closed at 2026-01-01T00:00:00Z (see `paid`).
        t.quote_expires_at = Some(at("2026-01-01T00:00:00Z"));
        assert_eq!(late_for_quote(&t, &paid("SRT", 100)), None, "on the deadline is in time");
        t.quote_expires_at = Some(at("2025-12-31T23:59:59Z"));
        let late = late_for_quote(&t, &paid("SRT", 100)).unwrap();
        assert!(late.contains("2026-01-01T00:00:00Z") && late.contains("2025-12-31T23:59:59Z"), "{late}");
        // An unreadable close time counts as "now": later than any past deadline.
        let mut garbled = paid("SRT", 100);
        garbled.ledger_time = "yesterday".into();
        assert!(late_for_quote(&t, &garbled).is_some());
    }

    #[test]
    fn only_successful_incoming_payments_count() {
        let mut p = paid("SRT", 1);
        assert!(relevant(&p, "GDIST"));
        p.successful = false;
        assert!(!relevant(&p, "GDIST"));
        let mut p = paid("SRT", 1);
        p.op_type = "create_account".into();
        assert!(!relevant(&p, "GDIST"));
        let mut outgoing = paid("SRT", 1);
        outgoing.from = "GDIST".into();
        outgoing.to = "GSA".into();
        assert!(!relevant(&outgoing, "GDIST"));
    }
}
