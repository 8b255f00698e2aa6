//! SEP-38 (Anchor RFQ) at the tenant's ANCHOR_QUOTE_SERVER (`/sep38`), for SEP-31:
//! the sending anchor sells one of the tenant's Stellar assets and the receiver is paid
//! in an off-chain currency. `/info`, `/prices` and `/price` are public unless the tenant
//! keeps its SEP-31 `/info` to authenticated callers (a token that is sent must be
//! valid) and are priced from the in-memory configuration and rate board;
//! `POST /quote` and `GET /quote/:id` need the SEP-10 token, and a quote is its
//! owner's alone (404 for anyone else).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use mooring_anchor::quotes::{self, Quote, Rate, Terms};
use mooring_stellar::Amount;
use mooring_stellar::sep38::{Asset, Given};
use mooring_tenants::{Corridor, Tenant};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::TenantCtx;
use super::auth::SepAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Mooring receives SEP-31 payments; quotes for SEP-6 or SEP-24 are not offered.
const CONTEXT: &str = "sep31";

fn text(a: Amount) -> String {
    a.to_decimal().to_string()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn quotes_offered(ctx: &TenantCtx) -> ApiResult<()> {
    if ctx.tenant.quotes_offered() {
        Ok(())
    } else {
        Err(ApiError::NotFound("this anchor does not offer SEP-38 quotes".into()))
    }
}

/// The public endpoints follow the tenant's choice for SEP-31 `/info`: a tenant that
/// keeps its terms to authenticated sending anchors keeps its prices to them too.
fn public_read(ctx: &TenantCtx, auth: Option<&SepAuth>) -> ApiResult<()> {
    quotes_offered(ctx)?;
    if ctx.tenant.info_requires_auth && auth.is_none() {
        return Err(ApiError::Forbidden("this anchor's prices need a SEP-10 token".into()));
    }
    Ok(())
}

async fn info(ctx: TenantCtx, auth: Option<SepAuth>) -> ApiResult<Json<Value>> {
    public_read(&ctx, auth.as_ref())?;
    let t = &ctx.tenant;
    let live: Vec<&Corridor> = t.corridors.iter().filter(|c| c.enabled).collect();
    let mut assets = Vec::new();
    for a in t.assets.iter().filter(|a| a.sep31_enabled) {
        let id = a.sep38();
        if live.iter().any(|c| c.sell == id) {
            assets.push(json!({ "asset": id.to_string() }));
        }
    }
    for a in &t.offchain_assets {
        let id = a.sep38();
        if live.iter().any(|c| c.buy == id) {
            let mut entry = json!({ "asset": id.to_string() });
            if !a.country_codes.is_empty() {
                entry["country_codes"] = json!(a.country_codes);
            }
            if !a.delivery_methods.is_empty() {
                entry["buy_delivery_methods"] = a
                    .delivery_methods
                    .iter()
                    .map(|m| json!({ "name": m.name, "description": m.description }))
                    .collect();
            }
            assets.push(entry);
        }
    }
    Ok(Json(json!({ "assets": assets })))
}

/// The request's parameters, from a query string or a JSON body, as strings.
struct Params(HashMap<String, String>);

impl Params {
    fn query(raw: Option<String>) -> ApiResult<Self> {
        Ok(Self(super::form_params(raw.unwrap_or_default().as_bytes())?))
    }

    fn json(body: &[u8]) -> ApiResult<Self> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| ApiError::bad_request("body is not valid JSON"))?;
        super::text::check_json(&value)?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad_request("body must be a JSON object"));
        };
        let mut params = HashMap::new();
        for (key, v) in map {
            match v {
                Value::Null => {}
                Value::String(s) => {
                    params.insert(key, s);
                }
                // Amounts may come as JSON numbers; their text is parsed exactly.
                Value::Number(n) => {
                    params.insert(key, n.to_string());
                }
                _ => return Err(ApiError::bad_request(format!("{key} must be a string"))),
            }
        }
        Ok(Self(params))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn asset(&self, key: &str) -> ApiResult<Option<Asset>> {
        self.get(key)
            .map(|v| v.parse::<Asset>().map_err(|e| ApiError::bad_request(format!("{key}: {e}"))))
            .transpose()
    }

    fn required_asset(&self, key: &str) -> ApiResult<Asset> {
        self.asset(key)?.ok_or_else(|| ApiError::bad_request(format!("{key} is required")))
    }

    fn amount(&self, key: &str) -> ApiResult<Option<Decimal>> {
        self.get(key)
            .map(|v| {
                v.trim()
                    .parse::<Decimal>()
                    .ok()
                    .filter(|d| {
                        *d > Decimal::ZERO && d.normalize().scale() <= mooring_stellar::amount::DECIMALS
                    })
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "{key} must be a positive decimal with at most 7 places"
                        ))
                    })
            })
            .transpose()
    }

    /// Exactly one of `sell_amount` and `buy_amount`.
    fn given(&self) -> ApiResult<Given> {
        match (self.amount("sell_amount")?, self.amount("buy_amount")?) {
            (Some(sell), None) => Ok(Given::Sell(sell)),
            (None, Some(buy)) => Ok(Given::Buy(buy)),
            (Some(_), Some(_)) => Err(ApiError::bad_request("give sell_amount or buy_amount, not both")),
            (None, None) => Err(ApiError::bad_request("sell_amount or buy_amount is required")),
        }
    }

    fn context(&self) -> ApiResult<String> {
        match self.get("context") {
            Some(CONTEXT) => Ok(CONTEXT.into()),
            Some(other) => Err(ApiError::bad_request(format!(
                "context {other:?} is not supported: this anchor quotes for sep31"
            ))),
            None => Err(ApiError::bad_request("context is required (sep31)")),
        }
    }
}

/// The corridor a request names, with its delivery method and country checked.
struct Pair<'a> {
    corridor: &'a Corridor,
    buy_delivery_method: Option<String>,
    country_code: Option<String>,
}

fn pair<'a>(tenant: &'a Tenant, p: &Params) -> ApiResult<Pair<'a>> {
    let sell = p.required_asset("sell_asset")?;
    let buy = p.required_asset("buy_asset")?;
    let corridor = tenant
        .corridor(&sell, &buy)
        .ok_or_else(|| ApiError::bad_request(format!("no quotes are offered from {sell} to {buy}")))?;
    if p.get("sell_delivery_method").is_some() {
        return Err(ApiError::bad_request(format!(
            "{sell} is a Stellar asset: it has no sell_delivery_method"
        )));
    }
    let currency = match &corridor.buy {
        Asset::Iso4217(code) => tenant.offchain_asset(code),
        Asset::Stellar { .. } => None,
    };
    let buy_delivery_method = p.get("buy_delivery_method").map(str::to_string);
    if let (Some(m), Some(currency)) = (&buy_delivery_method, currency)
        && !currency.delivered_by(m)
    {
        let names: Vec<&str> = currency.delivery_methods.iter().map(|m| m.name.as_str()).collect();
        return Err(ApiError::bad_request(format!(
            "buy_delivery_method must be one of: {}",
            names.join(", ")
        )));
    }
    let country_code = p.get("country_code").map(str::to_string);
    if let (Some(c), Some(currency)) = (&country_code, currency)
        && !currency.paid_in(c)
    {
        return Err(ApiError::bad_request(format!(
            "country_code must be one of: {}",
            currency.country_codes.join(", ")
        )));
    }
    Ok(Pair { corridor, buy_delivery_method, country_code })
}

fn rate(state: &AppState, corridor: &Corridor) -> ApiResult<Rate> {
    state.rates.rate(corridor).ok_or_else(|| {
        ApiError::Unavailable(format!(
            "no rate is available for {} → {} yet; try again later",
            corridor.sell, corridor.buy
        ))
    })
}

/// SEP-38's `fee`: `{total, asset, details?}`, in the sell asset.
fn fee_object(asset: &str, total: Amount, details: Value) -> Value {
    let mut fee = json!({ "total": text(total), "asset": asset });
    if details.as_array().is_some_and(|d| !d.is_empty()) {
        fee["details"] = details;
    }
    fee
}

async fn prices(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: Option<SepAuth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    public_read(&ctx, auth.as_ref())?;
    let p = Params::query(q)?;
    let t = &ctx.tenant;
    // One side priced by its amount; the other asset, if also given, narrows the list
    // to that asset (a client asking about one pair).
    let (sell, buy) = (p.asset("sell_asset")?, p.asset("buy_asset")?);
    let (sell_amount, buy_amount) = (p.amount("sell_amount")?, p.amount("buy_amount")?);
    let (key, sell_side, asset, only) = match (sell, buy, sell_amount, buy_amount) {
        (_, _, Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give sell_amount or buy_amount, not both"));
        }
        (Some(sell), only, Some(_), None) => ("buy_assets", true, sell, only),
        (only, Some(buy), None, Some(_)) => ("sell_assets", false, buy, only),
        (Some(_), _, None, None) => {
            return Err(ApiError::bad_request("sell_amount is required with sell_asset"));
        }
        (None, Some(_), _, None) => {
            return Err(ApiError::bad_request("buy_amount is required with buy_asset"));
        }
        _ => {
            return Err(ApiError::bad_request(
                "give sell_asset and sell_amount, or buy_asset and buy_amount",
            ));
        }
    };
    // The optional filters narrow the currencies to those paid out that way, there.
    let method = p.get("buy_delivery_method");
    let country = p.get("country_code");
    let delivers = |c: &Corridor| {
        let Asset::Iso4217(code) = &c.buy else { return false };
        let Some(currency) = t.offchain_asset(code) else { return false };
        method.is_none_or(|m| currency.delivered_by(m)) && country.is_none_or(|cc| currency.paid_in(cc))
    };
    let mut listed = Vec::new();
    for c in t
        .corridors
        .iter()
        .filter(|c| c.enabled && if sell_side { c.sell == asset } else { c.buy == asset })
        .filter(|c| only.as_ref().is_none_or(|o| if sell_side { c.buy == *o } else { c.sell == *o }))
        .filter(|c| delivers(c))
    {
        let Some(r) = state.rates.rate(c) else { continue };
        let price = quotes::price::price(c, r)?;
        let (other, decimals) =
            if sell_side { (&c.buy, c.buy_decimals) } else { (&c.sell, mooring_stellar::amount::DECIMALS) };
        listed.push(json!({ "asset": other.to_string(), "price": price.to_string(), "decimals": decimals }));
    }
    let mut body = Map::new();
    body.insert(key.into(), Value::Array(listed));
    Ok(Json(Value::Object(body)))
}

async fn price(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: Option<SepAuth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    public_read(&ctx, auth.as_ref())?;
    let p = Params::query(q)?;
    p.context()?;
    let pair = pair(&ctx.tenant, &p)?;
    let priced = quotes::quote(pair.corridor, rate(&state, pair.corridor)?, p.given()?)?;
    Ok(Json(json!({
        "total_price": priced.total_price.to_string(),
        "price": priced.price.to_string(),
        "sell_amount": text(priced.sell_amount),
        "buy_amount": text(priced.buy_amount),
        "fee": fee_object(&pair.corridor.sell.to_string(), priced.fee, quotes::fee_details_json(&priced.fee_details)),
    })))
}

fn quote_json(q: &Quote) -> Value {
    let mut v = json!({
        "id": q.id,
        "expires_at": time(q.expires_at),
        "total_price": q.total_price,
        "price": q.price,
        "sell_asset": q.sell_asset,
        "sell_amount": text(Amount(q.sell_amount)),
        "buy_asset": q.buy_asset,
        "buy_amount": text(Amount(q.buy_amount)),
        "fee": fee_object(&q.sell_asset, Amount(q.fee_total), q.fee_details.clone()),
    });
    if let Some(m) = &q.buy_delivery_method {
        v["buy_delivery_method"] = m.clone().into();
    }
    v
}

async fn post_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    body: Bytes,
) -> ApiResult<Response> {
    quotes_offered(&ctx)?;
    let p = Params::json(&body)?;
    let context = p.context()?;
    let pair = pair(&ctx.tenant, &p)?;
    let corridor = pair.corridor;
    let now = Utc::now();
    let rate = rate(&state, corridor)?;
    quotes::check_fresh(corridor, rate, now)?;
    let priced = quotes::quote(corridor, rate, p.given()?)?;
    let expires_at = now + corridor.quote_lifetime;
    if let Some(wanted) = p.get("expire_after") {
        let wanted = DateTime::parse_from_rfc3339(wanted)
            .map_err(|_| ApiError::bad_request("expire_after must be an ISO 8601 (RFC 3339) time"))?;
        if wanted > expires_at {
            return Err(ApiError::bad_request(format!(
                "quotes here last at most {} seconds: expire_after cannot be honoured",
                corridor.quote_lifetime.num_seconds()
            )));
        }
    }
    let terms = Terms {
        corridor_id: corridor.id,
        context,
        sell_asset: corridor.sell.to_string(),
        buy_asset: corridor.buy.to_string(),
        sell_delivery_method: None,
        buy_delivery_method: pair.buy_delivery_method,
        country_code: pair.country_code,
        expires_at,
        max_outstanding: corridor.max_outstanding,
    };
    let quote = quotes::create(&state.db, &auth.owner(&ctx), &priced, terms).await?;
    metrics::counter!("mooring_sep38_quotes_total", "tenant" => ctx.tenant.id_text.to_string()).increment(1);
    Ok((StatusCode::CREATED, Json(quote_json(&quote))).into_response())
}

async fn get_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::NotFound("quote not found".into());
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    let quote = quotes::get(&state.db, &auth.owner(&ctx), id).await?.ok_or_else(not_found)?;
    Ok(Json(quote_json(&quote)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sep38/info", get(info))
        .route("/sep38/prices", get(prices))
        .route("/sep38/price", get(price))
        .route("/sep38/quote", post(post_quote))
        .route("/sep38/quote/{id}", get(get_quote))
}
