//! Refunds sent back to the sending anchor: one row per refund payment.
//!
//! A refund is recorded in one write transaction that locks the transaction row, sums
//! the refunds already recorded with checked arithmetic, and inserts the new row, so
//! concurrent refunds can neither lose one another nor exceed `amount_in`. Refunds are
//! only for money that arrived and was not paid out: a transaction in
//! `pending_receiver`, or in `error` after its payment was received (e.g. the wrong
//! amount). A refund that makes `amount + fee` reach `amount_in` moves the transaction
//! to `refunded`.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{refund, transaction};
use mooring_stellar::Amount;
use mooring_stellar::sep31::Status;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QuerySelect, Set, SqlErr};
use uuid::Uuid;

use crate::outbox::{self, Kind};
use crate::{Actor, AnchorError, AnchorResult, transactions};

/// A refund paid back to the sending anchor.
pub struct Refund {
    pub amount: Amount,
    /// Kept by the anchor out of the refund.
    pub fee: Amount,
    pub stellar_transaction_id: String,
    pub reason: String,
}

/// Statuses in which a refund may be recorded (for `error`, only once the payment
/// arrived).
pub const REFUNDABLE: [Status; 2] = [Status::PendingReceiver, Status::Error];

fn check(refund: &Refund) -> AnchorResult<()> {
    if refund.amount <= Amount::ZERO || refund.fee < Amount::ZERO {
        return Err(AnchorError::invalid("a refund needs a positive amount and a non-negative fee"));
    }
    let hash = &refund.stellar_transaction_id;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AnchorError::invalid("stellar_transaction_id must be a 64-character transaction hash"));
    }
    Ok(())
}

/// Whether a transaction's funds may be refunded now, and if not, why.
pub fn refundable(t: &transaction::Model) -> Result<(), String> {
    let status = t.status;
    let received = t.stellar_transaction_id.is_some();
    if REFUNDABLE.contains(&status) && received {
        return Ok(());
    }
    Err(format!(
        "a refund needs funds received and not paid out (pending_receiver, or error after the payment); \
         this transaction is {status}{}",
        if received { "" } else { " and its payment never arrived" }
    ))
}

/// Records a refund; see the module documentation for the rules.
pub async fn record(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    id: Uuid,
    refund: &Refund,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let w = w.into();
    check(refund)?;
    let txn = w.begin().await?;
    // PostgreSQL: FOR UPDATE serializes refunds of one transaction. SQLite ignores the
    // lock clause; its write transaction (`BEGIN IMMEDIATE`) already serializes.
    let t = transaction::Entity::of_tenant(tenant_id)
        .filter(transaction::Column::Id.eq(id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    refundable(&t).map_err(AnchorError::WrongState)?;
    let before = transactions::refunds_of(&txn, tenant_id, id).await?;
    let total = before
        .iter()
        .map(|r| (r.amount, r.fee))
        .chain([(refund.amount.0, refund.fee.0)])
        .try_fold(0i64, |sum, (amount, fee)| sum.checked_add(amount)?.checked_add(fee))
        .filter(|total| *total <= t.amount_in)
        .ok_or_else(|| {
            AnchorError::invalid(format!(
                "refunds and their fees would exceed amount_in ({})",
                Amount(t.amount_in).to_decimal()
            ))
        })?;
    let inserted = refund::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(tenant_id),
        transaction_id: Set(id),
        stellar_transaction_id: Set(refund.stellar_transaction_id.to_ascii_lowercase()),
        amount: Set(refund.amount.0),
        fee: Set(refund.fee.0),
        reason: Set(Some(refund.reason.clone())),
        actor: Set(actor.to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await;
    if let Err(e) = inserted {
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AnchorError::Conflict(format!(
                "refund payment {} is already recorded for this transaction",
                refund.stellar_transaction_id
            )),
            _ => e.into(),
        });
    }
    let updated = if total == t.amount_in {
        transactions::transition_in(
            &txn,
            tenant_id,
            id,
            Status::Refunded,
            actor,
            Some(refund.reason.as_str()),
            |_| {},
        )
        .await?
    } else {
        // Still the same status, but the SEP-31 view changed: tell the sending anchor.
        let mut row: transaction::ActiveModel = t.into();
        row.updated_at = Set(Utc::now());
        let updated = row.update(&txn).await?;
        if let Some(url) = &updated.callback_url {
            let refunds = transactions::refunds_of(&txn, tenant_id, id).await?;
            let body = transactions::sep31_response(&updated, &refunds);
            outbox::enqueue(&txn, tenant_id, Kind::Transaction, id, url, &body).await?;
        }
        updated
    };
    txn.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::tx;

    fn refund(amount: i64, fee: i64, hash: &str) -> Refund {
        Refund {
            amount: Amount(amount),
            fee: Amount(fee),
            stellar_transaction_id: hash.into(),
            reason: "r".into(),
        }
    }

    #[test]
    fn a_refund_is_positive_and_names_its_payment() {
        let hash = "ab".repeat(32);
        assert!(check(&refund(1, 0, &hash)).is_ok());
        assert!(check(&refund(0, 0, &hash)).is_err());
        assert!(check(&refund(5, -1, &hash)).is_err());
        assert!(check(&refund(5, 0, "not-a-hash")).is_err());
        assert!(check(&refund(5, 0, &"zz".repeat(32))).is_err());
    }

    #[test]
    fn only_funds_held_and_not_paid_out_are_refundable() {
        let received = |status| {
            let mut t = tx(status, 100);
            t.stellar_transaction_id = Some("h".into());
            t
        };
        assert!(refundable(&received(Status::PendingReceiver)).is_ok());
        assert!(refundable(&received(Status::Error)).is_ok(), "a mismatched payment is refunded");
        assert!(refundable(&tx(Status::Error, 100)).is_err(), "an error before any payment holds nothing");
        for paid_out_or_never_paid in
            [Status::PendingExternal, Status::Completed, Status::PendingSender, Status::Expired]
        {
            assert!(refundable(&received(paid_out_or_never_paid)).is_err(), "{paid_out_or_never_paid}");
        }
    }
}
