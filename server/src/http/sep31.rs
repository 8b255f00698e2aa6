//! SEP-31 direct payments (receiving side). `/info` describes what each tenant accepts.

use std::collections::BTreeMap;

use axum::routing::get;
use axum::{Json, Router};
use mooring_stellar::Amount;
use serde_json::{Map, Value, json};

use super::TenantCtx;
use super::auth::SepAuth;
use crate::state::AppState;

/// JSON number from a fixed-point amount. SEP-31 `/info` limits and fees are numbers;
/// they only ever pass through `f64` on the way out, never in arithmetic.
fn number(a: Amount) -> Value {
    let d = a.to_decimal();
    serde_json::from_str::<Value>(&d.to_string()).unwrap_or(Value::Null)
}

fn sep12_types(kind: &str, ty: &Option<String>) -> Value {
    let mut types = Map::new();
    if let Some(t) = ty {
        types.insert(t.clone(), json!({ "description": format!("{kind} of a SEP-31 payment") }));
    }
    json!({ "types": types })
}

async fn info(ctx: TenantCtx, _auth: SepAuth) -> Json<Value> {
    let mut receive = BTreeMap::new();
    for asset in ctx.tenant.assets.iter().filter(|a| a.sep31_enabled) {
        let mut entry = json!({
            "enabled": true,
            "quotes_supported": false,
            "quotes_required": false,
            "funding_methods": asset.funding_methods,
            "fee_fixed": number(asset.fee_fixed),
            "fee_percent": number(asset.fee_percent),
            "sep12": {
                "sender": sep12_types("Sender", &asset.sender_sep12_type),
                "receiver": sep12_types("Receiver", &asset.receiver_sep12_type),
            },
        });
        if let Some(min) = asset.min_amount {
            entry["min_amount"] = number(min);
        }
        if let Some(max) = asset.max_amount {
            entry["max_amount"] = number(max);
        }
        let fields: Map<String, Value> = asset
            .fields
            .iter()
            .map(|f| {
                let mut field = json!({ "description": f.description, "optional": f.optional });
                if let Some(choices) = &f.choices {
                    field["choices"] = json!(choices);
                }
                (f.name.clone(), field)
            })
            .collect();
        entry["fields"] = json!({ "transaction": fields });
        receive.insert(asset.code.clone(), entry);
    }
    Json(json!({ "receive": receive }))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/sep31/info", get(info))
}
