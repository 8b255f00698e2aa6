//! SEP-38 (Anchor RFQ), for SEP-31: `GET /info`, `GET /prices`, `GET /price`,
//! `POST /quote`, `GET /quote/:id`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FeeDetail;
use crate::de::{self, opt_amount_text, opt_text};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InfoResponse {
    pub assets: Vec<InfoAsset>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InfoAsset {
    /// A SEP-38 asset identifier (`stellar:CODE:ISSUER`, `iso4217:MXN`).
    pub asset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sell_delivery_methods: Option<Vec<DeliveryMethod>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_delivery_methods: Option<Vec<DeliveryMethod>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_codes: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeliveryMethod {
    pub name: String,
    pub description: String,
}

/// The parameters of `GET /prices`, `GET /price` and `POST /quote` (a query string, or
/// the JSON body of `POST /quote`, whose amounts may be numbers).
#[derive(Deserialize, Debug, Default)]
pub struct QuoteParams {
    #[serde(default, deserialize_with = "opt_text")]
    pub context: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub sell_asset: Option<String>,
    #[serde(default, deserialize_with = "opt_amount_text")]
    pub sell_amount: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub sell_delivery_method: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub buy_asset: Option<String>,
    #[serde(default, deserialize_with = "opt_amount_text")]
    pub buy_amount: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub buy_delivery_method: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub country_code: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub expire_after: Option<String>,
}

/// `GET /prices`: priced against a sell asset (`buy_assets`) or a buy asset
/// (`sell_assets`); exactly one of the two.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PricesResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_assets: Option<Vec<PricedAsset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sell_assets: Option<Vec<PricedAsset>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PricedAsset {
    pub asset: String,
    pub price: String,
    pub decimals: u32,
}

/// `GET /price`: an indicative price.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriceResponse {
    pub total_price: String,
    pub price: String,
    pub sell_amount: String,
    pub buy_amount: String,
    pub fee: Fee,
}

/// The fee, in the sell asset, with its parts when there are any.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub total: String,
    pub asset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FeeDetail>>,
}

impl Fee {
    /// No `details` at all when the fee has no parts (SEP-38 makes it optional).
    pub fn new(total: String, asset: String, details: Vec<FeeDetail>) -> Self {
        Self { total, asset, details: (!details.is_empty()).then_some(details) }
    }
}

/// `POST /quote` and `GET /quote/:id`: a firm quote.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuoteResponse {
    pub id: Uuid,
    #[serde(with = "de::millis")]
    pub expires_at: DateTime<Utc>,
    pub total_price: String,
    pub price: String,
    pub sell_asset: String,
    pub sell_amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sell_delivery_method: Option<String>,
    pub buy_asset: String,
    pub buy_amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_delivery_method: Option<String>,
    pub fee: Fee,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::decode;

    #[test]
    fn info_example() {
        let example = json!({
          "assets": [
            { "asset": "stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN" },
            { "asset": "iso4217:BRL", "country_codes": ["BRA"],
              "sell_delivery_methods": [{ "name": "cash", "description": "Deposit cash BRL at one of our agent locations." }],
              "buy_delivery_methods": [{ "name": "PIX", "description": "Receive BRL via PIX" }] }
          ]
        });
        let read: InfoResponse = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), example);
    }

    #[test]
    fn prices_and_price_examples() {
        let prices = json!({ "buy_assets": [{ "asset": "iso4217:BRL", "price": "0.18", "decimals": 2 }] });
        let read: PricesResponse = serde_json::from_value(prices.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), prices);
        let price = json!({
          "total_price": "0.20",
          "price": "0.18",
          "sell_amount": "100",
          "buy_amount": "500",
          "fee": { "total": "10.00", "asset": "stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
                   "details": [{ "name": "Service fee", "amount": "5.00" }, { "name": "PIX fee", "description": "Fee charged in order to process the outgoing PIX transaction.", "amount": "5.00" }] }
        });
        let read: PriceResponse = serde_json::from_value(price.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), price);
    }

    #[test]
    fn quote_example() {
        let example = json!({
          "id": "de762cda-a193-4961-861e-57b31fed6eb3",
          "expires_at": "2021-04-30T07:42:23.000Z",
          "total_price": "5.42",
          "price": "5.00",
          "sell_asset": "iso4217:BRL",
          "sell_amount": "542",
          "buy_asset": "stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
          "buy_amount": "100",
          "fee": { "total": "42.00", "asset": "iso4217:BRL" }
        });
        let read: QuoteResponse = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), example);
    }

    #[test]
    fn quote_request_takes_numbers_as_exact_text() {
        let p: QuoteParams = decode(
            json!({ "context": "sep31", "sell_asset": "stellar:USDC:G", "buy_asset": "iso4217:MXN", "sell_amount": 100.5 })
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(p.sell_amount.as_deref(), Some("100.5"));
        assert_eq!(p.buy_amount, None);
        let err =
            decode::<QuoteParams>(json!({ "sell_asset": ["x"] }).as_object().unwrap().clone()).unwrap_err();
        assert!(err.0.starts_with("sell_asset: "), "{err}");
    }
}
