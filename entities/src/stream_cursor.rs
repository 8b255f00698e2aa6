use sea_orm::entity::prelude::*;

/// Where the shared payments stream of one Horizon or RPC resumes: the last processed
/// network-wide `paging_token` (Horizon) or event cursor (RPC, key `rpc:{url}`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stream_cursors")]
pub struct Model {
    /// The Horizon URL the stream follows, or `rpc:` and the RPC URL.
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream: String,
    pub cursor: String,
    pub updated_at: DateTimeUtc,
    /// The network epoch followed: bumped at each testnet reset. RPC event ids (and
    /// Horizon operation ids) repeat after one, so a payment's identity includes it.
    pub epoch: i32,
    /// The last ledger checked for a reset: its sequence and hash.
    pub ledger: Option<i64>,
    pub ledger_hash: Option<String>,
    pub resets: i32,
    pub last_reset_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
