//! Live transaction events. Each subscriber polls the event table (cheap, indexed),
//! which works the same on every replica with no message bus to keep in step.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use async_graphql::{Context, ID, Result, Subscription as SubscriptionAttr};
use futures::Stream;

use crate::objects::Event;
use crate::scope::{self, core};

const POLL: Duration = Duration::from_millis(250);
/// How often a running subscription re-checks its credential and its tenant.
const RECHECK: Duration = Duration::from_secs(1);

/// Set by the server on a WebSocket connection: whether the credential the connection
/// started with still holds (not revoked). A subscription ends within [`RECHECK`] of a
/// revocation or of its tenant's suspension.
#[derive(Clone)]
pub struct Recheck(pub std::sync::Arc<dyn Fn() -> futures::future::BoxFuture<'static, bool> + Send + Sync>);

pub struct Subscription;

#[SubscriptionAttr]
impl Subscription {
    /// Every status change of the tenant's transactions, from `since` (default: now) on.
    /// A client that reconnects passes the `at` of the last event it saw and misses
    /// nothing (it may see events at exactly that time again; ids tell them apart).
    async fn transaction_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Replay events at or after this time first; default: from now.")] since: Option<
            chrono::DateTime<chrono::Utc>,
        >,
    ) -> Result<impl Stream<Item = Event>> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let db = core(ctx).db.clone();
        let tenants = core(ctx).tenants.clone();
        let recheck = ctx.data_opt::<Recheck>().cloned();
        // Where the next poll starts, the events already sent at exactly that time,
        // what is waiting to be sent, and when the credential was last checked.
        let start = since.unwrap_or_else(chrono::Utc::now);
        let state = (start, HashSet::new(), VecDeque::new(), tokio::time::Instant::now());
        Ok(futures::stream::unfold(state, move |(mut since, mut sent_at_since, mut queue, mut checked)| {
            let (db, tenants, recheck) = (db.clone(), tenants.clone(), recheck.clone());
            async move {
                loop {
                    if checked.elapsed() >= RECHECK {
                        checked = tokio::time::Instant::now();
                        let active = tenants
                            .by_id(tenant)
                            .is_some_and(|t| t.status == mooring_tenants::TenantStatus::Active);
                        let valid = match &recheck {
                            Some(recheck) => recheck.0().await,
                            None => true,
                        };
                        if !active || !valid {
                            return None;
                        }
                    }
                    if let Some(event) = queue.pop_front() {
                        return Some((Event::from(event), (since, sent_at_since, queue, checked)));
                    }
                    tokio::time::sleep(POLL).await;
                    match mooring_anchor::transactions::events_since(&db, tenant, since, 100).await {
                        Ok(events) => {
                            let fresh: Vec<_> =
                                events.into_iter().filter(|e| !sent_at_since.contains(&e.id)).collect();
                            if let Some(last) = fresh.last().map(|e| e.at) {
                                if last != since {
                                    sent_at_since.clear();
                                    since = last;
                                }
                                sent_at_since.extend(fresh.iter().filter(|e| e.at == since).map(|e| e.id));
                            }
                            queue.extend(fresh);
                        }
                        Err(e) => tracing::warn!(error = %e, "event subscription poll failed"),
                    }
                }
            }
        }))
    }
}
