//! Writes to tenant configuration. Every write runs in one database transaction that
//! also bumps `config_state.version`, which is how every replica learns that its cache
//! is stale: nothing half-written, nothing missed.

use chrono::Utc;
use mooring_entities::{
    approved_sender, asset, asset_field, config_state, customer_type, customer_type_field, tenant,
    tenant_domain, watch_cursor,
};
use mooring_stellar::{Amount, Keypair, Network};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

pub use approved_sender::Model as Sender;

use crate::{AssetStatus, Error, MasterKey, MemoType, TenantStatus, host, rules};

pub struct NewTenant {
    pub name: String,
    pub domains: Vec<String>,
    pub network: Network,
    pub horizon_url: String,
    pub distribution_account: String,
    pub org_name: Option<String>,
    pub org_url: Option<String>,
    pub org_description: Option<String>,
}

pub struct NewAsset {
    pub code: String,
    pub issuer: String,
    pub status: AssetStatus,
    pub min_amount: Option<Amount>,
    pub max_amount: Option<Amount>,
    pub fee_fixed: Amount,
    pub fee_percent: Amount,
    pub memo_type: MemoType,
    pub sender_sep12_type: Option<String>,
    pub receiver_sep12_type: Option<String>,
    pub funding_methods: Vec<String>,
    pub anchor_asset_type: String,
    pub description: String,
    pub display_decimals: i32,
    pub fields: Vec<NewAssetField>,
    /// Fees by amount; empty: flat fees only.
    pub fee_tiers: Vec<crate::FeeTier>,
}

pub struct NewAssetField {
    pub name: String,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Vec<String>>,
}

/// Runs `write` in one write transaction that also bumps the config version, so every
/// replica learns of it; nothing is written if `write` fails.
async fn config_write<T>(
    db: &DatabaseConnection,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, Error>,
) -> Result<T, Error> {
    let txn = mooring_entities::begin_write(db).await?;
    let value = write(&txn).await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(value)
}

pub async fn bump_version(db: &impl ConnectionTrait) -> Result<(), Error> {
    config_state::Entity::update_many()
        .col_expr(config_state::Column::Version, Expr::col(config_state::Column::Version).add(1))
        .filter(config_state::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// Refuses a distribution account another tenant on the same network already has.
/// The unique index (network, account) backs this up against concurrent writers.
async fn check_account_free(
    db: &impl ConnectionTrait,
    network_passphrase: &str,
    account: &str,
    except: Option<Uuid>,
) -> Result<(), Error> {
    let mut query = tenant::Entity::find()
        .filter(tenant::Column::NetworkPassphrase.eq(network_passphrase))
        .filter(tenant::Column::DistributionAccount.eq(account));
    if let Some(id) = except {
        query = query.filter(tenant::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(Error::AccountTaken(account.to_string()));
    }
    Ok(())
}

/// A unique-index violation on the distribution account, as the error it means.
fn account_taken(e: sea_orm::DbErr, account: &str) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::AccountTaken(account.to_string()),
        _ => e.into(),
    }
}

/// Creates a tenant with a freshly generated SEP-10 signing key (stored encrypted).
/// Returns the tenant id.
pub async fn create_tenant(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    new: NewTenant,
) -> Result<Uuid, Error> {
    rules::check_account(&new.distribution_account, "distribution account")?;
    let horizon_url = rules::check_http_url(&new.horizon_url, "Horizon URL")?;
    if new.domains.is_empty() {
        return Err(Error::Invalid("a tenant needs at least one domain".into()));
    }
    let domains = new.domains.iter().map(|d| rules::check_domain(d)).collect::<Result<Vec<_>, _>>()?;
    let id = Uuid::new_v4();
    let key = Keypair::generate();
    let now = Utc::now();
    config_write(db, async move |txn| {
        let network = new.network.passphrase().to_string();
        check_account_free(txn, &network, &new.distribution_account, None).await?;
        let account = new.distribution_account.clone();
        tenant::ActiveModel {
            id: Set(id),
            name: Set(new.name),
            network_passphrase: Set(network),
            horizon_url: Set(horizon_url),
            signing_public_key: Set(key.public_key().to_string()),
            signing_seed_ciphertext: Set(master_key.encrypt_seed(id, &key.seed())),
            distribution_account: Set(new.distribution_account),
            status: Set(TenantStatus::Active),
            org_name: Set(new.org_name),
            org_url: Set(new.org_url),
            org_description: Set(new.org_description),
            org_logo: Set(None),
            org_official_email: Set(None),
            org_support_email: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            transaction_expiry_secs: Set(None),
            // Payments to the account from now on are the tenant's: the first watch
            // catches up from here, however late it starts.
            watch_from: Set(Some(now)),
            info_requires_auth: Set(false),
            rate_limit_per_second: Set(None),
            rate_limit_burst: Set(None),
        }
        .insert(txn)
        .await
        .map_err(|e| account_taken(e, &account))?;
        for domain in domains {
            insert_domain(txn, id, domain).await?;
        }
        Ok(id)
    })
    .await
}

async fn insert_domain(db: &impl ConnectionTrait, tenant_id: Uuid, domain: String) -> Result<(), Error> {
    if tenant_domain::Entity::find_by_id(domain.clone()).one(db).await?.is_some() {
        return Err(Error::DomainTaken(domain));
    }
    tenant_domain::ActiveModel {
        domain: Set(domain),
        tenant_id: Set(tenant_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn add_domain(db: &DatabaseConnection, tenant_id: Uuid, domain: &str) -> Result<(), Error> {
    let domain = rules::check_domain(domain)?;
    config_write(db, async move |txn| {
        insert_domain(txn, tenant_id, domain).await?;
        Ok(())
    })
    .await
}

/// Adds an approved sending anchor, or re-enables it. Idempotent.
pub async fn approve_sender(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    account: &str,
    name: &str,
) -> Result<(), Error> {
    rules::check_account(account, "sending anchor account")?;
    config_write(db, async move |txn| {
        let existing = approved_sender::Entity::find()
            .filter(approved_sender::Column::TenantId.eq(tenant_id))
            .filter(approved_sender::Column::Account.eq(account))
            .one(txn)
            .await?;
        match existing {
            Some(row) if row.enabled => {}
            Some(row) => {
                let mut row: approved_sender::ActiveModel = row.into();
                row.enabled = Set(true);
                row.update(txn).await?;
            }
            None => {
                approved_sender::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    tenant_id: Set(tenant_id),
                    account: Set(account.to_string()),
                    name: Set(name.to_string()),
                    enabled: Set(true),
                    created_at: Set(Utc::now()),
                }
                .insert(txn)
                .await?;
            }
        }
        Ok(())
    })
    .await
}

/// Removes an approved sending anchor: it can no longer obtain SEP-10 tokens.
/// A tenant's approved sending anchors, enabled or not, oldest first.
pub async fn senders(db: &DatabaseConnection, tenant_id: Uuid) -> Result<Vec<Sender>, Error> {
    Ok(approved_sender::Entity::find()
        .filter(approved_sender::Column::TenantId.eq(tenant_id))
        .order_by_asc(approved_sender::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn remove_sender(db: &DatabaseConnection, tenant_id: Uuid, account: &str) -> Result<bool, Error> {
    config_write(db, async move |txn| {
        let deleted = approved_sender::Entity::delete_many()
            .filter(approved_sender::Column::TenantId.eq(tenant_id))
            .filter(approved_sender::Column::Account.eq(account))
            .exec(txn)
            .await?
            .rows_affected;
        Ok(deleted > 0)
    })
    .await
}

pub async fn add_asset(db: &DatabaseConnection, tenant_id: Uuid, new: NewAsset) -> Result<Uuid, Error> {
    config_write(db, async move |txn| {
        let id = insert_asset(txn, tenant_id, new).await?;
        Ok(id)
    })
    .await
}

async fn insert_asset(txn: &impl ConnectionTrait, tenant_id: Uuid, new: NewAsset) -> Result<Uuid, Error> {
    rules::check_asset(&new)?;
    let id = Uuid::new_v4();
    asset::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        code: Set(new.code),
        issuer: Set(new.issuer),
        status: Set(new.status),
        sep31_enabled: Set(true),
        min_amount: Set(new.min_amount.map(|a| a.0)),
        max_amount: Set(new.max_amount.map(|a| a.0)),
        fee_fixed: Set(new.fee_fixed.0),
        fee_percent: Set(new.fee_percent.0),
        memo_type: Set(new.memo_type),
        sender_sep12_type: Set(new.sender_sep12_type),
        receiver_sep12_type: Set(new.receiver_sep12_type),
        funding_methods: Set(new.funding_methods.into()),
        anchor_asset_type: Set(new.anchor_asset_type),
        description: Set(new.description),
        display_decimals: Set(new.display_decimals),
        created_at: Set(Utc::now()),
        fee_tiers: Set((!new.fee_tiers.is_empty()).then(|| {
            new.fee_tiers
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "min_amount": t.min_amount.to_string(),
                        "fee_fixed": t.fee_fixed.to_string(),
                        "fee_percent": t.fee_percent.to_string(),
                    })
                })
                .collect::<Vec<_>>()
                .into()
        })),
    }
    .insert(txn)
    .await?;
    for f in new.fields {
        asset_field::ActiveModel {
            id: Set(Uuid::new_v4()),
            asset_id: Set(id),
            name: Set(f.name),
            description: Set(f.description),
            optional: Set(f.optional),
            choices: Set(f.choices.map(Into::into)),
        }
        .insert(txn)
        .await?;
    }
    Ok(id)
}

/// Sets (or, with `None`, clears back to the platform default) the cap on all of a
/// tenant's SEP requests together: (per second, burst).
pub async fn set_rate_limit(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    limit: Option<(u32, u32)>,
) -> Result<(), Error> {
    if let Some(limit) = limit {
        rules::check_rate_limit(limit)?;
    }
    let as_column = |v: u32| i32::try_from(v).ok();
    config_write(db, async move |txn| {
        tenant_row(txn, tenant_id).await?;
        tenant::Entity::update_many()
            .col_expr(tenant::Column::RateLimitPerSecond, Expr::value(limit.and_then(|l| as_column(l.0))))
            .col_expr(tenant::Column::RateLimitBurst, Expr::value(limit.and_then(|l| as_column(l.1))))
            .col_expr(tenant::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(tenant::Column::Id.eq(tenant_id))
            .exec(txn)
            .await?;
        Ok(())
    })
    .await
}

/// Suspends or resumes a tenant.
pub async fn set_status(db: &DatabaseConnection, tenant_id: Uuid, suspended: bool) -> Result<(), Error> {
    config_write(db, async move |txn| {
        tenant::Entity::update_many()
            .col_expr(
                tenant::Column::Status,
                Expr::value(if suspended { TenantStatus::Suspended } else { TenantStatus::Active }),
            )
            .col_expr(tenant::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(tenant::Column::Id.eq(tenant_id))
            .exec(txn)
            .await?;
        Ok(())
    })
    .await
}

/// The tenant serving `domain`, if any: how the demo seed finds what it made before.
pub async fn tenant_for_domain(db: &DatabaseConnection, domain: &str) -> Result<Option<Uuid>, Error> {
    Ok(tenant_domain::Entity::find_by_id(host::normalize(domain)).one(db).await?.map(|d| d.tenant_id))
}

/// Points a tenant at another Horizon.
pub async fn set_horizon_url(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    horizon_url: &str,
) -> Result<(), Error> {
    let url = rules::check_http_url(horizon_url, "Horizon URL")?;
    config_write(db, async move |txn| {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::HorizonUrl, Expr::value(url))
            .col_expr(tenant::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(tenant::Column::Id.eq(tenant_id))
            .exec(txn)
            .await?;
        Ok(())
    })
    .await
}

pub struct NewCustomerType {
    pub name: String,
    pub description: String,
    pub fields: Vec<NewCustomerField>,
}

pub struct NewCustomerField {
    pub name: String,
    /// `None` for a standard SEP-9 field (its type comes from SEP-9).
    pub field_type: Option<mooring_stellar::sep9::FieldType>,
    pub description: String,
    pub optional: bool,
    pub choices: Option<Vec<String>>,
}

/// Adds a SEP-12 customer type. Fields must be SEP-9 names, or custom names that say
/// their type explicitly.
pub async fn add_customer_type(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    new: NewCustomerType,
) -> Result<Uuid, Error> {
    config_write(db, async move |txn| {
        let id = insert_customer_type(txn, tenant_id, new).await?;
        Ok(id)
    })
    .await
}

async fn insert_customer_type(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    new: NewCustomerType,
) -> Result<Uuid, Error> {
    rules::check_customer_type(&new)?;
    let id = Uuid::new_v4();
    customer_type::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        name: Set(new.name),
        description: Set(new.description),
    }
    .insert(txn)
    .await?;
    for f in new.fields {
        let standard = mooring_stellar::sep9::field_type(&f.name);
        let field_type = match (standard, f.field_type) {
            (Some(t), None) => t,
            (Some(t), Some(given)) if t == given => t,
            (Some(t), Some(_)) => {
                return Err(Error::Invalid(format!("SEP-9 field {} is of type {}", f.name, t.as_str())));
            }
            (None, Some(given)) => given,
            (None, None) => {
                return Err(Error::Invalid(format!("{} is not a SEP-9 field: give its type", f.name)));
            }
        };
        customer_type_field::ActiveModel {
            id: Set(Uuid::new_v4()),
            customer_type_id: Set(id),
            name: Set(f.name),
            field_type: Set(field_type.as_str().to_string()),
            description: Set(f.description),
            optional: Set(f.optional),
            choices: Set(f.choices.map(Into::into)),
        }
        .insert(txn)
        .await?;
    }
    Ok(id)
}

async fn tenant_row(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<tenant::Model, Error> {
    tenant::Entity::find_by_id(tenant_id).one(db).await?.ok_or_else(|| Error::NotFound("tenant".into()))
}

/// Removes a domain; a tenant keeps at least one.
pub async fn remove_domain(db: &DatabaseConnection, tenant_id: Uuid, domain: &str) -> Result<(), Error> {
    let domain = host::normalize(domain);
    config_write(db, async move |txn| {
        let owned = tenant_domain::Entity::find()
            .filter(tenant_domain::Column::TenantId.eq(tenant_id))
            .all(txn)
            .await?;
        if !owned.iter().any(|d| d.domain == domain) {
            return Err(Error::NotFound(format!("domain {domain}")));
        }
        if owned.len() == 1 {
            return Err(Error::Invalid("a tenant keeps at least one domain".into()));
        }
        tenant_domain::Entity::delete_by_id(domain).exec(txn).await?;
        Ok(())
    })
    .await
}

/// Replaces the tenant's SEP-10 signing key with a new one. SEP-10 tokens stay valid:
/// they are signed with a per-tenant secret derived from the master key, not with the
/// signing key. Challenges issued under the old key can no longer be exchanged.
pub async fn rotate_signing_key(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    tenant_id: Uuid,
) -> Result<String, Error> {
    let key = Keypair::generate();
    config_write(db, async move |txn| {
        tenant_row(txn, tenant_id).await?;
        tenant::Entity::update_many()
            .col_expr(tenant::Column::SigningPublicKey, Expr::value(key.public_key().to_string()))
            .col_expr(
                tenant::Column::SigningSeedCiphertext,
                Expr::value(master_key.encrypt_seed(tenant_id, &key.seed())),
            )
            .col_expr(tenant::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(tenant::Column::Id.eq(tenant_id))
            .exec(txn)
            .await?;
        Ok(key.public_key().to_string())
    })
    .await
}

/// Tenant settings the admin API edits. `None` leaves a value as it is.
#[derive(Default)]
pub struct Settings {
    pub name: Option<String>,
    pub org_name: Option<String>,
    pub org_url: Option<String>,
    pub org_description: Option<String>,
    pub org_logo: Option<String>,
    pub org_official_email: Option<String>,
    pub org_support_email: Option<String>,
    pub distribution_account: Option<String>,
    pub horizon_url: Option<String>,
    pub transaction_expiry_secs: Option<i64>,
    pub info_requires_auth: Option<bool>,
}

pub async fn update_settings(db: &DatabaseConnection, tenant_id: Uuid, s: Settings) -> Result<(), Error> {
    if let Some(a) = &s.distribution_account {
        rules::check_account(a, "distribution account")?;
    }
    let horizon_url =
        s.horizon_url.as_deref().map(|u| rules::check_http_url(u, "Horizon URL")).transpose()?;
    if s.transaction_expiry_secs.is_some_and(|e| !(1..=30 * 86_400).contains(&e)) {
        return Err(Error::Invalid("transaction expiry must be between 1 second and 30 days".into()));
    }
    config_write(db, async move |txn| {
        let current = tenant_row(txn, tenant_id).await?;
        let new_account = s.distribution_account.filter(|a| *a != current.distribution_account);
        if let Some(account) = &new_account {
            check_account_free(txn, &current.network_passphrase, account, Some(tenant_id)).await?;
            // A cursor left from an earlier time with this account would replay
            // payments from when it was not ours; start from now instead.
            watch_cursor::Entity::delete_many()
                .filter(watch_cursor::Column::TenantId.eq(tenant_id))
                .filter(watch_cursor::Column::Account.eq(account))
                .exec(txn)
                .await?;
        }
        let mut row: tenant::ActiveModel = current.into();
        if let Some(v) = s.name {
            row.name = Set(v);
        }
        let optional = |v: Option<String>| v.map(|v| if v.is_empty() { None } else { Some(v) });
        if let Some(v) = optional(s.org_name) {
            row.org_name = Set(v);
        }
        if let Some(v) = optional(s.org_url) {
            row.org_url = Set(v);
        }
        if let Some(v) = optional(s.org_description) {
            row.org_description = Set(v);
        }
        if let Some(v) = optional(s.org_logo) {
            row.org_logo = Set(v);
        }
        if let Some(v) = optional(s.org_official_email) {
            row.org_official_email = Set(v);
        }
        if let Some(v) = optional(s.org_support_email) {
            row.org_support_email = Set(v);
        }
        if let Some(v) = &new_account {
            row.distribution_account = Set(v.clone());
            row.watch_from = Set(Some(Utc::now()));
        }
        if let Some(v) = horizon_url {
            row.horizon_url = Set(v);
        }
        if let Some(v) = s.transaction_expiry_secs {
            row.transaction_expiry_secs = Set(Some(v));
        }
        if let Some(v) = s.info_requires_auth {
            row.info_requires_auth = Set(v);
        }
        row.updated_at = Set(Utc::now());
        row.update(txn).await.map_err(|e| account_taken(e, new_account.as_deref().unwrap_or_default()))?;
        Ok(())
    })
    .await
}

pub async fn set_sender_enabled(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    account: &str,
    enabled: bool,
) -> Result<(), Error> {
    config_write(db, async move |txn| {
        let updated = approved_sender::Entity::update_many()
            .col_expr(approved_sender::Column::Enabled, Expr::value(enabled))
            .filter(approved_sender::Column::TenantId.eq(tenant_id))
            .filter(approved_sender::Column::Account.eq(account))
            .exec(txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(Error::NotFound(format!("sender {account}")));
        }
        Ok(())
    })
    .await
}

/// Creates or replaces (by code and issuer) an asset with its transaction fields.
pub async fn upsert_asset(db: &DatabaseConnection, tenant_id: Uuid, new: NewAsset) -> Result<Uuid, Error> {
    rules::check_asset(&new)?;
    let existing = asset::Entity::find()
        .filter(asset::Column::TenantId.eq(tenant_id))
        .filter(asset::Column::Code.eq(&new.code))
        .filter(asset::Column::Issuer.eq(&new.issuer))
        .one(db)
        .await?;
    config_write(db, async move |txn| {
        // A replacement happens in the same transaction as the removal it needs.
        if let Some(old) = existing {
            asset::Entity::delete_by_id(old.id).exec(txn).await?;
        }
        insert_asset(txn, tenant_id, new).await
    })
    .await
}

/// Removes an asset (by code); `false` if the tenant has none with that code.
pub async fn remove_asset(db: &DatabaseConnection, tenant_id: Uuid, code: &str) -> Result<bool, Error> {
    config_write(db, async move |txn| {
        let deleted = asset::Entity::delete_many()
            .filter(asset::Column::TenantId.eq(tenant_id))
            .filter(asset::Column::Code.eq(code))
            .exec(txn)
            .await?;
        Ok(deleted.rows_affected > 0)
    })
    .await
}

/// Creates or replaces (by name) a SEP-12 customer type.
pub async fn set_customer_type(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    new: NewCustomerType,
) -> Result<Uuid, Error> {
    config_write(db, async move |txn| {
        customer_type::Entity::delete_many()
            .filter(customer_type::Column::TenantId.eq(tenant_id))
            .filter(customer_type::Column::Name.eq(&new.name))
            .exec(txn)
            .await?;
        let id = insert_customer_type(txn, tenant_id, new).await?;
        Ok(id)
    })
    .await
}

pub async fn remove_customer_type(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    name: &str,
) -> Result<bool, Error> {
    config_write(db, async move |txn| {
        let deleted = customer_type::Entity::delete_many()
            .filter(customer_type::Column::TenantId.eq(tenant_id))
            .filter(customer_type::Column::Name.eq(name))
            .exec(txn)
            .await?;
        Ok(deleted.rows_affected > 0)
    })
    .await
}
