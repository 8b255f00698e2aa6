//! sea-orm entities: one module per table.
//!
//! Invariant: this crate knows nothing about HTTP, SEP JSON or caching. Money columns
//! are `i64` fixed-point with 7 decimals; `mooring_stellar::Amount` converts them.

pub mod api_key;
pub mod approved_sender;
pub mod asset;
pub mod asset_field;
pub mod audit_entry;
pub mod config_state;
pub mod corridor;
pub mod customer;
pub mod customer_field;
pub mod customer_type;
pub mod customer_type_field;
pub mod json_columns;
pub mod ledger_gap;
pub mod offchain_asset;
pub mod outbox;
pub mod payment;
pub mod quote;
pub mod quote_reserve;
pub mod refund;
pub mod self_test;
pub mod self_test_callback;
pub mod stream_cursor;
pub mod stream_member;
pub mod tenant;
pub mod tenant_domain;
mod tenant_scoped;
pub mod testnet_sandbox;
pub mod transaction;
pub mod transaction_event;
pub mod watch_cursor;
pub mod watch_lease;
pub mod webhook_endpoint;
mod writer;

pub use tenant_scoped::TenantScoped;

pub use writer::{Audit, WriteTxn, Writer, begin_write, write_turn};

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use crate::transaction::{MemoType, Status};

    /// Columns hold the protocol's own spelling, so rows written before the enums were
    /// typed (and anything reading the tables directly) agree with the code.
    #[test]
    fn stored_values_are_the_protocol_spellings() {
        for s in Status::iter() {
            assert_eq!(s.to_value(), s.as_str());
        }
        assert_eq!(Status::iter().count(), Status::ALL.len());
        for m in MemoType::iter() {
            assert_eq!(m.to_value(), m.as_str());
            assert_eq!(MemoType::parse(&m.to_value()).unwrap(), m);
        }
        for s in crate::asset::Status::iter() {
            assert_eq!(s.to_value(), s.as_str());
        }
        for s in crate::customer_field::Status::iter() {
            assert_eq!(s.to_value(), s.as_str());
        }
    }
}
