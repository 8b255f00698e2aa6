use sea_orm::entity::prelude::*;

/// Where the shared payments stream of one Horizon resumes: the last processed
/// network-wide `paging_token`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stream_cursors")]
pub struct Model {
    /// The Horizon URL the stream follows.
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream: String,
    pub cursor: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
