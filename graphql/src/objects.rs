//! Output types. Amounts are decimal strings (never floats); times are UTC.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_anchor::payments::Payment;
use mooring_anchor::transactions::{Event as TransactionEvent, Transaction};
use mooring_anchor::{customers, payments, refunds, transactions};
use mooring_stellar::Amount;
use mooring_tenants::Tenant;
use mooring_tenants::admin::Sender;
use mooring_tenants::api_keys::ApiKeyRecord;

use crate::enums::{CustomerStatus, FieldStatus, MemoType, PaymentOutcome, TenantStatus, TransactionStatus};
use crate::error::{from_anchor, from_tenants};
use crate::scope::core;

fn amount(v: i64) -> String {
    Amount(v).to_decimal().to_string()
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CallerKind {
    /// A platform operator: sees every tenant.
    Operator,
    /// A tenant: sees only itself.
    Tenant,
}

/// Who the API key in use belongs to.
#[derive(SimpleObject)]
pub struct Me {
    /// Operator or tenant.
    pub kind: CallerKind,
    /// The tenant, for a tenant key.
    pub tenant_id: Option<ID>,
}

/// Transactions in one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// A SEP-31 status.
    pub status: TransactionStatus,
    /// How many of the tenant's transactions are in it.
    pub count: i64,
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
    /// Horizon used to verify signers and watch payments.
    async fn horizon_url(&self) -> &str {
        &self.0.horizon_url
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
    async fn assets(&self) -> Vec<AssetObj> {
        self.0.assets.iter().cloned().map(AssetObj).collect()
    }
    /// SEP-12 customer types and the fields each asks for.
    async fn customer_types(&self) -> Vec<CustomerTypeObj> {
        self.0.customer_types.iter().cloned().map(CustomerTypeObj).collect()
    }
    /// Approved sending anchors, enabled or not.
    async fn senders(&self, ctx: &Context<'_>) -> Result<Vec<SenderObj>> {
        let rows = mooring_tenants::admin::senders(&core(ctx).db, self.0.id).await.map_err(from_tenants)?;
        Ok(rows.into_iter().map(SenderObj).collect())
    }
    /// Transactions per status.
    #[graphql(complexity = 20)]
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
    async fn fee_tiers(&self) -> Vec<FeeTierObj> {
        self.0
            .fee_tiers
            .iter()
            .map(|t| FeeTierObj {
                min_amount: t.min_amount.to_decimal().to_string(),
                fee_fixed: t.fee_fixed.to_decimal().to_string(),
                fee_percent: t.fee_percent.to_decimal().to_string(),
            })
            .collect()
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
    async fn fields(&self) -> Vec<FieldSpec> {
        self.0
            .fields
            .iter()
            .map(|f| FieldSpec::new(&f.name, "string", &f.description, f.optional, &f.choices))
            .collect()
    }
}

/// Fees for amounts from `minAmount` up.
#[derive(SimpleObject)]
#[graphql(name = "FeeTier")]
pub struct FeeTierObj {
    /// Smallest amount the tier applies to.
    pub min_amount: String,
    /// Fixed fee.
    pub fee_fixed: String,
    /// Percentage fee, in percentage points.
    pub fee_percent: String,
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

/// A status change in a transaction's history.
#[derive(SimpleObject)]
pub struct Event {
    /// The transaction.
    pub transaction_id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// Previous status (none for creation).
    pub from_status: Option<TransactionStatus>,
    /// New status.
    pub to_status: TransactionStatus,
    /// Who: sending_anchor:<account>, operator, tenant, system.
    pub actor: String,
    /// Why, if said.
    pub message: Option<String>,
}

impl From<TransactionEvent> for Event {
    fn from(e: TransactionEvent) -> Self {
        Self {
            transaction_id: ID(e.transaction_id.to_string()),
            at: e.at,
            from_status: e.from_status.map(Into::into),
            to_status: e.to_status.into(),
            actor: e.actor,
            message: e.message,
        }
    }
}

/// A SEP-31 transaction.
#[derive(SimpleObject)]
#[graphql(name = "Transaction", complex)]
pub struct TransactionObj {
    /// Transaction id.
    pub id: ID,
    /// SEP-31 status.
    pub status: TransactionStatus,
    /// Last status message.
    pub status_message: Option<String>,
    /// Sending anchor account.
    pub sa_account: String,
    /// Asset code.
    pub asset_code: String,
    /// Asset issuer.
    pub asset_issuer: String,
    /// Amount expected or received.
    pub amount_in: String,
    /// Fee.
    pub amount_fee: String,
    /// Amount paid out.
    pub amount_out: String,
    /// Memo type the payment must carry.
    pub stellar_memo_type: MemoType,
    /// Memo the payment must carry.
    pub stellar_memo: String,
    /// Incoming Stellar transaction hash.
    pub stellar_transaction_id: Option<String>,
    /// Payout rail reference.
    pub external_transaction_id: Option<String>,
    /// Chosen payout method.
    pub funding_method: Option<String>,
    /// Created.
    pub started_at: DateTime<Utc>,
    /// Current status since.
    pub updated_at: DateTime<Utc>,
    /// Completed.
    pub completed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub model: Transaction,
}

impl From<Transaction> for TransactionObj {
    fn from(t: Transaction) -> Self {
        Self {
            id: ID(t.id.to_string()),
            status: t.status.into(),
            status_message: t.status_message.clone(),
            sa_account: t.sa_account.clone(),
            asset_code: t.asset_code.clone(),
            asset_issuer: t.asset_issuer.clone(),
            amount_in: amount(t.amount_in),
            amount_fee: amount(t.amount_fee),
            amount_out: amount(t.amount_out),
            stellar_memo_type: t.stellar_memo_type.into(),
            stellar_memo: t.stellar_memo.clone(),
            stellar_transaction_id: t.stellar_transaction_id.clone(),
            external_transaction_id: t.external_transaction_id.clone(),
            funding_method: t.funding_method.clone(),
            started_at: t.started_at,
            updated_at: t.updated_at,
            completed_at: t.completed_at,
            model: t,
        }
    }
}

#[ComplexObject]
impl TransactionObj {
    /// Refunds as SEP-31 reports them (JSON), or null when nothing was refunded.
    #[graphql(complexity = 10)]
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let rows = refunds::for_transaction(&core(ctx).db, self.model.tenant_id, self.model.id)
            .await
            .map_err(from_anchor)?;
        Ok(refunds::sep31_refunds(&rows).map(|r| r.to_string()))
    }

    /// Every status change, oldest first.
    #[graphql(complexity = 10)]
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<Event>> {
        let events = transactions::events(&core(ctx).db, self.model.id).await.map_err(from_anchor)?;
        Ok(events.into_iter().map(Event::from).collect())
    }
    /// The sender (SEP-12 customer).
    #[graphql(complexity = 10)]
    async fn sender(&self, ctx: &Context<'_>) -> Result<Option<CustomerObj>> {
        load_customer(ctx, self.model.tenant_id, self.model.sender_id).await
    }
    /// The receiver (SEP-12 customer).
    #[graphql(complexity = 10)]
    async fn receiver(&self, ctx: &Context<'_>) -> Result<Option<CustomerObj>> {
        load_customer(ctx, self.model.tenant_id, self.model.receiver_id).await
    }
    /// Stellar payments matched to it.
    #[graphql(complexity = 10)]
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<PaymentObj>> {
        let rows = payments::for_transaction(&core(ctx).db, self.model.tenant_id, self.model.id)
            .await
            .map_err(from_anchor)?;
        Ok(rows.into_iter().map(PaymentObj::from).collect())
    }
}

async fn load_customer(
    ctx: &Context<'_>,
    tenant: uuid::Uuid,
    id: Option<uuid::Uuid>,
) -> Result<Option<CustomerObj>> {
    let Some(id) = id else { return Ok(None) };
    let loaded = customers::load_by_id(&core(ctx).db, tenant, id).await.map_err(from_anchor)?;
    Ok(loaded.map(CustomerObj))
}

/// A SEP-12 customer, as the tenant reviews it.
pub struct CustomerObj(pub customers::Loaded);

#[Object(name = "Customer")]
impl CustomerObj {
    /// Customer id (the SEP-12 id).
    async fn id(&self) -> ID {
        ID(self.0.customer.id.to_string())
    }
    /// Sending anchor account that registered it.
    async fn sa_account(&self) -> &str {
        &self.0.customer.sa_account
    }
    /// The sending anchor's memo for this user ("" for none).
    async fn memo(&self) -> &str {
        &self.0.customer.memo
    }
    /// SEP-12 status for each of the tenant's customer types.
    async fn statuses(&self, ctx: &Context<'_>) -> Result<Vec<TypeStatus>> {
        let tenant = core(ctx).tenants.by_id(self.0.customer.tenant_id);
        Ok(tenant
            .iter()
            .flat_map(|t| t.customer_types.iter())
            .map(|ty| TypeStatus {
                customer_type: ty.name.clone(),
                status: customers::status(ty, Some(&self.0)).into(),
            })
            .collect())
    }
    /// The message shown to the sending anchor.
    async fn message(&self) -> Option<&str> {
        self.0.customer.message.as_deref()
    }
    /// Fields provided (files as metadata only).
    async fn fields(&self) -> Vec<ProvidedField> {
        self.0
            .fields
            .iter()
            .map(|f| ProvidedField {
                name: f.name.clone(),
                value: f.value.clone(),
                is_file: f.data.is_some(),
                content_type: f.content_type.clone(),
                size: f.data.as_ref().map(|d| d.len() as i64),
                status: f.status.into(),
                error: f.error.clone(),
            })
            .collect()
    }
    /// Registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.customer.created_at
    }
}

/// A customer's status for one type.
#[derive(SimpleObject)]
pub struct TypeStatus {
    /// The SEP-12 type.
    pub customer_type: String,
    /// Its SEP-12 status.
    pub status: CustomerStatus,
}

/// A provided KYC field.
#[derive(SimpleObject)]
pub struct ProvidedField {
    /// SEP-9 name.
    pub name: String,
    /// Text value (none for files).
    pub value: Option<String>,
    /// Whether it is a file.
    pub is_file: bool,
    /// A file's content type.
    pub content_type: Option<String>,
    /// A file's size in bytes.
    pub size: Option<i64>,
    /// Where it stands in review.
    pub status: FieldStatus,
    /// Why it was rejected.
    pub error: Option<String>,
}

/// A payment seen on the distribution account.
#[derive(SimpleObject)]
pub struct PaymentObj {
    /// Horizon operation id.
    pub id: ID,
    /// Matched transaction, if any.
    pub transaction_id: Option<ID>,
    /// payment or a path payment type.
    pub op_type: String,
    /// Paying account.
    pub from_account: String,
    /// Asset code (native for lumens).
    pub asset_code: String,
    /// Asset issuer.
    pub asset_issuer: String,
    /// Amount received.
    pub amount: String,
    /// Memo type of the Stellar transaction.
    pub memo_type: String,
    /// Memo of the Stellar transaction.
    pub memo: Option<String>,
    /// Stellar transaction hash.
    pub tx_hash: String,
    /// What it did to the transaction.
    pub outcome: PaymentOutcome,
    /// What the watcher concluded.
    pub note: Option<String>,
    /// Received beyond amount_in, to refund.
    pub excess: String,
}

impl From<Payment> for PaymentObj {
    fn from(p: Payment) -> Self {
        Self {
            id: ID(p.id),
            transaction_id: p.transaction_id.map(|t| ID(t.to_string())),
            op_type: p.op_type,
            from_account: p.from_account,
            asset_code: p.asset_code,
            asset_issuer: p.asset_issuer,
            amount: amount(p.amount),
            memo_type: p.memo_type,
            memo: p.memo,
            tx_hash: p.tx_hash,
            outcome: p.outcome.into(),
            note: p.note,
            excess: amount(p.excess),
        }
    }
}

/// An admin API key (never the key itself).
#[derive(SimpleObject)]
pub struct ApiKey {
    /// Key id (to revoke it).
    pub id: ID,
    /// A name for people.
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for ApiKey {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: ID(k.id.to_string()),
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key: the only time the key itself is shown.
#[derive(SimpleObject)]
pub struct NewApiKey {
    /// The stored key's description.
    pub api_key: ApiKey,
    /// The bearer token. Store it now: it cannot be shown again.
    pub key: String,
}
