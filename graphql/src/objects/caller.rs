//! Who is calling, and API keys.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_tenants::api_keys::{ApiKeyRecord, Role};

use crate::enums::ApiKeyRole;

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
    /// What the key in use may do (the operator: ADMIN).
    pub roles: Vec<ApiKeyRole>,
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
    /// What the key may do.
    pub roles: Vec<ApiKeyRole>,
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
            roles: Role::list(&k.roles).into_iter().map(ApiKeyRole::from).collect(),
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

/// One admin API mutation, as the audit log keeps it.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// Entry id.
    pub id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// The tenant acted on.
    pub tenant_id: Option<ID>,
    /// `operator_token` or `api_key`.
    pub actor: String,
    /// The API key used, by id and name (none: the operator token).
    pub key_id: Option<ID>,
    /// The API key's name.
    pub key_name: Option<String>,
    /// The API key's roles when it was used.
    pub key_roles: Vec<ApiKeyRole>,
    /// The mutation.
    pub mutation: String,
    /// What it acted on (its `id` or `tenantId` argument).
    pub target_id: Option<String>,
    /// Its arguments as JSON, every value that could be a secret or PII redacted.
    pub summary: String,
    /// `ok`, or `error` (refused or failed: nothing changed).
    pub outcome: String,
    /// The request's id (`X-Request-Id` when the proxy set one).
    pub request_id: String,
}

impl From<mooring_tenants::audit::Entry> for AuditEntry {
    fn from(e: mooring_tenants::audit::Entry) -> Self {
        Self {
            id: ID(e.id.to_string()),
            at: e.at,
            tenant_id: e.tenant_id.map(|t| ID(t.to_string())),
            actor: e.actor,
            key_id: e.key_id.map(|k| ID(k.to_string())),
            key_name: e.key_name,
            key_roles: e
                .key_roles
                .as_deref()
                .map(Role::list)
                .unwrap_or_default()
                .into_iter()
                .map(ApiKeyRole::from)
                .collect(),
            mutation: e.mutation,
            target_id: e.target_id,
            summary: e.summary,
            outcome: e.outcome,
            request_id: e.request_id,
        }
    }
}
