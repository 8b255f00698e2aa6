//! The SEP wire: every body Mooring reads or writes on a tenant's domain, as serde types,
//! one module per SEP. Handlers (`server/src/http`) decode requests into these types and
//! answer with them; `anchor` builds the callback bodies and webhook payloads it queues
//! from them. Nothing here does I/O or knows a tenant: a type says what the SEP says.
//!
//! Conventions, as the SEPs have them:
//! - an optional field the server has no value for is left out, never `null`
//!   (`skip_serializing_if`); webhook payloads, Mooring's own, keep their `null`s;
//! - amounts are decimal strings with at most 7 places, except SEP-31 `/info`'s limits and
//!   fees, which the SEP shows as JSON numbers (`de::number`);
//! - a request may carry fields the SEP does not name: they are ignored, as the SEPs
//!   allow. Response types deny unknown fields so the tests that read the SEPs' examples
//!   into them prove every field of the example is modelled.

pub mod de;
pub mod error;
pub mod fields;
pub mod sep10;
pub mod sep12;
pub mod sep31;
pub mod sep38;
pub mod webhook;

pub use de::{DecodeError, decode};
pub use fields::{FeeDetail, FieldSpec};
