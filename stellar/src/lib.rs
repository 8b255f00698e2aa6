//! Pure Stellar protocol code for Mooring.
//!
//! Invariant: this crate does no I/O, reads no clock and spawns nothing. Time comes in
//! as an argument (`now`). The only randomness is drawn where the protocol wants it
//! unpredictable (new keys, challenge nonces, memos): everything else is deterministic
//! given its inputs and easy to test or fuzz.

pub mod account;
pub mod amount;
pub mod challenge;
mod error;
pub mod events;
pub mod keys;
pub mod ledger_entry;
pub mod memo;
pub mod network;
pub mod sep31;
pub mod sep38;
pub mod sep9;
pub mod text;
pub mod tx;

pub use account::ClientAccount;
pub use amount::Amount;
pub use error::Error;
pub use keys::{Keypair, PublicKey};
pub use memo::MemoType;
pub use network::Network;
