//! Live transaction events for subscriptions: one database poller per tenant that has
//! subscribers on this replica, fanned out over a broadcast channel, so the cost of
//! following a tenant does not grow with the number of its subscriptions. Works the
//! same on every replica with no message bus to keep in step (the event table is the
//! feed). Plus the caps on how many subscriptions a connection and a caller may hold.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mooring_anchor::transactions::Event;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};
use uuid::Uuid;

use crate::Caller;

const POLL: Duration = Duration::from_millis(250);
/// Events a slow subscriber may fall behind before it re-reads from the database.
const BUFFER: usize = 1024;
/// Rows per poll or replay page.
pub const PAGE: u64 = 100;

/// Where a reader of the event feed is: the `at` it has read up to (inclusive, since
/// several events can share a timestamp) and the ids it has at exactly that time.
#[derive(Clone)]
pub struct Cursor {
    pub since: DateTime<Utc>,
    at_since: HashSet<Uuid>,
}

impl Cursor {
    pub fn new(since: DateTime<Utc>) -> Self {
        Self { since, at_since: HashSet::new() }
    }

    /// Whether `e` is new to this reader; if so the reader has now seen it. Events
    /// come oldest first.
    pub fn admit(&mut self, e: &Event) -> bool {
        if e.at < self.since || (e.at == self.since && self.at_since.contains(&e.id)) {
            return false;
        }
        if e.at != self.since {
            self.since = e.at;
            self.at_since.clear();
        }
        self.at_since.insert(e.id);
        true
    }
}

/// The per-tenant pollers of this replica.
pub struct EventHub {
    db: mooring_anchor::Db,
    feeds: Mutex<HashMap<Uuid, broadcast::Sender<Arc<Event>>>>,
}

impl EventHub {
    pub fn new(db: mooring_anchor::Db) -> Arc<Self> {
        Arc::new(Self { db, feeds: Mutex::new(HashMap::new()) })
    }

    /// Events of `tenant` from now on; starts the tenant's poller if it has none.
    pub fn subscribe(self: &Arc<Self>, tenant: Uuid) -> broadcast::Receiver<Arc<Event>> {
        let mut feeds = self.feeds.lock().expect("event hub lock");
        if let Some(feed) = feeds.get(&tenant) {
            return feed.subscribe();
        }
        let (feed, receiver) = broadcast::channel(BUFFER);
        feeds.insert(tenant, feed.clone());
        let hub = self.clone();
        tokio::spawn(async move { hub.poll(tenant, feed).await });
        receiver
    }

    /// Pollers running now (one per tenant followed), for tests and metrics.
    pub fn pollers(&self) -> usize {
        self.feeds.lock().expect("event hub lock").len()
    }

    async fn poll(&self, tenant: Uuid, feed: broadcast::Sender<Arc<Event>>) {
        let mut cursor = Cursor::new(Utc::now());
        loop {
            tokio::time::sleep(POLL).await;
            {
                // Under the lock, so a subscriber never joins a poller that is leaving.
                let mut feeds = self.feeds.lock().expect("event hub lock");
                if feed.receiver_count() == 0 {
                    feeds.remove(&tenant);
                    return;
                }
            }
            match mooring_anchor::transactions::events_since(&self.db, tenant, cursor.since, PAGE).await {
                Ok(events) => {
                    for e in events {
                        if cursor.admit(&e) {
                            let _ = feed.send(Arc::new(e));
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "event feed poll failed"),
            }
        }
    }
}

/// How many subscriptions each caller holds on this replica, within a cap.
pub struct SubscriptionCaps {
    pub per_connection: usize,
    per_caller: usize,
    held: Mutex<HashMap<Caller, Arc<Semaphore>>>,
}

/// Set by the server on each WebSocket connection: its own subscription slots.
#[derive(Clone)]
pub struct ConnectionSlots(pub Arc<Semaphore>);

/// Held by a running subscription; its slots come back when it ends.
#[derive(Debug)]
pub struct Slots {
    _connection: Option<OwnedSemaphorePermit>,
    _caller: OwnedSemaphorePermit,
}

impl SubscriptionCaps {
    pub fn new(per_connection: usize, per_caller: usize) -> Self {
        Self { per_connection, per_caller, held: Mutex::new(HashMap::new()) }
    }

    /// A slot on the connection and one of the caller's, or which cap is reached.
    pub fn take(&self, caller: Caller, connection: Option<&ConnectionSlots>) -> Result<Slots, String> {
        let connection = match connection {
            Some(c) => Some(
                c.0.clone()
                    .try_acquire_owned()
                    .map_err(|_| format!("at most {} subscriptions per connection", self.per_connection))?,
            ),
            None => None,
        };
        let semaphore = {
            let mut held = self.held.lock().expect("subscription caps lock");
            // Forget callers with nothing running, so the map stays small.
            held.retain(|_, s| s.available_permits() < self.per_caller);
            held.entry(caller).or_insert_with(|| Arc::new(Semaphore::new(self.per_caller))).clone()
        };
        let caller = semaphore
            .try_acquire_owned()
            .map_err(|_| format!("at most {} subscriptions per API key", self.per_caller))?;
        Ok(Slots { _connection: connection, _caller: caller })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: DateTime<Utc>) -> Event {
        Event {
            id: Uuid::new_v4(),
            tenant_id: Uuid::nil(),
            transaction_id: Uuid::nil(),
            at,
            from_status: None,
            to_status: mooring_stellar::sep31::Status::PendingSender,
            actor: "system".into(),
            message: None,
        }
    }

    #[test]
    fn a_cursor_admits_each_event_once_even_at_a_shared_timestamp() {
        let t0 = Utc::now();
        let mut cursor = Cursor::new(t0);
        let (a, b) = (event(t0), event(t0));
        assert!(cursor.admit(&a));
        assert!(!cursor.admit(&a), "seen");
        assert!(cursor.admit(&b), "same time, other id");
        let later = event(t0 + chrono::Duration::milliseconds(1));
        assert!(cursor.admit(&later));
        assert!(!cursor.admit(&b), "older than the cursor");
        assert!(!cursor.admit(&event(t0 - chrono::Duration::seconds(1))));
    }

    #[test]
    fn caps_hold_per_connection_and_per_caller_and_free_on_drop() {
        let caps = SubscriptionCaps::new(2, 3);
        let caller = Caller::Tenant(Uuid::new_v4());
        let conn = ConnectionSlots(Arc::new(Semaphore::new(caps.per_connection)));
        let a = caps.take(caller, Some(&conn)).unwrap();
        let _b = caps.take(caller, Some(&conn)).unwrap();
        assert!(caps.take(caller, Some(&conn)).unwrap_err().contains("per connection"));
        let other = ConnectionSlots(Arc::new(Semaphore::new(caps.per_connection)));
        let _c = caps.take(caller, Some(&other)).unwrap();
        assert!(caps.take(caller, Some(&other)).unwrap_err().contains("per API key"));
        assert!(caps.take(Caller::Operator, Some(&other)).is_ok(), "another caller has its own");
        drop(a);
        assert!(caps.take(caller, Some(&conn)).is_ok(), "a slot came back");
    }
}
