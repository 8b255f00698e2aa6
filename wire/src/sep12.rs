//! SEP-12 KYC: `GET /customer`, `PUT /customer`, `PUT /customer/callback`,
//! `DELETE /customer/:account`, and the callback body (the `GET /customer` answer).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FieldSpec;
use crate::de::opt_text;

/// The parameters that say which customer a request is about (a query string, or the
/// identity part of a `PUT` body), as opposed to the SEP-9 fields describing them.
#[derive(Deserialize, Debug, Default, Clone)]
pub struct CustomerQuery {
    #[serde(default, deserialize_with = "opt_text")]
    pub id: Option<String>,
    /// Deprecated by SEP-12 (the token names the account); checked when sent.
    #[serde(default, deserialize_with = "opt_text")]
    pub account: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub memo: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub memo_type: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "opt_text")]
    pub customer_type: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub transaction_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub lang: Option<String>,
}

impl CustomerQuery {
    /// The names above: a `PUT` body's other parameters are the customer's fields.
    pub const NAMES: [&'static str; 7] =
        ["id", "account", "memo", "memo_type", "type", "transaction_id", "lang"];
}

/// The customer's status for one type.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    Accepted,
    Processing,
    NeedsInfo,
    Rejected,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Processing => "PROCESSING",
            Self::NeedsInfo => "NEEDS_INFO",
            Self::Rejected => "REJECTED",
        }
    }
}

/// `GET /customer`, and the body of a SEP-12 callback.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CustomerResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub status: CustomerStatus,
    /// What is still to be sent (a rejected field is listed here and in `provided_fields`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, FieldSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided_fields: Option<BTreeMap<String, ProvidedField>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A field the customer sent, with where its review stands.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProvidedField {
    #[serde(rename = "type")]
    pub field_type: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(default)]
    pub optional: bool,
    pub status: FieldStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldStatus {
    Accepted,
    Processing,
    Rejected,
    VerificationRequired,
}

/// `PUT /customer`: the id to use from now on.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PutCustomerResponse {
    pub id: Uuid,
}

/// `PUT /customer/callback` answers `{}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::decode;

    /// SEP-12's `GET /customer` examples: a new customer, one being processed with a
    /// rejected field, and an accepted one.
    #[test]
    fn get_customer_examples() {
        let examples = [
            json!({
              "status": "NEEDS_INFO",
              "fields": {
                "email_address": { "description": "email address of the customer", "type": "string", "optional": true },
                "id_type": { "description": "Government issued ID", "type": "string", "choices": ["Passport", "Drivers License", "State ID"], "optional": false },
                "photo_id_front": { "description": "A clear photo of the front of the government issued ID", "type": "binary", "optional": false }
              }
            }),
            json!({
              "id": "d1ce2f48-3ff1-495d-9240-7a50d806cfed",
              "status": "NEEDS_INFO",
              "message": "Please re-send your ID",
              "fields": {
                "photo_id_front": { "description": "A clear photo of the front of the government issued ID", "type": "binary", "optional": false }
              },
              "provided_fields": {
                "first_name": { "description": "The customer's first name", "type": "string", "optional": false, "status": "ACCEPTED" },
                "photo_id_front": { "description": "A clear photo of the front of the government issued ID", "type": "binary", "optional": false, "status": "REJECTED", "error": "The image is blurry" }
              }
            }),
            json!({ "id": "d1ce2f48-3ff1-495d-9240-7a50d806cfed", "status": "ACCEPTED",
                    "provided_fields": { "last_name": { "description": "The customer's last name", "type": "string", "optional": false, "status": "ACCEPTED" } } }),
        ];
        for example in examples {
            let read: CustomerResponse = serde_json::from_value(example.clone()).unwrap();
            assert_eq!(serde_json::to_value(&read).unwrap(), example);
        }
        let put = json!({ "id": "391fb415-c223-4608-b2f5-dd1e91e3a986" });
        let read: PutCustomerResponse = serde_json::from_value(put.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), put);
        assert!(serde_json::from_value::<CustomerResponse>(json!({ "status": "MAYBE" })).is_err());
    }

    #[test]
    fn query_reads_identity_params() {
        let q: CustomerQuery = decode(
            json!({ "id": "", "memo": "7", "type": "sep31-receiver", "first_name": "x" })
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(q.id, None);
        assert_eq!(q.memo.as_deref(), Some("7"));
        assert_eq!(q.customer_type.as_deref(), Some("sep31-receiver"));
    }
}
