//! SEP-31 transactions. Every status change goes through [`transition_in`]: legal per
//! the status machine, compare-and-set on the old status, an event row, and the
//! sending anchor's callback queued in the outbox, all in one database transaction.

mod create;
mod group_commit;
mod info;
mod query;
mod transition;
pub(crate) mod view;

pub use mooring_entities::transaction::Model as Transaction;
pub use mooring_entities::transaction_event::Model as Event;

pub use create::{Created, NewTransaction, create, fees};
pub use group_commit::GroupCommit;
pub use info::{patch_fields, request_customer_info, request_transaction_info, resume_after_customer_update};
pub use query::{
    Filter, count_by_status, events, events_since, find_in_scope, get, get_for_tenant, list, refunds_of,
};
pub use transition::{Change, apply, expire_due, release_hold, set_callback, transition, transition_in};
pub use view::{fee_details, sep31, sep31_refunds, sep31_response};
