//! Asking the sending anchor for more: corrected transaction fields (`PATCH`) or
//! customer KYC, and resuming once it arrives.

use mooring_entities::TenantScoped;
use mooring_entities::Writer;
use std::collections::BTreeMap;

use mooring_entities::json_columns::{RequestedField, RequestedFields};
use mooring_entities::transaction;
use mooring_stellar::sep31::Status;
use mooring_tenants::Tenant;
use sea_orm::{ColumnTrait, DatabaseConnection, DatabaseTransaction, QueryFilter, Set};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::query::{get, get_for_tenant};
use super::transition::{transition, transition_in};
use crate::Owner;
use crate::customers::{self, Side};
use crate::{Actor, AnchorError, AnchorResult};

/// Asks the sending anchor to correct transaction fields (`PATCH` flow).
pub async fn request_transaction_info(
    w: impl Into<Writer<'_>>,
    tenant: &Tenant,
    id: Uuid,
    fields: &[String],
    message: &str,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let w = w.into();
    let t = get_for_tenant(w.db, tenant.id, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let asset = tenant.sep31_asset(&t.asset_code, Some(&t.asset_issuer));
    let mut wanted = BTreeMap::new();
    for name in fields {
        // Asked for, so not optional now, whatever the asset says.
        let field = match asset.and_then(|a| a.fields.iter().find(|f| &f.name == name)) {
            Some(f) => RequestedField {
                description: f.description.clone(),
                optional: false,
                choices: f.choices.clone(),
            },
            None => RequestedField { description: name.replace('_', " "), optional: false, choices: None },
        };
        wanted.insert(name.clone(), field);
    }
    let updates = RequestedFields { transaction: wanted };
    let message = message.to_string();
    transition(w, tenant.id, id, Status::PendingTransactionInfoUpdate, actor, Some(&message), |row| {
        row.required_info_updates = Set(Some(updates));
        row.required_info_message = Set(Some(message.clone()));
    })
    .await
}

/// `PATCH /transactions/:id`: only in `pending_transaction_info_update`, only the
/// fields that were asked for; then back to `pending_receiver`.
pub async fn patch_fields(
    db: &DatabaseConnection,
    key: &mooring_tenants::pii::DataKey,
    owner: &Owner,
    id: Uuid,
    fields: Map<String, Value>,
) -> AnchorResult<transaction::Model> {
    let t = get(db, owner, id).await?.ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    if t.status != Status::PendingTransactionInfoUpdate {
        return Err(AnchorError::WrongState(format!(
            "transaction is {}, not pending_transaction_info_update",
            t.status
        )));
    }
    let asked: Vec<String> =
        t.required_info_updates.as_ref().map(|u| u.transaction.keys().cloned().collect()).unwrap_or_default();
    if let Some(extra) = fields.keys().find(|k| !asked.contains(k)) {
        return Err(AnchorError::invalid(format!("{extra} was not requested")));
    }
    if let Some(missing) =
        asked.iter().find(|k| fields.get(*k).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()))
    {
        return Err(AnchorError::invalid(format!("{missing} is required")));
    }
    let mut merged = crate::sealed::open_fields(key, owner.tenant_id, t.id, &t.fields)?;
    merged.extend(fields);
    let stored = crate::sealed::seal_fields(key, owner.tenant_id, t.id, &merged);
    transition(
        db,
        owner.tenant_id,
        id,
        Status::PendingReceiver,
        &Actor::SendingAnchor(owner.sa_account.clone()),
        Some("transaction info updated"),
        |row| {
            row.fields = Set(stored);
            row.required_info_updates = Set(None);
            row.required_info_message = Set(None);
        },
    )
    .await
}

/// Asks for corrected KYC: marks the customer's fields rejected (with reasons) and
/// moves the transaction to `pending_customer_info_update`, atomically.
pub async fn request_customer_info(
    w: impl Into<Writer<'_>>,
    tenant: &Tenant,
    id: Uuid,
    customer_id: Uuid,
    fields: &[(String, String)],
    message: &str,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let w = w.into();
    let txn = w.begin().await?;
    let t = get_for_tenant(&txn, tenant.id, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let side = Side::of_customer(&t, customer_id)
        .ok_or_else(|| AnchorError::invalid("that customer is not part of this transaction"))?;
    let asset = tenant.sep31_asset(&t.asset_code, Some(&t.asset_issuer));
    let side_type = asset.and_then(|a| side.sep12_type(a));
    let before = customers::load_by_id(&txn, tenant.id, customer_id).await?;
    customers::reject_fields(&txn, customer_id, fields).await?;
    if let (Some(ty), Some(before)) = (side_type.and_then(|n| tenant.customer_type(n)), before) {
        let after = customers::load_by_id(&txn, tenant.id, customer_id).await?.expect("still there");
        customers::notify_if_changed(&txn, ty, Some(&before), &after).await?;
    }
    let message = message.to_string();
    let updated =
        transition_in(&txn, tenant.id, id, Status::PendingCustomerInfoUpdate, actor, Some(&message), |row| {
            row.required_info_message = Set(Some(message.clone()));
        })
        .await?;
    txn.commit().await?;
    Ok(updated)
}

/// After a customer's KYC changed: transactions waiting on it go back to
/// `pending_receiver` once both their sender and receiver are accepted again.
pub async fn resume_after_customer_update(
    db: &DatabaseTransaction,
    tenant: &Tenant,
    customer_id: Uuid,
) -> AnchorResult<()> {
    let waiting = transaction::Entity::of_tenant(tenant.id)
        .filter(transaction::Column::Status.eq(Status::PendingCustomerInfoUpdate))
        .filter(
            sea_orm::Condition::any()
                .add(transaction::Column::SenderId.eq(customer_id))
                .add(transaction::Column::ReceiverId.eq(customer_id)),
        )
        .all(db)
        .await?;
    for t in waiting {
        let Some(asset) = tenant.sep31_asset(&t.asset_code, Some(&t.asset_issuer)) else { continue };
        if customers::accepted_id(db, tenant, asset, Side::Sender, t.sender_id).await?
            && customers::accepted_id(db, tenant, asset, Side::Receiver, t.receiver_id).await?
        {
            let result = transition_in(
                db,
                tenant.id,
                t.id,
                Status::PendingReceiver,
                &Actor::System,
                Some("customer info updated"),
                |row| {
                    row.required_info_message = Set(None);
                },
            )
            .await;
            match result {
                Ok(_) | Err(AnchorError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
