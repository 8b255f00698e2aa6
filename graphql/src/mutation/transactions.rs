//! Driving a transaction from the back office: payout, completion, failure, requests
//! for more information, refunds.

use async_graphql::{Context, ID, InputObject, Object, Result};
use mooring_anchor::transactions::Change;
use mooring_anchor::{Actor, refunds, transactions};

use super::amount;
use crate::Caller;
use crate::error::{from_anchor, invalid, not_found};
use crate::objects::TransactionObj;
use crate::scope::{self, core};

/// A field and why it must be sent again.
#[derive(InputObject)]
pub struct FieldReason {
    /// Field name.
    pub name: String,
    /// Why (shown to the sending anchor).
    pub reason: String,
}

#[derive(Default)]
pub struct OperationsMutation;

/// The transaction, if the caller may act on it.
async fn owned_transaction(ctx: &Context<'_>, id: &ID) -> Result<transactions::Transaction> {
    let id = scope::parse_id(id, "transaction")?;
    transactions::find_in_scope(&core(ctx).db, scope::key_scope(ctx)?, id)
        .await
        .map_err(from_anchor)?
        .ok_or_else(|| not_found("transaction"))
}

/// Applies a back-office change to a transaction the caller may see.
async fn change(ctx: &Context<'_>, id: &ID, change: Change) -> Result<TransactionObj> {
    let id = scope::parse_id(id, "transaction")?;
    let updated = transactions::apply(super::writer(ctx), scope::key_scope(ctx)?, id, change, &actor(ctx))
        .await
        .map_err(from_anchor)?;
    Ok(updated.into())
}

pub(super) fn actor(ctx: &Context<'_>) -> Actor {
    match scope::caller(ctx) {
        Ok(Caller::Tenant(_)) => Actor::Tenant,
        _ => Actor::Operator,
    }
}

#[Object]
impl OperationsMutation {
    /// Payout submitted to the receiver's rail: pending_receiver → pending_external.
    async fn mark_pending_external(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Optional note.")] message: Option<String>,
    ) -> Result<TransactionObj> {
        change(ctx, &id, Change::PayoutSubmitted { message }).await
    }

    /// The receiver has the funds: → completed, with the payout rail's reference.
    async fn complete_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "The payout rail's reference.")] external_transaction_id: String,
    ) -> Result<TransactionObj> {
        change(ctx, &id, Change::Complete { external_id: external_transaction_id }).await
    }

    /// Fails the transaction (→ error) with a message for the sending anchor.
    async fn fail_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Why.")] message: String,
    ) -> Result<TransactionObj> {
        change(ctx, &id, Change::Fail { message }).await
    }

    /// Asks the sending anchor to correct transaction fields (→ pending_transaction_info_update).
    async fn request_transaction_info(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Fields to send again.")] fields: Vec<String>,
        #[graphql(desc = "What is wrong.")] message: String,
    ) -> Result<TransactionObj> {
        let t = owned_transaction(ctx, &id).await?;
        if fields.is_empty() {
            return Err(invalid("name at least one field"));
        }
        let tenant = core(ctx).tenants.by_id(t.tenant_id).ok_or_else(|| not_found("tenant"))?;
        let updated = transactions::request_transaction_info(
            super::writer(ctx),
            &tenant,
            t.id,
            &fields,
            &message,
            &actor(ctx),
        )
        .await
        .map_err(from_anchor)?;
        Ok(updated.into())
    }

    /// Asks for corrected KYC of the sender or receiver (→ pending_customer_info_update).
    async fn request_customer_info(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "The sender's or receiver's id.")] customer_id: ID,
        #[graphql(desc = "Fields to send again, with reasons.")] fields: Vec<FieldReason>,
        #[graphql(desc = "What is wrong.")] message: String,
    ) -> Result<TransactionObj> {
        let t = owned_transaction(ctx, &id).await?;
        let customer = scope::parse_id(&customer_id, "customer")?;
        let tenant = core(ctx).tenants.by_id(t.tenant_id).ok_or_else(|| not_found("tenant"))?;
        let fields: Vec<(String, String)> = fields.into_iter().map(|f| (f.name, f.reason)).collect();
        let updated = transactions::request_customer_info(
            super::writer(ctx),
            &tenant,
            t.id,
            customer,
            &fields,
            &message,
            &actor(ctx),
        )
        .await
        .map_err(from_anchor)?;
        Ok(updated.into())
    }

    /// Records a refund payment sent back to the sending anchor. Allowed while the
    /// funds are held and not paid out: PENDING_RECEIVER, or ERROR once the payment
    /// arrived (anything else is CONFLICT). `amount + fee` over all refunds may not
    /// exceed amount_in; reaching it moves the transaction to REFUNDED. Each refund
    /// payment (by hash) is recorded once.
    async fn refund_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Amount refunded (decimal string).")] amount: String,
        #[graphql(desc = "Fee kept (decimal string).", default_with = "String::from(\"0\")")] fee: String,
        #[graphql(desc = "Hash of the refund's Stellar transaction.")] stellar_transaction_id: String,
        #[graphql(desc = "Why.")] reason: String,
    ) -> Result<TransactionObj> {
        let t = owned_transaction(ctx, &id).await?;
        let refund = refunds::Refund {
            amount: self::amount("amount", &amount)?,
            fee: self::amount("fee", &fee)?,
            stellar_transaction_id,
            reason,
        };
        let updated = refunds::record(super::writer(ctx), t.tenant_id, t.id, &refund, &actor(ctx))
            .await
            .map_err(from_anchor)?;
        Ok(updated.into())
    }
}
