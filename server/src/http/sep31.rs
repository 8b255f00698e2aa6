//! SEP-31 direct payments (receiving side) at the tenant's DIRECT_PAYMENT_SERVER
//! (`/sep31`). Every endpoint needs the SEP-10 token (403 otherwise); a sending anchor
//! sees only its own transactions (others answer 404).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use mooring_anchor::transactions::{self, NewTransaction};
use mooring_stellar::Amount;
use mooring_wire::error::TransactionFields;
use mooring_wire::sep31::{
    InfoResponse, PatchTransactionRequest, PostTransactionRequest, PostTransactionResponse,
    PutCallbackRequest, ReceiveAsset, Sep12Types, TransactionResponse, TypeDescription, TypesOf,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::TenantCtx;
use super::auth::SepAuth;
use super::extract::SepJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn sep12_types(ctx: &TenantCtx, kind: &str, ty: &Option<String>) -> TypesOf {
    let mut types = BTreeMap::new();
    if let Some(t) = ty {
        let description = ctx
            .tenant
            .customer_type(t)
            .map(|c| c.description.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| format!("{kind} of a SEP-31 payment"));
        types.insert(t.clone(), TypeDescription { description });
    }
    TypesOf { types }
}

/// Public information for sending anchors and other Stellar apps (as SDF's anchor
/// validator and django-polaris read it): no token needed unless the tenant asks; a
/// token that is sent must be valid. The body depends on the tenant's configuration
/// alone: it is serialised once per configuration version.
async fn info(ctx: TenantCtx, auth: Option<SepAuth>) -> ApiResult<Response> {
    if ctx.tenant.info_requires_auth && auth.is_none() {
        return Err(ApiError::Forbidden("this anchor's /info needs a SEP-10 token".into()));
    }
    let body = ctx
        .tenant
        .derived
        .sep31_info
        .get_or_init(|| serde_json::to_vec(&info_body(&ctx)).expect("the /info body serialises").into());
    let headers = [(axum::http::header::CONTENT_TYPE, "application/json")];
    Ok((headers, axum::body::Bytes::from_owner(body.clone())).into_response())
}

fn info_body(ctx: &TenantCtx) -> InfoResponse {
    let mut receive = BTreeMap::new();
    for asset in ctx.tenant.assets.iter().filter(|a| a.sep31_enabled) {
        // Tiered fees do not fit /info's one fixed + one percentage fee: SEP-31 then
        // leaves both out, and each transaction's fee_details shows the breakdown.
        let flat = asset.fee_tiers.is_empty();
        let entry = ReceiveAsset {
            enabled: true,
            quotes_supported: ctx.tenant.corridors.iter().any(|c| c.enabled && c.sell == asset.sep38()),
            quotes_required: asset.quotes_required,
            fee_fixed: flat.then(|| asset.fee_fixed.to_decimal()),
            fee_percent: flat.then(|| asset.fee_percent.to_decimal()),
            min_amount: asset.min_amount.map(Amount::to_decimal),
            max_amount: asset.max_amount.map(Amount::to_decimal),
            funding_methods: asset.funding_methods.clone(),
            sep12: Sep12Types {
                sender: sep12_types(ctx, "Sender", &asset.sender_sep12_type),
                receiver: sep12_types(ctx, "Receiver", &asset.receiver_sep12_type),
            },
            sender_sep12_type: None,
            receiver_sep12_type: None,
            fields: Some(TransactionFields {
                transaction: asset.fields.iter().map(|f| (f.name.clone(), f.spec())).collect(),
            }),
        };
        receive.insert(asset.code.clone(), entry);
    }
    InfoResponse { receive }
}

fn customer_id(value: Option<String>, key: &str) -> ApiResult<Option<Uuid>> {
    value
        .map(|s| s.parse().map_err(|_| ApiError::bad_request(format!("{key} is not a customer id"))))
        .transpose()
}

/// What recognises a retry of the same request: the request as sent, canonical JSON
/// (keys sorted), hashed.
fn fingerprint(object: serde_json::Map<String, Value>) -> String {
    hex::encode(Sha256::digest(Value::Object(object).to_string().as_bytes()))
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
    SepJson { body, object }: SepJson<PostTransactionRequest>,
) -> ApiResult<Response> {
    let quote_id = body
        .quote_id
        .map(|q| {
            q.parse::<Uuid>().map_err(|_| ApiError::bad_request(format!("quote_id {q:?} is not a quote id")))
        })
        .transpose()?;
    let refund_memo = match (body.refund_memo, body.refund_memo_type) {
        (Some(m), Some(t)) => Some((m, t)),
        (None, None) => None,
        _ => return Err(ApiError::bad_request("refund_memo and refund_memo_type go together")),
    };
    let amount = body.amount.ok_or_else(|| ApiError::bad_request("amount is required"))?;
    let new = NewTransaction {
        amount: amount.parse::<Amount>().map_err(|e| ApiError::bad_request(format!("amount: {e}")))?,
        asset_code: body.asset_code.ok_or_else(|| ApiError::bad_request("asset_code is required"))?,
        asset_issuer: body.asset_issuer,
        funding_method: body.funding_method,
        sender_id: customer_id(body.sender_id, "sender_id")?,
        receiver_id: customer_id(body.receiver_id, "receiver_id")?,
        refund_memo,
        lang: body.lang,
        fields: body.fields.and_then(|f| f.transaction).unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
        quote_id,
        destination_asset: body.destination_asset,
        request_hash: fingerprint(object),
    };
    // The tenant's own setting wins; the platform's is the default.
    let expiry = chrono::Duration::seconds(
        ctx.tenant
            .transaction_expiry_secs
            .unwrap_or_else(|| i64::try_from(state.cfg.transaction_expiry_secs.as_secs()).unwrap_or(i64::MAX))
            .min(100 * 365 * 86_400),
    );
    let created =
        transactions::create(&state.db, &state.new_transactions, &ctx.tenant, &auth.owner(&ctx), new, expiry)
            .await?;
    let t = created.transaction;
    let response = PostTransactionResponse {
        id: t.id,
        stellar_account_id: t.stellar_account_id,
        stellar_memo_type: t.stellar_memo_type,
        stellar_memo: t.stellar_memo,
    };
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
) -> ApiResult<Json<TransactionResponse>> {
    let t = transactions::get(&state.db, &auth.owner(&ctx), transaction_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::NotFound("transaction not found".into()))?;
    let refunds = transactions::refunds_of(&state.db, t.tenant_id, t.id).await?;
    Ok(Json(transactions::sep31_response(&t, &refunds)))
}

async fn patch_transaction(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
    SepJson { body, .. }: SepJson<PatchTransactionRequest>,
) -> ApiResult<Json<TransactionResponse>> {
    let id = transaction_id(&id)?;
    let fields = body.fields.transaction;
    let t =
        transactions::patch_fields(&state.db, &ctx.tenant.data_key, &auth.owner(&ctx), id, fields).await?;
    let refunds = transactions::refunds_of(&state.db, t.tenant_id, t.id).await?;
    Ok(Json(transactions::sep31_response(&t, &refunds)))
}

async fn put_callback(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
    SepJson { body, .. }: SepJson<PutCallbackRequest>,
) -> ApiResult<StatusCode> {
    let id = transaction_id(&id)?;
    let url = body.url.ok_or_else(|| ApiError::bad_request("url is required"))?;
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
