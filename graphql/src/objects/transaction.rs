//! Transactions, their history and the payments seen for them.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_anchor::payments::Payment;
use mooring_anchor::transactions::{Event as TransactionEvent, Transaction};
use mooring_anchor::{customers, payments, transactions};

use super::{CustomerObj, amount};
use crate::enums::{MemoType, PaymentOutcome, TransactionStatus};
use crate::error::from_anchor;
use crate::scope::core;

/// A status change in a transaction's history.
#[derive(SimpleObject)]
pub struct Event {
    /// The transaction.
    pub transaction_id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// Previous status (none for creation).
    pub from_status: Option<TransactionStatus>,
    /// New status.
    pub to_status: TransactionStatus,
    /// Who: sending_anchor:<account>, operator, tenant, system.
    pub actor: String,
    /// Why, if said.
    pub message: Option<String>,
}

impl From<TransactionEvent> for Event {
    fn from(e: TransactionEvent) -> Self {
        Self {
            transaction_id: ID(e.transaction_id.to_string()),
            at: e.at,
            from_status: e.from_status.map(Into::into),
            to_status: e.to_status.into(),
            actor: e.actor,
            message: e.message,
        }
    }
}

/// A SEP-31 transaction.
#[derive(SimpleObject)]
#[graphql(name = "Transaction", complex)]
pub struct TransactionObj {
    /// Transaction id.
    pub id: ID,
    /// SEP-31 status.
    pub status: TransactionStatus,
    /// Last status message.
    pub status_message: Option<String>,
    /// Sending anchor account.
    pub sa_account: String,
    /// Asset code.
    pub asset_code: String,
    /// Asset issuer.
    pub asset_issuer: String,
    /// Amount expected or received.
    pub amount_in: String,
    /// Fee.
    pub amount_fee: String,
    /// Amount to pay out, in `amountOutAsset`.
    pub amount_out: String,
    /// What the payout is in: `iso4217:CCY` for a quoted transaction, else the Stellar
    /// asset (`stellar:CODE:ISSUER`).
    pub amount_out_asset: String,
    /// Why the payout is held for review (a payment after its quote expired): release
    /// it (`releaseHeldTransaction`) or refund.
    pub held_reason: Option<String>,
    /// Memo type the payment must carry.
    pub stellar_memo_type: MemoType,
    /// Memo the payment must carry.
    pub stellar_memo: String,
    /// Incoming Stellar transaction hash.
    pub stellar_transaction_id: Option<String>,
    /// Payout rail reference.
    pub external_transaction_id: Option<String>,
    /// Chosen payout method.
    pub funding_method: Option<String>,
    /// Created.
    pub started_at: DateTime<Utc>,
    /// Current status since.
    pub updated_at: DateTime<Utc>,
    /// Completed.
    pub completed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub model: Transaction,
}

impl From<Transaction> for TransactionObj {
    fn from(t: Transaction) -> Self {
        Self {
            id: ID(t.id.to_string()),
            status: t.status.into(),
            status_message: t.status_message.clone(),
            sa_account: t.sa_account.clone(),
            asset_code: t.asset_code.clone(),
            asset_issuer: t.asset_issuer.clone(),
            amount_in: amount(t.amount_in),
            amount_fee: amount(t.amount_fee),
            amount_out: amount(t.amount_out),
            amount_out_asset: t
                .amount_out_asset
                .clone()
                .unwrap_or_else(|| format!("stellar:{}:{}", t.asset_code, t.asset_issuer)),
            held_reason: t.held_reason.clone(),
            stellar_memo_type: t.stellar_memo_type.into(),
            stellar_memo: t.stellar_memo.clone(),
            stellar_transaction_id: t.stellar_transaction_id.clone(),
            external_transaction_id: t.external_transaction_id.clone(),
            funding_method: t.funding_method.clone(),
            started_at: t.started_at,
            updated_at: t.updated_at,
            completed_at: t.completed_at,
            model: t,
        }
    }
}

#[ComplexObject]
impl TransactionObj {
    /// Refunds as SEP-31 reports them (JSON), or null when nothing was refunded.
    #[graphql(complexity = "crate::cost::read(child_complexity)")]
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let rows = transactions::refunds_of(&core(ctx).db, self.model.tenant_id, self.model.id)
            .await
            .map_err(from_anchor)?;
        // Through a JSON value: its keys sorted, as this field always showed them.
        Ok(transactions::sep31_refunds(&rows)
            .map(|r| serde_json::to_value(r).unwrap_or_default().to_string()))
    }

    /// Every status change, oldest first.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 1000)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 1000).", default = 200)] first: u64,
    ) -> Result<Vec<Event>> {
        let events =
            transactions::events(&core(ctx).db, self.model.id, first.min(1000)).await.map_err(from_anchor)?;
        Ok(events.into_iter().map(Event::from).collect())
    }
    /// The sender (SEP-12 customer).
    #[graphql(complexity = "crate::cost::read(child_complexity)")]
    async fn sender(&self, ctx: &Context<'_>) -> Result<Option<CustomerObj>> {
        load_customer(ctx, self.model.tenant_id, self.model.sender_id).await
    }
    /// The receiver (SEP-12 customer).
    #[graphql(complexity = "crate::cost::read(child_complexity)")]
    async fn receiver(&self, ctx: &Context<'_>) -> Result<Option<CustomerObj>> {
        load_customer(ctx, self.model.tenant_id, self.model.receiver_id).await
    }
    /// The SEP-38 quote it was created with.
    #[graphql(complexity = "crate::cost::read(child_complexity)")]
    async fn quote(&self, ctx: &Context<'_>) -> Result<Option<super::QuoteObj>> {
        let Some(id) = self.model.quote_id else { return Ok(None) };
        let scope = mooring_anchor::KeyScope::Tenant(self.model.tenant_id);
        let quote =
            mooring_anchor::quotes::find_in_scope(&core(ctx).db, scope, id).await.map_err(from_anchor)?;
        Ok(quote.map(super::QuoteObj))
    }
    /// Stellar payments matched to it.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 100)")]
    async fn payments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100).", default = 20)] first: u64,
    ) -> Result<Vec<PaymentObj>> {
        let rows =
            payments::for_transaction(&core(ctx).db, self.model.tenant_id, self.model.id, first.min(100))
                .await
                .map_err(from_anchor)?;
        Ok(rows.into_iter().map(PaymentObj::from).collect())
    }
    /// The SEP-31 callbacks sent to the sending anchor about it, newest first.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 100)")]
    async fn callbacks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100).", default = 20)] first: u64,
    ) -> Result<Vec<CallbackDelivery>> {
        let rows = mooring_anchor::outbox::transaction_callbacks(
            &core(ctx).db,
            self.model.tenant_id,
            self.model.id,
            first.min(100),
        )
        .await
        .map_err(crate::error::internal)?;
        Ok(rows.into_iter().map(CallbackDelivery::from).collect())
    }
}

/// One callback to the sending anchor's `callback` URL (not shown: it is kept sealed,
/// like the customer data it may lead to): its attempts so far.
#[derive(SimpleObject)]
pub struct CallbackDelivery {
    /// Attempts made so far.
    pub attempts: i32,
    /// The last attempt's HTTP status; none if the receiver did not answer.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the sending anchor accepted it (2xx).
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was given up.
    pub failed_at: Option<DateTime<Utc>>,
    /// When it was written (with the change it reports).
    pub created_at: DateTime<Utc>,
}

impl From<mooring_anchor::outbox::Row> for CallbackDelivery {
    fn from(d: mooring_anchor::outbox::Row) -> Self {
        let pending = d.delivered_at.is_none() && d.failed_at.is_none();
        Self {
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            created_at: d.created_at,
        }
    }
}

async fn load_customer(
    ctx: &Context<'_>,
    tenant: uuid::Uuid,
    id: Option<uuid::Uuid>,
) -> Result<Option<CustomerObj>> {
    let Some(id) = id else { return Ok(None) };
    let loaded = customers::load_by_id(&core(ctx).db, tenant, id).await.map_err(from_anchor)?;
    Ok(loaded.map(CustomerObj))
}

/// A payment seen on the distribution account.
#[derive(SimpleObject)]
pub struct PaymentObj {
    /// Horizon operation id.
    pub id: ID,
    /// Matched transaction, if any.
    pub transaction_id: Option<ID>,
    /// payment or a path payment type.
    pub op_type: String,
    /// Paying account.
    pub from_account: String,
    /// Asset code (native for lumens).
    pub asset_code: String,
    /// Asset issuer.
    pub asset_issuer: String,
    /// Amount received.
    pub amount: String,
    /// Memo type of the Stellar transaction.
    pub memo_type: String,
    /// Memo of the Stellar transaction.
    pub memo: Option<String>,
    /// Stellar transaction hash.
    pub tx_hash: String,
    /// What it did to the transaction.
    pub outcome: PaymentOutcome,
    /// What the watcher concluded.
    pub note: Option<String>,
    /// Received beyond amount_in, to refund.
    pub excess: String,
}

impl From<Payment> for PaymentObj {
    fn from(p: Payment) -> Self {
        Self {
            id: ID(p.id),
            transaction_id: p.transaction_id.map(|t| ID(t.to_string())),
            op_type: p.op_type,
            from_account: p.from_account,
            asset_code: p.asset_code,
            asset_issuer: p.asset_issuer,
            amount: amount(p.amount),
            memo_type: p.memo_type,
            memo: p.memo,
            tx_hash: p.tx_hash,
            outcome: p.outcome.into(),
            note: p.note,
            excess: amount(p.excess),
        }
    }
}
