//! Live transaction events: each subscription replays from `since` out of the event
//! table, then follows its tenant's shared feed ([`crate::live::EventHub`]); a
//! subscriber that falls behind the feed re-reads from the table where it was.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, ID, Result, Subscription as SubscriptionAttr};
use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::error::coded;
use crate::live::{ConnectionSlots, Cursor, PAGE, Slots};
use crate::objects::Event;
use crate::scope::{self, core};

/// How often a running subscription re-checks its credential and its tenant.
const RECHECK: Duration = Duration::from_secs(1);

/// Set by the server on a WebSocket connection: whether the credential the connection
/// started with still holds (not revoked). A subscription ends within [`RECHECK`] of a
/// revocation or of its tenant's suspension.
#[derive(Clone)]
pub struct Recheck(pub std::sync::Arc<dyn Fn() -> futures::future::BoxFuture<'static, bool> + Send + Sync>);

pub struct Subscription;

/// One subscription's state between events.
struct Follow {
    cursor: Cursor,
    /// Reading the table (replaying `since`, or catching up after falling behind)
    /// rather than the live feed.
    replaying: bool,
    queue: VecDeque<mooring_anchor::transactions::Event>,
    feed: broadcast::Receiver<Arc<mooring_anchor::transactions::Event>>,
    checked: tokio::time::Instant,
    _slots: Slots,
}

#[SubscriptionAttr]
impl Subscription {
    /// Every status change of the tenant's transactions, from `since` (default: now) on.
    /// A client that reconnects passes the `at` of the last event it saw and misses
    /// nothing (it may see events at exactly that time again; ids tell them apart).
    /// A connection, and an API key, may hold only a few subscriptions at once
    /// (README, Security).
    async fn transaction_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
        #[graphql(desc = "Replay events at or after this time first; default: from now.")] since: Option<
            chrono::DateTime<chrono::Utc>,
        >,
    ) -> Result<impl Stream<Item = Event>> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let core = core(ctx);
        let slots = core
            .subscription_caps
            .take(scope::caller(ctx)?, ctx.data_opt::<ConnectionSlots>())
            .map_err(|why| coded(crate::codes::RATE_LIMITED, why))?;
        let (db, tenants) = (core.db.clone(), core.tenants.clone());
        let recheck = ctx.data_opt::<Recheck>().cloned();
        // Subscribed before replaying, so nothing falls between the replay and the feed.
        let feed = core.events.subscribe(tenant);
        let state = Follow {
            cursor: Cursor::new(since.unwrap_or_else(chrono::Utc::now)),
            replaying: since.is_some(),
            queue: VecDeque::new(),
            feed,
            checked: tokio::time::Instant::now(),
            _slots: slots,
        };
        Ok(futures::stream::unfold(state, move |mut s| {
            let (db, tenants, recheck) = (db.clone(), tenants.clone(), recheck.clone());
            async move {
                loop {
                    if s.checked.elapsed() >= RECHECK {
                        s.checked = tokio::time::Instant::now();
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
                    if let Some(event) = s.queue.pop_front() {
                        return Some((Event::from(event), s));
                    }
                    if s.replaying {
                        match mooring_anchor::transactions::events_since(&db, tenant, s.cursor.since, PAGE)
                            .await
                        {
                            Ok(events) => {
                                s.replaying = events.len() as u64 == PAGE;
                                let fresh =
                                    events.into_iter().filter(|e| s.cursor.admit(e)).collect::<Vec<_>>();
                                // A full page of events all at one instant: step on.
                                if s.replaying && fresh.is_empty() {
                                    s.cursor =
                                        Cursor::new(s.cursor.since + chrono::Duration::microseconds(1));
                                }
                                s.queue.extend(fresh);
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "event replay failed");
                                tokio::time::sleep(RECHECK).await;
                            }
                        }
                        continue;
                    }
                    match tokio::time::timeout(RECHECK, s.feed.recv()).await {
                        Ok(Ok(event)) => {
                            if s.cursor.admit(&event) {
                                s.queue.push_back(Arc::unwrap_or_clone(event));
                            }
                        }
                        // Fell behind the feed: read what was missed from the table.
                        Ok(Err(RecvError::Lagged(_))) => s.replaying = true,
                        Ok(Err(RecvError::Closed)) => return None,
                        Err(_) => {} // time to re-check
                    }
                }
            }
        }))
    }
}
