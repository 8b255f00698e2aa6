//! Query roots, one per domain, merged.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, MergedObject, Object, Result};
use chrono::{DateTime, Utc};
use mooring_anchor::{customers, offboarding, payments, transactions};
use mooring_tenants::api_keys::{self, KeyScope};

use crate::Caller;
use crate::enums::{CustomerStatus, TransactionStatus};
use crate::error::{from_anchor, from_tenants, not_found};
use crate::objects::{
    ApiKey, AuditEntry, CallerKind, CustomerObj, Me, PaymentObj, TenantObj, TransactionObj, WebhookEndpoint,
};
use crate::pagination::{Totals, connection, page};
use crate::scope::{self, core};

#[derive(MergedObject, Default)]
pub struct Query(TenantQuery, OperationsQuery);

/// How an export is written.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum ExportFormat {
    /// An array of objects.
    #[default]
    Json,
    /// Comma-separated, every field quoted, with a header line.
    Csv,
}

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// Who the API key in use belongs to.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let roles = crate::roles::granted(ctx).map(|r| vec![r.into()]).unwrap_or_default();
        Ok(match scope::caller(ctx)? {
            Caller::Operator => Me { kind: CallerKind::Operator, tenant_id: None, roles },
            Caller::Tenant(t) => Me { kind: CallerKind::Tenant, tenant_id: Some(ID(t.to_string())), roles },
        })
    }

    /// All tenants (operator only), optionally those whose name or domain contains `search`.
    #[graphql(complexity = "child_complexity.saturating_mul(first.unwrap_or(20).max(1) as usize)")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive part of a name or domain.")] search: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<usize, TenantObj, Totals>> {
        scope::operator(ctx)?;
        let page = page(after, first)?;
        let needle = search.unwrap_or_default().to_lowercase();
        let snapshot = core(ctx).tenants.snapshot();
        let matching: Vec<_> = snapshot
            .tenants()
            .filter(|t| {
                needle.is_empty()
                    || t.name.to_lowercase().contains(&needle)
                    || t.domains.iter().any(|d| d.contains(&needle))
            })
            .cloned()
            .collect();
        let total = matching.len() as u64;
        let rows = matching
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .map(TenantObj)
            .collect();
        Ok(connection(&page, rows, total))
    }

    /// A tenant: yours, or (operator) the one named.
    async fn tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] id: Option<ID>,
    ) -> Result<TenantObj> {
        Ok(TenantObj(scope::tenant(ctx, id.as_ref())?))
    }

    /// API keys of a tenant, or the operator's own keys, oldest first.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 1000)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id (operator: omit for operator keys).")] tenant_id: Option<ID>,
        #[graphql(desc = "How many (at most 1000).", default = 100)] first: u64,
    ) -> Result<Vec<ApiKey>> {
        let scope = match (scope::caller(ctx)?, &tenant_id) {
            (Caller::Operator, None) => KeyScope::Operator,
            _ => KeyScope::Tenant(scope::tenant_id(ctx, tenant_id.as_ref())?),
        };
        let keys = api_keys::list(&core(ctx).db, scope, first.min(1000)).await.map_err(from_tenants)?;
        Ok(keys.into_iter().map(ApiKey::from).collect())
    }
}

/// Narrows a transaction list; every field is optional.
#[derive(InputObject, Default)]
pub struct TransactionFilter {
    /// A SEP-31 status.
    pub status: Option<TransactionStatus>,
    /// Asset code.
    pub asset_code: Option<String>,
    /// Sending anchor account.
    pub sender_account: Option<String>,
    /// Exact Stellar memo.
    pub memo: Option<String>,
    /// Transaction id.
    pub id: Option<ID>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// Amount in at least this (a decimal string).
    pub min_amount: Option<String>,
    /// Amount in at most this (a decimal string).
    pub max_amount: Option<String>,
    /// The sender or the receiver is this customer.
    pub customer_id: Option<ID>,
}

#[derive(Default)]
pub struct OperationsQuery;

#[Object]
impl OperationsQuery {
    /// A tenant's transactions, newest first.
    #[graphql(
        complexity = "crate::cost::READ + child_complexity.saturating_mul(first.unwrap_or(20).max(1) as usize)"
    )]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Filters, all optional.")] filter: Option<TransactionFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<usize, TransactionObj, Totals>> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let page = page(after, first)?;
        let f = filter.unwrap_or_default();
        let filter = transactions::Filter {
            status: f.status.map(Into::into),
            asset_code: f.asset_code,
            sa_account: f.sender_account,
            memo: f.memo,
            id: match f.id {
                Some(id) => Some(id.parse().map_err(|_| not_found("transaction"))?),
                None => None,
            },
            created_after: f.created_after,
            created_before: f.created_before,
            min_amount_in: f.min_amount.as_deref().map(|a| stroops(a, "minAmount")).transpose()?,
            max_amount_in: f.max_amount.as_deref().map(|a| stroops(a, "maxAmount")).transpose()?,
            // An id that is no customer's matches nothing, as an unknown one does.
            customer_id: f.customer_id.map(|id| id.parse().unwrap_or_default()),
        };
        let (rows, total) = transactions::list(&core(ctx).db, tenant, &filter, page.offset, page.limit)
            .await
            .map_err(from_anchor)?;
        Ok(connection(&page, rows.into_iter().map(TransactionObj::from).collect(), total))
    }

    /// One transaction, with its history, customers and payments.
    async fn transaction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Transaction id.")] id: ID,
    ) -> Result<TransactionObj> {
        let id = scope::parse_id(&id, "transaction")?;
        let t = transactions::find_in_scope(&core(ctx).db, scope::key_scope(ctx)?, id)
            .await
            .map_err(from_anchor)?
            .ok_or_else(|| not_found("transaction"))?;
        Ok(TransactionObj::from(t))
    }

    /// A tenant's SEP-12 customers, newest first.
    #[graphql(
        complexity = "crate::cost::READ + child_complexity.saturating_mul(first.unwrap_or(20).max(1) as usize)"
    )]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Only customers with this status for some type.")] status: Option<CustomerStatus>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<usize, CustomerObj, Totals>> {
        let tenant = scope::tenant(ctx, tenant_id.as_ref())?;
        let page = page(after, first)?;
        let db = &core(ctx).db;
        let (rows, total) = match &status {
            None => customers::list(db, tenant.id, page.offset, page.limit).await.map_err(from_anchor)?,
            // Status is computed per type, so filter after loading (bounded by the cap).
            Some(_) => customers::list(db, tenant.id, 0, 10_000).await.map_err(from_anchor)?,
        };
        let mut loaded = Vec::new();
        for c in rows {
            if let Some(l) = customers::load_by_id(db, tenant.id, c.id).await.map_err(from_anchor)? {
                loaded.push(l);
            }
        }
        if let Some(wanted) = status {
            loaded.retain(|l| {
                tenant
                    .customer_types
                    .iter()
                    .any(|ty| CustomerStatus::from(customers::status(ty, Some(l))) == wanted)
            });
            let total = loaded.len() as u64;
            let rows = loaded
                .into_iter()
                .skip(page.offset as usize)
                .take(page.limit as usize)
                .map(CustomerObj)
                .collect();
            return Ok(connection(&page, rows, total));
        }
        Ok(connection(&page, loaded.into_iter().map(CustomerObj).collect(), total))
    }

    /// One customer.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Customer id.")] id: ID,
    ) -> Result<CustomerObj> {
        let id = scope::parse_id(&id, "customer")?;
        let loaded =
            customers::find_in_scope(&core(ctx).db, scope::key_scope(ctx)?, id).await.map_err(from_anchor)?;
        loaded.map(CustomerObj).ok_or_else(|| not_found("customer"))
    }

    /// The admin audit log, newest first: a tenant key sees its tenant's, the operator
    /// every tenant's (or one's, with `tenantId`).
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 200)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this tenant's (operators).")] tenant_id: Option<ID>,
        #[graphql(desc = "How many (at most 200).", default = 50)] first: u64,
        #[graphql(desc = "Only entries before this time (to page on).")] before: Option<DateTime<Utc>>,
    ) -> Result<Vec<AuditEntry>> {
        let scope = scope::key_scope(ctx)?;
        let tenant = tenant_id.as_ref().map(|t| scope::tenant_id(ctx, Some(t))).transpose()?;
        let rows = mooring_tenants::audit::list(&core(ctx).db, scope, tenant, before, first.min(200))
            .await
            .map_err(from_tenants)?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// The tenant's webhook endpoints (with their delivery logs).
    #[graphql(
        complexity = "crate::cost::rows(child_complexity, mooring_anchor::webhooks::MAX_ENDPOINTS, mooring_anchor::webhooks::MAX_ENDPOINTS)"
    )]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
    ) -> Result<Vec<WebhookEndpoint>> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let rows = mooring_anchor::webhooks::list(&core(ctx).db, tenant).await.map_err(from_anchor)?;
        Ok(rows.into_iter().map(WebhookEndpoint::from).collect())
    }

    /// Every transaction of the tenant, oldest first, without customer PII (customers
    /// by id only): for the tenant's records, e.g. before it is deleted. Costs half a
    /// request's budget: it reads every transaction.
    #[graphql(complexity = "crate::cost::Limits::default().max_complexity / 2")]
    async fn export_transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "JSON (an array of objects) or CSV (RFC 4180, with a header).", default)]
        format: ExportFormat,
    ) -> Result<String> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let rows = offboarding::export_transactions(&core(ctx).db, tenant).await.map_err(from_anchor)?;
        Ok(match format {
            ExportFormat::Json => serde_json::Value::Array(rows).to_string(),
            ExportFormat::Csv => offboarding::to_csv(&rows),
        })
    }

    /// Payments that matched no waiting transaction, oldest first: to refund or resolve.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 1000)")]
    async fn unmatched_payments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "How many (at most 1000).", default = 200)] first: u64,
    ) -> Result<Vec<PaymentObj>> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let rows = payments::unmatched(&core(ctx).db, tenant, first.min(1000)).await.map_err(from_anchor)?;
        Ok(rows.into_iter().map(PaymentObj::from).collect())
    }
}

/// A filter amount as stroops; a bad one is INVALID_INPUT naming the field.
fn stroops(amount: &str, field: &str) -> Result<i64> {
    amount
        .trim()
        .parse::<mooring_stellar::Amount>()
        .map(|a| a.0)
        .map_err(|_| crate::error::invalid(format!("{field} {amount:?} is not an amount (up to 7 decimals)")))
}
