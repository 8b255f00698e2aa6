use sea_orm::entity::prelude::*;

/// One KYC value a customer provided: text in `value`, files in `data`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_fields")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub value: Option<String>,
    pub data: Option<Vec<u8>>,
    pub content_type: Option<String>,
    /// `ACCEPTED`, `PROCESSING`, `REJECTED` or `VERIFICATION_REQUIRED`.
    pub status: String,
    pub error: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
