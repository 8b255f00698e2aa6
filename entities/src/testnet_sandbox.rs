use sea_orm::entity::prelude::*;

/// A testnet tenant's sandbox: what provisioning created for it, and how far it got.
/// Every seed is sealed under the master key, bound to the tenant and its role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "testnet_sandboxes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub asset_code: String,
    pub issuer_seed: String,
    /// NULL when the tenant brought its own distribution account (then Mooring cannot
    /// sign for it and only checks it).
    pub distribution_seed: Option<String>,
    pub sender_seed: String,
    /// The test sending anchor's secret is shown once, in the first answer.
    pub sender_secret_shown: bool,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// The last run's steps, JSON (`[{name, done, message}]`).
    pub steps: String,
    /// The envelope submitted and not yet known to have landed or died, JSON.
    pub pending: Option<String>,
    pub provisioned_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
