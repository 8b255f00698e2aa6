//! sea-orm entities: one module per table.
//!
//! Invariant: this crate knows nothing about HTTP, SEP JSON or caching. Money columns
//! are `i64` fixed-point with 7 decimals; `mooring_stellar::Amount` converts them.

pub mod approved_sender;
pub mod asset;
pub mod asset_field;
pub mod config_state;
pub mod customer;
pub mod customer_field;
pub mod customer_type;
pub mod customer_type_field;
pub mod outbox;
pub mod tenant;
pub mod tenant_domain;
pub mod transaction;
pub mod transaction_event;
