//! SEP-31 (receiving side): `GET /info`, `POST /transactions`, `GET|PATCH
//! /transactions/:id`, `PUT /transactions/:id/callback`, and the callback body.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::FeeDetail;
use crate::de::{self, opt_amount_text, opt_string};
use crate::error::TransactionFields;

/// `GET /info`: one entry per asset a sending anchor may send, by asset code.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InfoResponse {
    pub receive: BTreeMap<String, ReceiveAsset>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReceiveAsset {
    pub enabled: bool,
    #[serde(default)]
    pub quotes_supported: bool,
    #[serde(default)]
    pub quotes_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "de::opt_number")]
    pub fee_fixed: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "de::opt_number")]
    pub fee_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "de::opt_number")]
    pub min_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "de::opt_number")]
    pub max_amount: Option<Decimal>,
    #[serde(default)]
    pub funding_methods: Vec<String>,
    pub sep12: Sep12Types,
    /// Deprecated by SEP-31 in favour of `sep12`; read, never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_sep12_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_sep12_type: Option<String>,
    /// Deprecated (SEP-31 v2): what `POST /transactions` must carry in `fields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<TransactionFields>,
}

/// The SEP-12 customer types a sending anchor registers each side of a payment as.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Sep12Types {
    pub sender: TypesOf,
    pub receiver: TypesOf,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct TypesOf {
    pub types: BTreeMap<String, TypeDescription>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TypeDescription {
    pub description: String,
}

/// `POST /transactions`. Amounts come as numbers or numeric strings; identifiers as
/// strings; an empty string is "not given". Fields the SEP does not name are ignored.
#[derive(Deserialize, Debug, Default)]
pub struct PostTransactionRequest {
    #[serde(default, deserialize_with = "opt_amount_text")]
    pub amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub asset_code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub asset_issuer: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub destination_asset: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub quote_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub sender_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub receiver_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub funding_method: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub refund_memo: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub refund_memo_type: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub lang: Option<String>,
    #[serde(default, deserialize_with = "de::opt_object")]
    pub fields: Option<FieldValues>,
}

/// `fields` of a request: `{"transaction": {name: value}}`. The values are kept as sent
/// (the anchor checks the ones it asked for, and stores them sealed).
#[derive(Deserialize, Debug, Default)]
pub struct FieldValues {
    #[serde(default)]
    pub transaction: Option<Map<String, Value>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PostTransactionResponse {
    pub id: Uuid,
    pub stellar_account_id: String,
    pub stellar_memo_type: MemoType,
    pub stellar_memo: String,
}

/// `PATCH /transactions/:id`: the fields asked for in `required_info_updates`.
#[derive(Deserialize, Debug)]
pub struct PatchTransactionRequest {
    #[serde(deserialize_with = "de::object")]
    pub fields: PatchFields,
}

#[derive(Deserialize, Debug)]
pub struct PatchFields {
    pub transaction: Map<String, Value>,
}

/// `PUT /transactions/:id/callback`.
#[derive(Deserialize, Debug)]
pub struct PutCallbackRequest {
    #[serde(default, deserialize_with = "opt_string")]
    pub url: Option<String>,
}

/// `GET /transactions/:id`, `PATCH` and every callback: `{"transaction": …}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TransactionResponse {
    pub transaction: Transaction,
}

/// The SEP-31 transaction object.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    pub id: Uuid,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_eta: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    pub amount_in: String,
    pub amount_in_asset: String,
    pub amount_out: String,
    pub amount_out_asset: String,
    /// Deprecated by SEP-31 in favour of `fee_details`; still sent for older clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_fee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_fee_asset: Option<String>,
    pub fee_details: FeeDetails,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_id: Option<Uuid>,
    pub stellar_account_id: String,
    pub stellar_memo_type: MemoType,
    pub stellar_memo: String,
    #[serde(with = "de::seconds")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "de::seconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "de::seconds::opt")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stellar_transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_memo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_memo_type: Option<MemoType>,
    /// Deprecated by SEP-31 in favour of `refunds`; true once everything was refunded.
    #[serde(default)]
    pub refunded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunds: Option<Refunds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_info_message: Option<String>,
    /// Only while the status is `pending_transaction_info_update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_info_updates: Option<TransactionFields>,
}

/// `fee_details`: the fee's total and asset, and its parts.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FeeDetails {
    pub total: String,
    pub asset: String,
    #[serde(default)]
    pub details: Vec<FeeDetail>,
}

/// `refunds`: what went back to the sending anchor, one entry per Stellar payment.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Refunds {
    pub amount_refunded: String,
    pub amount_fee: String,
    pub payments: Vec<RefundPayment>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RefundPayment {
    /// The Stellar transaction hash of the refund payment.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_type: Option<String>,
    pub amount: String,
    pub fee: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::decode;

    /// SEP-31 v3's `GET /info` example: every field read, and written back the same.
    #[test]
    fn info_example() {
        let example = json!({
          "receive": {
            "USDC": {
              "enabled": true,
              "quotes_supported": true,
              "quotes_required": false,
              "fee_fixed": 5,
              "fee_percent": 1,
              "min_amount": 0.1,
              "max_amount": 1000,
              "funding_methods": ["SEPA", "SWIFT"],
              "sep12": {
                "sender": { "types": {
                  "sep31-sender": { "description": "U.S. citizens limited to sending payments of less than $10,000 in value" },
                  "sep31-large-sender": { "description": "U.S. citizens that do not have sending limits" },
                  "sep31-foreign-sender": { "description": "non-U.S. citizens sending payments of less than $10,000 in value" }
                }},
                "receiver": { "types": {
                  "sep31-receiver": { "description": "U.S. citizens receiving USD" },
                  "sep31-foreign-receiver": { "description": "non-U.S. citizens receiving USD" }
                }}
              }
            }
          }
        });
        let info: InfoResponse = serde_json::from_value(example.clone()).unwrap();
        let usdc = &info.receive["USDC"];
        assert_eq!(usdc.min_amount, Some(Decimal::new(1, 1)));
        assert_eq!(usdc.sep12.receiver.types.len(), 2);
        assert_eq!(serde_json::to_value(&info).unwrap(), example);
    }

    /// The transaction example (v3): the deprecated `amount_fee` may be left out.
    #[test]
    fn transaction_example() {
        let example = json!({
          "transaction": {
            "id": "82fb3f4c-4b53-4b5f-8a1b-4b8b7b0b0b0b",
            "status": "pending_receiver",
            "status_eta": 3600,
            "stellar_transaction_id": "b9d0b2292c4e09e8eb22d036171491e87b8d2086bf8b265874c8d182cb9c9020",
            "external_transaction_id": "ABCDEFG1234567890",
            "amount_in": "18.34",
            "amount_in_asset": "stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
            "amount_out": "18.24",
            "amount_out_asset": "iso4217:EUR",
            "fee_details": {
              "total": "0.1",
              "asset": "stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
              "details": [{ "name": "Service fee", "amount": "0.1", "description": "for the service" }]
            },
            "quote_id": "de762cda-a193-4961-861e-57b31fed6eb3",
            "stellar_account_id": "GACW7NONV43MZIFHCOKCQJAKSJSISSICFVUJ2C6EZIW5773OU3HD64VI",
            "stellar_memo_type": "text",
            "stellar_memo": "0123456789",
            "started_at": "2017-03-20T17:05:32Z",
            "updated_at": "2017-03-20T17:09:26Z",
            "completed_at": "2017-03-20T17:09:26Z",
            "refunded": true,
            "refunds": {
              "amount_refunded": "18.34",
              "amount_fee": "0.1",
              "payments": [{ "id": "b9d0b2292c4e09e8eb22d036171491e87b8d2086bf8b265874c8d182cb9c9020", "id_type": "stellar", "amount": "18.34", "fee": "0.1" }]
            },
            "required_info_message": "The bank reported an incorrect account number for the receiver, please ensure the account matches legal documents",
            "required_info_updates": { "transaction": {
              "receiver_account_number": { "description": "The receiver's bank account number", "optional": false }
            }}
          }
        });
        let read: TransactionResponse = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(read.transaction.status, Status::PendingReceiver);
        assert_eq!(read.transaction.stellar_memo_type, MemoType::Text);
        assert_eq!(serde_json::to_value(&read).unwrap(), example);
        let mut unknown = example.clone();
        unknown["transaction"]["made_up"] = json!(1);
        assert!(serde_json::from_value::<TransactionResponse>(unknown).is_err());
    }

    #[test]
    fn post_response_example() {
        let example = json!({
          "id": "82fb3f4c-4b53-4b5f-8a1b-4b8b7b0b0b0b",
          "stellar_account_id": "GACW7NONV43MZIFHCOKCQJAKSJSISSICFVUJ2C6EZIW5773OU3HD64VI",
          "stellar_memo_type": "hash",
          "stellar_memo": "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="
        });
        let read: PostTransactionResponse = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), example);
    }

    /// The request example of SEP-31: amount as a number, ids and fields as strings.
    #[test]
    fn post_request_example() {
        let example = json!({
          "amount": 100,
          "asset_code": "USDC",
          "asset_issuer": "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
          "destination_asset": "iso4217:EUR",
          "quote_id": "de762cda-a193-4961-861e-57b31fed6eb3",
          "sender_id": "d2bd1412-e2f6-4047-ad70-a1a2f133b25c",
          "receiver_id": "137938d4-43a7-4252-a452-842adcee474c",
          "funding_method": "SEPA",
          "lang": "en",
          "refund_memo": "12345",
          "refund_memo_type": "id",
          "fields": { "transaction": {
            "receiver_routing_number": "442928834",
            "receiver_account_number": "0029483242",
            "type": "SEPA"
          }}
        });
        let r: PostTransactionRequest = decode(example.as_object().unwrap().clone()).unwrap();
        assert_eq!(r.amount.as_deref(), Some("100"));
        assert_eq!(r.quote_id.as_deref(), Some("de762cda-a193-4961-861e-57b31fed6eb3"));
        assert_eq!(r.fields.unwrap().transaction.unwrap()["type"], "SEPA");
        let err = decode::<PostTransactionRequest>(json!({ "asset_code": 5 }).as_object().unwrap().clone());
        assert_eq!(err.unwrap_err().0, "asset_code: must be a string");
        let err = decode::<PostTransactionRequest>(json!({ "fields": [] }).as_object().unwrap().clone());
        assert_eq!(err.unwrap_err().0, "fields: must be an object");
    }

    #[test]
    fn patch_needs_fields_transaction() {
        let ok = decode::<PatchTransactionRequest>(
            json!({ "fields": { "transaction": { "receiver_account_number": "1" } } })
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(ok.unwrap().fields.transaction["receiver_account_number"], "1");
        let err = decode::<PatchTransactionRequest>(json!({ "fields": {} }).as_object().unwrap().clone());
        assert_eq!(err.unwrap_err().0, "fields.transaction is required");
    }
}
