use sea_orm::entity::prelude::*;

/// One self-test run against a tenant's public endpoints.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_tests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub passed: bool,
    /// JSON: `[{name, passed, message, request, response}]`.
    pub steps: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
