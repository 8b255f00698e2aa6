//! The anchor's business logic, shared by the SEP endpoints and the admin API.
//!
//! - [`customers`]: SEP-12 customers, their KYC fields and per-type status.
//! - [`transactions`]: SEP-31 transactions: creation, reads, and every status change
//!   (compare-and-set on the old status, an event, a callback in the outbox, all in one
//!   database transaction).
//! - [`outbox`]: callbacks and webhook deliveries waiting to be sent.
//! - [`webhooks`]: the tenant's own endpoints and the events written for them.
//! - [`quotes`]: SEP-38 firm quotes: pricing a corridor, and one transaction per quote.
//! - [`sealed`]: transaction fields and callback URLs sealed with the tenant's data key.
//! - [`refunds`]: refund payments back to the sending anchor, one row each.
//! - [`payments`]: payments seen on the ledger, matched by memo, applied exactly once;
//!   [`leases`] decide which replica watches an account; [`streams`] keep the shared
//!   per-Horizon streams' cursors and members.
//!
//! Invariant: no HTTP here. This crate owns the SEP-12 customer and SEP-31 transaction
//! JSON objects because they are also callback bodies; error shapes stay in `server`.

pub mod customers;
mod error;
#[cfg(test)]
mod fixtures;
pub mod kyc;
pub mod leases;
pub mod ledger;
pub mod offboarding;
pub mod outbox;
mod owner;
pub mod payments;
pub mod quotes;
pub mod refunds;
pub mod sealed;
pub mod streams;
pub mod transactions;
pub mod webhooks;

pub use error::{AnchorError, AnchorResult};
pub use mooring_tenants::api_keys::KeyScope;
pub use owner::Owner;
/// The database handle callers pass in. The admin API holds one without depending on
/// the ORM, so it can only reach the data through this crate and `mooring-tenants`.
pub use sea_orm::DatabaseConnection as Db;

/// Who changed something, for the event history.
#[derive(Debug, Clone)]
pub enum Actor {
    SendingAnchor(String),
    /// The tenant, through the admin API.
    Tenant,
    Operator,
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SendingAnchor(account) => write!(f, "sending_anchor:{account}"),
            Self::Tenant => f.write_str("tenant"),
            Self::Operator => f.write_str("operator"),
            Self::System => f.write_str("system"),
        }
    }
}
