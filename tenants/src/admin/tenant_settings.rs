//! Creating a tenant and changing its own settings: status, Horizon, signing key,
//! rate limit, organization and expiry settings.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use mooring_entities::{tenant, watch_cursor};
use mooring_stellar::{Keypair, Network};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::config_write;
use super::domains::insert_domain;
use crate::{Error, MasterKey, TenantStatus, rules};

pub struct NewTenant {
    pub name: String,
    pub domains: Vec<String>,
    pub network: Network,
    pub horizon_url: String,
    /// `None` on testnet only: a distribution account is generated (its key sealed)
    /// and `provisionTestnet` creates it on the ledger.
    pub distribution_account: Option<String>,
    pub org_name: Option<String>,
    pub org_url: Option<String>,
    pub org_description: Option<String>,
}

/// Creates a tenant with a freshly generated SEP-10 signing key (stored encrypted).
/// Returns the tenant id.
pub async fn create_tenant(
    w: impl Into<Writer<'_>>,
    master_key: &MasterKey,
    mut new: NewTenant,
) -> Result<Uuid, Error> {
    let w = w.into();
    let id = Uuid::new_v4();
    // A testnet tenant without an account of its own gets one Mooring holds the key of.
    let generated = match &new.distribution_account {
        Some(a) => {
            rules::check_account(a, "distribution account")?;
            None
        }
        None if new.network.is_public() => {
            return Err(Error::Invalid("a public-network tenant needs its distribution account".into()));
        }
        None => {
            let key = Keypair::generate();
            new.distribution_account = Some(key.public_key().to_string());
            Some(key)
        }
    };
    let distribution_account = new.distribution_account.clone().unwrap_or_default();
    rules::check_org(&rules::OrgFields {
        name: new.org_name.as_deref(),
        url: new.org_url.as_deref(),
        description: new.org_description.as_deref(),
        ..Default::default()
    })?;
    let horizon_url = rules::check_http_url(&new.horizon_url, "Horizon URL")?;
    if new.domains.is_empty() {
        return Err(Error::Invalid("a tenant needs at least one domain".into()));
    }
    let domains = new.domains.iter().map(|d| rules::check_domain(d)).collect::<Result<Vec<_>, _>>()?;
    let key = Keypair::generate();
    let now = Utc::now();
    config_write(w, id, async move |txn| {
        let network = new.network.passphrase().to_string();
        check_account_free(txn, &network, &distribution_account, None).await?;
        let account = distribution_account.clone();
        tenant::ActiveModel {
            id: Set(id),
            name: Set(new.name),
            network_passphrase: Set(network),
            horizon_url: Set(horizon_url),
            rpc_url: Set(None),
            signing_public_key: Set(key.public_key().to_string()),
            signing_seed_ciphertext: Set(master_key.encrypt_seed(id, &key.seed())),
            distribution_account: Set(distribution_account),
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
            // Stamped with the new version by `config_write`.
            config_version: Set(0),
            data_key: Set(Some(crate::pii::DataKey::generate().sealed(master_key, id))),
            conformance_mode: Set(false),
            expired_quote_policy: Set(crate::ExpiredQuotePolicy::Hold),
            testnet_auto_provision: Set(false),
        }
        .insert(txn)
        .await
        .map_err(|e| account_taken(e, &account))?;
        for domain in domains {
            insert_domain(txn, id, domain).await?;
        }
        if let Some(key) = generated {
            crate::sandbox::create_in(txn, master_key, id, Some(&key)).await?;
        }
        Ok(id)
    })
    .await
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

async fn tenant_row(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<tenant::Model, Error> {
    tenant::Entity::find_by_id(tenant_id).one(db).await?.ok_or_else(|| Error::NotFound("tenant".into()))
}

/// Sets (or, with `None`, clears back to the platform default) the cap on all of a
/// tenant's SEP requests together: (per second, burst).
pub async fn set_rate_limit(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    limit: Option<(u32, u32)>,
) -> Result<(), Error> {
    let w = w.into();
    if let Some(limit) = limit {
        rules::check_rate_limit(limit)?;
    }
    let as_column = |v: u32| i32::try_from(v).ok();
    set_columns(
        w,
        tenant_id,
        vec![
            (tenant::Column::RateLimitPerSecond, limit.and_then(|l| as_column(l.0)).into()),
            (tenant::Column::RateLimitBurst, limit.and_then(|l| as_column(l.1)).into()),
        ],
    )
    .await
}

/// Sets some of a tenant's own columns (and `updated_at`) as one config write; an
/// unknown tenant is "not found".
async fn set_columns(
    w: Writer<'_>,
    tenant_id: Uuid,
    columns: Vec<(tenant::Column, sea_orm::Value)>,
) -> Result<(), Error> {
    config_write(w, tenant_id, async move |txn| {
        let mut update =
            tenant::Entity::update_many().col_expr(tenant::Column::UpdatedAt, Expr::value(Utc::now()));
        for (column, value) in columns {
            update = update.col_expr(column, Expr::value(value));
        }
        let updated = update.filter(tenant::Column::Id.eq(tenant_id)).exec(txn).await?;
        if updated.rows_affected == 0 {
            return Err(Error::NotFound("tenant".into()));
        }
        Ok(())
    })
    .await
}

/// Turns conformance mode on or off: while on, SEP-10 authenticates any account. Only
/// for testnet tenants (refused on the public network, where it would let anyone in).
pub async fn set_conformance_mode(w: impl Into<Writer<'_>>, tenant_id: Uuid, on: bool) -> Result<(), Error> {
    let w = w.into();
    config_write(w, tenant_id, async |txn| {
        let t = tenant::Entity::find_by_id(tenant_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound("tenant".into()))?;
        if on && mooring_stellar::Network::new(t.network_passphrase.clone()).is_public() {
            return Err(Error::Invalid("conformance mode is for testnet tenants only".into()));
        }
        let mut row: tenant::ActiveModel = t.into();
        row.conformance_mode = Set(on);
        row.update(txn).await?;
        Ok(())
    })
    .await?;
    if on {
        tracing::warn!(tenant = %tenant_id, "CONFORMANCE MODE ON: this tenant's SEP-10 authenticates ANY account");
    } else {
        tracing::info!(tenant = %tenant_id, "conformance mode off");
    }
    Ok(())
}

/// Suspends or resumes a tenant.
pub async fn set_status(w: impl Into<Writer<'_>>, tenant_id: Uuid, suspended: bool) -> Result<(), Error> {
    let w = w.into();
    let status = if suspended { TenantStatus::Suspended } else { TenantStatus::Active };
    set_columns(w, tenant_id, vec![(tenant::Column::Status, status.into())]).await
}

/// Points a tenant at another Horizon.
pub async fn set_horizon_url(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    horizon_url: &str,
) -> Result<(), Error> {
    let w = w.into();
    let url = rules::check_http_url(horizon_url, "Horizon URL")?;
    set_columns(w, tenant_id, vec![(tenant::Column::HorizonUrl, url.into())]).await
}

/// Gives the tenant its own Stellar RPC (`None`: the platform's for its network).
pub async fn set_rpc_url(
    w: impl Into<Writer<'_>>,
    tenant_id: Uuid,
    rpc_url: Option<&str>,
) -> Result<(), Error> {
    let w = w.into();
    let url = rpc_url.map(|u| rules::check_http_url(u, "RPC URL")).transpose()?;
    set_columns(w, tenant_id, vec![(tenant::Column::RpcUrl, url.into())]).await
}

/// Replaces the tenant's SEP-10 signing key with a new one. SEP-10 tokens stay valid:
/// they are signed with a per-tenant secret derived from the master key, not with the
/// signing key. Challenges issued under the old key can no longer be exchanged.
pub async fn rotate_signing_key(
    w: impl Into<Writer<'_>>,
    master_key: &MasterKey,
    tenant_id: Uuid,
) -> Result<String, Error> {
    let w = w.into();
    let key = Keypair::generate();
    config_write(w, tenant_id, async move |txn| {
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
    /// A Stellar RPC for this tenant alone; `""` goes back to the platform's.
    pub rpc_url: Option<String>,
    pub transaction_expiry_secs: Option<i64>,
    pub info_requires_auth: Option<bool>,
    /// Testnet only: provision the sandbox again after each testnet reset.
    pub testnet_auto_provision: Option<bool>,
}

pub async fn update_settings(w: impl Into<Writer<'_>>, tenant_id: Uuid, s: Settings) -> Result<(), Error> {
    let w = w.into();
    rules::check_org(&rules::OrgFields {
        name: s.org_name.as_deref(),
        url: s.org_url.as_deref(),
        description: s.org_description.as_deref(),
        logo: s.org_logo.as_deref(),
        official_email: s.org_official_email.as_deref(),
        support_email: s.org_support_email.as_deref(),
    })?;
    if let Some(a) = &s.distribution_account {
        rules::check_account(a, "distribution account")?;
    }
    let horizon_url =
        s.horizon_url.as_deref().map(|u| rules::check_http_url(u, "Horizon URL")).transpose()?;
    let rpc_url = match s.rpc_url.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(u) => Some(Some(rules::check_http_url(u, "RPC URL")?)),
    };
    if s.transaction_expiry_secs.is_some_and(|e| !(1..=30 * 86_400).contains(&e)) {
        return Err(Error::Invalid("transaction expiry must be between 1 second and 30 days".into()));
    }
    config_write(w, tenant_id, async move |txn| {
        let current = tenant_row(txn, tenant_id).await?;
        let new_account = s.distribution_account.filter(|a| *a != current.distribution_account);
        if let Some(account) = &new_account {
            check_account_free(txn, &current.network_passphrase, account, Some(tenant_id)).await?;
            // A cursor left from an earlier time with this account would replay
            // payments from when it was not ours; start from now instead.
            watch_cursor::Entity::delete_of_tenant(tenant_id)
                .filter(watch_cursor::Column::Account.eq(account))
                .exec(txn)
                .await?;
        }
        let current_is_public = current.network_passphrase == mooring_stellar::network::PUBLIC_PASSPHRASE;
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
        if let Some(v) = rpc_url {
            row.rpc_url = Set(v);
        }
        if let Some(v) = s.transaction_expiry_secs {
            row.transaction_expiry_secs = Set(Some(v));
        }
        if let Some(v) = s.info_requires_auth {
            row.info_requires_auth = Set(v);
        }
        if let Some(v) = s.testnet_auto_provision {
            if v && current_is_public {
                return Err(Error::Invalid("testnetAutoProvision is for testnet tenants".into()));
            }
            row.testnet_auto_provision = Set(v);
        }
        row.updated_at = Set(Utc::now());
        row.update(txn).await.map_err(|e| account_taken(e, new_account.as_deref().unwrap_or_default()))?;
        Ok(())
    })
    .await
}
