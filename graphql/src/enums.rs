//! The domain's enums as GraphQL enums. Each mirrors its domain type through
//! async-graphql's `remote`, which writes both conversions: a variant added below
//! without its GraphQL twin fails to compile instead of reaching clients as a string.

use async_graphql::Enum;

/// A SEP-31 transaction status.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_stellar::sep31::Status")]
pub enum TransactionStatus {
    PendingSender,
    PendingStellar,
    PendingReceiver,
    PendingExternal,
    PendingCustomerInfoUpdate,
    PendingTransactionInfoUpdate,
    Completed,
    Refunded,
    Expired,
    Error,
}

/// Whether a tenant's SEP endpoints answer.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_tenants::TenantStatus")]
pub enum TenantStatus {
    Active,
    /// Every SEP endpoint answers 503; watchers and callbacks stop.
    Suspended,
    /// Offboarded (never shown: a deleted tenant is gone from the API).
    Deleted,
}

/// What happens to a payment that arrives after the SEP-38 quote behind its
/// transaction expired.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_tenants::ExpiredQuotePolicy")]
pub enum ExpiredQuotePolicy {
    /// Pay out at the quoted amount anyway.
    Honour,
    /// Take the funds but hold the payout until released (or refunded).
    Hold,
    /// Move the transaction to error; the funds are refunded.
    Error,
}

/// SEP-1 asset status.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_tenants::AssetStatus")]
pub enum AssetStatus {
    Live,
    Dead,
    Test,
    Private,
}

/// The memo type handed out for payments.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_tenants::MemoType")]
pub enum MemoType {
    Id,
    Text,
    Hash,
}

/// What an incoming payment did to the transaction its memo names.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_anchor::payments::Outcome")]
pub enum PaymentOutcome {
    /// The expected asset and amount: moved to pending_receiver.
    Matched,
    /// More than expected: matched, and the excess is owed back.
    Overpaid,
    /// Wrong asset or too little: moved to error.
    Mismatched,
    /// No transaction waiting for funds has this memo.
    Unmatched,
}

/// A customer's SEP-12 status for one type.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_anchor::customers::Status")]
pub enum CustomerStatus {
    Accepted,
    Processing,
    NeedsInfo,
    Rejected,
}

/// Where one provided KYC field stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_anchor::customers::FieldStatus")]
pub enum FieldStatus {
    Accepted,
    /// Waiting for the tenant's review.
    Processing,
    /// Refused; the sending anchor must send it again.
    Rejected,
}

/// What an API key may do. Each role includes the ones before it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "mooring_tenants::api_keys::Role")]
pub enum ApiKeyRole {
    /// Queries and subscriptions.
    Read,
    /// READ, plus moving transactions along and reviewing customers.
    Operate,
    /// Everything the tenant may do: configuration, senders, webhooks, keys.
    Admin,
}
