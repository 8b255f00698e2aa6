//! Output types. Amounts are decimal strings (never floats); times are UTC.

mod caller;
mod customer;
mod fee_tier;
mod quote;
mod sandbox;
mod tenant;
mod transaction;
mod webhook;

use mooring_stellar::Amount;

pub use caller::{ApiKey, AuditEntry, CallerKind, Me, NewApiKey};
pub use customer::CustomerObj;
pub use quote::QuoteObj;
pub use sandbox::{SelfTestReport, TestnetProvisioning, TestnetSandbox};
pub use tenant::TenantObj;
pub use transaction::{Event, PaymentObj, TransactionObj};
pub use webhook::{WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret};

fn amount(v: i64) -> String {
    Amount(v).to_decimal().to_string()
}
