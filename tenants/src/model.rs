//! A tenant's configuration as the SEP endpoints use it: decoded, validated and ready,
//! so a request never parses a strkey or decrypts a seed.

use mooring_wire::FieldSpec;
use std::collections::HashSet;

use mooring_stellar::sep9::FieldType;
use mooring_stellar::sep38::Asset as Sep38Asset;
use mooring_stellar::{Amount, Keypair, Network, PublicKey};
use rust_decimal::Decimal;
use uuid::Uuid;

pub use mooring_entities::asset::Status as AssetStatus;
pub use mooring_entities::tenant::{ExpiredQuotePolicy, Status as TenantStatus};
pub use mooring_stellar::memo::MemoType;

#[derive(Debug)]
pub struct Tenant {
    pub id: Uuid,
    /// `id` as text, made once: request metrics label every request with it.
    pub id_text: std::sync::Arc<str>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub name: String,
    /// Lowercase, without port. The first is the primary domain.
    pub domains: Vec<String>,
    pub network: Network,
    pub horizon_url: String,
    /// An RPC an operator gave this tenant alone (`None`: the platform's, if any).
    pub rpc_url: Option<String>,
    pub signing_key: Keypair,
    pub jwt_secret: [u8; 32],
    /// The JWT secret under the previous master key, while rotating: tokens signed
    /// with it are still accepted (never issued).
    pub jwt_previous: Option<[u8; 32]>,
    /// Seals and opens the tenant's customer PII (see `pii`).
    pub data_key: std::sync::Arc<crate::pii::DataKey>,
    pub distribution_account: String,
    /// When the distribution account was configured: payments from then on are this
    /// tenant's, and a first watch catches up from here.
    pub watch_from: chrono::DateTime<chrono::Utc>,
    pub status: TenantStatus,
    /// Enabled approved sending anchors; the only accounts SEP-10 will authenticate.
    pub approved_senders: HashSet<PublicKey>,
    /// Testnet only, set by the operator: SEP-10 authenticates any account, so an anchor
    /// validator's fresh keys can run the SEP-10/12/31 checks before go-live.
    pub conformance_mode: bool,
    pub assets: Vec<Asset>,
    /// SEP-12 customer types, with the fields each asks for.
    pub customer_types: Vec<CustomerType>,
    pub org: Organization,
    /// How long a transaction waits for funds; `None`: the platform default.
    pub transaction_expiry_secs: Option<i64>,
    /// SEP-31 `/info` needs a SEP-10 token (default: public information).
    pub info_requires_auth: bool,
    /// Testnet: the sandbox is provisioned again after each testnet reset.
    pub testnet_auto_provision: bool,
    /// The operator's cap on all of the tenant's SEP requests together, as
    /// (per second, burst); `None`: the platform default.
    pub rate_limit: Option<(u32, u32)>,
    /// Currencies paid out off-chain (SEP-38 `iso4217:` assets).
    pub offchain_assets: Vec<OffchainAsset>,
    /// SEP-38 pairs this tenant quotes.
    pub corridors: Vec<Corridor>,
    pub expired_quote_policy: ExpiredQuotePolicy,
    /// Some webhook endpoint of the tenant was enabled when this snapshot was loaded.
    /// Creating or enabling one moves the config version, so `false` lets the hot path
    /// skip looking for endpoints to send `transaction.created` to; `true` (or an
    /// endpoint the platform disabled since) means the write looks them up as before.
    pub has_webhooks: bool,
    /// Responses made from this configuration alone, built on first use.
    pub derived: Derived,
}

/// Responses made from a tenant's configuration alone, built once. A tenant is rebuilt
/// whenever its configuration changes (`Directory::refresh`), so they never go stale.
#[derive(Debug, Default)]
pub struct Derived {
    /// The body of SEP-31 `GET /info`.
    pub sep31_info: std::sync::OnceLock<std::sync::Arc<[u8]>>,
}

#[derive(Debug, Clone, Default)]
pub struct Organization {
    pub name: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub logo: Option<String>,
    pub official_email: Option<String>,
    pub support_email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Asset {
    pub id: Uuid,
    pub code: String,
    pub issuer: String,
    pub status: AssetStatus,
    pub sep31_enabled: bool,
    pub min_amount: Option<Amount>,
    pub max_amount: Option<Amount>,
    pub fee_fixed: Amount,
    /// Percentage points: 1.0 = 1 %.
    pub fee_percent: Amount,
    pub memo_type: MemoType,
    pub sender_sep12_type: Option<String>,
    pub receiver_sep12_type: Option<String>,
    pub funding_methods: Vec<String>,
    pub anchor_asset_type: String,
    pub description: String,
    pub display_decimals: i32,
    pub fields: Vec<AssetField>,
    /// Fees by amount, ascending by `min_amount`; empty: the flat fees apply.
    pub fee_tiers: Vec<FeeTier>,
    /// SEP-31 transactions in it need a SEP-38 quote.
    pub quotes_required: bool,
}

/// From `min_amount` up (to the next tier), these fees replace the flat ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeTier {
    pub min_amount: Amount,
    pub fee_fixed: Amount,
    /// Percentage points.
    pub fee_percent: Amount,
}

impl FeeTier {
    /// The tier `amount` falls in, of `tiers` ascending by `min_amount`.
    pub fn covering(tiers: &[FeeTier], amount: Amount) -> Option<&FeeTier> {
        tiers.iter().rev().find(|t| t.min_amount <= amount)
    }
}

impl Asset {
    pub fn sep38(&self) -> Sep38Asset {
        Sep38Asset::Stellar { code: self.code.clone(), issuer: self.issuer.clone() }
    }

    /// The fixed and percentage fee for `amount`, and the tier they come from, if any.
    pub fn fee_terms(&self, amount: Amount) -> (Amount, Amount, Option<&FeeTier>) {
        match FeeTier::covering(&self.fee_tiers, amount) {
            Some(t) => (t.fee_fixed, t.fee_percent, Some(t)),
            None => (self.fee_fixed, self.fee_percent, None),
        }
    }
}

/// A currency the tenant pays out off-chain.
#[derive(Debug, Clone)]
pub struct OffchainAsset {
    pub id: Uuid,
    /// ISO 4217, e.g. `MXN`.
    pub code: String,
    pub decimals: u32,
    /// ISO 3166-1 alpha-2.
    pub country_codes: Vec<String>,
    pub delivery_methods: Vec<DeliveryMethod>,
}

impl OffchainAsset {
    pub fn sep38(&self) -> Sep38Asset {
        Sep38Asset::Iso4217(self.code.clone())
    }

    pub fn delivered_by(&self, method: &str) -> bool {
        self.delivery_methods.iter().any(|m| m.name == method)
    }

    /// Whether it is paid out in `country` (SEP-38's ISO 3166-1 alpha-2 or ISO 3166-2
    /// `MX-CMX`, whose country is the prefix); a currency naming no countries is paid
    /// out anywhere.
    pub fn paid_in(&self, country: &str) -> bool {
        self.country_codes.is_empty()
            || self.country_codes.iter().any(|c| {
                country == c || country.strip_prefix(c.as_str()).is_some_and(|rest| rest.starts_with('-'))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryMethod {
    pub name: String,
    pub description: String,
}

/// Where a corridor's market rate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateSource {
    /// Set over the admin API, true as of `as_of`.
    Manual { rate: Decimal, as_of: chrono::DateTime<chrono::Utc> },
    /// Polled from this URL by the platform (the last good value is kept in memory).
    Feed { url: String },
}

/// A pair the tenant quotes: its Stellar asset `sell` (what the sending anchor pays
/// in) for the off-chain currency `buy` (what the receiver gets).
#[derive(Debug, Clone)]
pub struct Corridor {
    pub id: Uuid,
    pub sell: Sep38Asset,
    pub buy: Sep38Asset,
    /// The buy asset's decimals (the sell asset's are 7: a Stellar amount).
    pub buy_decimals: u32,
    pub rate: RateSource,
    /// A rate older than this refuses firm quotes; `None`: never stale.
    pub max_rate_age: Option<chrono::Duration>,
    /// The anchor's margin off the market rate.
    pub spread_bps: u32,
    pub quote_lifetime: chrono::Duration,
    pub min_sell: Option<Amount>,
    pub max_sell: Option<Amount>,
    pub fee_fixed: Amount,
    /// Percentage points.
    pub fee_percent: Amount,
    /// By sell amount, ascending; empty: the flat fee.
    pub fee_tiers: Vec<FeeTier>,
    pub enabled: bool,
    /// The most of the buy asset unexpired firm quotes may promise at once (SEP-38's
    /// reserve); `None`: no limit.
    pub max_outstanding: Option<Amount>,
}

impl Corridor {
    /// The fee terms for a sell amount (a tier's, from its `min_amount` up).
    pub fn fee_terms(&self, sell: Amount) -> (Amount, Amount) {
        match FeeTier::covering(&self.fee_tiers, sell) {
            Some(t) => (t.fee_fixed, t.fee_percent),
            None => (self.fee_fixed, self.fee_percent),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AssetField {
    pub name: String,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct CustomerType {
    pub name: String,
    pub description: String,
    pub fields: Vec<CustomerField>,
}

#[derive(Debug, Clone)]
pub struct CustomerField {
    pub name: String,
    pub field_type: FieldType,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Vec<String>>,
}

impl AssetField {
    /// The SEP-31 `fields.transaction` entry.
    pub fn spec(&self) -> FieldSpec {
        FieldSpec::new(&self.description, self.optional, self.choices.as_deref())
    }
}

impl CustomerField {
    /// The SEP-12 `fields` entry: with its SEP-9 type.
    pub fn spec(&self) -> FieldSpec {
        FieldSpec::new(&self.description, self.optional, self.choices.as_deref())
            .typed(self.field_type.as_str())
    }
}

impl Tenant {
    pub fn customer_type(&self, name: &str) -> Option<&CustomerType> {
        self.customer_types.iter().find(|t| t.name == name)
    }

    /// The SEP-31 asset with this code (and issuer, when given).
    pub fn sep31_asset(&self, code: &str, issuer: Option<&str>) -> Option<&Asset> {
        self.assets
            .iter()
            .filter(|a| a.sep31_enabled && a.code == code)
            .find(|a| issuer.is_none_or(|i| i == a.issuer))
    }

    /// The off-chain currency with this ISO 4217 code.
    pub fn offchain_asset(&self, code: &str) -> Option<&OffchainAsset> {
        self.offchain_assets.iter().find(|a| a.code == code)
    }

    /// The enabled corridor from `sell` to `buy`.
    pub fn corridor(&self, sell: &Sep38Asset, buy: &Sep38Asset) -> Option<&Corridor> {
        self.corridors.iter().find(|c| c.enabled && &c.sell == sell && &c.buy == buy)
    }

    /// Whether SEP-38 is offered at all (and `ANCHOR_QUOTE_SERVER` published).
    pub fn quotes_offered(&self) -> bool {
        self.corridors.iter().any(|c| c.enabled)
    }

    pub fn serves_domain(&self, domain: &str) -> bool {
        let d = crate::host::normalize(domain);
        self.domains.contains(&d)
    }

    pub fn is_approved_sender(&self, account: &PublicKey) -> bool {
        self.approved_senders.contains(account) || (self.conformance_mode && !self.network.is_public())
    }
}
