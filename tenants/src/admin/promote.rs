//! Promoting a testnet tenant to the public network: a new tenant, built from the
//! testnet one's configuration, while the testnet one keeps running (sending anchors
//! go on testing against it, as the SEP-31 guide advises).
//!
//! Copied: customer types, off-chain currencies, the named assets' terms (with the
//! mainnet issuer given for each code), their corridors, the expired-quote policy,
//! transaction expiry and `/info` visibility, the organization. New: the SEP-10 key,
//! the domains, the distribution account. Approved senders are copied *disabled*: a
//! sending anchor's mainnet account and relationship are re-confirmed one by one
//! before it can authenticate. Webhook endpoints are copied by the caller (they need
//! new secrets, shown once).

use mooring_entities::Writer;
use mooring_stellar::Network;
use uuid::Uuid;

use super::{
    NewAsset, NewAssetField, NewCorridor, NewCustomerField, NewCustomerType, NewOffchainAsset, NewTenant,
    Settings,
};
use crate::public_net::UrlPolicy;
use crate::{Error, MasterKey, RateSource, Tenant};

pub struct Promotion {
    pub name: String,
    pub domains: Vec<String>,
    pub distribution_account: String,
    /// `(code, mainnet issuer)` for each testnet asset to carry over.
    pub assets: Vec<(String, String)>,
    /// The platform's public Horizon.
    pub horizon_url: String,
}

/// What the promotion made.
pub struct Promoted {
    pub tenant_id: Uuid,
    /// Sending anchors copied disabled, to re-confirm.
    pub senders_to_confirm: Vec<String>,
}

/// Creates the public tenant. `skip_senders`: accounts that are Mooring's own on
/// testnet (the sandbox's test sender), never carried over. Everything is checked
/// before anything is written.
pub async fn promote_to_public(
    w: impl Into<Writer<'_>>,
    master_key: &MasterKey,
    from: &Tenant,
    p: Promotion,
    skip_senders: &[String],
    policy: UrlPolicy,
) -> Result<Promoted, Error> {
    let w = w.into();
    if from.network.is_public() {
        return Err(Error::Invalid("the tenant is on the public network already".into()));
    }
    if p.assets.is_empty() {
        return Err(Error::Invalid("name at least one asset to carry over, with its mainnet issuer".into()));
    }
    let mut carried = Vec::new();
    for (code, issuer) in &p.assets {
        crate::rules::check_account(issuer, "mainnet issuer")?;
        let asset = from
            .assets
            .iter()
            .find(|a| &a.code == code)
            .ok_or_else(|| Error::Invalid(format!("the testnet tenant has no asset {code}")))?;
        carried.push((asset, issuer.clone()));
    }
    let tenant_id = super::create_tenant(
        w,
        master_key,
        NewTenant {
            name: p.name,
            domains: p.domains,
            network: Network::public(),
            horizon_url: p.horizon_url,
            distribution_account: Some(p.distribution_account),
            org_name: from.org.name.clone(),
            org_url: from.org.url.clone(),
            org_description: from.org.description.clone(),
        },
    )
    .await?;
    super::update_settings(
        w,
        tenant_id,
        Settings {
            org_logo: from.org.logo.clone(),
            org_official_email: from.org.official_email.clone(),
            org_support_email: from.org.support_email.clone(),
            transaction_expiry_secs: from.transaction_expiry_secs,
            info_requires_auth: Some(from.info_requires_auth),
            ..Default::default()
        },
    )
    .await?;
    super::set_expired_quote_policy(w, tenant_id, from.expired_quote_policy).await?;
    for t in &from.customer_types {
        let fields = t
            .fields
            .iter()
            .map(|f| {
                let custom = !mooring_stellar::sep9::is_standard(&f.name);
                NewCustomerField {
                    name: f.name.clone(),
                    custom,
                    field_type: custom.then_some(f.field_type),
                    description: f.description.clone(),
                    optional: f.optional,
                    choices: f.choices.clone(),
                }
            })
            .collect();
        super::add_customer_type(
            w,
            tenant_id,
            NewCustomerType { name: t.name.clone(), description: t.description.clone(), fields },
        )
        .await?;
    }
    for o in &from.offchain_assets {
        super::set_offchain_asset(
            w,
            tenant_id,
            NewOffchainAsset {
                code: o.code.clone(),
                decimals: o.decimals,
                country_codes: o.country_codes.clone(),
                delivery_methods: o.delivery_methods.clone(),
            },
        )
        .await?;
    }
    for (a, issuer) in &carried {
        super::add_asset(
            w,
            tenant_id,
            NewAsset {
                code: a.code.clone(),
                issuer: issuer.clone(),
                status: a.status,
                min_amount: a.min_amount,
                max_amount: a.max_amount,
                fee_fixed: a.fee_fixed,
                fee_percent: a.fee_percent,
                memo_type: a.memo_type,
                sender_sep12_type: a.sender_sep12_type.clone(),
                receiver_sep12_type: a.receiver_sep12_type.clone(),
                funding_methods: a.funding_methods.clone(),
                anchor_asset_type: a.anchor_asset_type.clone(),
                description: a.description.clone(),
                display_decimals: a.display_decimals,
                fields: a
                    .fields
                    .iter()
                    .map(|f| NewAssetField {
                        name: f.name.clone(),
                        description: f.description.clone(),
                        optional: f.optional,
                        choices: f.choices.clone(),
                    })
                    .collect(),
                fee_tiers: a.fee_tiers.clone(),
                quotes_required: a.quotes_required,
            },
        )
        .await?;
        for c in from.corridors.iter().filter(|c| c.sell == a.sep38()) {
            let sell =
                mooring_stellar::sep38::Asset::Stellar { code: a.code.clone(), issuer: issuer.clone() };
            let rate: RateSource = c.rate.clone();
            super::set_corridor(
                w,
                tenant_id,
                NewCorridor {
                    sell_asset: sell.to_string(),
                    buy_asset: c.buy.to_string(),
                    rate,
                    max_rate_age_secs: c.max_rate_age.map(|d| d.num_seconds()),
                    spread_bps: c.spread_bps,
                    quote_lifetime_secs: c.quote_lifetime.num_seconds(),
                    min_sell: c.min_sell,
                    max_sell: c.max_sell,
                    fee_fixed: c.fee_fixed,
                    fee_percent: c.fee_percent,
                    fee_tiers: c.fee_tiers.clone(),
                    enabled: c.enabled,
                    max_outstanding: c.max_outstanding,
                },
                policy,
            )
            .await?;
        }
    }
    let mut senders_to_confirm = Vec::new();
    for s in super::senders(w.db, from.id, 1000).await? {
        if !s.enabled || skip_senders.contains(&s.account) {
            continue;
        }
        super::approve_sender(w, tenant_id, &s.account, &s.name).await?;
        super::set_sender_enabled(w, tenant_id, &s.account, false).await?;
        senders_to_confirm.push(s.account);
    }
    Ok(Promoted { tenant_id, senders_to_confirm })
}
