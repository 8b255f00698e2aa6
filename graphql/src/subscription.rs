//! Live transaction events. Each subscriber polls the event table (cheap, indexed),
//! which works the same on every replica with no message bus to keep in step.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use async_graphql::{Context, ID, Result, Subscription as SubscriptionAttr};
use futures::Stream;

use crate::objects::Event;
use crate::scope::{self, core};

const POLL: Duration = Duration::from_millis(250);

pub struct Subscription;

#[SubscriptionAttr]
impl Subscription {
    /// Every status change of the tenant's transactions, from now on.
    async fn transaction_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Tenant id; optional for tenant keys.")] tenant_id: Option<ID>,
    ) -> Result<impl Stream<Item = Event>> {
        let tenant = scope::tenant_id(ctx, tenant_id.as_ref())?;
        let db = core(ctx).db.clone();
        // Where the next poll starts, the events already sent at exactly that time, and
        // what is waiting to be sent.
        let state = (chrono::Utc::now(), HashSet::new(), VecDeque::new());
        Ok(futures::stream::unfold(state, move |(mut since, mut sent_at_since, mut queue)| {
            let db = db.clone();
            async move {
                loop {
                    if let Some(event) = queue.pop_front() {
                        return Some((Event::from(event), (since, sent_at_since, queue)));
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
