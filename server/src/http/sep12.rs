//! SEP-12 KYC at the tenant's KYC_SERVER (`/kyc`). Every call needs the SEP-10 token;
//! a sending anchor sees only the customers it registered (others answer 404).

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use mooring_anchor::customers::{self, Incoming, PutCustomer, Side, Target};
use mooring_anchor::transactions;
use mooring_stellar::ClientAccount;
use mooring_wire::sep12::{CustomerQuery, CustomerResponse, Empty, PutCustomerResponse};
use serde_json::Value;
use uuid::Uuid;

use super::TenantCtx;
use super::auth::SepAuth;
use super::extract::{SepQuery, from_params};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Room for a few files of `max_upload_bytes` each in one request.
const UPLOAD_FILES_PER_REQUEST: usize = 4;

/// The memo a request speaks for: the token's, if it has one (a `memo` parameter must
/// then agree), else the parameter (a shared account names its users), else none.
fn memo_for(auth: &SepAuth, param: Option<&str>) -> ApiResult<String> {
    let from_token = match auth.client {
        ClientAccount::Account { memo, .. } => memo,
        ClientAccount::Muxed { id, .. } => Some(id),
    };
    match (from_token, param.filter(|m| !m.is_empty())) {
        (Some(t), Some(p)) if p != t.to_string() => {
            Err(ApiError::Forbidden("memo does not match the authenticated account".into()))
        }
        (Some(t), _) => Ok(t.to_string()),
        (None, p) => {
            let memo = p.unwrap_or_default();
            if memo.len() > 128 {
                return Err(ApiError::bad_request("memo is too long"));
            }
            Ok(memo.to_string())
        }
    }
}

/// `account` is deprecated but, when sent, must be the authenticated one.
fn check_account(auth: &SepAuth, account: Option<&str>) -> ApiResult<()> {
    match account.filter(|a| !a.is_empty()) {
        Some(a) if a != auth.client.key().to_string() && a != auth.client.to_string() => {
            Err(ApiError::Forbidden("account does not match the authenticated account".into()))
        }
        _ => Ok(()),
    }
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    raw.parse().map_err(|_| ApiError::NotFound("customer not found".into()))
}

/// Resolves which customer a request means, and for which SEP-12 type.
async fn target_and_type(
    state: &AppState,
    ctx: &TenantCtx,
    auth: &SepAuth,
    params: &CustomerQuery,
) -> ApiResult<(Target, String)> {
    check_account(auth, params.account.as_deref())?;
    let type_name = match &params.customer_type {
        Some(t) => t.clone(),
        None => ctx
            .tenant
            .customer_types
            .first()
            .map(|t| t.name.clone())
            .ok_or_else(|| ApiError::bad_request("this anchor defines no customer types"))?,
    };
    if ctx.tenant.customer_type(&type_name).is_none() {
        return Err(ApiError::bad_request(format!("unknown customer type {type_name:?}")));
    }
    if let Some(id) = &params.id {
        return Ok((Target::Id(parse_id(id)?), type_name));
    }
    if let Some(tx_id) = &params.transaction_id {
        if params.customer_type.is_none() {
            return Err(ApiError::bad_request("transaction_id requires type"));
        }
        let tx_id: Uuid = tx_id.parse().map_err(|_| ApiError::NotFound("transaction not found".into()))?;
        let tx = transactions::get(&state.db, &auth.owner(ctx), tx_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("transaction not found".into()))?;
        let asset = ctx.tenant.sep31_asset(&tx.asset_code, Some(&tx.asset_issuer));
        let side = asset.and_then(|a| Side::of_type(a, &type_name));
        if let Some(id) = side.and_then(|s| s.customer(&tx)) {
            return Ok((Target::Id(id), type_name));
        }
    }
    let memo = memo_for(auth, params.memo.as_deref())?;
    Ok((Target::Memo(memo), type_name))
}

async fn get_customer(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    SepQuery(params): SepQuery<CustomerQuery>,
) -> ApiResult<Json<CustomerResponse>> {
    let (target, type_name) = target_and_type(&state, &ctx, &auth, &params).await?;
    let loaded = customers::load(&state.db, &auth.owner(&ctx), &target).await?;
    if loaded.is_none() && matches!(target, Target::Id(_)) {
        return Err(ApiError::NotFound("customer not found".into()));
    }
    let ty = ctx.tenant.customer_type(&type_name).expect("checked above");
    Ok(Json(customers::view(ty, loaded.as_ref())))
}

/// A SEP-12 body as parameters plus values: JSON, URL-encoded form or multipart.
struct CustomerBody {
    params: CustomerQuery,
    values: Vec<(String, Incoming)>,
}

async fn read_body(state: &AppState, req: Request) -> ApiResult<CustomerBody> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut pairs: Vec<(String, Incoming)> = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid multipart body: {e}")))?;
        loop {
            let mut field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(ApiError::PayloadTooLarge("request body is too large".into()));
                }
                Err(e) => return Err(ApiError::bad_request(format!("invalid multipart body: {e}"))),
            };
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some();
            let content_type = field.content_type().map(str::to_string);
            // Files may be large (up to the upload cap); every other part is a small
            // text value. Reading stops at the cap, before the part is buffered whole.
            let cap = if is_file { state.cfg.max_upload_bytes } else { super::SEP_BODY_LIMIT };
            let mut bytes = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) if bytes.len() + chunk.len() > cap => {
                        return Err(ApiError::PayloadTooLarge(format!("{name} is larger than {cap} bytes")));
                    }
                    Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(ApiError::PayloadTooLarge("request body is too large".into()));
                    }
                    Err(e) => return Err(ApiError::bad_request(format!("invalid multipart body: {e}"))),
                }
            }
            if is_file {
                pairs.push((name, Incoming::File { bytes, content_type }));
            } else {
                let text = String::from_utf8(bytes)
                    .map_err(|_| ApiError::bad_request(format!("{name} is not UTF-8 text")))?;
                pairs.push((name, Incoming::Text(text)));
            }
        }
    } else {
        // JSON and form bodies carry no files: the small SEP limit, not the upload cap.
        let bytes = axum::body::to_bytes(req.into_body(), super::SEP_BODY_LIMIT).await.map_err(|e| {
            if super::too_large(&e) {
                ApiError::PayloadTooLarge("request body is too large".into())
            } else {
                ApiError::bad_request("unreadable body")
            }
        })?;
        if content_type.starts_with("application/json") {
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|_| ApiError::bad_request("body is not valid JSON"))?;
            let object =
                value.as_object().ok_or_else(|| ApiError::bad_request("body must be a JSON object"))?;
            for (name, v) in object {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Null => continue,
                    _ => return Err(ApiError::bad_request(format!("{name} must be a string"))),
                };
                pairs.push((name.clone(), Incoming::Text(text)));
            }
        } else {
            for (name, v) in url::form_urlencoded::parse(&bytes).into_owned() {
                pairs.push((name, Incoming::Text(v)));
            }
        }
    }
    let mut params = Vec::new();
    let mut values = Vec::new();
    for (name, value) in pairs {
        match &value {
            Incoming::Text(text) => super::text::check(&name, text)?,
            Incoming::File { .. } => super::text::check(&name, "")?,
        }
        match value {
            Incoming::Text(t) if CustomerQuery::NAMES.contains(&name.as_str()) => {
                params.push((name, t));
            }
            // A SEP-9 verification code: SEP-12's deprecated verification flow is not offered.
            _ if name.ends_with("_verification") => {
                return Err(ApiError::bad_request(format!(
                    "{name}: this anchor sends no verification codes"
                )));
            }
            other => {
                if values.iter().any(|(n, _)| *n == name) {
                    return Err(ApiError::bad_request(format!("{name} is given twice")));
                }
                values.push((name, other));
            }
        }
    }
    Ok(CustomerBody { params: from_params(params)?, values })
}

async fn put_customer(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    req: Request,
) -> ApiResult<Response> {
    let body = read_body(&state, req).await?;
    let (target, type_name) = target_and_type(&state, &ctx, &auth, &body.params).await?;
    let id = mooring_anchor::kyc::put(
        &state.db,
        &ctx.tenant,
        &auth.owner(&ctx),
        PutCustomer { target, type_name, values: body.values },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(PutCustomerResponse { id })).into_response())
}

async fn put_callback(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    req: Request,
) -> ApiResult<Json<Empty>> {
    let body = read_body(&state, req).await?;
    let url = body
        .values
        .iter()
        .find_map(|(n, v)| match v {
            Incoming::Text(t) if n == "url" => Some(t.clone()),
            _ => None,
        })
        .ok_or_else(|| ApiError::bad_request("url is required"))?;
    let url = crate::outbound::check_callback_url(&url, state.url_policy(&ctx.tenant.network))
        .map_err(ApiError::BadRequest)?;
    let (target, _) = target_and_type(&state, &ctx, &auth, &body.params).await?;
    customers::set_callback(&state.db, &ctx.tenant.data_key, &auth.owner(&ctx), &target, url.as_str())
        .await?;
    Ok(Json(Empty {}))
}

async fn delete_customer(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(account): Path<String>,
    req: Request,
) -> ApiResult<StatusCode> {
    if account != auth.client.key().to_string() && account != auth.client.to_string() {
        return Err(ApiError::NotFound("customer not found".into()));
    }
    let body = read_body(&state, req).await?;
    let memo = memo_for(&auth, body.params.memo.as_deref())?;
    if customers::delete(&state.db, &auth.owner(&ctx), &memo).await? {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::NotFound("customer not found".into()))
    }
}

pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/kyc/customer", get(get_customer).put(put_customer))
        .route("/kyc/customer/callback", put(put_callback))
        .route("/kyc/customer/{account}", delete(delete_customer))
        .layer(DefaultBodyLimit::max(max_upload_bytes * UPLOAD_FILES_PER_REQUEST + 64 * 1024))
}
