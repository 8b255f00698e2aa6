//! A tenant and its configuration as the admin API shows it.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use mooring_anchor::transactions;
use mooring_tenants::Tenant;
use mooring_tenants::admin::Sender;

use super::fee_tier::FeeTierObj;
use super::quote::{CorridorObj, OffchainAssetObj, QuoteObj};
use crate::enums::{ExpiredQuotePolicy, MemoType, TenantStatus, TransactionStatus};
use crate::error::{from_anchor, from_tenants};
use crate::scope::core;

/// Transactions in one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// A SEP-31 status.
    pub status: TransactionStatus,
    /// How many of the tenant's transactions are in it.
    pub count: i64,
}

/// Where a tenant's view of the ledger comes from.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum LedgerSource {
    /// Horizon (deprecated by its maintainers; kept for networks without an RPC).
    Horizon,
    /// Stellar RPC: CAP-67 asset events, smart-wallet payments included.
    Rpc,
}

/// Ledgers whose payments to the tenant could not be read.
#[derive(SimpleObject)]
pub struct LedgerGap {
    /// First ledger not read.
    pub from_ledger: i64,
    /// Last ledger not read.
    pub to_ledger: i64,
    /// When the watcher found it.
    pub detected_at: chrono::DateTime<chrono::Utc>,
}

/// A hosted anchor business.
pub struct TenantObj(pub Arc<Tenant>);

#[Object(name = "Tenant")]
impl TenantObj {
    /// Tenant id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Domains served (the first is the primary).
    async fn domains(&self) -> &[String] {
        &self.0.domains
    }
    /// Whether its SEP endpoints answer.
    async fn status(&self) -> TenantStatus {
        self.0.status.into()
    }
    /// The Stellar network passphrase.
    async fn network_passphrase(&self) -> &str {
        self.0.network.passphrase()
    }
    /// Horizon used to verify signers and watch payments (with RPC: for history older
    /// than RPC keeps).
    async fn horizon_url(&self) -> &str {
        &self.0.horizon_url
    }
    /// A Stellar RPC an operator gave this tenant (null: the platform's, if any).
    async fn rpc_url(&self) -> Option<&str> {
        self.0.rpc_url.as_deref()
    }
    /// Where payments and SEP-10 signers are read from.
    async fn ledger_source(&self, ctx: &Context<'_>) -> LedgerSource {
        if core(ctx).ledgers.source(&self.0).is_rpc() { LedgerSource::Rpc } else { LedgerSource::Horizon }
    }
    /// Ledgers whose payments could not be read (RPC no longer kept them and no
    /// Horizon caught them up); null when none is open.
    #[graphql(complexity = "10 + child_complexity")]
    async fn ledger_gap(&self, ctx: &Context<'_>) -> Result<Option<LedgerGap>> {
        let gap = mooring_anchor::ledger::open_gap(&core(ctx).db, self.0.id).await.map_err(from_anchor)?;
        Ok(gap.map(|g| LedgerGap {
            from_ledger: g.from_ledger,
            to_ledger: g.to_ledger,
            detected_at: g.detected_at,
        }))
    }
    /// Testnet: the sandbox is provisioned again after each testnet reset.
    async fn testnet_auto_provision(&self) -> bool {
        self.0.testnet_auto_provision
    }
    /// The testnet sandbox (null until `provisionTestnet` first ran, or on mainnet).
    #[graphql(complexity = "10 + child_complexity")]
    async fn testnet_sandbox(&self, ctx: &Context<'_>) -> Result<Option<super::TestnetSandbox>> {
        let record =
            mooring_tenants::sandbox::record(&core(ctx).db, self.0.id).await.map_err(from_tenants)?;
        Ok(record.map(Into::into))
    }
    /// The latest self-test reports, newest first.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 50)")]
    async fn self_tests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 50).", default = 10)] first: u64,
    ) -> Result<Vec<super::SelfTestReport>> {
        let rows = mooring_tenants::self_tests::latest(&core(ctx).db, self.0.id, first.min(50))
            .await
            .map_err(from_tenants)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
    /// The SEP-10 SIGNING_KEY (public; the seed never leaves the server).
    async fn signing_key(&self) -> String {
        self.0.signing_key.public_key().to_string()
    }
    /// Where sending anchors pay.
    async fn distribution_account(&self) -> &str {
        &self.0.distribution_account
    }
    /// Seconds a transaction waits for funds before it expires (null: platform default).
    async fn transaction_expiry_secs(&self) -> Option<i64> {
        self.0.transaction_expiry_secs
    }
    /// Whether SEP-31 /info needs a SEP-10 token.
    async fn info_requires_auth(&self) -> bool {
        self.0.info_requires_auth
    }
    /// Conformance mode (testnet only, set by the operator): SEP-10 authenticates any
    /// account, for an anchor validator's checks before go-live.
    async fn conformance_mode(&self) -> bool {
        self.0.conformance_mode
    }
    /// The operator's cap on all of the tenant's SEP requests per second (null: the
    /// platform default).
    async fn rate_limit_per_second(&self) -> Option<u32> {
        self.0.rate_limit.map(|l| l.0)
    }
    /// The burst that goes with `rateLimitPerSecond`.
    async fn rate_limit_burst(&self) -> Option<u32> {
        self.0.rate_limit.map(|l| l.1)
    }
    /// ORG_NAME in stellar.toml.
    async fn org_name(&self) -> Option<&str> {
        self.0.org.name.as_deref()
    }
    /// ORG_URL in stellar.toml.
    async fn org_url(&self) -> Option<&str> {
        self.0.org.url.as_deref()
    }
    /// ORG_DESCRIPTION in stellar.toml.
    async fn org_description(&self) -> Option<&str> {
        self.0.org.description.as_deref()
    }
    /// Assets received through SEP-31.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn assets(&self) -> Vec<AssetObj> {
        self.0.assets.iter().cloned().map(AssetObj).collect()
    }
    /// SEP-12 customer types and the fields each asks for.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn customer_types(&self) -> Vec<CustomerTypeObj> {
        self.0.customer_types.iter().cloned().map(CustomerTypeObj).collect()
    }
    /// Currencies paid out off-chain (SEP-38).
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn offchain_assets(&self) -> Vec<OffchainAssetObj> {
        self.0.offchain_assets.iter().cloned().map(OffchainAssetObj).collect()
    }
    /// SEP-38 corridors, with the rate each quotes on now.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn corridors(&self) -> Vec<CorridorObj> {
        self.0.corridors.iter().cloned().map(CorridorObj).collect()
    }
    /// What happens to a payment that arrives after its quote expired.
    async fn expired_quote_policy(&self) -> ExpiredQuotePolicy {
        self.0.expired_quote_policy.into()
    }
    /// The latest firm quotes given, newest first.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 100)")]
    async fn quotes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100).", default = 20)] first: u64,
    ) -> Result<Vec<QuoteObj>> {
        let rows = mooring_anchor::quotes::list(&core(ctx).db, self.0.id, first.min(100))
            .await
            .map_err(from_anchor)?;
        Ok(rows.into_iter().map(QuoteObj).collect())
    }
    /// Approved sending anchors, enabled or not.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 1000)")]
    async fn senders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 1000).", default = 100)] first: u64,
    ) -> Result<Vec<SenderObj>> {
        let rows = mooring_tenants::admin::senders(&core(ctx).db, self.0.id, first.min(1000))
            .await
            .map_err(from_tenants)?;
        Ok(rows.into_iter().map(SenderObj).collect())
    }
    /// Transactions per status.
    #[graphql(complexity = "crate::cost::rows(child_complexity, 20, 20)")]
    async fn transaction_counts(&self, ctx: &Context<'_>) -> Result<Vec<StatusCount>> {
        let counts = transactions::count_by_status(&core(ctx).db, self.0.id).await.map_err(from_anchor)?;
        Ok(counts.into_iter().map(|(status, count)| StatusCount { status: status.into(), count }).collect())
    }
}

/// A SEP-31 asset and its terms.
pub struct AssetObj(pub mooring_tenants::Asset);

#[Object(name = "Asset")]
impl AssetObj {
    /// Asset code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Issuer account.
    async fn issuer(&self) -> &str {
        &self.0.issuer
    }
    /// Offered through SEP-31.
    async fn enabled(&self) -> bool {
        self.0.sep31_enabled
    }
    /// Smallest amount accepted.
    async fn min_amount(&self) -> Option<String> {
        self.0.min_amount.map(|a| a.to_decimal().to_string())
    }
    /// Largest amount accepted.
    async fn max_amount(&self) -> Option<String> {
        self.0.max_amount.map(|a| a.to_decimal().to_string())
    }
    /// Fixed fee, in units of the asset.
    async fn fee_fixed(&self) -> String {
        self.0.fee_fixed.to_decimal().to_string()
    }
    /// Percentage fee, in percentage points.
    async fn fee_percent(&self) -> String {
        self.0.fee_percent.to_decimal().to_string()
    }
    /// Fees by amount (empty: the flat fees apply to every amount).
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn fee_tiers(&self) -> Vec<FeeTierObj> {
        self.0.fee_tiers.iter().map(|t| FeeTierObj::from(*t)).collect()
    }
    /// SEP-31 transactions in it need a SEP-38 quote.
    async fn quotes_required(&self) -> bool {
        self.0.quotes_required
    }
    /// Memo type issued for payments.
    async fn memo_type(&self) -> MemoType {
        self.0.memo_type.into()
    }
    /// SEP-12 type required of senders.
    async fn sender_sep12_type(&self) -> Option<&str> {
        self.0.sender_sep12_type.as_deref()
    }
    /// SEP-12 type required of receivers.
    async fn receiver_sep12_type(&self) -> Option<&str> {
        self.0.receiver_sep12_type.as_deref()
    }
    /// Payout methods offered.
    async fn funding_methods(&self) -> &[String] {
        &self.0.funding_methods
    }
    /// Transaction fields required.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn fields(&self) -> Vec<FieldSpec> {
        self.0
            .fields
            .iter()
            .map(|f| FieldSpec::new(&f.name, "string", &f.description, f.optional, &f.choices))
            .collect()
    }
}

/// A field the tenant asks for.
#[derive(SimpleObject)]
pub struct FieldSpec {
    /// Field name (SEP-9 for customer fields).
    pub name: String,
    /// string, binary, number or date.
    pub field_type: String,
    /// What to enter.
    pub description: String,
    /// May be left out.
    pub optional: bool,
    /// Allowed values, if restricted.
    pub choices: Option<Vec<String>>,
}

impl FieldSpec {
    fn new(
        name: &str,
        field_type: &str,
        description: &str,
        optional: bool,
        choices: &Option<Vec<String>>,
    ) -> Self {
        Self {
            name: name.into(),
            field_type: field_type.into(),
            description: description.into(),
            optional,
            choices: choices.clone(),
        }
    }
}

/// A SEP-12 customer type.
pub struct CustomerTypeObj(pub mooring_tenants::CustomerType);

#[Object(name = "CustomerType")]
impl CustomerTypeObj {
    /// Type name, e.g. sep31-sender.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Shown to sending anchors in /info.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Fields the type asks for.
    #[graphql(complexity = "crate::cost::config(child_complexity)")]
    async fn fields(&self) -> Vec<FieldSpec> {
        let spec = |f: &mooring_tenants::CustomerField| {
            FieldSpec::new(&f.name, f.field_type.as_str(), &f.description, f.optional, &f.choices)
        };
        self.0.fields.iter().map(spec).collect()
    }
}

/// An approved sending anchor.
pub struct SenderObj(pub Sender);

#[Object(name = "Sender")]
impl SenderObj {
    /// Its Stellar account.
    async fn account(&self) -> &str {
        &self.0.account
    }
    /// A name for people.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether it may authenticate now.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
}
