//! `POST /transactions`: a request checked against the tenant's configuration and the
//! sending anchor's customers, its fee, and a memo unique within the tenant; retries
//! with the same `Idempotency-Key` answer with the first result.

use chrono::{Duration, SubsecRound, Utc};
use mooring_entities::json_columns::FeeParts;
use mooring_entities::transaction;
use mooring_stellar::Amount;
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use mooring_tenants::{Asset, Tenant};
use mooring_wire::error::TransactionFields;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, Set};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::group_commit::{GroupCommit, Inserted};
use super::query::owned_by;
use super::transition::{Hooks, record_event};
use crate::Owner;
use crate::customers::{self, Side};
use crate::quotes;
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
    /// `fields.transaction` of the request, as sent (stored sealed).
    pub fields: Map<String, Value>,
    pub idempotency_key: Option<String>,
    /// A fingerprint of the request as sent, to recognise a retry of the same request.
    pub request_hash: String,
    /// The SEP-38 firm quote the amounts come from.
    pub quote_id: Option<Uuid>,
    /// SEP-38 identifier of what the receiver gets; with a quote, its buy asset.
    pub destination_asset: Option<String>,
}

/// The amounts of a new transaction: from its quote, or from the asset's fees.
struct Terms {
    fee: Amount,
    fee_details: FeeParts,
    amount_out: Amount,
    amount_out_asset: Option<String>,
    quote: Option<quotes::Quote>,
}

/// The terms of a quoted transaction: the quote must be the caller's, unexpired, unused,
/// and for exactly this asset and amount.
async fn quoted_terms(
    db: &impl ConnectionTrait,
    owner: &Owner,
    asset: &Asset,
    new: &NewTransaction,
    quote_id: Uuid,
) -> AnchorResult<Terms> {
    let quote = quotes::get(db, owner, quote_id)
        .await?
        .ok_or_else(|| AnchorError::invalid(format!("quote_id {quote_id} is not one of your quotes")))?;
    let sell_asset = asset.sep38().to_string();
    if quote.sell_asset != sell_asset {
        return Err(AnchorError::invalid(format!(
            "quote {quote_id} sells {}, not {sell_asset}",
            quote.sell_asset
        )));
    }
    if quote.sell_amount != new.amount.0 {
        return Err(AnchorError::invalid(format!(
            "amount {} differs from the quote's sell_amount {}",
            new.amount,
            Amount(quote.sell_amount)
        )));
    }
    if quote.expires_at <= Utc::now() {
        return Err(AnchorError::invalid(format!("quote {quote_id} expired; ask for a new one")));
    }
    if quote.transaction_id.is_some() {
        return Err(AnchorError::invalid(format!(
            "quote {quote_id} was already used for another transaction"
        )));
    }
    if new.destination_asset.as_ref().is_some_and(|d| *d != quote.buy_asset) {
        return Err(AnchorError::invalid(format!(
            "destination_asset differs from the quote's {}",
            quote.buy_asset
        )));
    }
    Ok(Terms {
        fee: Amount(quote.fee_total),
        fee_details: quote.fee_details.clone(),
        amount_out: Amount(quote.buy_amount),
        amount_out_asset: Some(quote.buy_asset.clone()),
        quote: Some(quote),
    })
}

/// The terms of an unquoted transaction: paid out in the asset itself, less its fee.
fn own_terms(asset: &Asset, new: &NewTransaction) -> AnchorResult<Terms> {
    if asset.quotes_required {
        return Err(AnchorError::invalid(format!(
            "quotes_required: {} needs a SEP-38 firm quote (quote_id)",
            asset.code
        )));
    }
    if let Some(destination) = &new.destination_asset
        && *destination != asset.sep38().to_string()
    {
        return Err(AnchorError::invalid(
            "destination_asset other than the asset itself needs a SEP-38 firm quote (quote_id)",
        ));
    }
    let (fee, details) = fees(asset, new.amount);
    let amount_out = new.amount.checked_sub(fee).filter(|out| *out > Amount::ZERO).ok_or_else(|| {
        AnchorError::invalid(format!("amount must be larger than the fee of {}", fee.to_decimal()))
    })?;
    let fee_details = quotes::fee_parts(&details);
    Ok(Terms { fee, fee_details, amount_out, amount_out_asset: None, quote: None })
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

/// The customers the request names must be the sending anchor's own and accepted for
/// the types the asset asks of each side: both read at once, sender checked first.
async fn require_kyc(
    db: &impl ConnectionTrait,
    tenant: &Tenant,
    owner: &Owner,
    asset: &Asset,
    sides: [(Side, Option<Uuid>); 2],
) -> AnchorResult<()> {
    let wanted: Vec<Uuid> =
        sides.iter().filter(|(side, _)| side.sep12_type(asset).is_some()).filter_map(|(_, id)| *id).collect();
    let loaded = customers::load_ids(db, owner, &wanted).await?;
    for (side, id) in sides {
        let Some(type_name) = side.sep12_type(asset) else { continue };
        let customer = id.and_then(|id| loaded.get(&id));
        if !customers::accepted(tenant, asset, side, customer) {
            return Err(AnchorError::CustomerInfoNeeded { sep12_type: type_name.to_string() });
        }
    }
    Ok(())
}

fn missing_fields(asset: &Asset, given: &Map<String, Value>) -> AnchorResult<()> {
    let mut missing = std::collections::BTreeMap::new();
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
                missing.insert(field.name.clone(), field.spec());
            }
            Some(_) => return Err(AnchorError::invalid(format!("{} must be a string", field.name))),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AnchorError::TransactionInfoNeeded { fields: TransactionFields { transaction: missing } })
    }
}

/// `POST /transactions`: validates the request against the tenant's configuration and
/// the sending anchor's customers, then creates the transaction in `pending_sender`
/// with a memo unique within the tenant.
pub async fn create(
    db: &DatabaseConnection,
    commits: &GroupCommit,
    tenant: &Tenant,
    owner: &Owner,
    new: NewTransaction,
    expiry: Duration,
) -> AnchorResult<Created> {
    let request_hash = new.request_hash.clone();
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
    // Customers and quotes resolve across the account's memos (SEP-31's principal is the
    // sending anchor); the transaction itself belongs to the token's memo.
    let account = owner.account();
    require_kyc(
        db,
        tenant,
        &account,
        asset,
        [(Side::Sender, new.sender_id), (Side::Receiver, new.receiver_id)],
    )
    .await?;
    missing_fields(asset, &new.fields)?;

    let terms = match new.quote_id {
        Some(id) => quoted_terms(db, &account, asset, &new, id).await?,
        None => own_terms(asset, &new)?,
    };
    let memo_type = asset.memo_type;

    // Microseconds, as both databases keep it: the row answered is the row stored.
    let now = Utc::now().trunc_subsecs(6);
    // A quoted transaction waits for funds at least as long as its quote lasts.
    let expires_at = (now + expiry).max(terms.quote.as_ref().map_or(now, |q| q.expires_at));
    let row = |id: Uuid| transaction::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.id),
        sa_account: Set(owner.sa_account.clone()),
        sa_memo: Set(owner.memo.clone()),
        asset_code: Set(asset.code.clone()),
        asset_issuer: Set(asset.issuer.clone()),
        amount_in: Set(new.amount.0),
        amount_fee: Set(terms.fee.0),
        amount_out: Set(terms.amount_out.0),
        fee_details: Set(terms.fee_details.clone()),
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
        fields: Set(crate::sealed::seal_fields(&tenant.data_key, tenant.id, id, &new.fields)),
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
        expires_at: Set(expires_at),
        quote_id: Set(terms.quote.as_ref().map(|q| q.id)),
        amount_out_asset: Set(terms.amount_out_asset.clone()),
        quote_expires_at: Set(terms.quote.as_ref().map(|q| q.expires_at)),
        held_reason: Set(None),
    };
    let actor = Actor::SendingAnchor(owner.sa_account.clone());
    // Unquoted, the common case: committed together with the others arriving now. A
    // quote's claim can fail after the insert, which only a transaction of its own can
    // undo, so a quoted one goes alone.
    if terms.quote.is_none() {
        match commits.insert(row(Uuid::new_v4()), Hooks::of(tenant)).await? {
            Inserted::Row(created) => return Ok(Created { transaction: *created, replayed: false }),
            Inserted::Clash => {
                if let Some(key) = &new.idempotency_key
                    && let Some(existing) = by_idempotency_key(db, owner, key).await?
                {
                    return replay(existing, &request_hash);
                }
            }
        }
    }
    // Alone: a quoted transaction, or a new memo after a clash.
    for _ in 0..5 {
        let txn = mooring_entities::begin_write(db).await?;
        match row(Uuid::new_v4()).insert(&txn).await {
            Ok(created) => {
                if let Some(quote) = &terms.quote
                    && let Err(e) = quotes::claim_in(&txn, &account, quote.id, created.id).await
                {
                    txn.rollback().await?;
                    return Err(e);
                }
                record_event(&txn, &created, None, Status::PendingSender, &actor, None, Hooks::of(tenant))
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
