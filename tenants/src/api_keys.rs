//! Admin API keys: 32 random bytes shown once as `mk_<hex>`, stored as a SHA-256 hash
//! (the key has full entropy, so a slow hash would add nothing), revocable, with a
//! last-used time.

use chrono::{Duration, Utc};
use mooring_entities::Writer;
use mooring_entities::api_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Error;

const PREFIX: &str = "mk_";

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub use api_key::Model as ApiKeyRecord;

/// Who a key speaks for, and so what its holder may see: the operator every tenant's
/// objects, a tenant only its own. Loaders that take a scope answer "not found" for
/// the rest, so nobody learns that another tenant's object exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    Operator,
    Tenant(Uuid),
}

impl KeyScope {
    /// Whether objects of `tenant_id` are visible in this scope.
    pub fn sees(self, tenant_id: Uuid) -> bool {
        match self {
            Self::Operator => true,
            Self::Tenant(own) => own == tenant_id,
        }
    }
}

/// What a tenant key may do. Each role includes the ones before it: `Read` queries and
/// subscribes; `Operate` also moves transactions and reviews customers; `Admin` also
/// changes configuration, senders, webhooks and keys. Operator keys are `Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Read,
    Operate,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Read, Role::Operate, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Operate => "operate",
            Role::Admin => "admin",
        }
    }

    /// The roles stored as text; what the key may do is the greatest of them. Text
    /// that names no role grants `Read` alone: an unreadable row never widens a key.
    pub fn granted(stored: &str) -> Role {
        stored
            .split(',')
            .filter_map(|r| Role::ALL.into_iter().find(|known| known.as_str() == r.trim()))
            .max()
            .unwrap_or(Role::Read)
    }

    /// Roles as stored: known ones, each once, in order.
    pub fn stored(roles: &[Role]) -> String {
        Role::ALL.into_iter().filter(|r| roles.contains(r)).map(Role::as_str).collect::<Vec<_>>().join(",")
    }

    /// The stored roles, parsed.
    pub fn list(stored: &str) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| stored.split(',').any(|s| s.trim() == r.as_str())).collect()
    }
}

/// Creates a key with `roles` (at least one; an operator key is always `Admin`);
/// returns its row and the key itself (never stored, never shown again).
pub async fn create(
    w: impl Into<Writer<'_>>,
    scope: KeyScope,
    name: &str,
    roles: &[Role],
) -> Result<(api_key::Model, String), Error> {
    let roles = match scope {
        KeyScope::Operator => vec![Role::Admin],
        KeyScope::Tenant(_) if roles.is_empty() => {
            return Err(Error::Invalid("a key needs at least one role".into()));
        }
        KeyScope::Tenant(_) => roles.to_vec(),
    };
    let w = w.into();
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).expect("operating system random source");
    let key = format!("{PREFIX}{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>());
    // A transaction, so the admin API's audit row commits with the key.
    let txn = w.begin().await?;
    let row = api_key::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(match scope {
            KeyScope::Operator => None,
            KeyScope::Tenant(t) => Some(t),
        }),
        name: Set(name.to_string()),
        key_hash: Set(hash(&key)),
        prefix: Set(key[..PREFIX.len() + 8].to_string()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        roles: Set(Role::stored(&roles)),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((row, key))
}

/// The scope of a presented key, if it is a live one. Records the use (at most once a
/// minute per key, to keep authentication read-mostly).
pub async fn verify(db: &DatabaseConnection, key: &str) -> Result<Option<KeyScope>, Error> {
    Ok(verify_key(db, key).await?.map(|k| k.scope))
}

/// A key that checked out: what it may see, and which key it is (for the audit log).
#[derive(Debug, Clone)]
pub struct VerifiedKey {
    pub scope: KeyScope,
    pub id: Uuid,
    pub name: String,
    /// What the key may do: the greatest of its roles.
    pub role: Role,
    /// Its roles as stored, for the audit log.
    pub roles: String,
}

pub async fn verify_key(db: &DatabaseConnection, key: &str) -> Result<Option<VerifiedKey>, Error> {
    if !key.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(row) = api_key::Entity::find().filter(api_key::Column::KeyHash.eq(hash(key))).one(db).await?
    else {
        return Ok(None);
    };
    if row.revoked_at.is_some() {
        return Ok(None);
    }
    let now = Utc::now();
    if row.last_used_at.is_none_or(|t| now - t > Duration::minutes(1)) {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    let scope = row.tenant_id.map_or(KeyScope::Operator, KeyScope::Tenant);
    let role = if scope == KeyScope::Operator { Role::Admin } else { Role::granted(&row.roles) };
    Ok(Some(VerifiedKey { scope, id: row.id, name: row.name, role, roles: row.roles }))
}

/// A live (not revoked) key by id, as [`verify_key`] would find it: for a console
/// session, which holds the key's id and never the key.
pub async fn live_by_id(db: &DatabaseConnection, id: Uuid) -> Result<Option<VerifiedKey>, Error> {
    let Some(row) = api_key::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
    if row.revoked_at.is_some() {
        return Ok(None);
    }
    let scope = row.tenant_id.map_or(KeyScope::Operator, KeyScope::Tenant);
    let role = if scope == KeyScope::Operator { Role::Admin } else { Role::granted(&row.roles) };
    Ok(Some(VerifiedKey { scope, id: row.id, name: row.name, role, roles: row.roles }))
}

/// The first `limit` keys of a scope, oldest first.
pub async fn list(db: &DatabaseConnection, scope: KeyScope, limit: u64) -> Result<Vec<ApiKeyRecord>, Error> {
    let query = api_key::Entity::find().order_by_asc(api_key::Column::CreatedAt);
    let query = match scope {
        KeyScope::Operator => query.filter(api_key::Column::TenantId.is_null()),
        KeyScope::Tenant(t) => query.filter(api_key::Column::TenantId.eq(t)),
    };
    Ok(query.limit(limit).all(db).await?)
}

/// Revokes a key of `scope`; `false` if there is no such key there.
pub async fn revoke(w: impl Into<Writer<'_>>, scope: KeyScope, id: Uuid) -> Result<bool, Error> {
    let w = w.into();
    let query = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null());
    let query = match scope {
        KeyScope::Operator => query.filter(api_key::Column::TenantId.is_null()),
        KeyScope::Tenant(t) => query.filter(api_key::Column::TenantId.eq(t)),
    };
    let txn = w.begin().await?;
    let revoked = query.exec(&txn).await?.rows_affected == 1;
    txn.commit().await?;
    Ok(revoked)
}

/// Revokes key `id` if `caller` may: the operator any key, a tenant its own. The
/// revoked key, or `None` if there is no such live key in the caller's sight.
pub async fn revoke_visible(
    w: impl Into<Writer<'_>>,
    caller: KeyScope,
    id: Uuid,
) -> Result<Option<ApiKeyRecord>, Error> {
    let w = w.into();
    let Some(row) = api_key::Entity::find_by_id(id).one(w.db).await? else { return Ok(None) };
    let scope = match (caller, row.tenant_id) {
        (KeyScope::Operator, None) => KeyScope::Operator,
        (KeyScope::Operator, Some(t)) => KeyScope::Tenant(t),
        (KeyScope::Tenant(own), Some(t)) if own == t => KeyScope::Tenant(t),
        _ => return Ok(None),
    };
    if !revoke(w.db, scope, id).await? {
        return Ok(None);
    }
    Ok(api_key::Entity::find_by_id(id).one(w.db).await?)
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn a_key_may_do_what_its_greatest_role_allows_and_garbage_grants_read() {
        assert_eq!(Role::granted("admin"), Role::Admin);
        assert_eq!(Role::granted("read,operate"), Role::Operate);
        assert_eq!(Role::granted(" read "), Role::Read);
        assert_eq!(Role::granted(""), Role::Read);
        assert_eq!(Role::granted("root,superuser"), Role::Read);
        assert_eq!(Role::stored(&[Role::Admin, Role::Read, Role::Admin]), "read,admin");
        assert_eq!(Role::list("operate,bogus,read"), [Role::Read, Role::Operate]);
        assert!(Role::Read < Role::Operate && Role::Operate < Role::Admin);
    }
}
