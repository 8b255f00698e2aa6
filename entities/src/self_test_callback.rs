use sea_orm::entity::prelude::*;

/// The SEP-31 callback a self-test run waits for. The run makes the row; the receiver
/// (`/.mooring/selftest-callback/{token}`) fills it once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_test_callbacks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: Uuid,
    pub tenant_id: Uuid,
    pub created_at: DateTimeUtc,
    pub received_at: Option<DateTimeUtc>,
    /// The `Signature` header as received.
    pub signature: Option<String>,
    /// The `Host` it was sent to (part of what is signed).
    pub host: Option<String>,
    pub body: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
