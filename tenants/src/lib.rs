//! Tenants: who they are, how a request's host finds one, and the in-process cache
//! that keeps SEP hot paths off the database.
//!
//! - [`Directory`] holds an immutable snapshot of every tenant's configuration, swapped
//!   atomically when the database's config version moves on.
//! - [`admin`] writes tenant configuration, always bumping that version in the same
//!   database transaction.
//! - [`crypto`] encrypts signing seeds at rest and derives per-tenant JWT secrets.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod crypto;
mod directory;
mod error;
pub mod host;
pub mod ledger_source;
mod load;
mod model;
pub mod pii;
pub mod public_net;
pub mod rotation;
pub mod rules;
pub mod sandbox;
pub mod self_tests;

pub use crypto::MasterKey;
pub use directory::{Directory, Snapshot};
pub use error::Error;
pub use model::{
    Asset, AssetField, AssetStatus, Corridor, CustomerField, CustomerType, DeliveryMethod,
    ExpiredQuotePolicy, FeeTier, MemoType, OffchainAsset, RateSource, Tenant, TenantStatus,
};
