//! SEP-10 JWTs: minting (at the end of the challenge exchange) next to checking (the
//! extractor every protected SEP endpoint uses).

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mooring_stellar::ClientAccount;
use serde::{Deserialize, Serialize};

use super::TenantCtx;
use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The tenant's WEB_AUTH_ENDPOINT.
    pub iss: String,
    /// `G...`, `G...:memo` or `M...`.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// The challenge transaction hash, hex.
    pub jti: String,
    pub home_domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_domain: Option<String>,
}

pub fn mint(ctx: &TenantCtx, claims: &Claims) -> Result<String, ApiError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&ctx.tenant.jwt_secret),
    )
    .map_err(|e| ApiError::Internal(e.into()))
}

/// An authenticated sending anchor at this request's tenant. Rejects (403, as SEP-31
/// prescribes) a missing or malformed token, one signed for another tenant, an expired
/// one, and one whose account has since been removed from the approved senders.
#[derive(Debug, Clone)]
pub struct SepAuth {
    pub client: ClientAccount,
    pub claims: Claims,
}

impl SepAuth {
    /// The sending anchor this token speaks for at `ctx`'s tenant: its `G...` key, and
    /// the memo or muxed id, if any, of the one user of it the token stands for.
    pub fn owner(&self, ctx: &TenantCtx) -> mooring_anchor::Owner {
        let memo = match self.client {
            ClientAccount::Account { memo, .. } => memo,
            ClientAccount::Muxed { id, .. } => Some(id),
        };
        mooring_anchor::Owner {
            tenant_id: ctx.tenant.id,
            sa_account: self.client.key().to_string(),
            memo: memo.map(|m| m.to_string()),
        }
    }
}

/// For endpoints a token is optional on (`/info`): no `Authorization` header is `None`;
/// a header with a bad token is still refused.
impl<S: Send + Sync> OptionalFromRequestParts<S> for SepAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<S>>::from_request_parts(parts, state).await.map(Some)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SepAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ctx = TenantCtx::from_request_parts(parts, state).await?;
        let forbidden = |why: &str| {
            tracing::debug!(why, "SEP-10 token refused");
            ApiError::Forbidden("missing or invalid authentication token".into())
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .ok_or_else(|| forbidden("no bearer token"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        let decode = |secret: &[u8; 32]| {
            jsonwebtoken::decode::<Claims>(token.trim(), &DecodingKey::from_secret(secret), &validation)
        };
        // During a master-key rotation a token may be signed under the previous key.
        let data = decode(&ctx.tenant.jwt_secret)
            .or_else(|e| ctx.tenant.jwt_previous.as_ref().map_or(Err(e), decode))
            .map_err(|_| forbidden("bad signature or expired"))?;
        let claims = data.claims;
        if !ctx.tenant.serves_domain(&claims.home_domain) {
            return Err(forbidden("home_domain is not this tenant's"));
        }
        let (account, memo) = match claims.sub.split_once(':') {
            Some((a, m)) => (a, Some(m)),
            None => (claims.sub.as_str(), None),
        };
        let client = ClientAccount::parse(account, memo).map_err(|_| forbidden("bad sub"))?;
        if !ctx.tenant.is_approved_sender(&client.key()) {
            return Err(ApiError::Forbidden("this account is not an approved sending anchor".into()));
        }
        Ok(Self { client, claims })
    }
}
