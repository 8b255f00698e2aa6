use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use mooring_entities::{config_state, tenant};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{Error, MasterKey, Tenant, load};

/// More changed tenants than this since the cached version (a replica cut off for a
/// while): reload everything in one pass instead of a long `IN` list.
const FULL_RELOAD_ABOVE: usize = 500;

/// Every tenant as of one config version, by domain, by id and in creation order. The
/// maps are persistent (structure-sharing): a new snapshot that replaces one tenant
/// copies a few nodes, not the platform, so a change costs the same at 10 tenants as
/// at 10,000.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub version: i64,
    by_domain: imbl::HashMap<String, Arc<Tenant>>,
    by_id: imbl::HashMap<Uuid, Arc<Tenant>>,
    ordered: imbl::OrdMap<(DateTime<Utc>, Uuid), Arc<Tenant>>,
}

impl Snapshot {
    /// Oldest first.
    pub fn tenants(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        self.ordered.values()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// This snapshot with `changed` tenants put in place of what it had of them: their
    /// old domains leave the host map before any new one enters, so a domain moving
    /// between two changed tenants lands where it now belongs.
    /// This snapshot at `version`, with the tenants `changed` replaced by `loaded` (a
    /// changed tenant that did not load — offboarded — is gone).
    fn with(&self, version: i64, changed: &[Uuid], loaded: Vec<Arc<Tenant>>) -> Snapshot {
        let mut next = self.clone();
        next.version = version;
        for id in changed.iter().chain(loaded.iter().map(|t| &t.id)) {
            if let Some(old) = next.by_id.remove(id) {
                next.ordered.remove(&(old.created_at, old.id));
                for d in &old.domains {
                    if next.by_domain.get(d).is_some_and(|t| t.id == old.id) {
                        next.by_domain.remove(d);
                    }
                }
            }
        }
        for tenant in loaded {
            for d in &tenant.domains {
                next.by_domain.insert(d.clone(), tenant.clone());
            }
            next.ordered.insert((tenant.created_at, tenant.id), tenant.clone());
            next.by_id.insert(tenant.id, tenant);
        }
        next
    }
}

/// The in-process tenant cache. Lookups are a hash-map probe on an immutable snapshot
/// (no lock, no database); [`Directory::refresh`] brings in the tenants changed since
/// the cached config version. Which task calls `refresh`, and when, is the server's
/// business (a poll loop, a Redis notification, or the writer itself).
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

    pub fn by_id(&self, id: Uuid) -> Option<Arc<Tenant>> {
        self.snapshot.load().by_id.get(&id).cloned()
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

    /// After this process changed the configuration: bring it in here, and tell the others.
    pub async fn changed(&self) -> Result<(), Error> {
        self.refresh().await?;
        if let Some(hook) = self.on_change.get() {
            hook();
        }
        Ok(())
    }

    /// Brings in the tenants changed since the cached config version: one cheap
    /// primary-key read when nothing changed, else the changed tenants' rows only.
    /// Returns whether anything changed.
    pub async fn refresh(&self) -> Result<bool, Error> {
        let _guard = self.reload_lock.lock().await;
        let cached = self.snapshot.load_full();
        // The version first: a change committed while we load has a later version,
        // so the next refresh brings it in (again, at worst), never the reverse.
        let version = self.stored_version().await?;
        if version == cached.version {
            return Ok(false);
        }
        let changed: Vec<Uuid> = tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .filter(tenant::Column::ConfigVersion.gt(cached.version))
            // In index order and bounded, so the planner walks the index even when its
            // statistics still think the table is small.
            .order_by_asc(tenant::Column::ConfigVersion)
            .limit(FULL_RELOAD_ABOVE as u64 + 1)
            .into_tuple()
            .all(&self.db)
            .await?;
        if changed.len() > FULL_RELOAD_ABOVE {
            drop(_guard);
            self.reload().await?;
            return Ok(true);
        }
        let tenants = load::tenants(&self.db, &self.master_key, Some(&changed)).await?;
        tracing::debug!(version, tenants = tenants.len(), "tenant cache updated");
        self.snapshot.store(Arc::new(cached.with(version, &changed, tenants)));
        Ok(true)
    }

    /// Rebuilds the whole snapshot (at start, or after a long absence).
    pub async fn reload(&self) -> Result<(), Error> {
        let _guard = self.reload_lock.lock().await;
        let version = self.stored_version().await?;
        let tenants = load::tenants(&self.db, &self.master_key, None).await?;
        tracing::debug!(version, tenants = tenants.len(), "tenant cache reloaded");
        self.snapshot.store(Arc::new(Snapshot::default().with(version, &[], tenants)));
        Ok(())
    }
}
