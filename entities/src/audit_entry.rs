use sea_orm::entity::prelude::*;

/// One admin API mutation: who, on what, with which (redacted) arguments, and how it
/// ended. Written in the mutation's own database transaction where it has one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// The tenant acted on (none: platform-wide, e.g. an operator key).
    pub tenant_id: Option<Uuid>,
    /// `operator_token` or `api_key`.
    pub actor: String,
    pub key_id: Option<Uuid>,
    pub key_name: Option<String>,
    /// The key's roles, as it held them (`read`, `operate`, `admin`).
    pub key_roles: Option<String>,
    /// The GraphQL mutation's name.
    pub mutation: String,
    pub target_id: Option<String>,
    /// JSON: the arguments, with every value not known to be harmless redacted.
    pub summary: String,
    /// `ok` or `error`.
    pub outcome: String,
    pub request_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
