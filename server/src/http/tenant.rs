//! Tenant resolution: every SEP request belongs to the tenant whose domain is its
//! `Host`. The middleware puts a [`TenantCtx`] in the request; handlers extract it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mooring_tenants::{Tenant, TenantStatus, host};

use crate::backends::rate_limit::Decision;
use crate::error::ApiError;
use crate::state::AppState;

/// The tenant a request is for, and how the client addressed us.
#[derive(Clone)]
pub struct TenantCtx {
    pub tenant: Arc<Tenant>,
    /// `host` for public domains, `host:port` for local ones: the authority every URL
    /// we hand out uses, and the SEP-10 `web_auth_domain`.
    pub authority: String,
}

impl TenantCtx {
    /// `https://domain`, or `http://localhost:port` for local development.
    pub fn base_url(&self) -> String {
        let scheme = if host::is_local(&self.authority) { "http" } else { "https" };
        format!("{scheme}://{}", self.authority)
    }

    pub fn web_auth_endpoint(&self) -> String {
        format!("{}/auth", self.base_url())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<TenantCtx>().cloned().ok_or_else(|| ApiError::NotFound("unknown host".into()))
    }
}

fn host_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok())
}

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(host) = host_header(req.headers()).map(str::to_string) else {
        return ApiError::bad_request("missing Host header").into_response();
    };
    if !host::is_valid(&host) {
        return ApiError::bad_request("invalid Host header").into_response();
    }
    let Some(tenant) = state.tenants.resolve(&host) else {
        return ApiError::NotFound(format!("no anchor is served at {:?}", host::normalize(&host)))
            .into_response();
    };
    tracing::Span::current().record("tenant", tracing::field::display(tenant.id));
    if tenant.status == TenantStatus::Suspended {
        return ApiError::Unavailable("this anchor is suspended".into()).into_response();
    }
    let authority = host::public_authority(&host);
    req.extensions_mut().insert(TenantCtx { tenant, authority });
    next.run(req).await
}

fn client_ip(state: &AppState, req: &Request) -> Option<IpAddr> {
    if state.cfg.trust_forwarded_for
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<TenantCtx>() else {
        return next.run(req).await;
    };
    let ip = client_ip(&state, &req).map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let key = state.redis_key(&["rl", &ctx.tenant.id.to_string(), &ip]);
    match state.rate_limiter.check(&key).await {
        Ok(Decision::Allow) => next.run(req).await,
        Ok(Decision::Deny { retry_after }) => {
            ApiError::TooManyRequests { retry_after_secs: retry_after.as_secs_f64().ceil() as u64 }
                .into_response()
        }
        Err(e) => {
            // A rate-limit store outage must not take the anchor down with it.
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            next.run(req).await
        }
    }
}
