//! SEP-31 transactions. Every status change goes through [`transition_in`]: legal per
//! the status machine, compare-and-set on the old status, an event row, and the
//! sending anchor's callback queued in the outbox, all in one database transaction.

use chrono::{Duration, Utc};
use mooring_entities::{refund, transaction, transaction_event};
use mooring_stellar::Amount;
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use mooring_tenants::{Asset, Tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::customers::{self, Owner, Target};
use crate::outbox::{self, Kind};
use crate::{Actor, AnchorError, AnchorResult};

pub struct NewTransaction {
    pub amount: Amount,
    pub asset_code: String,
    pub asset_issuer: Option<String>,
    pub funding_method: Option<String>,
    pub sender_id: Option<Uuid>,
    pub receiver_id: Option<Uuid>,
    /// `(memo, memo_type)`.
    pub refund_memo: Option<(String, String)>,
    pub lang: Option<String>,
    /// `fields.transaction` of the request.
    pub fields: Map<String, Value>,
    pub idempotency_key: Option<String>,
    /// Canonical JSON of the request, to recognise a retry of the same request.
    pub request: Value,
}

pub struct Created {
    pub transaction: transaction::Model,
    /// An `Idempotency-Key` retry: nothing was created.
    pub replayed: bool,
}

/// Fee for `amount` of `asset`: `fee_fixed + amount × fee_percent / 100`, with the
/// terms of the fee tier `amount` falls in, if any; each part listed in `fee_details`.
pub fn fees(asset: &Asset, amount: Amount) -> (Amount, Vec<(String, Amount)>) {
    let (fixed, percent_rate, tier) = asset.fee_terms(amount);
    let percent = amount.percent(percent_rate);
    let from = tier.map(|t| format!(" (amounts from {})", t.min_amount.to_decimal())).unwrap_or_default();
    let mut details = Vec::new();
    if fixed != Amount::ZERO {
        details.push((format!("fixed fee{from}"), fixed));
    }
    if percent != Amount::ZERO {
        details.push((format!("{}% fee{from}", percent_rate.to_decimal()), percent));
    }
    (Amount(fixed.0.saturating_add(percent.0)), details)
}

async fn require_kyc(
    db: &impl ConnectionTrait,
    tenant: &Tenant,
    owner: &Owner,
    sep12_type: Option<&str>,
    id: Option<Uuid>,
) -> AnchorResult<()> {
    let Some(type_name) = sep12_type else { return Ok(()) };
    let needed = || AnchorError::CustomerInfoNeeded { sep12_type: type_name.to_string() };
    let ty = tenant.customer_type(type_name).ok_or_else(needed)?;
    let Some(id) = id else { return Err(needed()) };
    let loaded = customers::load(db, owner, &Target::Id(id)).await?.ok_or_else(needed)?;
    if customers::status(ty, Some(&loaded)) != customers::Status::Accepted {
        return Err(needed());
    }
    Ok(())
}

fn missing_fields(asset: &Asset, given: &Map<String, Value>) -> AnchorResult<()> {
    let mut missing = Map::new();
    for field in &asset.fields {
        match given.get(&field.name) {
            Some(Value::String(v)) if !v.trim().is_empty() => {
                if let Some(choices) = &field.choices
                    && !choices.contains(v)
                {
                    return Err(AnchorError::invalid(format!(
                        "{} must be one of {}",
                        field.name,
                        choices.join(", ")
                    )));
                }
            }
            Some(Value::String(_)) | None if field.optional => {}
            Some(Value::String(_)) | None => {
                let mut v = json!({ "description": field.description, "optional": false });
                if let Some(c) = &field.choices {
                    v["choices"] = json!(c);
                }
                missing.insert(field.name.clone(), v);
            }
            Some(_) => return Err(AnchorError::invalid(format!("{} must be a string", field.name))),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AnchorError::TransactionInfoNeeded { fields: json!({ "transaction": missing }) })
    }
}

/// `POST /transactions`: validates the request against the tenant's configuration and
/// the sending anchor's customers, then creates the transaction in `pending_sender`
/// with a memo unique within the tenant.
pub async fn create(
    db: &DatabaseConnection,
    tenant: &Tenant,
    owner: &Owner,
    new: NewTransaction,
    expiry: Duration,
) -> AnchorResult<Created> {
    let request_hash = hex::encode(Sha256::digest(new.request.to_string().as_bytes()));
    if let Some(key) = &new.idempotency_key
        && let Some(existing) = by_idempotency_key(db, owner, key).await?
    {
        return replay(existing, &request_hash);
    }

    let asset = tenant
        .sep31_asset(&new.asset_code, new.asset_issuer.as_deref())
        .ok_or_else(|| AnchorError::invalid(format!("asset {} is not accepted here", new.asset_code)))?;
    if new.amount <= Amount::ZERO {
        return Err(AnchorError::invalid("amount must be greater than zero"));
    }
    if asset.min_amount.is_some_and(|min| new.amount < min)
        || asset.max_amount.is_some_and(|max| new.amount > max)
    {
        return Err(AnchorError::invalid(format!(
            "amount must be between {} and {}",
            asset.min_amount.map_or("0".into(), |a| a.to_decimal().to_string()),
            asset.max_amount.map_or("unlimited".into(), |a| a.to_decimal().to_string()),
        )));
    }
    if let Some(method) = &new.funding_method
        && !asset.funding_methods.contains(method)
    {
        return Err(AnchorError::invalid(format!(
            "funding_method must be one of {}",
            asset.funding_methods.join(", ")
        )));
    }
    let refund_memo = match &new.refund_memo {
        Some((memo, memo_type)) => Some((
            memo.clone(),
            MemoType::parse(memo_type)
                .and_then(|t| t.validate(memo).map(|()| t))
                .map_err(|e| AnchorError::invalid(format!("refund_memo: {e}")))?,
        )),
        None => None,
    };
    require_kyc(db, tenant, owner, asset.sender_sep12_type.as_deref(), new.sender_id).await?;
    require_kyc(db, tenant, owner, asset.receiver_sep12_type.as_deref(), new.receiver_id).await?;
    missing_fields(asset, &new.fields)?;

    let (fee, details) = fees(asset, new.amount);
    let amount_out = new.amount.checked_sub(fee).filter(|out| *out > Amount::ZERO).ok_or_else(|| {
        AnchorError::invalid(format!("amount must be larger than the fee of {}", fee.to_decimal()))
    })?;
    let fee_details: Value = details
        .iter()
        .map(|(name, amount)| json!({ "name": name, "amount": amount.to_decimal().to_string() }))
        .collect();
    let memo_type = asset.memo_type;

    let now = Utc::now();
    for _ in 0..5 {
        let model = transaction::ActiveModel {
            id: Set(Uuid::new_v4()),
            tenant_id: Set(tenant.id),
            sa_account: Set(owner.sa_account.clone()),
            sa_memo: Set(owner.memo.clone()),
            asset_code: Set(asset.code.clone()),
            asset_issuer: Set(asset.issuer.clone()),
            amount_in: Set(new.amount.0),
            amount_fee: Set(fee.0),
            amount_out: Set(amount_out.0),
            fee_details: Set(fee_details.clone()),
            status: Set(Status::PendingSender),
            status_message: Set(None),
            funding_method: Set(new.funding_method.clone()),
            sender_id: Set(new.sender_id),
            receiver_id: Set(new.receiver_id),
            stellar_account_id: Set(tenant.distribution_account.clone()),
            stellar_memo_type: Set(memo_type),
            stellar_memo: Set(memo_type.generate()),
            refund_memo: Set(refund_memo.as_ref().map(|(m, _)| m.clone())),
            refund_memo_type: Set(refund_memo.as_ref().map(|(_, t)| *t)),
            lang: Set(new.lang.clone()),
            fields: Set(Value::Object(new.fields.clone())),
            required_info_message: Set(None),
            required_info_updates: Set(None),
            stellar_transaction_id: Set(None),
            external_transaction_id: Set(None),
            callback_url: Set(None),
            idempotency_key: Set(new.idempotency_key.clone()),
            request_hash: Set(Some(request_hash.clone())),
            started_at: Set(now),
            updated_at: Set(now),
            completed_at: Set(None),
            expires_at: Set(now + expiry),
        };
        let txn = mooring_entities::begin_write(db).await?;
        match model.insert(&txn).await {
            Ok(created) => {
                record_event(
                    &txn,
                    &created,
                    None,
                    Status::PendingSender,
                    &Actor::SendingAnchor(owner.sa_account.clone()),
                    None,
                )
                .await?;
                txn.commit().await?;
                return Ok(Created { transaction: created, replayed: false });
            }
            Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                txn.rollback().await?;
                // Either a concurrent retry with the same key won, or the memo clashed.
                if let Some(key) = &new.idempotency_key
                    && let Some(existing) = by_idempotency_key(db, owner, key).await?
                {
                    return replay(existing, &request_hash);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AnchorError::Conflict("could not allocate a unique memo; try again".into()))
}

/// The transactions `owner` may see: its account's at its tenant, and with a memo
/// token only those created under that memo.
fn owned_by(owner: &Owner) -> sea_orm::Select<transaction::Entity> {
    let query = transaction::Entity::find()
        .filter(transaction::Column::TenantId.eq(owner.tenant_id))
        .filter(transaction::Column::SaAccount.eq(&owner.sa_account));
    match &owner.memo {
        Some(memo) => query.filter(transaction::Column::SaMemo.eq(memo)),
        None => query,
    }
}

async fn by_idempotency_key(
    db: &impl ConnectionTrait,
    owner: &Owner,
    key: &str,
) -> AnchorResult<Option<transaction::Model>> {
    Ok(owned_by(owner).filter(transaction::Column::IdempotencyKey.eq(key)).one(db).await?)
}

fn replay(existing: transaction::Model, request_hash: &str) -> AnchorResult<Created> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(Created { transaction: existing, replayed: true })
    } else {
        Err(AnchorError::Conflict("this Idempotency-Key was already used for a different request".into()))
    }
}

/// The sending anchor's own transaction, or `None` (for another's as for a missing one).
pub async fn get(
    db: &impl ConnectionTrait,
    owner: &Owner,
    id: Uuid,
) -> AnchorResult<Option<transaction::Model>> {
    Ok(owned_by(owner).filter(transaction::Column::Id.eq(id)).one(db).await?)
}

pub async fn get_for_tenant(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> AnchorResult<Option<transaction::Model>> {
    Ok(transaction::Entity::find_by_id(id)
        .filter(transaction::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

pub async fn events(
    db: &impl ConnectionTrait,
    transaction_id: Uuid,
) -> AnchorResult<Vec<transaction_event::Model>> {
    Ok(transaction_event::Entity::find()
        .filter(transaction_event::Column::TransactionId.eq(transaction_id))
        .order_by_asc(transaction_event::Column::At)
        .all(db)
        .await?)
}

fn amount(v: i64) -> String {
    Amount(v).to_decimal().to_string()
}

/// The SEP-31 transaction object: the body of `GET /transactions/:id` (inside
/// `{"transaction": …}`) and of every callback.
pub fn sep31_json(t: &transaction::Model, refunds: &[refund::Model]) -> Value {
    let asset = format!("stellar:{}:{}", t.asset_code, t.asset_issuer);
    let mut v = json!({
        "id": t.id,
        "status": t.status.as_str(),
        "amount_in": amount(t.amount_in),
        "amount_in_asset": asset,
        "amount_out": amount(t.amount_out),
        "amount_out_asset": asset,
        "amount_fee": amount(t.amount_fee),
        "amount_fee_asset": asset,
        "fee_details": {
            "total": amount(t.amount_fee),
            "asset": asset,
            "details": t.fee_details,
        },
        "stellar_account_id": t.stellar_account_id,
        "stellar_memo_type": t.stellar_memo_type.as_str(),
        "stellar_memo": t.stellar_memo,
        "started_at": t.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated_at": t.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "refunded": false,
    });
    let optional = [
        ("status_message", t.status_message.clone().map(Value::from)),
        ("funding_method", t.funding_method.clone().map(Value::from)),
        ("completed_at", t.completed_at.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into())),
        ("stellar_transaction_id", t.stellar_transaction_id.clone().map(Value::from)),
        ("external_transaction_id", t.external_transaction_id.clone().map(Value::from)),
        ("refund_memo", t.refund_memo.clone().map(Value::from)),
        ("refund_memo_type", t.refund_memo_type.map(|m| m.as_str().into())),
        ("required_info_message", t.required_info_message.clone().map(Value::from)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            v[key] = value;
        }
    }
    if t.status == Status::PendingTransactionInfoUpdate
        && let Some(updates) = &t.required_info_updates
    {
        v["required_info_updates"] = updates.clone();
    }
    if let Some(refunds) = crate::refunds::sep31_refunds(refunds) {
        v["refunded"] = json!(refunds["amount_refunded"] == json!(amount(t.amount_in)));
        v["refunds"] = refunds;
    }
    v
}

async fn record_event(
    db: &impl ConnectionTrait,
    t: &transaction::Model,
    from: Option<Status>,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
) -> AnchorResult<()> {
    transaction_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(t.tenant_id),
        transaction_id: Set(t.id),
        at: Set(Utc::now()),
        from_status: Set(from),
        to_status: Set(to),
        actor: Set(actor.to_string()),
        message: Set(message.map(str::to_string)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Moves a transaction to `to`, applying `changes` to the row in the same update.
/// Fails with `IllegalTransition` for a move the status machine forbids, and with
/// `Conflict` when the status changed under us (someone else moved it first).
pub async fn transition_in(
    txn: &DatabaseTransaction,
    tenant_id: Uuid,
    id: Uuid,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
    changes: impl FnOnce(&mut transaction::ActiveModel),
) -> AnchorResult<transaction::Model> {
    let current = get_for_tenant(txn, tenant_id, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let from = current.status;
    from.transition(to)?;
    let now = Utc::now();
    let mut row: transaction::ActiveModel = current.clone().into();
    changes(&mut row);
    row.status = Set(to);
    row.updated_at = Set(now);
    if to == Status::Completed {
        row.completed_at = Set(Some(now));
    }
    let updated = transaction::Entity::update(row)
        .validate()?
        .filter(transaction::Column::Status.eq(from))
        .exec(txn)
        .await
        .map_err(|e| match e {
            DbErr::RecordNotUpdated => {
                AnchorError::Conflict("the transaction changed concurrently; try again".into())
            }
            other => other.into(),
        })?;
    record_event(txn, &updated, Some(from), to, actor, message).await?;
    if let Some(url) = &updated.callback_url {
        let refunds = crate::refunds::for_transaction(txn, tenant_id, updated.id).await?;
        let body = json!({ "transaction": sep31_json(&updated, &refunds) }).to_string();
        outbox::enqueue(txn, tenant_id, Kind::Transaction, updated.id, url, body).await?;
    }
    Ok(updated)
}

pub async fn transition(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    id: Uuid,
    to: Status,
    actor: &Actor,
    message: Option<&str>,
    changes: impl FnOnce(&mut transaction::ActiveModel),
) -> AnchorResult<transaction::Model> {
    let txn = mooring_entities::begin_write(db).await?;
    let updated = transition_in(&txn, tenant_id, id, to, actor, message, changes).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Asks the sending anchor to correct transaction fields (`PATCH` flow).
pub async fn request_transaction_info(
    db: &DatabaseConnection,
    tenant: &Tenant,
    id: Uuid,
    fields: &[String],
    message: &str,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let t = get_for_tenant(db, tenant.id, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let asset = tenant.sep31_asset(&t.asset_code, Some(&t.asset_issuer));
    let mut wanted = Map::new();
    for name in fields {
        let description = asset
            .and_then(|a| a.fields.iter().find(|f| &f.name == name))
            .map_or_else(|| name.replace('_', " "), |f| f.description.clone());
        wanted.insert(name.clone(), json!({ "description": description, "optional": false }));
    }
    let updates = json!({ "transaction": wanted });
    let message = message.to_string();
    transition(db, tenant.id, id, Status::PendingTransactionInfoUpdate, actor, Some(&message), |row| {
        row.required_info_updates = Set(Some(updates));
        row.required_info_message = Set(Some(message.clone()));
    })
    .await
}

/// `PATCH /transactions/:id`: only in `pending_transaction_info_update`, only the
/// fields that were asked for; then back to `pending_receiver`.
pub async fn patch_fields(
    db: &DatabaseConnection,
    owner: &Owner,
    id: Uuid,
    fields: Map<String, Value>,
) -> AnchorResult<transaction::Model> {
    let t = get(db, owner, id).await?.ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    if t.status != Status::PendingTransactionInfoUpdate {
        return Err(AnchorError::invalid(format!(
            "transaction is {}, not pending_transaction_info_update",
            t.status
        )));
    }
    let asked: Vec<String> = t
        .required_info_updates
        .as_ref()
        .and_then(|u| u["transaction"].as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(extra) = fields.keys().find(|k| !asked.contains(k)) {
        return Err(AnchorError::invalid(format!("{extra} was not requested")));
    }
    if let Some(missing) =
        asked.iter().find(|k| fields.get(*k).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()))
    {
        return Err(AnchorError::invalid(format!("{missing} is required")));
    }
    let mut merged = t.fields.as_object().cloned().unwrap_or_default();
    merged.extend(fields);
    transition(
        db,
        owner.tenant_id,
        id,
        Status::PendingReceiver,
        &Actor::SendingAnchor(owner.sa_account.clone()),
        Some("transaction info updated"),
        |row| {
            row.fields = Set(Value::Object(merged));
            row.required_info_updates = Set(None);
            row.required_info_message = Set(None);
        },
    )
    .await
}

/// Asks for corrected KYC: marks the customer's fields rejected (with reasons) and
/// moves the transaction to `pending_customer_info_update`, atomically.
pub async fn request_customer_info(
    db: &DatabaseConnection,
    tenant: &Tenant,
    id: Uuid,
    customer_id: Uuid,
    fields: &[(String, String)],
    message: &str,
    actor: &Actor,
) -> AnchorResult<transaction::Model> {
    let txn = mooring_entities::begin_write(db).await?;
    let t = get_for_tenant(&txn, tenant.id, id)
        .await?
        .ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let side_type = if t.sender_id == Some(customer_id) {
        tenant.sep31_asset(&t.asset_code, Some(&t.asset_issuer)).and_then(|a| a.sender_sep12_type.clone())
    } else if t.receiver_id == Some(customer_id) {
        tenant.sep31_asset(&t.asset_code, Some(&t.asset_issuer)).and_then(|a| a.receiver_sep12_type.clone())
    } else {
        return Err(AnchorError::invalid("that customer is not part of this transaction"));
    };
    let before = customers::load_by_id(&txn, tenant.id, customer_id).await?;
    customers::reject_fields(&txn, customer_id, fields).await?;
    if let (Some(ty), Some(before)) = (side_type.as_deref().and_then(|n| tenant.customer_type(n)), before) {
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
    let waiting = transaction::Entity::find()
        .filter(transaction::Column::TenantId.eq(tenant.id))
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
        let accepted = |type_name: Option<&String>, id: Option<Uuid>| {
            let type_name = type_name.cloned();
            async move {
                let Some(ty) = type_name.as_deref().and_then(|n| tenant.customer_type(n)) else {
                    return Ok(true);
                };
                let Some(id) = id else { return Ok(false) };
                let loaded = customers::load_by_id(db, tenant.id, id).await?;
                AnchorResult::Ok(customers::status(ty, loaded.as_ref()) == customers::Status::Accepted)
            }
        };
        if accepted(asset.sender_sep12_type.as_ref(), t.sender_id).await?
            && accepted(asset.receiver_sep12_type.as_ref(), t.receiver_id).await?
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

/// `PUT /transactions/:id/callback`.
pub async fn set_callback(db: &DatabaseConnection, owner: &Owner, id: Uuid, url: &str) -> AnchorResult<()> {
    let t = get(db, owner, id).await?.ok_or_else(|| AnchorError::NotFound("transaction not found".into()))?;
    let mut row: transaction::ActiveModel = t.into();
    row.callback_url = Set(Some(url.to_string()));
    row.update(db).await?;
    Ok(())
}

/// Expires transactions still waiting for funds past their deadline. Returns how many.
pub async fn expire_due(db: &DatabaseConnection, limit: u64) -> AnchorResult<usize> {
    let due = transaction::Entity::find()
        .filter(transaction::Column::Status.eq(Status::PendingSender))
        .filter(transaction::Column::ExpiresAt.lt(Utc::now()))
        .limit(limit)
        .all(db)
        .await?;
    let mut expired = 0;
    for t in due {
        match transition(
            db,
            t.tenant_id,
            t.id,
            Status::Expired,
            &Actor::System,
            Some("no payment was received in time"),
            |_| {},
        )
        .await
        {
            Ok(_) => expired += 1,
            // Paid (or moved) in the meantime: nothing to expire.
            Err(AnchorError::Conflict(_) | AnchorError::IllegalTransition(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}

/// Filters for the admin API's transaction list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<Status>,
    pub asset_code: Option<String>,
    pub sa_account: Option<String>,
    pub memo: Option<String>,
    pub id: Option<Uuid>,
    pub created_after: Option<chrono::DateTime<Utc>>,
    pub created_before: Option<chrono::DateTime<Utc>>,
}

/// A page of a tenant's transactions (newest first) and the total matching.
pub async fn list(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    filter: &Filter,
    offset: u64,
    limit: u64,
) -> AnchorResult<(Vec<transaction::Model>, u64)> {
    use sea_orm::PaginatorTrait;
    let mut query = transaction::Entity::find().filter(transaction::Column::TenantId.eq(tenant_id));
    if let Some(s) = filter.status {
        query = query.filter(transaction::Column::Status.eq(s));
    }
    if let Some(a) = &filter.asset_code {
        query = query.filter(transaction::Column::AssetCode.eq(a));
    }
    if let Some(a) = &filter.sa_account {
        query = query.filter(transaction::Column::SaAccount.eq(a));
    }
    if let Some(m) = &filter.memo {
        query = query.filter(transaction::Column::StellarMemo.eq(m));
    }
    if let Some(id) = filter.id {
        query = query.filter(transaction::Column::Id.eq(id));
    }
    if let Some(t) = filter.created_after {
        query = query.filter(transaction::Column::StartedAt.gte(t));
    }
    if let Some(t) = filter.created_before {
        query = query.filter(transaction::Column::StartedAt.lt(t));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(transaction::Column::StartedAt)
        .order_by_desc(transaction::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Transactions per status, for a tenant.
pub async fn count_by_status(db: &DatabaseConnection, tenant_id: Uuid) -> AnchorResult<Vec<(Status, i64)>> {
    use sea_orm::FromQueryResult;
    #[derive(FromQueryResult)]
    struct Row {
        status: Status,
        n: i64,
    }
    let rows = transaction::Entity::find()
        .select_only()
        .column(transaction::Column::Status)
        .column_as(transaction::Column::Id.count(), "n")
        .filter(transaction::Column::TenantId.eq(tenant_id))
        .group_by(transaction::Column::Status)
        .into_model::<Row>()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

/// Events of a tenant's transactions at or after `since` (for live subscriptions),
/// oldest first. Inclusive, so that events sharing the last seen timestamp are not
/// lost; callers skip the ones they already have.
pub async fn events_since(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    since: chrono::DateTime<Utc>,
    limit: u64,
) -> AnchorResult<Vec<transaction_event::Model>> {
    Ok(transaction_event::Entity::find()
        .filter(transaction_event::Column::TenantId.eq(tenant_id))
        .filter(transaction_event::Column::At.gte(since))
        .order_by_asc(transaction_event::Column::At)
        .limit(limit)
        .all(db)
        .await?)
}
