//! SEP-38 (Anchor RFQ) at the tenant's ANCHOR_QUOTE_SERVER (`/sep38`), for SEP-31:
//! the sending anchor sells one of the tenant's Stellar assets and the receiver is paid
//! in an off-chain currency. `/info`, `/prices` and `/price` are public unless the tenant
//! keeps its SEP-31 `/info` to authenticated callers (a token that is sent must be
//! valid) and are priced from the in-memory configuration and rate board;
//! `POST /quote` and `GET /quote/:id` need the SEP-10 token, and a quote is its
//! owner's alone (404 for anyone else).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use mooring_anchor::quotes::{self, Quote, Rate, Terms};
use mooring_stellar::Amount;
use mooring_stellar::sep38::{Asset, Given};
use mooring_tenants::{Corridor, Tenant};
use mooring_wire::FeeDetail;
use mooring_wire::sep38::{
    DeliveryMethod, Fee, InfoAsset, InfoResponse, PriceResponse, PricedAsset, PricesResponse, QuoteParams,
    QuoteResponse,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::TenantCtx;
use super::auth::SepAuth;
use super::extract::{SepJson, SepQuery};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Mooring receives SEP-31 payments; quotes for SEP-6 or SEP-24 are not offered.
const CONTEXT: &str = "sep31";

fn text(a: Amount) -> String {
    a.to_decimal().to_string()
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

async fn info(ctx: TenantCtx, auth: Option<SepAuth>) -> ApiResult<Json<InfoResponse>> {
    public_read(&ctx, auth.as_ref())?;
    let t = &ctx.tenant;
    let live: Vec<&Corridor> = t.corridors.iter().filter(|c| c.enabled).collect();
    let mut assets = Vec::new();
    for a in t.assets.iter().filter(|a| a.sep31_enabled) {
        let id = a.sep38();
        if live.iter().any(|c| c.sell == id) {
            assets.push(InfoAsset {
                asset: id.to_string(),
                sell_delivery_methods: None,
                buy_delivery_methods: None,
                country_codes: None,
            });
        }
    }
    for a in &t.offchain_assets {
        let id = a.sep38();
        if live.iter().any(|c| c.buy == id) {
            let methods: Vec<DeliveryMethod> = a
                .delivery_methods
                .iter()
                .map(|m| DeliveryMethod { name: m.name.clone(), description: m.description.clone() })
                .collect();
            assets.push(InfoAsset {
                asset: id.to_string(),
                sell_delivery_methods: None,
                buy_delivery_methods: (!methods.is_empty()).then_some(methods),
                country_codes: (!a.country_codes.is_empty()).then(|| a.country_codes.clone()),
            });
        }
    }
    Ok(Json(InfoResponse { assets }))
}

/// The request's parameters (query string or JSON body), read as SEP-38 means them.
struct Params(QuoteParams);

impl Params {
    fn asset(&self, key: &str, value: &Option<String>) -> ApiResult<Option<Asset>> {
        value
            .as_deref()
            .map(|v| v.parse::<Asset>().map_err(|e| ApiError::bad_request(format!("{key}: {e}"))))
            .transpose()
    }

    fn sell_asset(&self) -> ApiResult<Option<Asset>> {
        self.asset("sell_asset", &self.0.sell_asset)
    }

    fn buy_asset(&self) -> ApiResult<Option<Asset>> {
        self.asset("buy_asset", &self.0.buy_asset)
    }

    fn amount(key: &str, value: &Option<String>) -> ApiResult<Option<Decimal>> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
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

    fn sell_amount(&self) -> ApiResult<Option<Decimal>> {
        Self::amount("sell_amount", &self.0.sell_amount)
    }

    fn buy_amount(&self) -> ApiResult<Option<Decimal>> {
        Self::amount("buy_amount", &self.0.buy_amount)
    }

    /// Exactly one of `sell_amount` and `buy_amount`.
    fn given(&self) -> ApiResult<Given> {
        match (self.sell_amount()?, self.buy_amount()?) {
            (Some(sell), None) => Ok(Given::Sell(sell)),
            (None, Some(buy)) => Ok(Given::Buy(buy)),
            (Some(_), Some(_)) => Err(ApiError::bad_request("give sell_amount or buy_amount, not both")),
            (None, None) => Err(ApiError::bad_request("sell_amount or buy_amount is required")),
        }
    }

    fn context(&self) -> ApiResult<String> {
        match self.0.context.as_deref() {
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
    let sell = p.sell_asset()?.ok_or_else(|| ApiError::bad_request("sell_asset is required"))?;
    let buy = p.buy_asset()?.ok_or_else(|| ApiError::bad_request("buy_asset is required"))?;
    let corridor = tenant
        .corridor(&sell, &buy)
        .ok_or_else(|| ApiError::bad_request(format!("no quotes are offered from {sell} to {buy}")))?;
    if p.0.sell_delivery_method.is_some() {
        return Err(ApiError::bad_request(format!(
            "{sell} is a Stellar asset: it has no sell_delivery_method"
        )));
    }
    let currency = match &corridor.buy {
        Asset::Iso4217(code) => tenant.offchain_asset(code),
        Asset::Stellar { .. } => None,
    };
    let buy_delivery_method = p.0.buy_delivery_method.clone();
    if let (Some(m), Some(currency)) = (&buy_delivery_method, currency)
        && !currency.delivered_by(m)
    {
        let names: Vec<&str> = currency.delivery_methods.iter().map(|m| m.name.as_str()).collect();
        return Err(ApiError::bad_request(format!(
            "buy_delivery_method must be one of: {}",
            names.join(", ")
        )));
    }
    let country_code = p.0.country_code.clone();
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

/// SEP-38's `fee`, in the sell asset.
fn fee(asset: String, total: Amount, details: Vec<FeeDetail>) -> Fee {
    Fee::new(text(total), asset, details)
}

async fn prices(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: Option<SepAuth>,
    SepQuery(q): SepQuery<QuoteParams>,
) -> ApiResult<Json<PricesResponse>> {
    public_read(&ctx, auth.as_ref())?;
    let p = Params(q);
    let t = &ctx.tenant;
    // One side priced by its amount; the other asset, if also given, narrows the list
    // to that asset (a client asking about one pair).
    let (sell, buy) = (p.sell_asset()?, p.buy_asset()?);
    let (sell_amount, buy_amount) = (p.sell_amount()?, p.buy_amount()?);
    let (sell_side, asset, only) = match (sell, buy, sell_amount, buy_amount) {
        (_, _, Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give sell_amount or buy_amount, not both"));
        }
        (Some(sell), only, Some(_), None) => (true, sell, only),
        (only, Some(buy), None, Some(_)) => (false, buy, only),
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
    let method = p.0.buy_delivery_method.as_deref();
    let country = p.0.country_code.as_deref();
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
        listed.push(PricedAsset { asset: other.to_string(), price: price.to_string(), decimals });
    }
    Ok(Json(if sell_side {
        PricesResponse { buy_assets: Some(listed), sell_assets: None }
    } else {
        PricesResponse { buy_assets: None, sell_assets: Some(listed) }
    }))
}

async fn price(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: Option<SepAuth>,
    SepQuery(q): SepQuery<QuoteParams>,
) -> ApiResult<Json<PriceResponse>> {
    public_read(&ctx, auth.as_ref())?;
    let p = Params(q);
    p.context()?;
    let pair = pair(&ctx.tenant, &p)?;
    let priced = quotes::quote(pair.corridor, rate(&state, pair.corridor)?, p.given()?)?;
    let details = mooring_anchor::transactions::fee_details(&quotes::fee_parts(&priced.fee_details));
    Ok(Json(PriceResponse {
        total_price: priced.total_price.to_string(),
        price: priced.price.to_string(),
        sell_amount: text(priced.sell_amount),
        buy_amount: text(priced.buy_amount),
        fee: fee(pair.corridor.sell.to_string(), priced.fee, details),
    }))
}

fn quote_response(q: &Quote) -> QuoteResponse {
    QuoteResponse {
        id: q.id,
        expires_at: q.expires_at,
        total_price: q.total_price.clone(),
        price: q.price.clone(),
        sell_asset: q.sell_asset.clone(),
        sell_amount: text(Amount(q.sell_amount)),
        sell_delivery_method: None,
        buy_asset: q.buy_asset.clone(),
        buy_amount: text(Amount(q.buy_amount)),
        buy_delivery_method: q.buy_delivery_method.clone(),
        fee: fee(
            q.sell_asset.clone(),
            Amount(q.fee_total),
            mooring_anchor::transactions::fee_details(&q.fee_details),
        ),
    }
}

async fn post_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    SepJson { body, .. }: SepJson<QuoteParams>,
) -> ApiResult<Response> {
    quotes_offered(&ctx)?;
    let p = Params(body);
    let context = p.context()?;
    let pair = pair(&ctx.tenant, &p)?;
    let corridor = pair.corridor;
    let now = Utc::now();
    let rate = rate(&state, corridor)?;
    quotes::check_fresh(corridor, rate, now)?;
    let priced = quotes::quote(corridor, rate, p.given()?)?;
    let expires_at = now + corridor.quote_lifetime;
    if let Some(wanted) = p.0.expire_after.as_deref() {
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
    Ok((StatusCode::CREATED, Json(quote_response(&quote))).into_response())
}

async fn get_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    auth: SepAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<QuoteResponse>> {
    let not_found = || ApiError::NotFound("quote not found".into());
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    let quote = quotes::get(&state.db, &auth.owner(&ctx), id).await?.ok_or_else(not_found)?;
    Ok(Json(quote_response(&quote)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sep38/info", get(info))
        .route("/sep38/prices", get(prices))
        .route("/sep38/price", get(price))
        .route("/sep38/quote", post(post_quote))
        .route("/sep38/quote/{id}", get(get_quote))
}
