//! Who is calling, and API keys.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_tenants::api_keys::ApiKeyRecord;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CallerKind {
    /// A platform operator: sees every tenant.
    Operator,
    /// A tenant: sees only itself.
    Tenant,
}

/// Who the API key in use belongs to.
#[derive(SimpleObject)]
pub struct Me {
    /// Operator or tenant.
    pub kind: CallerKind,
    /// The tenant, for a tenant key.
    pub tenant_id: Option<ID>,
}

/// An admin API key (never the key itself).
#[derive(SimpleObject)]
pub struct ApiKey {
    /// Key id (to revoke it).
    pub id: ID,
    /// A name for people.
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for ApiKey {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: ID(k.id.to_string()),
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key: the only time the key itself is shown.
#[derive(SimpleObject)]
pub struct NewApiKey {
    /// The stored key's description.
    pub api_key: ApiKey,
    /// The bearer token. Store it now: it cannot be shown again.
    pub key: String,
}
