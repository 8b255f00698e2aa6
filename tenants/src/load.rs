//! Reading tenants' configuration from the database into [`Tenant`]s: all of them at
//! start, then only those a change touched.

use std::collections::HashMap;
use std::sync::Arc;

use mooring_entities::{
    approved_sender, asset, asset_field, corridor, customer_type, customer_type_field, offchain_asset,
    tenant, tenant_domain, webhook_endpoint,
};
use mooring_stellar::sep9::FieldType;
use mooring_stellar::{Amount, Keypair, Network, PublicKey};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use crate::model::{DeliveryMethod, FeeTier, Organization};
use crate::pii::DataKey;
use crate::{Asset, AssetField, CustomerField, CustomerType, Error, MasterKey, Tenant};
use crate::{Corridor, OffchainAsset, RateSource};

/// Loads `which` tenants (`None`: all of them), decoded and checked, oldest first.
pub(crate) async fn tenants(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    which: Option<&[Uuid]>,
) -> Result<Vec<Arc<Tenant>>, Error> {
    let tenants = scoped(tenant::Entity::find(), tenant::Column::Id, which)
        // Offboarded tenants are gone from the snapshot (their data key is destroyed).
        .filter(tenant::Column::Status.ne(crate::TenantStatus::Deleted))
        .order_by_asc(tenant::Column::CreatedAt)
        .all(db)
        .await?;
    let mut domains: HashMap<_, Vec<String>> = HashMap::new();
    for d in scoped(tenant_domain::Entity::find(), tenant_domain::Column::TenantId, which)
        .order_by_asc(tenant_domain::Column::CreatedAt)
        .order_by_asc(tenant_domain::Column::Domain)
        .all(db)
        .await?
    {
        domains.entry(d.tenant_id).or_default().push(d.domain);
    }
    let mut senders: HashMap<_, Vec<PublicKey>> = HashMap::new();
    for s in scoped(approved_sender::Entity::find(), approved_sender::Column::TenantId, which).all(db).await?
    {
        if s.enabled {
            let key = s.account.parse().map_err(|_| Error::Corrupt(format!("sender {}", s.account)))?;
            senders.entry(s.tenant_id).or_default().push(key);
        }
    }
    let hooked: std::collections::HashSet<Uuid> =
        scoped(webhook_endpoint::Entity::find(), webhook_endpoint::Column::TenantId, which)
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.tenant_id)
            .collect();
    let asset_rows = scoped(asset::Entity::find(), asset::Column::TenantId, which)
        .order_by_asc(asset::Column::Code)
        .all(db)
        .await?;
    let asset_ids: Vec<Uuid> = asset_rows.iter().map(|a| a.id).collect();
    let mut fields: HashMap<_, Vec<AssetField>> = HashMap::new();
    for f in scoped(asset_field::Entity::find(), asset_field::Column::AssetId, which.map(|_| &asset_ids[..]))
        .order_by_asc(asset_field::Column::Name)
        .all(db)
        .await?
    {
        fields.entry(f.asset_id).or_default().push(AssetField {
            name: f.name,
            description: f.description,
            optional: f.optional,
            choices: f.choices.and_then(|c| serde_json_strings(&c)),
        });
    }
    let mut assets: HashMap<_, Vec<Asset>> = HashMap::new();
    for a in asset_rows {
        let funding_methods = serde_json_strings(&a.funding_methods).unwrap_or_default();
        assets.entry(a.tenant_id).or_default().push(Asset {
            id: a.id,
            fields: fields.remove(&a.id).unwrap_or_default(),
            code: a.code,
            issuer: a.issuer,
            status: a.status,
            sep31_enabled: a.sep31_enabled,
            min_amount: a.min_amount.map(Amount),
            max_amount: a.max_amount.map(Amount),
            fee_fixed: Amount(a.fee_fixed),
            fee_percent: Amount(a.fee_percent),
            memo_type: a.memo_type,
            sender_sep12_type: a.sender_sep12_type,
            receiver_sep12_type: a.receiver_sep12_type,
            funding_methods,
            anchor_asset_type: a.anchor_asset_type,
            description: a.description,
            display_decimals: a.display_decimals,
            fee_tiers: a.fee_tiers.as_ref().map(fee_tiers).transpose()?.unwrap_or_default(),
            quotes_required: a.quotes_required,
        });
    }
    let mut offchain: HashMap<_, Vec<OffchainAsset>> = HashMap::new();
    for a in scoped(offchain_asset::Entity::find(), offchain_asset::Column::TenantId, which)
        .order_by_asc(offchain_asset::Column::Code)
        .all(db)
        .await?
    {
        offchain.entry(a.tenant_id).or_default().push(offchain_asset(a)?);
    }
    let mut corridors: HashMap<_, Vec<Corridor>> = HashMap::new();
    for c in scoped(corridor::Entity::find(), corridor::Column::TenantId, which)
        .order_by_asc(corridor::Column::CreatedAt)
        .all(db)
        .await?
    {
        let tenant_id = c.tenant_id;
        // A corridor whose currency was removed is kept in the database (and shown to
        // the admin API) but quotes nothing.
        let buy_decimals = offchain
            .get(&tenant_id)
            .and_then(|assets| assets.iter().find(|a| a.sep38().to_string() == c.buy_asset))
            .map(|a| a.decimals);
        if let Some(buy_decimals) = buy_decimals {
            corridors.entry(tenant_id).or_default().push(corridor(c, buy_decimals)?);
        }
    }

    let type_rows = scoped(customer_type::Entity::find(), customer_type::Column::TenantId, which)
        .order_by_asc(customer_type::Column::Name)
        .all(db)
        .await?;
    let type_ids: Vec<Uuid> = type_rows.iter().map(|t| t.id).collect();
    let mut type_fields: HashMap<_, Vec<CustomerField>> = HashMap::new();
    for f in scoped(
        customer_type_field::Entity::find(),
        customer_type_field::Column::CustomerTypeId,
        which.map(|_| &type_ids[..]),
    )
    .order_by_asc(customer_type_field::Column::Name)
    .all(db)
    .await?
    {
        let field_type = field_type(&f.field_type)
            .ok_or_else(|| Error::Corrupt(format!("field type {}", f.field_type)))?;
        type_fields.entry(f.customer_type_id).or_default().push(CustomerField {
            name: f.name,
            field_type,
            description: f.description,
            optional: f.optional,
            choices: f.choices.and_then(|c| serde_json_strings(&c)),
        });
    }
    let mut customer_types: HashMap<_, Vec<CustomerType>> = HashMap::new();
    for t in type_rows {
        customer_types.entry(t.tenant_id).or_default().push(CustomerType {
            fields: type_fields.remove(&t.id).unwrap_or_default(),
            name: t.name,
            description: t.description,
        });
    }

    let mut loaded = Vec::with_capacity(tenants.len());
    for t in tenants {
        let seed = master_key.decrypt_seed(t.id, &t.signing_seed_ciphertext)?;
        let signing_key = Keypair::from_seed(seed);
        if signing_key.public_key().to_string() != t.signing_public_key {
            return Err(Error::Corrupt(format!("tenant {}: signing key mismatch", t.id)));
        }
        let sealed = match t.data_key {
            Some(k) => k,
            None => missing_data_key(db, master_key, t.id).await?,
        };
        let data_key = Arc::new(DataKey::unseal(master_key, t.id, &sealed)?);
        let assets = assets.remove(&t.id).unwrap_or_default();
        // A corridor quotes only while its Stellar asset is received through SEP-31.
        let corridors = corridors
            .remove(&t.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| assets.iter().any(|a| a.sep31_enabled && a.sep38() == c.sell))
            .collect();
        let tenant = Arc::new(Tenant {
            derived: Default::default(),
            corridors,
            data_key,
            id: t.id,
            id_text: t.id.to_string().into(),
            created_at: t.created_at,
            name: t.name,
            domains: domains.remove(&t.id).unwrap_or_default(),
            network: Network::new(t.network_passphrase),
            horizon_url: t.horizon_url.trim_end_matches('/').to_string(),
            rpc_url: t.rpc_url.as_deref().map(|u| u.trim_end_matches('/').to_string()),
            jwt_secret: master_key.jwt_secret(t.id),
            jwt_previous: master_key.previous_jwt_secret(t.id),
            signing_key,
            distribution_account: t.distribution_account,
            watch_from: t.watch_from.unwrap_or(t.created_at),
            status: t.status,
            approved_senders: senders.remove(&t.id).unwrap_or_default().into_iter().collect(),
            conformance_mode: t.conformance_mode,
            offchain_assets: offchain.remove(&t.id).unwrap_or_default(),
            expired_quote_policy: t.expired_quote_policy,
            has_webhooks: hooked.contains(&t.id),
            assets,
            customer_types: customer_types.remove(&t.id).unwrap_or_default(),
            transaction_expiry_secs: t.transaction_expiry_secs,
            info_requires_auth: t.info_requires_auth,
            testnet_auto_provision: t.testnet_auto_provision,
            rate_limit: t
                .rate_limit_per_second
                .zip(t.rate_limit_burst)
                .and_then(|(rate, burst)| Some((u32::try_from(rate).ok()?, u32::try_from(burst).ok()?))),
            org: Organization {
                name: t.org_name,
                url: t.org_url,
                description: t.org_description,
                logo: t.org_logo,
                official_email: t.org_official_email,
                support_email: t.org_support_email,
            },
        });
        loaded.push(tenant);
    }
    Ok(loaded)
}

/// `query` narrowed to rows whose `column` is one of `ids`, or all rows for `None`.
fn scoped<E: EntityTrait>(query: Select<E>, column: E::Column, ids: Option<&[Uuid]>) -> Select<E> {
    match ids {
        Some(ids) => query.filter(column.is_in(ids.iter().copied())),
        None => query,
    }
}

/// Parses stored fee tiers (see `asset::Model::fee_tiers`), ascending by amount.
/// The data key of a tenant created before PII encryption (or by an older release
/// during a rolling upgrade): made and stored the first time the tenant is loaded.
/// Replicas racing store only the first key (compare-and-set) and all read it back.
async fn missing_data_key(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    id: Uuid,
) -> Result<String, Error> {
    use sea_orm::QuerySelect;
    let sealed = DataKey::generate().sealed(master_key, id);
    tenant::Entity::update_many()
        .col_expr(tenant::Column::DataKey, sea_orm::sea_query::Expr::value(sealed))
        .filter(tenant::Column::Id.eq(id))
        .filter(tenant::Column::DataKey.is_null())
        .filter(tenant::Column::Status.ne(crate::TenantStatus::Deleted))
        .exec(db)
        .await?;
    let stored: Option<Option<String>> = tenant::Entity::find_by_id(id)
        .select_only()
        .column(tenant::Column::DataKey)
        .into_tuple()
        .one(db)
        .await?;
    stored.flatten().ok_or_else(|| Error::Corrupt(format!("tenant {id}: no data key")))
}

pub(crate) fn fee_tiers(v: &sea_orm::JsonValue) -> Result<Vec<FeeTier>, Error> {
    let bad = || Error::Corrupt(format!("fee tiers {v}"));
    let amount = |t: &sea_orm::JsonValue, k: &str| {
        t[k].as_str().and_then(|s| s.parse::<Amount>().ok()).ok_or_else(bad)
    };
    let mut tiers = v
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|t| {
            Ok(FeeTier {
                min_amount: amount(t, "min_amount")?,
                fee_fixed: amount(t, "fee_fixed")?,
                fee_percent: amount(t, "fee_percent")?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    tiers.sort_by_key(|t| t.min_amount);
    Ok(tiers)
}

fn offchain_asset(a: offchain_asset::Model) -> Result<OffchainAsset, Error> {
    let bad = || Error::Corrupt(format!("off-chain asset {}", a.id));
    let delivery_methods = a
        .delivery_methods
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|m| {
            Some(DeliveryMethod {
                name: m["name"].as_str()?.to_string(),
                description: m["description"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)?;
    Ok(OffchainAsset {
        id: a.id,
        decimals: u32::try_from(a.decimals).map_err(|_| bad())?,
        country_codes: serde_json_strings(&a.country_codes).ok_or_else(bad)?,
        delivery_methods,
        code: a.code,
    })
}

fn corridor(c: corridor::Model, buy_decimals: u32) -> Result<Corridor, Error> {
    let bad = |what: &str| Error::Corrupt(format!("corridor {}: {what}", c.id));
    let rate = match (&c.rate, c.rate_as_of, &c.rate_feed_url) {
        (Some(rate), Some(as_of), None) => {
            RateSource::Manual { rate: rate.parse().map_err(|_| bad("rate"))?, as_of }
        }
        (None, _, Some(url)) => RateSource::Feed { url: url.clone() },
        _ => return Err(bad("needs a manual rate or a feed")),
    };
    Ok(Corridor {
        id: c.id,
        sell: c.sell_asset.parse().map_err(|_| bad("sell asset"))?,
        buy: c.buy_asset.parse().map_err(|_| bad("buy asset"))?,
        buy_decimals,
        rate,
        max_rate_age: c.max_rate_age_secs.map(chrono::Duration::seconds),
        spread_bps: u32::try_from(c.spread_bps).map_err(|_| bad("spread"))?,
        quote_lifetime: chrono::Duration::seconds(c.quote_lifetime_secs),
        min_sell: c.min_sell.map(Amount),
        max_sell: c.max_sell.map(Amount),
        fee_fixed: Amount(c.fee_fixed),
        fee_percent: Amount(c.fee_percent),
        fee_tiers: c.fee_tiers.as_ref().map(fee_tiers).transpose()?.unwrap_or_default(),
        enabled: c.enabled,
        max_outstanding: c.max_outstanding.map(Amount),
    })
}

pub(crate) fn field_type(s: &str) -> Option<FieldType> {
    [FieldType::String, FieldType::Binary, FieldType::Number, FieldType::Date]
        .into_iter()
        .find(|t| t.as_str() == s)
}

fn serde_json_strings(v: &sea_orm::JsonValue) -> Option<Vec<String>> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
}
