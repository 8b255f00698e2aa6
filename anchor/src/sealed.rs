//! The rest of what sending anchors tell us about people, sealed like SEP-12 fields
//! (`mooring_tenants::pii`): a transaction's SEP-31 `fields` (payout account numbers,
//! routing numbers…) and the SEP-12/SEP-31 callback URLs (which name the sending
//! anchor's customer endpoints and often carry ids). Each opens only in its slot:
//! tenant, subject (the transaction or customer) and what it is. A callback row in the
//! outbox carries the subject's sealed URL unchanged (same tenant and subject), so
//! queueing a callback never needs the key; the sender opens it.
//!
//! Values written before this existed are plaintext; [`seal_plaintext`] seals them at
//! start-up and the readers here accept both.

use mooring_entities::{customer, outbox, transaction};
use mooring_tenants::pii::{DataKey, Slot, is_sealed_text};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{AnchorError, AnchorResult};

const FIELDS: &str = "sep31.fields";
pub const CALLBACK_URL: &str = "callback_url";

fn slot(tenant: Uuid, subject: Uuid, what: &str) -> Slot<'_> {
    Slot { tenant, customer: subject, field: what }
}

/// A transaction's `fields`, as stored: one sealed JSON string.
pub fn seal_fields(key: &DataKey, tenant: Uuid, transaction: Uuid, fields: &Map<String, Value>) -> Value {
    let json = Value::Object(fields.clone()).to_string();
    Value::String(key.seal_text(slot(tenant, transaction, FIELDS), &json))
}

/// A transaction's `fields`, opened (a legacy plaintext object as it is).
pub fn open_fields(
    key: &DataKey,
    tenant: Uuid,
    transaction: Uuid,
    stored: &Value,
) -> AnchorResult<Map<String, Value>> {
    match stored {
        Value::Object(plain) => Ok(plain.clone()),
        Value::String(sealed) => {
            let json = key.open_text(slot(tenant, transaction, FIELDS), sealed).map_err(|_| {
                AnchorError::Db(sea_orm::DbErr::Custom("a transaction's fields do not open".into()))
            })?;
            match serde_json::from_str(&json) {
                Ok(Value::Object(fields)) => Ok(fields),
                _ => Err(AnchorError::Db(sea_orm::DbErr::Custom(
                    "a transaction's fields are not an object".into(),
                ))),
            }
        }
        _ => Ok(Map::new()),
    }
}

pub fn seal_url(key: &DataKey, tenant: Uuid, subject: Uuid, url: &str) -> String {
    key.seal_text(slot(tenant, subject, CALLBACK_URL), url)
}

/// A callback URL of `subject` (a transaction or customer), opened.
pub fn open_url(
    key: &DataKey,
    tenant: Uuid,
    subject: Uuid,
    stored: &str,
) -> Result<String, mooring_tenants::Error> {
    key.open_text(slot(tenant, subject, CALLBACK_URL), stored)
}

/// Seals what was stored in plaintext before: transaction fields and callback URLs,
/// customers' callback URLs, and undelivered callbacks' URLs. Returns how many values.
pub async fn seal_plaintext(
    db: &DatabaseConnection,
    key_of: impl Fn(Uuid) -> Option<std::sync::Arc<DataKey>>,
) -> AnchorResult<u64> {
    const PAGE: u64 = 500;
    let mut sealed = 0;
    let mut after = Uuid::nil();
    loop {
        let rows = transaction::Entity::find()
            .filter(transaction::Column::Id.gt(after))
            .order_by_asc(transaction::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for t in &rows {
            let plain_fields = matches!(&t.fields, Value::Object(f) if !f.is_empty());
            let plain_url = t.callback_url.as_deref().is_some_and(|u| !is_sealed_text(u));
            let Some(key) = key_of(t.tenant_id).filter(|_| plain_fields || plain_url) else { continue };
            // Only as read: a concurrent write (which seals what it writes) wins.
            let mut update = transaction::Entity::update_many()
                .filter(transaction::Column::Id.eq(t.id))
                .filter(transaction::Column::UpdatedAt.eq(t.updated_at));
            if let (true, Value::Object(f)) = (plain_fields, &t.fields) {
                let value = seal_fields(&key, t.tenant_id, t.id, f);
                update = update.col_expr(transaction::Column::Fields, Expr::value(value));
                sealed += 1;
            }
            if let (true, Some(url)) = (plain_url, &t.callback_url) {
                update = update
                    .col_expr(
                        transaction::Column::CallbackUrl,
                        Expr::value(seal_url(&key, t.tenant_id, t.id, url)),
                    )
                    .filter(transaction::Column::CallbackUrl.eq(url.clone()));
                sealed += 1;
            }
            update.exec(db).await?;
        }
        if rows.len() < PAGE as usize {
            break;
        }
    }
    let customers = customer::Entity::find()
        .filter(customer::Column::CallbackUrl.is_not_null())
        .filter(customer::Column::CallbackUrl.not_like(format!("{}%", mooring_tenants::pii::TEXT_PREFIX)))
        .all(db)
        .await?;
    for c in customers {
        let (Some(url), Some(key)) = (&c.callback_url, key_of(c.tenant_id)) else { continue };
        customer::Entity::update_many()
            .col_expr(customer::Column::CallbackUrl, Expr::value(seal_url(&key, c.tenant_id, c.id, url)))
            .filter(customer::Column::Id.eq(c.id))
            .filter(customer::Column::CallbackUrl.eq(url.clone()))
            .exec(db)
            .await?;
        sealed += 1;
    }
    let callbacks = outbox::Entity::find()
        .filter(outbox::Column::Kind.is_in([outbox::Kind::Transaction, outbox::Kind::Customer]))
        .filter(outbox::Column::Url.not_like(format!("{}%", mooring_tenants::pii::TEXT_PREFIX)))
        .all(db)
        .await?;
    for row in callbacks {
        let Some(key) = key_of(row.tenant_id) else { continue };
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Url,
                Expr::value(seal_url(&key, row.tenant_id, row.subject_id, &row.url)),
            )
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::Url.eq(row.url.clone()))
            .exec(db)
            .await?;
        sealed += 1;
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_urls_open_only_for_their_subject() {
        let key = DataKey::generate();
        let (tenant, tx, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let fields: Map<String, Value> =
            serde_json::from_str(r#"{"receiver_account_number":"DE89370400440532013000"}"#).unwrap();
        let stored = seal_fields(&key, tenant, tx, &fields);
        assert!(!stored.to_string().contains("DE89"), "{stored}");
        assert_eq!(open_fields(&key, tenant, tx, &stored).unwrap(), fields);
        assert!(open_fields(&key, tenant, other, &stored).is_err(), "moved to another transaction");
        assert_eq!(open_fields(&key, tenant, tx, &Value::Object(fields.clone())).unwrap(), fields, "legacy");

        let url = seal_url(&key, tenant, tx, "https://sa.example/cb/alice");
        assert!(!url.contains("alice"));
        assert_eq!(open_url(&key, tenant, tx, &url).unwrap(), "https://sa.example/cb/alice");
        assert!(open_url(&key, tenant, other, &url).is_err());
        assert!(open_url(&DataKey::generate(), tenant, tx, &url).is_err(), "another tenant's key");
    }
}
