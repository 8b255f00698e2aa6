//! Self-test reports as stored: one row per run, its steps as JSON.

use chrono::{DateTime, Utc};
use mooring_entities::TenantScoped;
use mooring_entities::{self_test, self_test_callback};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Error;

/// One check: what was sent, what came back, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub message: String,
    /// The request as sent (method, URL, body), secrets and tokens left out.
    pub request: String,
    /// The response as received (status and body, cut at 4 KiB).
    pub response: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub passed: bool,
    pub steps: Vec<Check>,
}

impl Report {
    fn from_row(r: self_test::Model) -> Result<Self, Error> {
        let steps =
            serde_json::from_str(&r.steps).map_err(|e| Error::Corrupt(format!("self-test steps: {e}")))?;
        Ok(Self {
            id: r.id,
            tenant_id: r.tenant_id,
            started_at: r.started_at,
            finished_at: r.finished_at,
            passed: r.passed,
            steps,
        })
    }
}

/// Stores a finished run.
pub async fn save(db: &DatabaseConnection, report: &Report) -> Result<(), Error> {
    self_test::ActiveModel {
        id: Set(report.id),
        tenant_id: Set(report.tenant_id),
        started_at: Set(report.started_at),
        finished_at: Set(report.finished_at),
        passed: Set(report.passed),
        steps: Set(serde_json::to_string(&report.steps).expect("checks serialize")),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The tenant's latest `first` reports, newest first.
pub async fn latest(db: &DatabaseConnection, tenant_id: Uuid, first: u64) -> Result<Vec<Report>, Error> {
    self_test::Entity::of_tenant(tenant_id)
        .order_by_desc(self_test::Column::StartedAt)
        .limit(first)
        .all(db)
        .await?
        .into_iter()
        .map(Report::from_row)
        .collect()
}

/// A callback the run waits for: the token its callback URL carries.
pub async fn expect_callback(db: &DatabaseConnection, tenant_id: Uuid) -> Result<Uuid, Error> {
    let token = Uuid::new_v4();
    self_test_callback::ActiveModel {
        token: Set(token),
        tenant_id: Set(tenant_id),
        created_at: Set(Utc::now()),
        received_at: Set(None),
        signature: Set(None),
        host: Set(None),
        body: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Stores the first callback for `token`; false when no run waits for it (unknown
/// token, or already received): outsiders cannot create rows.
pub async fn receive_callback(
    db: &DatabaseConnection,
    token: Uuid,
    signature: &str,
    host: &str,
    body: &str,
) -> Result<bool, Error> {
    let done = self_test_callback::Entity::update_many()
        .col_expr(self_test_callback::Column::ReceivedAt, Expr::value(Utc::now()))
        .col_expr(self_test_callback::Column::Signature, Expr::value(signature))
        .col_expr(self_test_callback::Column::Host, Expr::value(host))
        .col_expr(self_test_callback::Column::Body, Expr::value(body))
        .filter(self_test_callback::Column::Token.eq(token))
        .filter(self_test_callback::Column::ReceivedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The callback received for `token`, if any: (signature, host, body).
pub async fn received_callback(
    db: &DatabaseConnection,
    token: Uuid,
) -> Result<Option<(String, String, String)>, Error> {
    let row = self_test_callback::Entity::find_by_id(token).one(db).await?;
    Ok(row
        .filter(|r| r.received_at.is_some())
        .map(|r| (r.signature.unwrap_or_default(), r.host.unwrap_or_default(), r.body.unwrap_or_default())))
}

/// The run is over: its callback row goes.
pub async fn forget_callback(db: &DatabaseConnection, token: Uuid) -> Result<(), Error> {
    self_test_callback::Entity::delete_by_id(token).exec(db).await?;
    Ok(())
}
