//! After a tenant is deleted (`mooring_tenants::admin::delete_tenant`): its rows are
//! removed in the background, in bounded batches so no statement holds locks for long
//! and a crash midway just leaves the rest for the next round. Before deleting, an
//! operator exports the tenant's transactions without PII.

use mooring_entities::TenantScoped;
use mooring_entities::{customer, outbox, payment, quote, tenant, transaction};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AnchorResult;
use crate::transactions::view::amount;

/// Deletes up to `batch` rows per table of every deleted tenant, and the tenant row
/// itself (with what cascades from it) once the large tables are empty. Returns how
/// many rows went; call again until it answers 0.
pub async fn purge_deleted(db: &DatabaseConnection, batch: u64) -> AnchorResult<u64> {
    let deleted: Vec<Uuid> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::Status.eq(tenant::Status::Deleted))
        .into_tuple()
        .all(db)
        .await?;
    let mut removed = 0;
    for t in deleted {
        // Customers take their fields with them, transactions their events and refunds.
        let mut left = false;
        for (n, more) in [
            delete_batch::<customer::Entity, Uuid>(
                db,
                customer::Column::TenantId,
                customer::Column::Id,
                t,
                batch,
            )
            .await?,
            delete_batch::<transaction::Entity, Uuid>(
                db,
                transaction::Column::TenantId,
                transaction::Column::Id,
                t,
                batch,
            )
            .await?,
            delete_batch::<payment::Entity, String>(
                db,
                payment::Column::TenantId,
                payment::Column::Id,
                t,
                batch,
            )
            .await?,
            delete_batch::<outbox::Entity, Uuid>(db, outbox::Column::TenantId, outbox::Column::Id, t, batch)
                .await?,
            delete_batch::<quote::Entity, Uuid>(db, quote::Column::TenantId, quote::Column::Id, t, batch)
                .await?,
        ] {
            removed += n;
            left |= more;
        }
        if !left {
            // The small rest (assets, types, senders, cursors, endpoints…) cascades.
            let gone = tenant::Entity::delete_many()
                .filter(tenant::Column::Id.eq(t))
                .filter(tenant::Column::Status.eq(tenant::Status::Deleted))
                .exec(db)
                .await?
                .rows_affected;
            if gone == 1 {
                tracing::info!(tenant = %t, "offboarded tenant's data deleted");
            }
            removed += gone;
        }
    }
    Ok(removed)
}

/// Deletes up to `batch` of the tenant's rows of one table, by id (within the tenant:
/// payment ids are unique per tenant and account only). Returns (deleted, whether any
/// were found).
async fn delete_batch<E, Id>(
    db: &DatabaseConnection,
    tenant_column: E::Column,
    id_column: E::Column,
    tenant: Uuid,
    batch: u64,
) -> AnchorResult<(u64, bool)>
where
    E: EntityTrait,
    Id: sea_orm::TryGetable + Into<sea_orm::Value> + Send + Sync + 'static,
{
    let ids: Vec<Id> = E::find()
        .select_only()
        .column(id_column)
        .filter(tenant_column.eq(tenant))
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok((0, false));
    }
    let deleted = E::delete_many()
        .filter(tenant_column.eq(tenant))
        .filter(id_column.is_in(ids))
        .exec(db)
        .await?
        .rows_affected;
    Ok((deleted, true))
}

/// The columns of an export: no customer PII (customers appear by id only).
pub const EXPORT_COLUMNS: [&str; 19] = [
    "id",
    "status",
    "amount_in",
    "amount_fee",
    "amount_out",
    "asset",
    "amount_out_asset",
    "quote_id",
    "sending_anchor",
    "sender_id",
    "receiver_id",
    "stellar_account_id",
    "stellar_memo_type",
    "stellar_memo",
    "stellar_transaction_id",
    "external_transaction_id",
    "started_at",
    "completed_at",
    "status_message",
];

/// Every transaction of the tenant, oldest first, as flat JSON objects with
/// [`EXPORT_COLUMNS`].
pub async fn export_transactions(db: &DatabaseConnection, tenant_id: Uuid) -> AnchorResult<Vec<Value>> {
    let rows = transaction::Entity::of_tenant(tenant_id)
        .order_by_asc(transaction::Column::StartedAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "status": t.status.as_str(),
                "amount_in": amount(t.amount_in),
                "amount_fee": amount(t.amount_fee),
                "amount_out": amount(t.amount_out),
                "asset": format!("stellar:{}:{}", t.asset_code, t.asset_issuer),
                "amount_out_asset": t.amount_out_asset.clone()
                    .unwrap_or_else(|| format!("stellar:{}:{}", t.asset_code, t.asset_issuer)),
                "quote_id": t.quote_id,
                "sending_anchor": t.sa_account,
                "sender_id": t.sender_id,
                "receiver_id": t.receiver_id,
                "stellar_account_id": t.stellar_account_id,
                "stellar_memo_type": t.stellar_memo_type.as_str(),
                "stellar_memo": t.stellar_memo,
                "stellar_transaction_id": t.stellar_transaction_id,
                "external_transaction_id": t.external_transaction_id,
                "started_at": t.started_at,
                "completed_at": t.completed_at,
                "status_message": t.status_message,
            })
        })
        .collect())
}

/// The same as CSV (RFC 4180: every field quoted, quotes doubled, CRLF).
pub fn to_csv(rows: &[Value]) -> String {
    let field = |v: &Value| {
        let text = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        format!("\"{}\"", text.replace('"', "\"\""))
    };
    let mut out = EXPORT_COLUMNS.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        let line: Vec<String> = EXPORT_COLUMNS.iter().map(|c| field(&row[*c])).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_everything_and_doubles_quotes() {
        let mut row = serde_json::Map::new();
        for c in EXPORT_COLUMNS {
            row.insert(c.into(), Value::Null);
        }
        row.insert("id".into(), json!("a"));
        row.insert("status_message".into(), json!("said \"no\", twice\nthen yes"));
        let csv = to_csv(&[Value::Object(row)]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with("\"id\",\"status\","));
        assert!(lines[1].starts_with("\"a\",\"\","));
        assert!(lines[1].ends_with("\"said \"\"no\"\", twice\nthen yes\""));
    }
}
