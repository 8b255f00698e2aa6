//! SEP-10 web authentication: `GET /auth` issues a challenge, `POST /auth` exchanges a
//! signed one for a JWT. Only the tenant's approved sending anchors get that far, and
//! each challenge buys at most one token.

use mooring_tenants::ledger_source::Source;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use mooring_stellar::challenge::{self, ChallengeSpec, Expectations, Signer};
use mooring_stellar::{ClientAccount, PublicKey};
use mooring_wire::sep10::{ChallengeQuery, ChallengeResponse, TokenRequest, TokenResponse};

use super::TenantCtx;
use super::auth::{self, Claims};
use super::extract::{SepForm, SepQuery};
use crate::client_domain::ClientDomainError;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn nonce_key(state: &AppState, ctx: &TenantCtx, hash: &[u8; 32]) -> String {
    state.redis_key(&["sep10", &ctx.tenant.id.to_string(), &hex::encode(hash)])
}

fn require_approved(ctx: &TenantCtx, account: &PublicKey) -> ApiResult<()> {
    if ctx.tenant.is_approved_sender(account) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("{account} is not an approved sending anchor of this anchor")))
    }
}

async fn get_challenge(
    State(state): State<AppState>,
    ctx: TenantCtx,
    SepQuery(q): SepQuery<ChallengeQuery>,
) -> ApiResult<Json<ChallengeResponse>> {
    let account = q.account.as_deref().ok_or_else(|| ApiError::bad_request("account is required"))?;
    let client =
        ClientAccount::parse(account, q.memo.as_deref()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let home_domain = match q.home_domain.as_deref() {
        Some(d) if ctx.tenant.serves_domain(d) => d.to_ascii_lowercase(),
        Some(d) => return Err(ApiError::bad_request(format!("home_domain {d:?} is not served here"))),
        None => ctx.authority.clone(),
    };
    require_approved(&ctx, &client.key())?;

    let client_domain = match q.client_domain.as_deref() {
        None => None,
        Some(domain) => {
            let key = state.client_domains.signing_key(domain).await.map_err(|e| match e {
                ClientDomainError::Busy => ApiError::Unavailable(e.to_string()),
                other => ApiError::bad_request(other.to_string()),
            })?;
            Some((domain.to_ascii_lowercase(), key))
        }
    };

    let tenant = &ctx.tenant;
    let issued = challenge::build(&ChallengeSpec {
        server: &tenant.signing_key,
        network: &tenant.network,
        client,
        home_domain: &home_domain,
        web_auth_domain: &ctx.authority,
        client_domain: client_domain.as_ref().map(|(d, k)| (d.as_str(), *k)),
        now: now(),
    })
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let ttl = Duration::from_secs(challenge::CHALLENGE_TTL_SECS);
    state
        .nonces
        .issue(&nonce_key(&state, &ctx, &issued.hash), ttl)
        .await
        .map_err(|e| ApiError::Unavailable(format!("challenge store unavailable: {}", e.0)))?;
    metrics::counter!("mooring_sep10_challenges_total", "tenant" => ctx.tenant.id.to_string()).increment(1);
    Ok(Json(ChallengeResponse {
        transaction: issued.xdr,
        network_passphrase: tenant.network.passphrase().to_string(),
    }))
}

/// The token exchange, counted by outcome (`issued`, or why not: `400`, `403`, `503`).
async fn post_challenge(
    State(state): State<AppState>,
    ctx: TenantCtx,
    SepForm(body): SepForm<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let tenant = ctx.tenant.id.to_string();
    let result = exchange(state, ctx, body).await;
    let outcome = match &result {
        Ok(_) => "issued".to_string(),
        Err(e) => e.status().as_u16().to_string(),
    };
    metrics::counter!("mooring_sep10_tokens_total", "tenant" => tenant, "outcome" => outcome).increment(1);
    result
}

/// The signed challenge (JSON or form body) for a token.
async fn exchange(state: AppState, ctx: TenantCtx, body: TokenRequest) -> ApiResult<Json<TokenResponse>> {
    let xdr = body.transaction.ok_or_else(|| ApiError::bad_request("transaction is required"))?;
    let tenant = &ctx.tenant;
    let now = now();
    let read = challenge::read(
        &xdr,
        &Expectations {
            server: tenant.signing_key.public_key(),
            network: &tenant.network,
            home_domain_ok: &|d| tenant.serves_domain(d),
            web_auth_domain: &ctx.authority,
            now,
        },
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let account = read.client.key();
    require_approved(&ctx, &account)?;

    let looked_up = match state.ledgers.source(tenant) {
        Source::Rpc { url, .. } => {
            state.rpc.account_signers_cached(&url, &account).await.map_err(|e| ("RPC", e.to_string()))
        }
        Source::Horizon { url } => {
            state.horizon.account_signers_cached(&url, &account).await.map_err(|e| ("Horizon", e.to_string()))
        }
    };
    let (signers, threshold) = match looked_up {
        Ok(Some(info)) => (info.signers, info.med_threshold),
        // An account not yet on the ledger can only prove control with its master key.
        Ok(None) => (vec![Signer { key: account, weight: 1 }], 1),
        Err((source, e)) => {
            tracing::warn!(error = %e, "{source} account look-up failed");
            return Err(ApiError::Unavailable(format!("cannot verify signers: {source} is unavailable")));
        }
    };
    read.verify_signers(&signers, threshold).map_err(|e| ApiError::bad_request(e.to_string()))?;

    // Last, so that only a fully valid exchange burns the challenge.
    let fresh = state
        .nonces
        .consume(&nonce_key(&state, &ctx, &read.hash))
        .await
        .map_err(|e| ApiError::Unavailable(format!("challenge store unavailable: {}", e.0)))?;
    if !fresh {
        return Err(ApiError::bad_request("challenge was already used, or was not issued here"));
    }

    let claims = Claims {
        iss: ctx.web_auth_endpoint(),
        sub: read.client.to_string(),
        iat: now,
        exp: now + state.cfg.jwt_ttl_secs.as_secs(),
        jti: hex::encode(read.hash),
        home_domain: read.home_domain.clone(),
        client_domain: read.client_domain.map(|(d, _)| d),
    };
    let token = auth::mint(&ctx, &claims)?;
    if !ctx.tenant.approved_senders.contains(&read.client.key()) {
        // Only conformance mode lets an unapproved account this far: say so, loudly.
        tracing::warn!(tenant = %ctx.tenant.id, account = %read.client, "CONFORMANCE MODE: token issued to an account that is not an approved sending anchor");
    }
    Ok(Json(TokenResponse { token }))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/auth", get(get_challenge).post(post_challenge))
}
