//! A tenant's configuration: assets, customer types, approved senders, settings.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use mooring_stellar::sep9::FieldType;
use mooring_tenants::admin::{self, NewAsset, NewAssetField, NewCustomerField, NewCustomerType, Settings};

use super::{amount, configure, configure_tenant};
use crate::enums::{AssetStatus, MemoType};
use crate::objects::TenantObj;
use crate::scope::{self};

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
    /// SEP-31 transactions in this asset need a SEP-38 quote (`quotes_required`).
    #[graphql(default)]
    pub quotes_required: bool,
}

pub(crate) fn fee_tiers(tiers: &[FeeTierInput]) -> Result<Vec<mooring_tenants::FeeTier>> {
    tiers
        .iter()
        .map(|t| {
            Ok(mooring_tenants::FeeTier {
                min_amount: amount("feeTiers.minAmount", &t.min_amount)?,
                fee_fixed: amount("feeTiers.feeFixed", &t.fee_fixed)?,
                fee_percent: amount("feeTiers.feePercent", &t.fee_percent)?,
            })
        })
        .collect()
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
    /// A Stellar RPC for this tenant alone (operators only; "" returns to the
    /// platform's). Called through the outbound fence.
    pub rpc_url: Option<String>,
    /// Seconds a transaction waits for funds.
    pub transaction_expiry_secs: Option<i64>,
    /// Whether SEP-31 /info needs a SEP-10 token (default false: /info is public).
    pub info_requires_auth: Option<bool>,
    /// Testnet: provision the sandbox again after each testnet reset (default false).
    pub testnet_auto_provision: Option<bool>,
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
            fee_tiers: fee_tiers(&input.fee_tiers)?,
            quotes_required: input.quotes_required,
        };
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| admin::upsert_asset(db, id, new).await)
            .await
    }

    /// Removes an asset; returns whether there was one.
    async fn remove_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Asset code.")] code: String,
    ) -> Result<bool> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let removed = configure(ctx, async move |db| admin::remove_asset(db, id, &code).await).await?;
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
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| admin::set_customer_type(db, id, new).await)
            .await
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
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::approve_sender(db, id, &account, &name).await
        })
        .await
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
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::set_sender_enabled(db, id, &account, enabled).await
        })
        .await
    }

    /// Removes a sending anchor; returns whether there was one.
    async fn remove_sender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Its Stellar account.")] account: String,
    ) -> Result<bool> {
        let id = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let removed = configure(ctx, async move |db| admin::remove_sender(db, id, &account).await).await?;
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
        if input.horizon_url.is_some() || input.rpc_url.is_some() {
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
            rpc_url: input.rpc_url,
            transaction_expiry_secs: input.transaction_expiry_secs,
            info_requires_auth: input.info_requires_auth,
            testnet_auto_provision: input.testnet_auto_provision,
        };
        configure_tenant(ctx, tenant_id.as_ref(), async move |db| {
            admin::update_settings(db, id, settings).await
        })
        .await
    }
}
