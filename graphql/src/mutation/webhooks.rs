//! The tenant's webhook endpoints: register, change, rotate the secret, remove; send a
//! test event; redeliver.

use async_graphql::{Context, ID, InputObject, Object, Result};
use mooring_anchor::webhooks::{self, Changes};

use crate::error::from_anchor;
use crate::objects::{WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret};
use crate::scope::{self, core};

#[derive(InputObject)]
pub struct WebhookEndpointInput {
    /// An http(s) URL the platform POSTs events to.
    pub url: String,
    /// Event types to receive (`transaction.created`, `transaction.status_changed`,
    /// `payment.unmatched`, `customer.updated`, `quote.expired_with_payment`); empty: all.
    #[graphql(default)]
    pub event_types: Vec<String>,
}

#[derive(InputObject)]
pub struct WebhookEndpointChanges {
    /// A new URL.
    pub url: Option<String>,
    /// New event types (empty: all).
    pub event_types: Option<Vec<String>>,
    /// Enabling an endpoint the platform disabled clears the reason.
    pub enabled: Option<bool>,
}

#[derive(Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Registers an endpoint; answers its signing secret, shown this once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Where and what.")] input: WebhookEndpointInput,
    ) -> Result<WebhookEndpointWithSecret> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let core = core(ctx);
        let policy = scope::url_policy(ctx, tenant)?;
        let created = webhooks::create(
            super::writer(ctx),
            &core.master_key,
            tenant,
            &input.url,
            &input.event_types,
            policy,
        )
        .await
        .map_err(from_anchor)?;
        endpoints_changed(ctx).await?;
        Ok(WebhookEndpointWithSecret { endpoint: created.endpoint.into(), secret: created.secret })
    }

    /// Changes an endpoint's URL, event types or whether it is enabled.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Endpoint id.")] id: ID,
        #[graphql(desc = "What to change.")] input: WebhookEndpointChanges,
    ) -> Result<WebhookEndpoint> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let id = scope::parse_id(&id, "webhook endpoint")?;
        let changes = Changes { url: input.url, event_types: input.event_types, enabled: input.enabled };
        let policy = scope::url_policy(ctx, tenant)?;
        let updated =
            webhooks::update(super::writer(ctx), tenant, id, changes, policy).await.map_err(from_anchor)?;
        endpoints_changed(ctx).await?;
        Ok(updated.into())
    }

    /// A new signing secret (shown this once); the old one also signs for
    /// `overlapSeconds` (default a day), so receivers can switch without a gap.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Endpoint id.")] id: ID,
        #[graphql(desc = "How long the old secret keeps signing (0 to 604800).", default = 86400)]
        overlap_seconds: i64,
    ) -> Result<WebhookEndpointWithSecret> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let id = scope::parse_id(&id, "webhook endpoint")?;
        let core = core(ctx);
        let overlap = chrono::Duration::seconds(overlap_seconds);
        let rotated = webhooks::rotate(super::writer(ctx), &core.master_key, tenant, id, overlap)
            .await
            .map_err(from_anchor)?;
        Ok(WebhookEndpointWithSecret { endpoint: rotated.endpoint.into(), secret: rotated.secret })
    }

    /// Removes an endpoint; deliveries it had not received are given up.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Endpoint id.")] id: ID,
    ) -> Result<bool> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let id = scope::parse_id(&id, "webhook endpoint")?;
        let deleted = webhooks::delete(super::writer(ctx), tenant, id).await.map_err(from_anchor)?;
        endpoints_changed(ctx).await?;
        Ok(deleted)
    }

    /// Queues a `webhook.test` event to the endpoint.
    async fn send_test_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Endpoint id.")] id: ID,
    ) -> Result<WebhookDelivery> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let id = scope::parse_id(&id, "webhook endpoint")?;
        Ok(webhooks::send_test(super::writer(ctx), tenant, id).await.map_err(from_anchor)?.into())
    }

    /// Sends a delivery again from now (the same `webhook-id`), with fresh retries.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Delivery id.")] id: ID,
    ) -> Result<WebhookDelivery> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let id = scope::parse_id(&id, "webhook delivery")?;
        Ok(webhooks::redeliver(super::writer(ctx), tenant, id).await.map_err(from_anchor)?.into())
    }
}

/// The tenant's snapshot (and every replica's, through the hook) learns that its
/// endpoints changed: whether one is enabled decides if new transactions look them up.
async fn endpoints_changed(ctx: &Context<'_>) -> Result<()> {
    core(ctx).tenants.changed().await.map_err(crate::error::internal)
}
