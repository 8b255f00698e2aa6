use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use mooring_entities::{
    approved_sender, asset, asset_field, config_state, customer_type, customer_type_field, tenant,
    tenant_domain,
};
use mooring_stellar::sep9::FieldType;
use mooring_stellar::{Amount, Keypair, Network, PublicKey};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use crate::model::FeeTier;
use crate::model::Organization;
use crate::{Asset, AssetField, CustomerField, CustomerType, Error, MasterKey, Tenant};

/// Every tenant, by domain, as of one config version.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: i64,
    by_domain: HashMap<String, Arc<Tenant>>,
    tenants: Vec<Arc<Tenant>>,
}

impl Snapshot {
    pub fn tenants(&self) -> &[Arc<Tenant>] {
        &self.tenants
    }
}

/// The in-process tenant cache. Lookups are a hash-map probe on an immutable snapshot
/// (no lock, no database); [`Directory::refresh`] swaps in a new snapshot when the
/// database's config version has moved on. Which task calls `refresh`, and when, is
/// the server's business (a poll loop, a Redis notification, or the writer itself).
pub struct Directory {
    db: DatabaseConnection,
    master_key: MasterKey,
    snapshot: ArcSwap<Snapshot>,
    reload_lock: tokio::sync::Mutex<()>,
    /// Tells other replicas right away (e.g. over Redis) that the config changed.
    on_change: std::sync::OnceLock<ChangeHook>,
}

pub type ChangeHook = Box<dyn Fn() + Send + Sync>;

impl Directory {
    pub async fn load(db: DatabaseConnection, master_key: MasterKey) -> Result<Self, Error> {
        let dir = Self {
            db,
            master_key,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            reload_lock: tokio::sync::Mutex::new(()),
            on_change: std::sync::OnceLock::new(),
        };
        dir.reload().await?;
        Ok(dir)
    }

    /// The tenant serving `host` (a `Host` header: port and case are ignored).
    pub fn resolve(&self, host: &str) -> Option<Arc<Tenant>> {
        self.snapshot.load().by_domain.get(&crate::host::normalize(host)).cloned()
    }

    pub fn by_id(&self, id: uuid::Uuid) -> Option<Arc<Tenant>> {
        self.snapshot.load().tenants.iter().find(|t| t.id == id).cloned()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    pub fn version(&self) -> i64 {
        self.snapshot.load().version
    }

    pub async fn stored_version(&self) -> Result<i64, Error> {
        Ok(config_state::Entity::find_by_id(1).one(&self.db).await?.map_or(0, |row| row.version))
    }

    /// Installs the hook [`Directory::changed`] calls; the first one installed stays.
    pub fn set_change_hook(&self, hook: ChangeHook) {
        let _ = self.on_change.set(hook);
    }

    /// After this process changed the configuration: reload here, and tell the others.
    pub async fn changed(&self) -> Result<(), Error> {
        self.reload().await?;
        if let Some(hook) = self.on_change.get() {
            hook();
        }
        Ok(())
    }

    /// Reloads if the stored config version differs from the cached one. One cheap
    /// primary-key read when nothing changed. Returns whether it reloaded.
    pub async fn refresh(&self) -> Result<bool, Error> {
        if self.stored_version().await? == self.version() {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Rebuilds the whole snapshot. Concurrent callers reload once.
    pub async fn reload(&self) -> Result<(), Error> {
        let _guard = self.reload_lock.lock().await;
        // Read the version first: a change committed while we load makes the next
        // refresh see a newer version and reload again, never the reverse.
        let version = self.stored_version().await?;
        let snapshot = self.load_snapshot(version).await?;
        tracing::debug!(version, tenants = snapshot.tenants.len(), "tenant cache reloaded");
        self.snapshot.store(Arc::new(snapshot));
        Ok(())
    }

    async fn load_snapshot(&self, version: i64) -> Result<Snapshot, Error> {
        let db = &self.db;
        let tenants = tenant::Entity::find().order_by_asc(tenant::Column::CreatedAt).all(db).await?;
        let mut domains: HashMap<_, Vec<String>> = HashMap::new();
        for d in tenant_domain::Entity::find()
            .order_by_asc(tenant_domain::Column::CreatedAt)
            .order_by_asc(tenant_domain::Column::Domain)
            .all(db)
            .await?
        {
            domains.entry(d.tenant_id).or_default().push(d.domain);
        }
        let mut senders: HashMap<_, Vec<PublicKey>> = HashMap::new();
        for s in approved_sender::Entity::find().all(db).await? {
            if s.enabled {
                let key = s.account.parse().map_err(|_| Error::Corrupt(format!("sender {}", s.account)))?;
                senders.entry(s.tenant_id).or_default().push(key);
            }
        }
        let mut fields: HashMap<_, Vec<AssetField>> = HashMap::new();
        for f in asset_field::Entity::find().order_by_asc(asset_field::Column::Name).all(db).await? {
            fields.entry(f.asset_id).or_default().push(AssetField {
                name: f.name,
                description: f.description,
                optional: f.optional,
                choices: f.choices.and_then(|c| serde_json_strings(&c)),
            });
        }
        let mut assets: HashMap<_, Vec<Asset>> = HashMap::new();
        for a in asset::Entity::find().order_by_asc(asset::Column::Code).all(db).await? {
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
            });
        }

        let mut type_fields: HashMap<_, Vec<CustomerField>> = HashMap::new();
        for f in customer_type_field::Entity::find()
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
        for t in customer_type::Entity::find().order_by_asc(customer_type::Column::Name).all(db).await? {
            customer_types.entry(t.tenant_id).or_default().push(CustomerType {
                fields: type_fields.remove(&t.id).unwrap_or_default(),
                name: t.name,
                description: t.description,
            });
        }

        let mut snapshot = Snapshot { version, ..Snapshot::default() };
        for t in tenants {
            let seed = self.master_key.decrypt_seed(t.id, &t.signing_seed_ciphertext)?;
            let signing_key = Keypair::from_seed(seed);
            if signing_key.public_key().to_string() != t.signing_public_key {
                return Err(Error::Corrupt(format!("tenant {}: signing key mismatch", t.id)));
            }
            let tenant = Arc::new(Tenant {
                id: t.id,
                name: t.name,
                domains: domains.remove(&t.id).unwrap_or_default(),
                network: Network::new(t.network_passphrase),
                horizon_url: t.horizon_url.trim_end_matches('/').to_string(),
                jwt_secret: self.master_key.jwt_secret(t.id),
                signing_key,
                distribution_account: t.distribution_account,
                watch_from: t.watch_from.unwrap_or(t.created_at),
                status: t.status,
                approved_senders: senders.remove(&t.id).unwrap_or_default().into_iter().collect(),
                assets: assets.remove(&t.id).unwrap_or_default(),
                customer_types: customer_types.remove(&t.id).unwrap_or_default(),
                transaction_expiry_secs: t.transaction_expiry_secs,
                info_requires_auth: t.info_requires_auth,
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
            for d in &tenant.domains {
                snapshot.by_domain.insert(d.clone(), tenant.clone());
            }
            snapshot.tenants.push(tenant);
        }
        Ok(snapshot)
    }
}

/// Parses stored fee tiers (see `asset::Model::fee_tiers`), ascending by amount.
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

pub(crate) fn field_type(s: &str) -> Option<FieldType> {
    [FieldType::String, FieldType::Binary, FieldType::Number, FieldType::Date]
        .into_iter()
        .find(|t| t.as_str() == s)
}

fn serde_json_strings(v: &sea_orm::JsonValue) -> Option<Vec<String>> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
}
