use sea_orm::entity::prelude::*;

/// A SEP-9 (or custom) field a customer type requires or accepts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_type_fields")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_type_id: Uuid,
    pub name: String,
    /// `string`, `binary`, `number` or `date`.
    pub field_type: String,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
