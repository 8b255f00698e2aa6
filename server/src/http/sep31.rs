//! SEP-31 direct payments (receiving side) at the tenant's DIRECT_PAYMENT_SERVER
//! (`/sep31`). Every endpoint needs the SEP-10 token (403 otherwise); a sending anchor
//! sees only its own transactions (others answer 404).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use mooring_anchor::transactions::{self, NewTransaction};
use mooring_stellar::Amount;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::TenantCtx;
use super::auth::SepAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// JSON number from a fixed-point amount. SEP-31 `/info` limits and fees are numbers;
/// they only ever pass through `f64` on the way out, never in arithmetic.
fn number(a: Amount) -> Value {
    let d = a.to_decimal();
    serde_json::from_str::<Value>(&d.to_string()).unwrap_or(Value::Null)
}

fn sep12_types(ctx: &TenantCtx, kind: &str, ty: &Option<String>) -> Value {
    let mut types = Map::new();
    if let Some(t) = ty {
        let description = ctx
            .tenant
            .customer_type(t)
            .map(|c| c.description.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| format!("{kind} of a SEP-31 payment"));
        types.insert(t.clone(), json!({ "description": description }));
    }
    json!({ "types": types })
}

/// Public information for sending anchors and other Stellar apps (as SDF's anchor
/// validator and django-polaris read it): no token needed unless the tenant asks; a
/// token that is sent must be valid.
async fn info(ctx: TenantCtx, auth: Option<SepAuth>) -> ApiResult<Json<Value>> {
    if ctx.tenant.info_requires_auth && auth.is_none() {
        return Err(ApiError::Forbidden("this anchor's /info needs a SEP-10 token".into()));
    }
    let mut receive = BTreeMap::new();
    for asset in ctx.tenant.assets.iter().filter(|a| a.sep31_enabled) {
        let mut entry = json!({
            "enabled": true,
            "quotes_supported": ctx.tenant.corridors.iter().any(|c| c.enabled && c.sell == asset.sep38()),
            "quotes_required": asset.quotes_required,
            "funding_methods": asset.funding_methods,
            "sep12": {
                "sender": sep12_types(&ctx, "Sender", &asset.sender_sep12_type),
                "receiver": sep12_types(&ctx, "Receiver", &asset.receiver_sep12_type),
            },
        });
        // Tiered fees do not fit /info's one fixed + one percentage fee: SEP-31 then
        // leaves both out, and each transaction's fee_details shows the breakdown.
        if asset.fee_tiers.is_empty() {
            entry["fee_fixed"] = number(asset.fee_fixed);
            entry["fee_percent"] = number(asset.fee_percent);
        }
        if let Some(min) = asset.min_amount {
            entry["min_amount"] = number(min);
        }
        if let Some(max) = asset.max_amount {
            entry["max_amount"] = number(max);
        }
        let fields: Map<String, Value> =
            asset.fields.iter().map(|f| (f.name.clone(), f.sep31_json())).collect();
        entry["fields"] = json!({ "transaction": fields });
        receive.insert(asset.code.clone(), entry);
    }
    Ok(Json(json!({ "receive": receive })))
}

fn json_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| ApiError::bad_request("body is not valid JSON"))?;
    super::text::check_json(&value)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("body must be a JSON object")),
    }
}

fn opt_string(body: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be a string"))),
    }
}

/// `amount` as a JSON number (the spec's examples) or a numeric string, exactly.
fn parse_amount(v: Option<&Value>) -> ApiResult<Amount> {
    let text = match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => return Err(ApiError::bad_request("amount is required")),
        Some(_) => return Err(ApiError::bad_request("amount must be a number or a numeric string")),
    };
    text.parse::<Amount>().map_err(|e| ApiError::bad_request(format!("amount: {e}")))
}

fn customer_id(body: &Map<String, Value>, key: &str) -> ApiResult<Option<Uuid>> {
    opt_string(body, key)?
        .map(|s| s.parse().map_err(|_| ApiError::bad_request(format!("{key} is not a customer id"))))
        .transpose()
}

/// The idempotency key of a `POST /transactions`: the `Idempotency-Key` header (the
/// common HTTP convention; SEP-31 itself defines none).
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(k)) if !k.is_empty() && k.len() <= 255 => Ok(Some(k.to_string())),
        Some(_) => Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 visible characters")),
    }
}

async fn create_transaction(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let body = json_object(&body)?;
    let quote_id = opt_string(&body, "quote_id")?
        .map(|q| {
            q.parse::<Uuid>().map_err(|_| ApiError::bad_request(format!("quote_id {q:?} is not a quote id")))
        })
        .transpose()?;
    let refund_memo = match (opt_string(&body, "refund_memo")?, opt_string(&body, "refund_memo_type")?) {
        (Some(m), Some(t)) => Some((m, t)),
        (None, None) => None,
        _ => return Err(ApiError::bad_request("refund_memo and refund_memo_type go together")),
    };
    let fields = match body.get("fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(f)) => match f.get("transaction") {
            None => Map::new(),
            Some(Value::Object(t)) => t.clone(),
            Some(_) => return Err(ApiError::bad_request("fields.transaction must be an object")),
        },
        Some(_) => return Err(ApiError::bad_request("fields must be an object")),
    };
    let new = NewTransaction {
        amount: parse_amount(body.get("amount"))?,
        asset_code: opt_string(&body, "asset_code")?
            .ok_or_else(|| ApiError::bad_request("asset_code is required"))?,
        asset_issuer: opt_string(&body, "asset_issuer")?,
        funding_method: opt_string(&body, "funding_method")?,
        sender_id: customer_id(&body, "sender_id")?,
        receiver_id: customer_id(&body, "receiver_id")?,
        refund_memo,
        lang: opt_string(&body, "lang")?,
        fields,
        idempotency_key: idempotency_key(&headers)?,
        quote_id,
        destination_asset: opt_string(&body, "destination_asset")?,
        request: Value::Object(body),
    };
    // The tenant's own setting wins; the platform's is the default.
    let expiry = chrono::Duration::seconds(
        ctx.tenant
            .transaction_expiry_secs
            .unwrap_or_else(|| i64::try_from(state.cfg.transaction_expiry_secs).unwrap_or(i64::MAX))
            .min(100 * 365 * 86_400),
    );
    let created = transactions::create(&state.db, &ctx.tenant, &auth.owner(&ctx), new, expiry).await?;
    let t = created.transaction;
    let response = json!({
        "id": t.id,
        "stellar_account_id": t.stellar_account_id,
        "stellar_memo_type": t.stellar_memo_type.as_str(),
        "stellar_memo": t.stellar_memo,
    });
    // A replay answers exactly as the first request did, marked so the caller can tell.
    let mut response = (StatusCode::CREATED, Json(response)).into_response();
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn transaction_id(raw: &str) -> ApiResult<Uuid> {
    raw.parse().map_err(|_| ApiError::NotFound("transaction not found".into()))
}

async fn get_transaction(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = transactions::get(&state.db, &auth.owner(&ctx), transaction_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::NotFound("transaction not found".into()))?;
    let refunds = transactions::refunds_of(&state.db, t.tenant_id, t.id).await?;
    Ok(Json(json!({ "transaction": transactions::sep31_json(&t, &refunds) })))
}

async fn patch_transaction(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = transaction_id(&id)?;
    let body = json_object(&body)?;
    let fields = body
        .get("fields")
        .and_then(|f| f.get("transaction"))
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("body must be {\"fields\": {\"transaction\": {...}}}"))?;
    let t =
        transactions::patch_fields(&state.db, &ctx.tenant.data_key, &auth.owner(&ctx), id, fields).await?;
    let refunds = transactions::refunds_of(&state.db, t.tenant_id, t.id).await?;
    Ok(Json(json!({ "transaction": transactions::sep31_json(&t, &refunds) })))
}

async fn put_callback(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let id = transaction_id(&id)?;
    let body = json_object(&body)?;
    let url = opt_string(&body, "url")?.ok_or_else(|| ApiError::bad_request("url is required"))?;
    let url = crate::outbound::check_callback_url(&url, state.url_policy(&ctx.tenant.network))
        .map_err(ApiError::BadRequest)?;
    transactions::set_callback(&state.db, &ctx.tenant.data_key, &auth.owner(&ctx), id, url.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sep31/info", get(info))
        .route("/sep31/transactions", post(create_transaction))
        .route("/sep31/transactions/{id}", get(get_transaction).patch(patch_transaction))
        .route("/sep31/transactions/{id}/callback", put(put_callback))
}
