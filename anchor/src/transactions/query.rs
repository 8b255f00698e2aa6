//! Reading transactions: the sending anchor's own, a tenant's (for the admin API),
//! their events and counts.

use chrono::Utc;
use mooring_entities::TenantScoped;
use mooring_entities::{refund, transaction, transaction_event};
use mooring_stellar::sep31::Status;
use mooring_tenants::api_keys::KeyScope;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::AnchorResult;
use crate::Owner;

/// The transactions `owner` may see: its account's at its tenant, and with a memo
/// token only those created under that memo.
pub(super) fn owned_by(owner: &Owner) -> sea_orm::Select<transaction::Entity> {
    let query = transaction::Entity::of_tenant(owner.tenant_id)
        .filter(transaction::Column::SaAccount.eq(&owner.sa_account));
    match &owner.memo {
        Some(memo) => query.filter(transaction::Column::SaMemo.eq(memo)),
        None => query,
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
    find_in_scope(db, KeyScope::Tenant(tenant_id), id).await
}

/// A transaction's first `limit` status changes, oldest first.
pub async fn events(
    db: &impl ConnectionTrait,
    transaction_id: Uuid,
    limit: u64,
) -> AnchorResult<Vec<transaction_event::Model>> {
    Ok(transaction_event::Entity::find()
        .filter(transaction_event::Column::TransactionId.eq(transaction_id))
        .order_by_asc(transaction_event::Column::At)
        .limit(limit)
        .all(db)
        .await?)
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
    /// Amount in, in stroops, at least / at most.
    pub min_amount_in: Option<i64>,
    pub max_amount_in: Option<i64>,
    /// The sender or the receiver.
    pub customer_id: Option<Uuid>,
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
    let mut query = transaction::Entity::of_tenant(tenant_id);
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
    if let Some(a) = filter.min_amount_in {
        query = query.filter(transaction::Column::AmountIn.gte(a));
    }
    if let Some(a) = filter.max_amount_in {
        query = query.filter(transaction::Column::AmountIn.lte(a));
    }
    if let Some(c) = filter.customer_id {
        query = query.filter(
            sea_orm::Condition::any()
                .add(transaction::Column::SenderId.eq(c))
                .add(transaction::Column::ReceiverId.eq(c)),
        );
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
    Ok(transaction_event::Entity::of_tenant(tenant_id)
        .filter(transaction_event::Column::At.gte(since))
        .order_by_asc(transaction_event::Column::At)
        .limit(limit)
        .all(db)
        .await?)
}

/// A transaction `scope` may see: any for the operator, its own tenant's for a tenant;
/// `None` for another tenant's as for a missing one.
pub async fn find_in_scope(
    db: &impl ConnectionTrait,
    scope: KeyScope,
    id: Uuid,
) -> AnchorResult<Option<transaction::Model>> {
    let query = transaction::Entity::find_by_id(id);
    let query = match scope {
        KeyScope::Operator => query,
        KeyScope::Tenant(t) => query.filter(transaction::Column::TenantId.eq(t)),
    };
    Ok(query.one(db).await?)
}

/// A transaction's refunds, oldest first.
pub async fn refunds_of(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    transaction_id: Uuid,
) -> AnchorResult<Vec<refund::Model>> {
    Ok(refund::Entity::of_tenant(tenant_id)
        .filter(refund::Column::TransactionId.eq(transaction_id))
        .order_by_asc(refund::Column::CreatedAt)
        .all(db)
        .await?)
}
