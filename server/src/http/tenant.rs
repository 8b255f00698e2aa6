//! Tenant resolution: every SEP request belongs to the tenant whose domain is its
//! `Host`. The middleware puts a [`TenantCtx`] in the request; handlers extract it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mooring_tenants::{Tenant, TenantStatus, host};

use crate::backends::rate_limit::{Check, Decision, Limit};
use crate::error::ApiError;
use crate::limits::Class;
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
    let label = tenant.id_text.clone();
    req.extensions_mut().insert(TenantCtx { tenant, authority });
    let mut res = next.run(req).await;
    res.extensions_mut().insert(crate::metrics::ServedTenant(label));
    res
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<TenantCtx>() else {
        return next.run(req).await;
    };
    let cap = ctx.tenant.rate_limit.map_or(state.rate_limits.tenant, |(rate, burst)| Limit::new(rate, burst));
    let class = Class::of(req.method(), req.uri().path());
    let now = Instant::now();
    if let Some(wait) = state.cap_gate.closed_for(ctx.tenant.id, cap, now) {
        refused(class, "tenant");
        return too_many(wait);
    }
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = state.client_address(peer, req.headers());
    let tenant_id = ctx.tenant.id;
    let tenant = tenant_id.to_string();
    // The order is TENANT_CAP's meaning.
    let checks = [
        // The tenant's aggregate cap first: under a flood it refuses before anyone's
        // own allowance is spent. The key names the cap, so a new cap starts afresh
        // (in Redis as in process, where each limit has its own limiter).
        Check {
            key: state.redis_key(&["rl", "tenant", &tenant, &format!("{}-{}", cap.per_second, cap.burst)]),
            limit: cap,
            cost: 1,
        },
        Check {
            key: state.redis_key(&["rl", class.name(), &tenant, &client]),
            limit: state.rate_limits.for_class(class),
            cost: 1,
        },
    ];
    match state.rate_limiter.check(&checks).await {
        Ok(Decision::Allow) => next.run(req).await,
        Ok(Decision::Deny { retry_after, refused_by }) => {
            if refused_by == TENANT_CAP {
                state.cap_gate.close(tenant_id, cap, now, retry_after);
            }
            refused(class, if refused_by == TENANT_CAP { "tenant" } else { "client" });
            too_many(retry_after)
        }
        Err(e) => {
            // A rate-limit store outage must not take the anchor down with it.
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            next.run(req).await
        }
    }
}

/// Where the tenant's aggregate cap sits among a SEP request's rate-limit checks.
const TENANT_CAP: usize = 0;

fn too_many(retry_after: Duration) -> Response {
    ApiError::TooManyRequests { retry_after_secs: retry_after.as_secs_f64().ceil() as u64 }.into_response()
}

/// Counts a 429 by cost class and by the bucket that said no.
fn refused(class: Class, bucket: &'static str) {
    metrics::counter!("mooring_rate_limited_total", "class" => class.name(), "bucket" => bucket).increment(1);
}
