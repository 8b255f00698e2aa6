//! The error bodies the SEPs define. Every refusal is `{"error": "…"}`; SEP-31's
//! `POST /transactions` has two more that tell the sending anchor what to send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldSpec;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: String,
}

/// SEP-31: a customer of the transaction needs (more) KYC; `type` is the SEP-12 type to
/// ask `GET /customer` about.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CustomerInfoNeeded {
    pub error: CustomerInfoNeededCode,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub sep12_type: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CustomerInfoNeededCode {
    CustomerInfoNeeded,
}

/// SEP-31: fields of `fields.transaction` are missing; the request is to be sent again
/// with them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TransactionInfoNeeded {
    pub error: TransactionInfoNeededCode,
    pub fields: TransactionFields,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TransactionInfoNeededCode {
    TransactionInfoNeeded,
}

/// `{"transaction": {name: description}}`: SEP-31's `fields`, `required_info_updates`
/// and the missing fields of `transaction_info_needed`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct TransactionFields {
    pub transaction: BTreeMap<String, FieldSpec>,
}

impl CustomerInfoNeeded {
    pub fn new(sep12_type: Option<String>) -> Self {
        Self { error: CustomerInfoNeededCode::CustomerInfoNeeded, sep12_type }
    }
}

impl TransactionInfoNeeded {
    pub fn new(fields: TransactionFields) -> Self {
        Self { error: TransactionInfoNeededCode::TransactionInfoNeeded, fields }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// SEP-31 `POST /transactions`: the two "needed" answers, as the SEP shows them.
    #[test]
    fn the_spec_examples_read_and_write_back() {
        let customer = json!({ "error": "customer_info_needed", "type": "sep31-large-amount-sender" });
        let read: CustomerInfoNeeded = serde_json::from_value(customer.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), customer);

        let transaction = json!({
            "error": "transaction_info_needed",
            "fields": { "transaction": {
                "receiver_routing_number": { "description": "routing number of the destination bank account", "optional": false },
                "type": { "description": "type of deposit to make", "choices": ["SEPA", "SWIFT"], "optional": false }
            }}
        });
        let read: TransactionInfoNeeded = serde_json::from_value(transaction.clone()).unwrap();
        assert_eq!(read.fields.transaction["type"].choices.as_deref().unwrap(), ["SEPA", "SWIFT"]);
        assert_eq!(serde_json::to_value(&read).unwrap(), transaction);
        assert!(serde_json::from_value::<CustomerInfoNeeded>(json!({"error": "other"})).is_err());
    }
}
