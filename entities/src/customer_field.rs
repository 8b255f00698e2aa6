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
    /// Where the field stands in review.
    pub status: Status,
    pub error: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where one provided field stands (SEP-12 `provided_fields[*].status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Status {
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Waiting for the tenant's review.
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    /// Refused with an `error` the sending anchor sees; the field must be sent again.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Processing => "PROCESSING",
            Self::Rejected => "REJECTED",
        }
    }
}
