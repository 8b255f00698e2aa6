//! Signing secrets: made and shown once, sealed under the master key bound to their
//! endpoint, rotated with an overlap in which the previous one signs too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Duration, Utc};
use mooring_entities::Writer;
use mooring_entities::webhook_endpoint;
use mooring_tenants::MasterKey;
use mooring_tenants::crypto::WEBHOOK_SECRET_PURPOSE as SECRET_PURPOSE;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

use crate::{AnchorError, AnchorResult};

use super::{Endpoint, WithSecret, find};

pub(super) fn new_secret(key: &MasterKey, endpoint_id: Uuid) -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("operating system random source");
    (format!("whsec_{}", B64.encode(bytes)), key.seal(SECRET_PURPOSE, endpoint_id, &bytes))
}
/// A new secret; the current one keeps signing (beside it) for `overlap`.
pub async fn rotate(
    w: impl Into<Writer<'_>>,
    key: &MasterKey,
    tenant_id: Uuid,
    id: Uuid,
    overlap: Duration,
) -> AnchorResult<WithSecret> {
    let w = w.into();
    if overlap < Duration::zero() || overlap > Duration::days(7) {
        return Err(AnchorError::invalid("the overlap must be between 0 and 7 days"));
    }
    let current = find(w.db, tenant_id, id).await?;
    let (secret, sealed) = new_secret(key, id);
    let previous = current.secret.clone();
    let mut row: webhook_endpoint::ActiveModel = current.into();
    row.secret = Set(sealed);
    row.previous_secret = Set((overlap > Duration::zero()).then_some(previous));
    row.previous_until = Set((overlap > Duration::zero()).then(|| Utc::now() + overlap));
    row.updated_at = Set(Utc::now());
    let txn = w.begin().await?;
    let endpoint = row.update(&txn).await?;
    txn.commit().await?;
    Ok(WithSecret { endpoint, secret })
}
/// What signs a delivery to `endpoint_id` now: its secret, then the previous one while
/// the rotation overlap lasts. `None`: the endpoint is gone.
pub async fn signing_secrets(
    db: &DatabaseConnection,
    key: &MasterKey,
    endpoint_id: Uuid,
) -> AnchorResult<Option<(Endpoint, Vec<[u8; 32]>)>> {
    let Some(e) = webhook_endpoint::Entity::find_by_id(endpoint_id).one(db).await? else { return Ok(None) };
    let open = |sealed: &str| {
        key.open(SECRET_PURPOSE, e.id, sealed)
            .map_err(|_| AnchorError::invalid("a webhook secret cannot be decrypted"))
    };
    let mut secrets = vec![open(&e.secret)?];
    if let (Some(previous), Some(until)) = (&e.previous_secret, e.previous_until)
        && until > Utc::now()
    {
        secrets.push(open(previous)?);
    }
    Ok(Some((e, secrets)))
}
