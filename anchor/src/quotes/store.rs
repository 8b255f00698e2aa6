//! Firm quotes: written once, read back by their owner only, and claimed by exactly one
//! transaction.

use chrono::DurationRound;
use chrono::{DateTime, Utc};
use mooring_entities::TenantScoped;
use mooring_entities::json_columns::{FeePart, FeeParts};
use mooring_entities::{corridor, quote, quote_reserve};
use mooring_stellar::Amount;
use mooring_tenants::api_keys::KeyScope;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::price::Priced;
use crate::{AnchorError, AnchorResult, Owner};

pub use quote::Model as Quote;

/// What a firm quote is for, beyond its price.
pub struct Terms {
    pub corridor_id: uuid::Uuid,
    pub context: String,
    pub sell_asset: String,
    pub buy_asset: String,
    pub sell_delivery_method: Option<String>,
    pub buy_delivery_method: Option<String>,
    pub country_code: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The corridor's reserve: the most of the buy asset its unexpired quotes may promise.
    pub max_outstanding: Option<Amount>,
}

/// A fee's named parts as stored (a quote's and a transaction's `fee_details`), amounts
/// as decimal strings.
pub fn fee_parts(details: &[(String, mooring_stellar::Amount)]) -> FeeParts {
    FeeParts(
        details
            .iter()
            .map(|(name, amount)| FeePart {
                name: name.clone(),
                amount: amount.to_decimal().to_string(),
                description: None,
            })
            .collect(),
    )
}

/// How much of the buy asset `corridor_id`'s unexpired firm quotes promise (each counted
/// until the end of the minute it expires in).
pub async fn outstanding(db: &impl ConnectionTrait, corridor_id: Uuid) -> AnchorResult<Amount> {
    // CAST: PostgreSQL sums BIGINTs into NUMERIC.
    let sum: Option<i64> = quote_reserve::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "promised")
        .filter(quote_reserve::Column::CorridorId.eq(corridor_id))
        .filter(quote_reserve::Column::Until.gt(Utc::now()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(Amount(sum.unwrap_or(0)))
}

/// The end of the minute `t` falls in (`t` itself when it is a whole minute).
fn minute_after(t: DateTime<Utc>) -> DateTime<Utc> {
    let whole = t.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(t);
    if whole == t { t } else { whole + chrono::Duration::minutes(1) }
}

/// Records a firm quote for `owner`. With a reserve, the corridor's row is locked (on
/// SQLite the write transaction serializes), what its unexpired quotes promise is
/// summed from the per-minute totals, and the quote is refused if it would promise
/// more than the reserve, or else added to its minute's total: concurrent quotes
/// cannot together overshoot it.
pub async fn create(
    db: &DatabaseConnection,
    owner: &Owner,
    priced: &Priced,
    terms: Terms,
) -> AnchorResult<Quote> {
    let row = quote::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(owner.tenant_id),
        corridor_id: Set(terms.corridor_id),
        sa_account: Set(owner.sa_account.clone()),
        sa_memo: Set(owner.memo.clone()),
        context: Set(terms.context),
        sell_asset: Set(terms.sell_asset),
        sell_amount: Set(priced.sell_amount.0),
        buy_asset: Set(terms.buy_asset),
        buy_amount: Set(priced.buy_amount.0),
        price: Set(priced.price.to_string()),
        total_price: Set(priced.total_price.to_string()),
        fee_total: Set(priced.fee.0),
        fee_details: Set(fee_parts(&priced.fee_details)),
        sell_delivery_method: Set(terms.sell_delivery_method),
        buy_delivery_method: Set(terms.buy_delivery_method),
        country_code: Set(terms.country_code),
        expires_at: Set(terms.expires_at),
        created_at: Set(Utc::now()),
        transaction_id: Set(None),
    };
    let Some(reserve) = terms.max_outstanding else {
        let _turn = mooring_entities::write_turn(db).await?;
        return Ok(row.insert(db).await?);
    };
    let txn = mooring_entities::begin_write(db).await?;
    corridor::Entity::find_by_id(terms.corridor_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AnchorError::invalid("this corridor is no longer offered"))?;
    let promised = outstanding(&txn, terms.corridor_id).await?;
    let left = Amount(reserve.0.saturating_sub(promised.0).max(0));
    if priced.buy_amount > left {
        return Err(AnchorError::invalid(format!(
            "at most {} can be quoted on this corridor right now (firm quotes hold the rest until they expire)",
            left.to_decimal()
        )));
    }
    let held = quote_reserve::ActiveModel {
        corridor_id: Set(terms.corridor_id),
        until: Set(minute_after(terms.expires_at)),
        amount: Set(priced.buy_amount.0),
    };
    quote_reserve::Entity::insert(held)
        .on_conflict(
            OnConflict::columns([quote_reserve::Column::CorridorId, quote_reserve::Column::Until])
                .value(
                    quote_reserve::Column::Amount,
                    sea_orm::sea_query::ExprTrait::add(
                        Expr::col((quote_reserve::Entity, quote_reserve::Column::Amount)),
                        priced.buy_amount.0,
                    ),
                )
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let quote = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(quote)
}

/// The quotes `owner` may see: its account's at its tenant, and with a memo token only
/// those asked for under that memo.
fn owned_by(owner: &Owner) -> sea_orm::Select<quote::Entity> {
    let query =
        quote::Entity::of_tenant(owner.tenant_id).filter(quote::Column::SaAccount.eq(&owner.sa_account));
    match &owner.memo {
        Some(memo) => query.filter(quote::Column::SaMemo.eq(memo)),
        None => query,
    }
}

/// `owner`'s quote, or `None` (another's answers the same as a missing one).
pub async fn get(db: &impl ConnectionTrait, owner: &Owner, id: Uuid) -> AnchorResult<Option<Quote>> {
    Ok(owned_by(owner).filter(quote::Column::Id.eq(id)).one(db).await?)
}

/// A quote `scope` may see (the admin API).
pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: KeyScope,
    id: Uuid,
) -> AnchorResult<Option<Quote>> {
    let found = quote::Entity::find_by_id(id).one(db).await?;
    Ok(found.filter(|q| scope.sees(q.tenant_id)))
}

/// A tenant's latest quotes, newest first.
pub async fn list(db: &impl ConnectionTrait, tenant_id: Uuid, limit: u64) -> AnchorResult<Vec<Quote>> {
    Ok(quote::Entity::of_tenant(tenant_id)
        .order_by_desc(quote::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Ties `owner`'s quote `id` to `transaction_id`, inside the caller's database
/// transaction: compare-and-set on "not yet used", so of two transactions racing for
/// one quote exactly one gets it.
pub async fn claim_in(
    txn: &impl ConnectionTrait,
    owner: &Owner,
    id: Uuid,
    transaction_id: Uuid,
) -> AnchorResult<()> {
    let mut update = quote::Entity::update_many()
        .col_expr(quote::Column::TransactionId, Expr::value(transaction_id))
        .filter(quote::Column::Id.eq(id))
        .filter(quote::Column::TenantId.eq(owner.tenant_id))
        .filter(quote::Column::SaAccount.eq(&owner.sa_account))
        .filter(quote::Column::TransactionId.is_null());
    if let Some(memo) = &owner.memo {
        update = update.filter(quote::Column::SaMemo.eq(memo));
    }
    if update.exec(txn).await?.rows_affected == 1 {
        Ok(())
    } else {
        Err(AnchorError::invalid(format!("quote {id} was already used for another transaction")))
    }
}

/// Deletes up to `limit` quotes that expired before `before` without backing a
/// transaction (nobody can use them; a quote behind a transaction is kept with it).
pub async fn purge_unused(db: &DatabaseConnection, before: DateTime<Utc>, limit: u64) -> AnchorResult<u64> {
    let ids: Vec<Uuid> = quote::Entity::find()
        .select_only()
        .column(quote::Column::Id)
        .filter(quote::Column::TransactionId.is_null())
        .filter(quote::Column::ExpiresAt.lt(before))
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    // Per-minute reserve totals past their minute hold nothing any more.
    quote_reserve::Entity::delete_many().filter(quote_reserve::Column::Until.lt(Utc::now())).exec(db).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let deleted = quote::Entity::delete_many()
        .filter(quote::Column::Id.is_in(ids))
        // Claimed since it was listed: kept.
        .filter(quote::Column::TransactionId.is_null())
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_held_to_the_end_of_its_minute() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(minute_after(t("2026-11-30T10:00:00.001Z")), t("2026-11-30T10:01:00Z"));
        assert_eq!(minute_after(t("2026-11-30T10:00:59Z")), t("2026-11-30T10:01:00Z"));
        assert_eq!(minute_after(t("2026-11-30T10:01:00Z")), t("2026-11-30T10:01:00Z"));
    }
}
