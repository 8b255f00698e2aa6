//! Webhook endpoints and their delivery log (never a secret, except once on creation
//! and rotation).

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};
use mooring_anchor::webhooks::{self, Delivery, Endpoint};

use crate::error::from_anchor;
use crate::scope::core;

/// Where the tenant's events are delivered.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct WebhookEndpoint {
    /// Endpoint id.
    pub id: ID,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it receives; empty: all of them.
    pub event_types: Vec<String>,
    /// Whether it receives events.
    pub enabled: bool,
    /// Why the platform disabled it (it kept failing), if it did.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed; none after a success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs, beside the new one.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant_id: uuid::Uuid,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

impl From<Endpoint> for WebhookEndpoint {
    fn from(e: Endpoint) -> Self {
        Self {
            id: ID(e.id.to_string()),
            event_types: webhooks::event_types(&e),
            url: e.url,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_until: e.previous_until.filter(|u| *u > Utc::now()),
            created_at: e.created_at,
            tenant_id: e.tenant_id,
            uuid: e.id,
        }
    }
}

#[ComplexObject]
impl WebhookEndpoint {
    /// Deliveries to this endpoint, newest first.
    #[graphql(complexity = "crate::cost::rows(child_complexity, first, 100)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100).", default = 20)] first: u64,
        #[graphql(desc = "Only deliveries created before this (to page on).")] before: Option<DateTime<Utc>>,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows = webhooks::deliveries(&core(ctx).db, self.tenant_id, self.uuid, before, first.min(100))
            .await
            .map_err(from_anchor)?;
        Ok(rows.into_iter().map(WebhookDelivery::from).collect())
    }
}

/// One event sent (or being sent) to one endpoint: its attempts so far.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    /// Also the `webhook-id` the receiver sees (as `msg_<id without dashes>`).
    pub id: ID,
    /// The event's type (`transaction.created`, …).
    pub event_type: String,
    /// The exact JSON body sent.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// The last attempt's HTTP status; none if the receiver did not answer.
    pub last_status: Option<i32>,
    /// How long the last attempt took.
    pub last_latency_ms: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver accepted it (2xx).
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was given up (retries exhausted, endpoint disabled or deleted).
    pub failed_at: Option<DateTime<Utc>>,
    /// When the event was written (with the change it reports).
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for WebhookDelivery {
    fn from(d: Delivery) -> Self {
        let pending = d.delivered_at.is_none() && d.failed_at.is_none();
        Self {
            id: ID(d.id.to_string()),
            event_type: d.event_type.unwrap_or_default(),
            payload: d.body,
            attempts: d.attempts,
            last_status: d.last_status,
            last_latency_ms: d.last_latency_ms,
            last_error: d.last_error,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            created_at: d.created_at,
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(SimpleObject)]
pub struct WebhookEndpointWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_…` (Standard Webhooks): keep it; it is not shown again.
    pub secret: String,
}
