//! Tenant webhook payloads (Mooring's own, delivered per the Standard Webhooks spec):
//! `{"type", "timestamp", "data"}`, one `data` type per event. Unlike the SEPs' bodies,
//! an unknown value here is an explicit `null`, so a receiver sees every key.

use chrono::{DateTime, Utc};
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::sep12::CustomerStatus;
use crate::sep31::Transaction;

/// What a tenant can subscribe to, by the name its payload's `type` carries.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    #[serde(rename = "transaction.created")]
    TransactionCreated,
    #[serde(rename = "transaction.status_changed")]
    TransactionStatusChanged,
    #[serde(rename = "payment.unmatched")]
    PaymentUnmatched,
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    /// A payment arrived after the SEP-38 quote behind its transaction expired; the
    /// tenant's policy (honour, hold, error) was applied.
    #[serde(rename = "quote.expired_with_payment")]
    QuoteExpiredWithPayment,
    /// Ledgers the tenant's payments could not be read for (RPC no longer kept them).
    #[serde(rename = "ledger.gap")]
    LedgerGap,
    /// The network was reset (testnet): the watcher started again on the new ledger.
    #[serde(rename = "network.reset")]
    NetworkReset,
    /// Sent on request (`sendTestWebhook`), to every endpoint whatever it subscribed to.
    #[serde(rename = "webhook.test")]
    Test,
}

impl EventType {
    pub const SUBSCRIBABLE: [EventType; 7] = [
        Self::TransactionCreated,
        Self::TransactionStatusChanged,
        Self::PaymentUnmatched,
        Self::CustomerUpdated,
        Self::QuoteExpiredWithPayment,
        Self::LedgerGap,
        Self::NetworkReset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransactionCreated => "transaction.created",
            Self::TransactionStatusChanged => "transaction.status_changed",
            Self::PaymentUnmatched => "payment.unmatched",
            Self::CustomerUpdated => "customer.updated",
            Self::QuoteExpiredWithPayment => "quote.expired_with_payment",
            Self::LedgerGap => "ledger.gap",
            Self::NetworkReset => "network.reset",
            Self::Test => "webhook.test",
        }
    }

    /// A subscribable type by name (`webhook.test` cannot be subscribed to).
    pub fn parse(s: &str) -> Option<Self> {
        Self::SUBSCRIBABLE.into_iter().find(|e| e.as_str() == s)
    }
}

/// Every payload: the event's type, when it was written, and its data.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Envelope<D> {
    #[serde(rename = "type")]
    pub event: EventType,
    pub timestamp: DateTime<Utc>,
    pub data: D,
}

/// `transaction.created` and `transaction.status_changed`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TransactionEvent {
    pub transaction: Transaction,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor: String,
    pub message: Option<String>,
    pub sending_anchor: String,
    pub sender_id: Option<Uuid>,
    pub receiver_id: Option<Uuid>,
    pub stellar_memo_type: MemoType,
    pub stellar_memo: String,
}

/// `payment.unmatched`: a payment to the distribution account that no transaction's
/// memo (or asset and amount) accounts for.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PaymentUnmatched {
    pub operation_id: String,
    pub account: String,
    pub from: String,
    pub amount: String,
    pub asset_code: String,
    pub asset_issuer: String,
    /// `none`, `id`, `text`, `hash` or `return`, as the ledger had it.
    pub memo_type: String,
    pub memo: Option<String>,
    pub stellar_transaction_id: String,
    pub transaction_id: Option<Uuid>,
    pub note: String,
}

/// `customer.updated`: ids and status only; the fields are read through the admin API.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CustomerUpdated {
    pub customer_id: Uuid,
    #[serde(rename = "type")]
    pub customer_type: String,
    pub status: CustomerStatus,
    pub status_changed: bool,
}

/// `quote.expired_with_payment`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct QuoteExpiredWithPayment {
    pub transaction_id: Uuid,
    pub quote_id: Option<Uuid>,
    pub quote_expires_at: Option<DateTime<Utc>>,
    /// The payment's ledger close time, as the ledger source gave it.
    pub ledger_time: String,
    pub stellar_transaction_id: String,
    pub amount: String,
    /// `honour`, `hold` or `error`.
    pub policy: String,
}

/// `ledger.gap`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LedgerGap {
    pub gap_id: Uuid,
    pub account: String,
    pub from_ledger: u32,
    pub to_ledger: u32,
    pub detected_at: DateTime<Utc>,
    pub note: String,
}

/// `network.reset`, in two phases: the reset seen, then (for a sandbox provisioned
/// again by itself) what was recreated.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum NetworkReset {
    Detected {
        account: String,
        epoch: i32,
        reason: String,
        detected_at: DateTime<Utc>,
        kept: String,
        sandbox: Option<String>,
    },
    SandboxRecreated {
        recreated: Vec<RecreatedStep>,
        at: DateTime<Utc>,
    },
}

/// One provisioning step of a recreated sandbox.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecreatedStep {
    pub name: String,
    pub done: bool,
    pub message: String,
}

/// `webhook.test`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TestEvent {
    pub endpoint_id: Uuid,
    pub tenant_id: Uuid,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn event_names_round_trip() {
        for e in EventType::SUBSCRIBABLE {
            assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
            assert_eq!(EventType::parse(e.as_str()), Some(e));
        }
        assert_eq!(EventType::parse("webhook.test"), None);
    }

    #[test]
    fn payloads_keep_their_keys_and_nulls() {
        let at: DateTime<Utc> = "2026-12-07T05:00:00Z".parse().unwrap();
        let reset = Envelope {
            event: EventType::NetworkReset,
            timestamp: at,
            data: NetworkReset::Detected {
                account: "GA".into(),
                epoch: 2,
                reason: "the ledger went back".into(),
                detected_at: at,
                kept: "everything".into(),
                sandbox: None,
            },
        };
        let v = serde_json::to_value(&reset).unwrap();
        assert_eq!(v["type"], "network.reset");
        assert_eq!(v["data"]["phase"], "detected");
        assert!(v["data"].as_object().unwrap().contains_key("sandbox"));
        assert_eq!(v["data"]["sandbox"], json!(null));
        let back: Envelope<NetworkReset> = serde_json::from_value(v).unwrap();
        assert_eq!(back, reset);
    }
}
