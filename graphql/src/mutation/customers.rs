//! Reviewing customers' KYC.

use async_graphql::{Context, Enum, ID, Object, Result};
use mooring_anchor::customers::{self, Review};

use super::transactions::FieldReason;
use crate::error::{from_anchor, not_found};
use crate::objects::CustomerObj;
use crate::scope::{self, core};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReviewStatus {
    /// Everything under review is accepted.
    Accepted,
    /// Final refusal.
    Rejected,
    /// Some fields must be sent again.
    NeedsInfo,
}

#[derive(Default)]
pub struct CustomersMutation;

#[Object]
impl CustomersMutation {
    /// Records the review of a customer; the sending anchor sees it through SEP-12.
    async fn set_customer_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Customer id.")] id: ID,
        #[graphql(desc = "The decision.")] status: ReviewStatus,
        #[graphql(desc = "Message for the sending anchor.")] message: Option<String>,
        #[graphql(desc = "For NEEDS_INFO: the fields and why.", default)] field_errors: Vec<FieldReason>,
        #[graphql(
            desc = "Fields accepted as they are, even ones sent back before (a review field by field).",
            default
        )]
        accepted_fields: Vec<String>,
    ) -> Result<CustomerObj> {
        let customer_id = scope::parse_id(&id, "customer")?;
        let db = &core(ctx).db;
        let customer = customers::find_in_scope(db, scope::key_scope(ctx)?, customer_id)
            .await
            .map_err(from_anchor)?
            .ok_or_else(|| not_found("customer"))?;
        let tenant =
            core(ctx).tenants.by_id(customer.customer.tenant_id).ok_or_else(|| not_found("tenant"))?;
        let decision = match status {
            ReviewStatus::Accepted => Review::Accept,
            ReviewStatus::Rejected => Review::Reject,
            ReviewStatus::NeedsInfo => Review::NeedsInfo,
        };
        let errors: Vec<(String, String)> = field_errors.into_iter().map(|f| (f.name, f.reason)).collect();
        let loaded = mooring_anchor::kyc::review(
            super::writer(ctx),
            &tenant,
            customer_id,
            decision,
            message,
            &errors,
            &accepted_fields,
        )
        .await
        .map_err(from_anchor)?;
        Ok(CustomerObj(loaded))
    }
}
