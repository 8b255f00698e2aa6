//! Every status change: legal per the status machine, compare-and-set on the old
//! status, an event row, and the sending anchor's callback queued in the outbox, all
//! in one database transaction.

use chrono::Utc;
use mooring_entities::Writer;
use mooring_entities::{transaction, transaction_event};
use mooring_stellar::sep31::Status;
use mooring_tenants::api_keys::KeyScope;
use mooring_wire::webhook::TransactionEvent;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::query::{find_in_scope, get, get_for_tenant, refunds_of};
use super::view::{sep31, sep31_response};
use crate::Owner;
use crate::outbox::{self, Kind};
use crate::webhooks::{self, EventType};
use crate::{Actor, AnchorError, AnchorResult};

pub(super) async fn record_event(
    db: &impl ConnectionTrait,
    t: &transaction::Model,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
    hooks: Hooks,
) -> AnchorResult<()> {
    event_row(t, from, to, actor, message).insert(db).await?;
    Ok(after_event(db, t, from, to, actor, message, hooks).await?)
}

/// The event row of a status change (`from` is `None` for a new transaction).
pub(super) fn event_row(
    t: &transaction::Model,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
) -> transaction_event::ActiveModel {
    transaction_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(t.tenant_id),
        transaction_id: Set(t.id),
        at: Set(Utc::now()),
        from_status: Set(from),
        to_status: Set(to),
        actor: Set(actor.to_string()),
        message: Set(message.map(str::to_string)),
    }
}

/// What follows a change's event row in its database transaction: the tenant's
/// webhook outbox rows (when it may have endpoints), and the transition counter.
pub(super) async fn after_event(
    db: &impl ConnectionTrait,
    t: &transaction::Model,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
    hooks: Hooks,
) -> Result<(), DbErr> {
    let event =
        if from.is_none() { EventType::TransactionCreated } else { EventType::TransactionStatusChanged };
    if hooks == Hooks::LookUp {
        webhooks::emit(db, t.tenant_id, event, t.id, || TransactionEvent {
            transaction: sep31(t, &[]),
            from_status: from,
            to_status: to,
            actor: actor.to_string(),
            message: message.map(str::to_string),
            sending_anchor: t.sa_account.clone(),
            sender_id: t.sender_id,
            receiver_id: t.receiver_id,
            stellar_memo_type: t.stellar_memo_type,
            stellar_memo: t.stellar_memo.clone(),
        })
        .await?;
    }
    count_transition(&t.tenant_id, from, to);
    Ok(())
}

/// Whether the tenant may have webhook endpoints to tell (see
/// `mooring_tenants::Tenant::has_webhooks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hooks {
    /// Look them up in the write's transaction.
    LookUp,
    /// The tenant's snapshot knows none is enabled: nothing to look up.
    NoneEnabled,
}

impl Hooks {
    pub(super) fn of(tenant: &mooring_tenants::Tenant) -> Self {
        if tenant.has_webhooks { Hooks::LookUp } else { Hooks::NoneEnabled }
    }
}

/// Counted when written: a batch that then rolls back (a lost lease) and is applied
/// again counts twice; the event table is the exact record.
fn count_transition(tenant_id: &Uuid, from: Option<Status>, to: Status) {
    metrics::counter!("mooring_transaction_transitions_total",
        "tenant" => tenant_id.to_string(), "from" => from.map_or("none", Status::as_str), "to" => to.as_str())
    .increment(1);
}

/// Moves a transaction to `to`, applying `changes` to the row in the same update.
/// Fails with `WrongState` for a move the status machine forbids, and with
/// `Conflict` when the status changed under us (someone else moved it first).
pub async fn transition_in(
    txn: &DatabaseTransaction,
    tenant_id: Uuid,
    id: Uuid,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
    changes: impl FnOnce(&mut transaction::ActiveModel),
) -> AnchorResult<transaction::Model> {
    let current = get_for_tenant(txn, tenant_id, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let from = current.status;
    from.transition(to)?;
    if let Some(why) = &current.held_reason
        && matches!(to, Status::PendingExternal | Status::Completed)
    {
        return Err(AnchorError::WrongState(format!(
            "the payout is held for review ({why}): release it or refund first"
        )));
    }
    let now = Utc::now();
    let mut row: transaction::ActiveModel = current.clone().into();
    changes(&mut row);
    row.status = Set(to);
    row.updated_at = Set(now);
    if to == Status::Completed {
        row.completed_at = Set(Some(now));
    }
    let updated = transaction::Entity::update(row)
        .validate()?
        .filter(transaction::Column::Status.eq(from))
        .exec(txn)
        .await
        .map_err(|e| match e {
            DbErr::RecordNotUpdated => {
                AnchorError::Conflict("the transaction changed concurrently; try again".into())
            }
            other => other.into(),
        })?;
    record_event(txn, &updated, Some(from), to, actor, message, Hooks::LookUp).await?;
    if let Some(url) = &updated.callback_url {
        let refunds = refunds_of(txn, tenant_id, updated.id).await?;
        let body = sep31_response(&updated, &refunds);
        outbox::enqueue(txn, tenant_id, Kind::Transaction, updated.id, url, &body).await?;
    }
    Ok(updated)
}

pub async fn transition(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    id: Uuid,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
    changes: impl FnOnce(&mut transaction::ActiveModel),
) -> AnchorResult<transaction::Model> {
    let w = w.into();
    let txn = w.begin().await?;
    let updated = transition_in(&txn, tenant_id, id, to, actor, message, changes).await?;
    txn.commit().await?;
    Ok(updated)
}

/// `PUT /transactions/:id/callback`: stored sealed (see [`crate::sealed`]).
pub async fn set_callback(
    db: &DatabaseConnection,
    key: &mooring_tenants::pii::DataKey,
    owner: &Owner,
    id: Uuid,
    url: &str,
) -> AnchorResult<()> {
    let t = get(db, owner, id).await?.ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let sealed = crate::sealed::seal_url(key, owner.tenant_id, t.id, url);
    let mut row: transaction::ActiveModel = t.into();
    row.callback_url = Set(Some(sealed));
    row.update(db).await?;
    Ok(())
}

/// Expires transactions still waiting for funds past their deadline. Returns how many.
pub async fn expire_due(db: &DatabaseConnection, limit: u64) -> AnchorResult<usize> {
    let due = transaction::Entity::find()
        .filter(transaction::Column::Status.eq(Status::PendingSender))
        .filter(transaction::Column::ExpiresAt.lt(Utc::now()))
        .limit(limit)
        .all(db)
        .await?;
    let mut expired = 0;
    for t in due {
        match transition(
            db,
            t.tenant_id,
            t.id,
            Status::Expired,
            &Actor::System,
            Some("no payment was received in time"),
            |_| {},
        )
        .await
        {
            Ok(_) => expired += 1,
            // Paid (or moved) in the meantime: nothing to expire.
            Err(AnchorError::Conflict(_) | AnchorError::WrongState(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}

/// Releases a payout held for review (a payment after its quote expired): the tenant
/// honours the quote after all. "Not found" outside `scope`; refused when nothing is held.
pub async fn release_hold(
    w: impl Into<Writer<'_>>,
    scope: KeyScope,
    id: Uuid,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let w = w.into();
    let t = find_in_scope(w.db, scope, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let txn = w.begin().await?;
    let released = transaction::Entity::update_many()
        .col_expr(transaction::Column::HeldReason, sea_orm::sea_query::Expr::value(Option::<String>::None))
        .col_expr(transaction::Column::StatusMessage, sea_orm::sea_query::Expr::value(Option::<String>::None))
        .col_expr(transaction::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(transaction::Column::Id.eq(t.id))
        .filter(transaction::Column::TenantId.eq(t.tenant_id))
        .filter(transaction::Column::HeldReason.is_not_null())
        .exec(&txn)
        .await?;
    if released.rows_affected == 0 {
        return Err(AnchorError::WrongState("this transaction's payout is not held".into()));
    }
    let updated = get_for_tenant(&txn, t.tenant_id, t.id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    record_event(
        &txn,
        &updated,
        Some(updated.status),
        updated.status,
        actor,
        Some("payout released from review"),
        Hooks::LookUp,
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// What a tenant (or the operator) does to a transaction from its back office. Each
/// is one legal move of the status machine with the fields it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The payout was submitted to the receiver's rail: → `pending_external`.
    PayoutSubmitted { message: Option<String> },
    /// The receiver has the funds: → `completed`, with the rail's reference.
    Complete { external_id: String },
    /// It failed: → `error`, with a message for the sending anchor.
    Fail { message: String },
}

/// Applies `change` to a transaction `scope` may see ("not found" for the rest).
pub async fn apply(
    w: impl Into<Writer<'_>>,
    scope: KeyScope,
    id: Uuid,
    change: Change,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let w = w.into();
    let t = find_in_scope(w.db, scope, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    match change {
        Change::PayoutSubmitted { message } => {
            transition(w, t.tenant_id, id, Status::PendingExternal, actor, message.as_deref(), |_| {}).await
        }
        Change::Complete { external_id } => {
            transition(w, t.tenant_id, id, Status::Completed, actor, None, |row| {
                row.external_transaction_id = Set(Some(external_id));
            })
            .await
        }
        Change::Fail { message } => {
            let shown = message.clone();
            transition(w, t.tenant_id, id, Status::Error, actor, Some(&message), |row| {
                row.status_message = Set(Some(shown));
            })
            .await
        }
    }
}
