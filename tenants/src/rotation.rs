//! Master-key rotation: re-seal every secret the master key protects — tenant signing
//! seeds, tenant data keys, webhook signing secrets, testnet sandbox keys — under the current key, in
//! batches. Each row is re-sealed on its own with a compare-and-set on the value read,
//! so concurrent writes win, a crash loses nothing (rows already under the current key
//! are skipped next time) and replicas keep serving throughout: they hold both keys
//! (`MOORING_MASTER_KEY` new, `MOORING_MASTER_KEY_PREVIOUS` old) until it is done.

use mooring_entities::{tenant, webhook_endpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::crypto::WEBHOOK_SECRET_PURPOSE;
use crate::pii::DATA_KEY_PURPOSE;
use crate::{Error, MasterKey};

/// What one pass re-sealed, and what is still under another key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub resealed: u64,
    /// Rows looked at.
    pub seen: u64,
}

/// Re-seals up to `limit` rows (`None`: all) whose secrets are not under the current
/// key, `batch` rows per read. Call until `resealed` is 0 to be sure.
pub async fn reseal(
    db: &DatabaseConnection,
    key: &MasterKey,
    batch: u64,
    limit: Option<u64>,
) -> Result<Progress, Error> {
    let mut progress = Progress::default();
    let budget = |p: &Progress| limit.is_none_or(|l| p.resealed < l);
    let mut after: Option<Uuid> = None;
    while budget(&progress) {
        let mut q = tenant::Entity::find().order_by_asc(tenant::Column::Id).limit(batch);
        if let Some(a) = after {
            q = q.filter(tenant::Column::Id.gt(a));
        }
        let rows = q.all(db).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for t in &rows {
            progress.seen += 1;
            if !budget(&progress) {
                break;
            }
            let seed = (!t.signing_seed_ciphertext.is_empty() && !key.is_current(&t.signing_seed_ciphertext))
                .then(|| {
                    key.decrypt_seed(t.id, &t.signing_seed_ciphertext).map(|s| key.encrypt_seed(t.id, &s))
                })
                .transpose()?;
            let data_key = match &t.data_key {
                Some(k) if !key.is_current(k) => {
                    Some(key.open(DATA_KEY_PURPOSE, t.id, k).map(|d| key.seal(DATA_KEY_PURPOSE, t.id, &d))?)
                }
                _ => None,
            };
            if seed.is_none() && data_key.is_none() {
                continue;
            }
            let mut update = tenant::Entity::update_many()
                .filter(tenant::Column::Id.eq(t.id))
                .filter(tenant::Column::SigningSeedCiphertext.eq(t.signing_seed_ciphertext.clone()));
            if let Some(seed) = seed {
                update = update.col_expr(tenant::Column::SigningSeedCiphertext, Expr::value(seed));
            }
            if let Some(k) = data_key {
                update = update
                    .col_expr(tenant::Column::DataKey, Expr::value(k))
                    .filter(tenant::Column::DataKey.eq(t.data_key.clone()));
            }
            progress.resealed += update.exec(db).await?.rows_affected;
        }
        if rows.len() < batch as usize {
            break;
        }
    }
    let mut after: Option<Uuid> = None;
    while budget(&progress) {
        let mut q = webhook_endpoint::Entity::find().order_by_asc(webhook_endpoint::Column::Id).limit(batch);
        if let Some(a) = after {
            q = q.filter(webhook_endpoint::Column::Id.gt(a));
        }
        let rows = q.all(db).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for e in &rows {
            progress.seen += 1;
            let reseal = |stored: &str| -> Result<Option<String>, Error> {
                if key.is_current(stored) {
                    return Ok(None);
                }
                let secret = key.open(WEBHOOK_SECRET_PURPOSE, e.id, stored)?;
                Ok(Some(key.seal(WEBHOOK_SECRET_PURPOSE, e.id, &secret)))
            };
            let secret = reseal(&e.secret)?;
            let previous = e.previous_secret.as_deref().map(reseal).transpose()?.flatten();
            if secret.is_none() && previous.is_none() {
                continue;
            }
            let update = webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::Secret, Expr::value(secret.unwrap_or(e.secret.clone())))
                .col_expr(
                    webhook_endpoint::Column::PreviousSecret,
                    Expr::value(previous.or(e.previous_secret.clone())),
                )
                .filter(webhook_endpoint::Column::Id.eq(e.id))
                .filter(webhook_endpoint::Column::Secret.eq(e.secret.clone()));
            progress.resealed += update.exec(db).await?.rows_affected;
        }
        if rows.len() < batch as usize {
            break;
        }
    }
    // Sandboxes are one per testnet tenant at most: one pass.
    if budget(&progress) {
        progress.resealed += crate::sandbox::reseal(db, key).await?;
    }
    Ok(progress)
}
