//! Mutation roots: the operator's, a tenant's configuration, and transaction and
//! customer operations. Every configuration change is validated, written in one
//! database transaction with a config-version bump, and reloaded here at once (other
//! replicas follow within their poll interval).

use async_graphql::{Context, Enum, ID, InputObject, MergedObject, Object, Result, SimpleObject};
use mooring_anchor::customers::{self, Review};
use mooring_anchor::transactions::Change;
use mooring_anchor::{Actor, refunds, transactions};
use mooring_stellar::sep9::FieldType;
use mooring_stellar::{Amount, Network};
use mooring_tenants::admin::{
    self, NewAsset, NewAssetField, NewCustomerField, NewCustomerType, NewTenant, Settings,
};
use mooring_tenants::api_keys::{self, KeyScope};

use crate::Caller;
use crate::enums::{AssetStatus, MemoType};
use crate::error::{from_anchor, from_tenants, internal, invalid, not_found};
use crate::objects::{ApiKey, CustomerObj, NewApiKey, TenantObj, TransactionObj};
use crate::scope::{self, core};

#[derive(MergedObject, Default)]
pub struct Mutation(OperatorMutation, ConfigMutation, OperationsMutation);

async fn reload(ctx: &Context<'_>) -> Result<()> {
    core(ctx).tenants.changed().await.map_err(internal)
}

/// After a configuration write: reload (here and, through the hook, everywhere) and
/// answer with the tenant as it now is.
async fn reloaded(ctx: &Context<'_>, tenant_id: Option<&ID>) -> Result<TenantObj> {
    reload(ctx).await?;
    Ok(TenantObj(scope::tenant(ctx, tenant_id)?))
}

fn amount(field: &str, v: &str) -> Result<Amount> {
    v.parse::<Amount>().map_err(|e| invalid(format!("{field}: {e}")))
}

fn check_domain_allowed(ctx: &Context<'_>, domain: &str) -> Result<()> {
    if mooring_tenants::host::normalize(domain) == mooring_tenants::host::normalize(&core(ctx).admin_host) {
        return Err(invalid("that domain is the admin API's own"));
    }
    Ok(())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StellarNetwork {
    /// Stellar's public network.
    Public,
    /// Stellar's test network.
    Testnet,
}

/// A new tenant.
#[derive(InputObject)]
pub struct CreateTenantInput {
    /// Display name.
    pub name: String,
    /// Domains it will be served on (at least one).
    pub domains: Vec<String>,
    /// The Stellar network.
    pub network: StellarNetwork,
    /// Horizon URL; null: the platform's Horizon for the network.
    pub horizon_url: Option<String>,
    /// Account sending anchors pay.
    pub distribution_account: String,
}

/// The tenant created, and its first API key.
#[derive(SimpleObject)]
pub struct CreateTenantPayload {
    /// The tenant.
    pub tenant: TenantObj,
    /// Its first API key (shown once).
    pub api_key: NewApiKey,
}

#[derive(Default)]
pub struct OperatorMutation;

#[Object]
impl OperatorMutation {
    /// Onboards a tenant: generates its SEP-10 signing key and its first API key.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant.")] input: CreateTenantInput,
    ) -> Result<CreateTenantPayload> {
        scope::operator(ctx)?;
        for d in &input.domains {
            check_domain_allowed(ctx, d)?;
        }
        let c = core(ctx);
        let (network, platform_horizon) = match input.network {
            StellarNetwork::Public => (Network::public(), &c.horizon_public_url),
            StellarNetwork::Testnet => (Network::testnet(), &c.horizon_testnet_url),
        };
        let id = admin::create_tenant(
            &c.db,
            &c.master_key,
            NewTenant {
                name: input.name,
                domains: input.domains,
                network,
                horizon_url: input.horizon_url.unwrap_or_else(|| platform_horizon.clone()),
                distribution_account: input.distribution_account,
                org_name: None,
                org_url: None,
                org_description: None,
            },
        )
        .await
        .map_err(from_tenants)?;
        let (row, key) =
            api_keys::create(&c.db, KeyScope::Tenant(id), "first key").await.map_err(from_tenants)?;
        reload(ctx).await?;
        let tenant = c.tenants.by_id(id).ok_or_else(|| not_found("tenant"))?;
        Ok(CreateTenantPayload { tenant: TenantObj(tenant), api_key: NewApiKey { api_key: row.into(), key } })
    }

    /// Adds a domain to a tenant (a domain belongs to one tenant only).
    async fn add_domain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "The domain.")] domain: String,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        check_domain_allowed(ctx, &domain)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        admin::add_domain(&core(ctx).db, id, &domain).await.map_err(from_tenants)?;
        reloaded(ctx, Some(&tenant_id)).await
    }

    /// Removes a domain (a tenant keeps at least one).
    async fn remove_domain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "The domain.")] domain: String,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        admin::remove_domain(&core(ctx).db, id, &domain).await.map_err(from_tenants)?;
        reloaded(ctx, Some(&tenant_id)).await
    }

    /// Replaces the SEP-10 signing key. Tokens already issued stay valid until they
    /// expire (they are not signed with it); returns the new public key.
    async fn rotate_signing_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
    ) -> Result<String> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        let c = core(ctx);
        let key = admin::rotate_signing_key(&c.db, &c.master_key, id).await.map_err(from_tenants)?;
        reload(ctx).await?;
        Ok(key)
    }

    /// Suspends a tenant: its SEP endpoints answer 503 until resumed.
    async fn suspend_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
    ) -> Result<TenantObj> {
        set_suspended(ctx, tenant_id, true).await
    }

    /// Resumes a suspended tenant.
    async fn resume_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
    ) -> Result<TenantObj> {
        set_suspended(ctx, tenant_id, false).await
    }

    /// Caps all of a tenant's SEP requests together (from every client address), so a
    /// flood on it is answered with cheap 429s instead of work that slows other
    /// tenants. Both null: back to the platform default (MOORING_TENANT_RATE_LIMIT_*).
    async fn set_tenant_rate_limit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id.")] tenant_id: ID,
        #[graphql(desc = "Sustained requests per second; null with burst for the default.")]
        per_second: Option<i32>,
        #[graphql(desc = "Requests allowed at once before the rate applies.")] burst: Option<i32>,
    ) -> Result<TenantObj> {
        scope::operator(ctx)?;
        let id = scope::tenant_id(ctx, Some(&tenant_id))?;
        let limit = match (per_second, burst) {
            (None, None) => None,
            (Some(rate), Some(burst)) => Some((
                u32::try_from(rate).map_err(|_| invalid("perSecond must be positive"))?,
                u32::try_from(burst).map_err(|_| invalid("burst must be positive"))?,
            )),
            _ => return Err(invalid("give perSecond and burst together, or neither")),
        };
        admin::set_rate_limit(&core(ctx).db, id, limit).await.map_err(from_tenants)?;
        reloaded(ctx, Some(&tenant_id)).await
    }

    /// Creates an operator API key (shown once).
    async fn create_operator_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name for people.")] name: String,
    ) -> Result<NewApiKey> {
        scope::operator(ctx)?;
        let (row, key) =
            api_keys::create(&core(ctx).db, KeyScope::Operator, &name).await.map_err(from_tenants)?;
        Ok(NewApiKey { api_key: row.into(), key })
    }
}

async fn set_suspended(ctx: &Context<'_>, tenant_id: ID, suspended: bool) -> Result<TenantObj> {
    scope::operator(ctx)?;
    let id = scope::tenant_id(ctx, Some(&tenant_id))?;
    admin::set_status(&core(ctx).db, id, suspended).await.map_err(from_tenants)?;
    reloaded(ctx, Some(&tenant_id)).await
}

/// A transaction field an asset requires.
#[derive(InputObject)]
pub struct TransactionFieldInput {
    /// Field name.
    pub name: String,
    /// What to enter.
    pub description: String,
    /// May be left out.
    #[graphql(default)]
    pub optional: bool,
    /// Allowed values.
    pub choices: Option<Vec<String>>,
}

/// An asset and its terms. Amounts are decimal strings.
#[derive(InputObject)]
pub struct AssetInput {
    /// Asset code.
    pub code: String,
    /// Issuer account (G...).
    pub issuer: String,
    /// Smallest amount accepted.
    pub min_amount: Option<String>,
    /// Largest amount accepted.
    pub max_amount: Option<String>,
    /// Fixed fee in units of the asset.
    #[graphql(default_with = "String::from(\"0\")")]
    pub fee_fixed: String,
    /// Percentage fee, in percentage points.
    #[graphql(default_with = "String::from(\"0\")")]
    pub fee_percent: String,
    /// Memo type to issue.
    #[graphql(default_with = "MemoType::Id")]
    pub memo_type: MemoType,
    /// SEP-12 type required of senders (none: no sender KYC).
    pub sender_sep12_type: Option<String>,
    /// SEP-12 type required of receivers (none: no receiver KYC).
    pub receiver_sep12_type: Option<String>,
    /// Payout methods offered.
    #[graphql(default)]
    pub funding_methods: Vec<String>,
    /// SEP-1 status.
    #[graphql(default_with = "AssetStatus::Test")]
    pub status: AssetStatus,
    /// SEP-1 anchor_asset_type.
    #[graphql(default_with = "String::from(\"fiat\")")]
    pub anchor_asset_type: String,
    /// SEP-1 desc.
    #[graphql(default)]
    pub description: String,
    /// SEP-1 display_decimals.
    #[graphql(default = 2)]
    pub display_decimals: i32,
    /// Transaction fields required.
    #[graphql(default)]
    pub fields: Vec<TransactionFieldInput>,
    /// Fees by amount: from each tier's minAmount up, its fees replace the flat ones.
    #[graphql(default)]
    pub fee_tiers: Vec<FeeTierInput>,
}

/// Fees for amounts from `minAmount` up (to the next tier).
#[derive(InputObject)]
pub struct FeeTierInput {
    /// Smallest amount the tier applies to.
    pub min_amount: String,
    /// Fixed fee in units of the asset.
    #[graphql(default_with = "String::from(\"0\")")]
    pub fee_fixed: String,
    /// Percentage fee, in percentage points.
    #[graphql(default_with = "String::from(\"0\")")]
    pub fee_percent: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum FieldKind {
    /// Text.
    String,
    /// A file.
    Binary,
    /// A number.
    Number,
    /// A date, YYYY-MM-DD.
    Date,
}

/// A field a customer type asks for.
#[derive(InputObject)]
pub struct CustomerFieldInput {
    /// SEP-9 name, or a custom name (then set `custom` and `type`).
    pub name: String,
    /// What to enter.
    pub description: String,
    /// May be left out.
    #[graphql(default)]
    pub optional: bool,
    /// Allowed values.
    pub choices: Option<Vec<String>>,
    /// A name SEP-9 does not define, on purpose.
    #[graphql(default)]
    pub custom: bool,
    /// The type of a custom field (SEP-9 fields have theirs).
    #[graphql(name = "type")]
    pub field_type: Option<FieldKind>,
}

/// A SEP-12 customer type.
#[derive(InputObject)]
pub struct CustomerTypeInput {
    /// Type name, e.g. sep31-sender.
    pub name: String,
    /// Shown to sending anchors.
    #[graphql(default)]
    pub description: String,
    /// Fields asked for.
    pub fields: Vec<CustomerFieldInput>,
}

/// Tenant settings; omitted fields stay as they are.
#[derive(InputObject, Default)]
pub struct SettingsInput {
    /// Display name.
    pub name: Option<String>,
    /// ORG_NAME.
    pub org_name: Option<String>,
    /// ORG_URL.
    pub org_url: Option<String>,
    /// ORG_DESCRIPTION.
    pub org_description: Option<String>,
    /// ORG_LOGO.
    pub org_logo: Option<String>,
    /// ORG_OFFICIAL_EMAIL.
    pub org_official_email: Option<String>,
    /// ORG_SUPPORT_EMAIL.
    pub org_support_email: Option<String>,
    /// Account sending anchors pay.
    pub distribution_account: Option<String>,
    /// Horizon URL (operators only: where the server connects is the platform's choice).
    pub horizon_url: Option<String>,
    /// Seconds a transaction waits for funds.
    pub transaction_expiry_secs: Option<i64>,
    /// Whether SEP-31 /info needs a SEP-10 token (default false: /info is public).
    pub info_requires_auth: Option<bool>,
}

#[derive(Default)]
pub struct ConfigMutation;

#[Object]
impl ConfigMutation {
    /// Creates or replaces (by code and issuer) an asset.
    async fn upsert_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "The asset.")] input: AssetInput,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let new = NewAsset {
            code: input.code,
            issuer: input.issuer,
            status: input.status.into(),
            min_amount: input.min_amount.as_deref().map(|a| amount("minAmount", a)).transpose()?,
            max_amount: input.max_amount.as_deref().map(|a| amount("maxAmount", a)).transpose()?,
            fee_fixed: amount("feeFixed", &input.fee_fixed)?,
            fee_percent: amount("feePercent", &input.fee_percent)?,
            memo_type: input.memo_type.into(),
            sender_sep12_type: input.sender_sep12_type,
            receiver_sep12_type: input.receiver_sep12_type,
            funding_methods: input.funding_methods,
            anchor_asset_type: input.anchor_asset_type,
            description: input.description,
            display_decimals: input.display_decimals,
            fields: input
                .fields
                .into_iter()
                .map(|f| NewAssetField {
                    name: f.name,
                    description: f.description,
                    optional: f.optional,
                    choices: f.choices,
                })
                .collect(),
            fee_tiers: input
                .fee_tiers
                .iter()
                .map(|t| {
                    Ok(mooring_tenants::FeeTier {
                        min_amount: amount("feeTiers.minAmount", &t.min_amount)?,
                        fee_fixed: amount("feeTiers.feeFixed", &t.fee_fixed)?,
                        fee_percent: amount("feeTiers.feePercent", &t.fee_percent)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        };
        admin::upsert_asset(&core(ctx).db, id, new).await.map_err(from_tenants)?;
        reloaded(ctx, tenant_id.as_ref()).await
    }

    /// Removes an asset; returns whether there was one.
    async fn remove_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Asset code.")] code: String,
    ) -> Result<bool> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let removed = admin::remove_asset(&core(ctx).db, id, &code).await.map_err(from_tenants)?;
        reload(ctx).await?;
        Ok(removed)
    }

    /// Creates or replaces (by name) a SEP-12 customer type.
    async fn set_customer_type(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "The type.")] input: CustomerTypeInput,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let mut fields = Vec::new();
        for f in input.fields {
            let field_type = f.field_type.map(|k| match k {
                FieldKind::String => FieldType::String,
                FieldKind::Binary => FieldType::Binary,
                FieldKind::Number => FieldType::Number,
                FieldKind::Date => FieldType::Date,
            });
            fields.push(NewCustomerField {
                name: f.name,
                custom: f.custom,
                field_type,
                description: f.description,
                optional: f.optional,
                choices: f.choices,
            });
        }
        let new = NewCustomerType { name: input.name, description: input.description, fields };
        admin::set_customer_type(&core(ctx).db, id, new).await.map_err(from_tenants)?;
        reloaded(ctx, tenant_id.as_ref()).await
    }

    /// Approves a sending anchor (or re-enables it).
    async fn approve_sender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Its Stellar account (G...).")] account: String,
        #[graphql(desc = "A name for people.")] name: String,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        admin::approve_sender(&core(ctx).db, id, &account, &name).await.map_err(from_tenants)?;
        reloaded(ctx, tenant_id.as_ref()).await
    }

    /// Enables or disables a sending anchor; disabled ones get no new tokens, and their
    /// tokens stop working.
    async fn set_sender_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Its Stellar account.")] account: String,
        #[graphql(desc = "Enabled or not.")] enabled: bool,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        admin::set_sender_enabled(&core(ctx).db, id, &account, enabled).await.map_err(from_tenants)?;
        reloaded(ctx, tenant_id.as_ref()).await
    }

    /// Removes a sending anchor; returns whether there was one.
    async fn remove_sender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Its Stellar account.")] account: String,
    ) -> Result<bool> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let removed = admin::remove_sender(&core(ctx).db, id, &account).await.map_err(from_tenants)?;
        reload(ctx).await?;
        Ok(removed)
    }

    /// Updates the tenant's own settings.
    async fn update_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "What to change.")] input: SettingsInput,
    ) -> Result<TenantObj> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        if input.horizon_url.is_some() {
            scope::operator(ctx)?;
        }
        let settings = Settings {
            name: input.name,
            org_name: input.org_name,
            org_url: input.org_url,
            org_description: input.org_description,
            org_logo: input.org_logo,
            org_official_email: input.org_official_email,
            org_support_email: input.org_support_email,
            distribution_account: input.distribution_account,
            horizon_url: input.horizon_url,
            transaction_expiry_secs: input.transaction_expiry_secs,
            info_requires_auth: input.info_requires_auth,
        };
        admin::update_settings(&core(ctx).db, id, settings).await.map_err(from_tenants)?;
        reloaded(ctx, tenant_id.as_ref()).await
    }

    /// Creates an API key for the tenant (shown once).
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "A name for people.")] name: String,
    ) -> Result<NewApiKey> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let (row, key) =
            api_keys::create(&core(ctx).db, KeyScope::Tenant(id), &name).await.map_err(from_tenants)?;
        Ok(NewApiKey { api_key: row.into(), key })
    }

    /// Revokes an API key: it stops working at once.
    async fn revoke_api_key(&self, ctx: &Context<'_>, #[graphql(desc = "Key id.")] id: ID) -> Result<ApiKey> {
        let key_id = scope::parse_id(&id, "api key")?;
        let row = api_keys::revoke_visible(&core(ctx).db, scope::key_scope(ctx)?, key_id)
            .await
            .map_err(from_tenants)?
            .ok_or_else(|| not_found("api key"))?;
        Ok(row.into())
    }
}

/// A field and why it must be sent again.
#[derive(InputObject)]
pub struct FieldReason {
    /// Field name.
    pub name: String,
    /// Why (shown to the sending anchor).
    pub reason: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReviewStatus {
    /// Everything under review is accepted.
    Accepted,
    /// Final refusal.
    Rejected,
    /// Some fields must be sent again.
    NeedsInfo,
}

#[derive(Default)]
pub struct OperationsMutation;

/// The transaction, if the caller may act on it.
async fn owned_transaction(ctx: &Context<'_>, id: &ID) -> Result<transactions::Transaction> {
    let id = scope::parse_id(id, "transaction")?;
    transactions::find_in_scope(&core(ctx).db, scope::key_scope(ctx)?, id)
        .await
        .map_err(from_anchor)?
        .ok_or_else(|| not_found("transaction"))
}

/// Applies a back-office change to a transaction the caller may see.
async fn change(ctx: &Context<'_>, id: &ID, change: Change) -> Result<TransactionObj> {
    let id = scope::parse_id(id, "transaction")?;
    let updated = transactions::apply(&core(ctx).db, scope::key_scope(ctx)?, id, change, &actor(ctx))
        .await
        .map_err(from_anchor)?;
    Ok(updated.into())
}

fn actor(ctx: &Context<'_>) -> Actor {
    match scope::caller(ctx) {
        Ok(Caller::Tenant(_)) => Actor::Tenant,
        _ => Actor::Operator,
    }
}

#[Object]
impl OperationsMutation {
    /// Payout submitted to the receiver's rail: pending_receiver → pending_external.
    async fn mark_pending_external(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Optional note.")] message: Option<String>,
    ) -> Result<TransactionObj> {
        change(ctx, &id, Change::PayoutSubmitted { message }).await
    }

    /// The receiver has the funds: → completed, with the payout rail's reference.
    async fn complete_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "The payout rail's reference.")] external_transaction_id: String,
    ) -> Result<TransactionObj> {
        change(ctx, &id, Change::Complete { external_id: external_transaction_id }).await
    }

    /// Fails the transaction (→ error) with a message for the sending anchor.
    async fn fail_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Why.")] message: String,
    ) -> Result<TransactionObj> {
        change(ctx, &id, Change::Fail { message }).await
    }

    /// Asks the sending anchor to correct transaction fields (→ pending_transaction_info_update).
    async fn request_transaction_info(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Fields to send again.")] fields: Vec<String>,
        #[graphql(desc = "What is wrong.")] message: String,
    ) -> Result<TransactionObj> {
        let t = owned_transaction(ctx, &id).await?;
        if fields.is_empty() {
            return Err(invalid("name at least one field"));
        }
        let tenant = core(ctx).tenants.by_id(t.tenant_id).ok_or_else(|| not_found("tenant"))?;
        let updated = transactions::request_transaction_info(
            &core(ctx).db,
            &tenant,
            t.id,
            &fields,
            &message,
            &actor(ctx),
        )
        .await
        .map_err(from_anchor)?;
        Ok(updated.into())
    }

    /// Asks for corrected KYC of the sender or receiver (→ pending_customer_info_update).
    async fn request_customer_info(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "The sender's or receiver's id.")] customer_id: ID,
        #[graphql(desc = "Fields to send again, with reasons.")] fields: Vec<FieldReason>,
        #[graphql(desc = "What is wrong.")] message: String,
    ) -> Result<TransactionObj> {
        let t = owned_transaction(ctx, &id).await?;
        let customer = scope::parse_id(&customer_id, "customer")?;
        let tenant = core(ctx).tenants.by_id(t.tenant_id).ok_or_else(|| not_found("tenant"))?;
        let fields: Vec<(String, String)> = fields.into_iter().map(|f| (f.name, f.reason)).collect();
        let updated = transactions::request_customer_info(
            &core(ctx).db,
            &tenant,
            t.id,
            customer,
            &fields,
            &message,
            &actor(ctx),
        )
        .await
        .map_err(from_anchor)?;
        Ok(updated.into())
    }

    /// Records a refund payment sent back to the sending anchor. Allowed while the
    /// funds are held and not paid out: PENDING_RECEIVER, or ERROR once the payment
    /// arrived (anything else is CONFLICT). `amount + fee` over all refunds may not
    /// exceed amount_in; reaching it moves the transaction to REFUNDED. Each refund
    /// payment (by hash) is recorded once.
    async fn refund_transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
        #[graphql(desc = "Amount refunded (decimal string).")] amount: String,
        #[graphql(desc = "Fee kept (decimal string).", default_with = "String::from(\"0\")")] fee: String,
        #[graphql(desc = "Hash of the refund's Stellar transaction.")] stellar_transaction_id: String,
        #[graphql(desc = "Why.")] reason: String,
    ) -> Result<TransactionObj> {
        let t = owned_transaction(ctx, &id).await?;
        let refund = refunds::Refund {
            amount: self::amount("amount", &amount)?,
            fee: self::amount("fee", &fee)?,
            stellar_transaction_id,
            reason,
        };
        let updated = refunds::record(&core(ctx).db, t.tenant_id, t.id, &refund, &actor(ctx))
            .await
            .map_err(from_anchor)?;
        Ok(updated.into())
    }

    /// Records the review of a customer; the sending anchor sees it through SEP-12.
    async fn set_customer_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Customer id.")] id: ID,
        #[graphql(desc = "The decision.")] status: ReviewStatus,
        #[graphql(desc = "Message for the sending anchor.")] message: Option<String>,
        #[graphql(desc = "For NEEDS_INFO: the fields and why.", default)] field_errors: Vec<FieldReason>,
    ) -> Result<CustomerObj> {
        let customer_id = scope::parse_id(&id, "customer")?;
        let db = &core(ctx).db;
        let customer = customers::find_in_scope(db, scope::key_scope(ctx)?, customer_id)
            .await
            .map_err(from_anchor)?
            .ok_or_else(|| not_found("customer"))?;
        let tenant =
            core(ctx).tenants.by_id(customer.customer.tenant_id).ok_or_else(|| not_found("tenant"))?;
        let decision = match status {
            ReviewStatus::Accepted => Review::Accept,
            ReviewStatus::Rejected => Review::Reject,
            ReviewStatus::NeedsInfo => Review::NeedsInfo,
        };
        let errors: Vec<(String, String)> = field_errors.into_iter().map(|f| (f.name, f.reason)).collect();
        let loaded = customers::review(db, &tenant, customer_id, decision, message, &errors)
            .await
            .map_err(from_anchor)?;
        Ok(CustomerObj(loaded))
    }
}
