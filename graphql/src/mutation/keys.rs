//! Admin API keys a tenant (or the operator for it) creates and revokes.

use async_graphql::{Context, ID, Object, Result};
use mooring_tenants::api_keys::{self, KeyScope, Role};

use crate::enums::ApiKeyRole;

use crate::error::{from_tenants, not_found};
use crate::objects::{ApiKey, NewApiKey};
use crate::scope::{self};

#[derive(Default)]
pub struct KeysMutation;

#[Object]
impl KeysMutation {
    /// Creates an API key for the tenant (shown once).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "A name for people.")] name: String,
        #[graphql(desc = "What the key may do (default: ADMIN).")] roles: Option<Vec<ApiKeyRole>>,
    ) -> Result<NewApiKey> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let roles: Vec<Role> = roles.map_or(vec![Role::Admin], |r| r.into_iter().map(Role::from).collect());
        let (row, key) = api_keys::create(super::writer(ctx), KeyScope::Tenant(id), &name, &roles)
            .await
            .map_err(from_tenants)?;
        Ok(NewApiKey { api_key: row.into(), key })
    }

    /// Revokes an API key: it stops working at once.
    async fn revoke_api_key(&self, ctx: &Context<'_>, #[graphql(desc = "Key id.")] id: ID) -> Result<ApiKey> {
        let key_id = scope::parse_id(&id, "api key")?;
        let row = api_keys::revoke_visible(super::writer(ctx), scope::key_scope(ctx)?, key_id)
            .await
            .map_err(from_tenants)?
            .ok_or_else(|| not_found("api key"))?;
        Ok(row.into())
    }
}
