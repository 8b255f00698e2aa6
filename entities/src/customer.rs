use sea_orm::entity::prelude::*;

/// A SEP-12 customer: owned by one tenant and one sending-anchor account (and memo).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The `G...` account of the sending anchor that registered the customer.
    pub sa_account: String,
    /// The SEP-10/SEP-12 memo distinguishing users of a shared account; "" for none.
    pub memo: String,
    /// The tenant's review decision (`ACCEPTED`, `REJECTED`), if any.
    pub review_status: Option<ReviewStatus>,
    pub message: Option<String>,
    pub callback_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The tenant's standing verdict on a customer as a whole. Acceptance is per field
/// (`customer_field::Status`); only a rejection applies to the customer itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ReviewStatus {
    /// Final: SEP-12 reports REJECTED for every type.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}
