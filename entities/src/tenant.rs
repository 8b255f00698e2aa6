use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub network_passphrase: String,
    pub horizon_url: String,
    /// A Stellar RPC an operator gave this tenant; NULL: the platform's for its network
    /// (if any).
    pub rpc_url: Option<String>,
    pub signing_public_key: String,
    /// AES-256-GCM under the platform master key; see `mooring_tenants::crypto`.
    pub signing_seed_ciphertext: String,
    pub distribution_account: String,
    /// `active` or `suspended`.
    pub status: Status,
    pub org_name: Option<String>,
    pub org_url: Option<String>,
    pub org_description: Option<String>,
    pub org_logo: Option<String>,
    pub org_official_email: Option<String>,
    pub org_support_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// How long a transaction waits for funds; `None`: the platform default.
    pub transaction_expiry_secs: Option<i64>,
    /// When the distribution account (or Horizon) was configured: a first watch
    /// catches up from here. `None` only on rows older than the column (then
    /// `created_at`).
    pub watch_from: Option<DateTimeUtc>,
    /// SEP-31 `/info` answers only with a valid SEP-10 token (default: public).
    pub info_requires_auth: bool,
    /// The operator's cap on all of this tenant's SEP requests; NULL: platform default.
    pub rate_limit_per_second: Option<i32>,
    pub rate_limit_burst: Option<i32>,
    /// The config version of this tenant's last configuration write.
    pub config_version: i64,
    /// The tenant's data key for customer PII, sealed under the master key.
    pub data_key: Option<String>,
    /// SEP-10 authenticates any account (testnet only; set by the operator).
    pub conformance_mode: bool,
    /// What the watcher does with a payment that arrives after its quote expired.
    pub expired_quote_policy: ExpiredQuotePolicy,
    /// Provision the testnet sandbox again after a testnet reset.
    pub testnet_auto_provision: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::tenant_domain::Entity")]
    Domains,
    #[sea_orm(has_many = "super::approved_sender::Entity")]
    Senders,
    #[sea_orm(has_many = "super::asset::Entity")]
    Assets,
}

impl Related<super::tenant_domain::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Domains.def()
    }
}

impl Related<super::approved_sender::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Senders.def()
    }
}

impl Related<super::asset::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assets.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Whether a tenant's SEP endpoints answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Status {
    #[sea_orm(string_value = "active")]
    Active,
    /// Answers 503 everywhere; its watchers and callbacks stop.
    #[sea_orm(string_value = "suspended")]
    Suspended,
    /// Offboarded: its data key is destroyed and its rows are being deleted. Never
    /// served, never changed again.
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

/// What happens to a payment that arrives after the SEP-38 quote behind its
/// transaction expired (the ledger's close time is past `expires_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ExpiredQuotePolicy {
    /// Pay out at the quoted amount anyway.
    #[sea_orm(string_value = "honour")]
    Honour,
    /// Take the funds (`pending_receiver`) but hold the payout until the tenant
    /// releases it or refunds.
    #[sea_orm(string_value = "hold")]
    Hold,
    /// Move the transaction to `error`; the funds are refunded.
    #[sea_orm(string_value = "error")]
    Error,
}
