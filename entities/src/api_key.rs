use sea_orm::entity::prelude::*;

/// An admin API key. Only its SHA-256 hash is stored; the key is shown once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The tenant the key acts for; `None` for an operator key.
    pub tenant_id: Option<Uuid>,
    pub name: String,
    pub key_hash: String,
    /// The key's first characters, to tell keys apart in lists.
    pub prefix: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// What the key may do: `read`, `operate`, `admin`, comma-separated.
    pub roles: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
