//! The accounts a shared follower (the Horizon network stream, an RPC follower) routes
//! payments to, kept in step with the supervisor's wanted list: stored members it
//! continues with, stale ones that leave, new ones that join at the follower's
//! position (stored first: after a crash the follower resumes at or before that
//! position with them routed) and catch up, a few at a time, on what they received
//! before.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use mooring_anchor::streams;
use tokio::sync::{Semaphore, watch};
use tokio::task::{AbortHandle, JoinSet};
use uuid::Uuid;

use super::WatchError;
use super::held::Session;
use crate::state::AppState;

/// Accounts to route to, by account.
pub(super) type Members = HashMap<String, Member>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Member {
    pub tenant_id: Uuid,
    /// When the account became the tenant's: where a first catch-up starts.
    pub watch_from: chrono::DateTime<chrono::Utc>,
}

/// A member's catch-up, as a follower hands it to [`Roster`].
pub(super) type CatchUpRun = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// How many accounts catch up at once (bounded: a restart with thousands of new
/// members must not fire thousands of requests at once).
const CATCH_UPS: usize = 4;

pub(super) struct Roster {
    /// The stream's key (its stored cursor and members).
    key: String,
    /// What the logs call the stream ("shared stream", "RPC stream").
    what: &'static str,
    /// The gauge's label (the stream's URL).
    label: metrics::SharedString,
    members: watch::Receiver<Arc<Members>>,
    /// account → tenant, for every member this session routes to.
    routes: HashMap<String, Uuid>,
    catch_ups: JoinSet<()>,
    catching_up: HashMap<String, AbortHandle>,
    permits: Arc<Semaphore>,
}

impl Roster {
    pub fn new(
        key: String,
        what: &'static str,
        label: metrics::SharedString,
        members: watch::Receiver<Arc<Members>>,
    ) -> Self {
        Self {
            key,
            what,
            label,
            members,
            routes: HashMap::new(),
            catch_ups: JoinSet::new(),
            catching_up: HashMap::new(),
            permits: Arc::new(Semaphore::new(CATCH_UPS)),
        }
    }

    /// account → tenant.
    pub fn routes(&self) -> &HashMap<String, Uuid> {
        &self.routes
    }

    /// Whether the supervisor changed the wanted list since the last look.
    pub fn changed(&self) -> bool {
        self.members.has_changed().unwrap_or(false)
    }

    /// Waits for the supervisor to change the list; `false`: the supervisor is gone
    /// (the process is stopping).
    pub async fn wait_changed(&mut self) -> bool {
        self.members.changed().await.is_ok()
    }

    /// The stored members this session continues with; stale ones leave, new ones
    /// join at `position`. `catch_up(account, member, joined_at)` is the job that
    /// reads what a member received before it joined.
    pub async fn load<F, J>(
        &mut self,
        state: &AppState,
        session: &Session,
        position: &str,
        catch_up: F,
    ) -> Result<(), WatchError>
    where
        F: Fn(String, Member, String) -> J,
        J: Future<Output = ()> + Send + 'static,
    {
        let wanted = self.members.borrow_and_update().clone();
        for m in streams::members(&state.db, &self.key).await? {
            match wanted.get(&m.account) {
                Some(w) if w.tenant_id == m.tenant_id => {
                    self.routes.insert(m.account.clone(), m.tenant_id);
                    if !m.caught_up {
                        let job = catch_up(m.account.clone(), *w, m.joined_at);
                        self.spawn(m.account, job);
                    }
                }
                // Left while no replica followed the stream (or moved to another).
                _ => streams::leave(&state.db, &self.key, m.tenant_id, &m.account).await?,
            }
        }
        self.join_new(state, session, position, &wanted, &catch_up).await?;
        self.gauge();
        Ok(())
    }

    /// Takes the supervisor's new list into account between two batches.
    pub async fn update<F, J>(
        &mut self,
        state: &AppState,
        session: &Session,
        position: &str,
        catch_up: F,
    ) -> Result<(), WatchError>
    where
        F: Fn(String, Member, String) -> J,
        J: Future<Output = ()> + Send + 'static,
    {
        let wanted = self.members.borrow_and_update().clone();
        let gone: Vec<(String, Uuid)> = self
            .routes
            .iter()
            .filter(|(account, tenant)| wanted.get(*account).is_none_or(|w| w.tenant_id != **tenant))
            .map(|(a, t)| (a.clone(), *t))
            .collect();
        for (account, tenant) in gone {
            self.routes.remove(&account);
            if let Some(task) = self.catching_up.remove(&account) {
                task.abort();
            }
            streams::leave(&state.db, &self.key, tenant, &account).await?;
            tracing::info!(%tenant, %account, stream = %self.key, "account left the {}", self.what);
        }
        self.join_new(state, session, position, &wanted, &catch_up).await?;
        self.gauge();
        Ok(())
    }

    async fn join_new<F, J>(
        &mut self,
        state: &AppState,
        session: &Session,
        position: &str,
        wanted: &Members,
        catch_up: &F,
    ) -> Result<(), WatchError>
    where
        F: Fn(String, Member, String) -> J,
        J: Future<Output = ()> + Send + 'static,
    {
        let new: Vec<(&String, &Member)> =
            wanted.iter().filter(|(a, _)| !self.routes.contains_key(*a)).collect();
        if new.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Uuid, &str)> = new.iter().map(|(a, m)| (m.tenant_id, a.as_str())).collect();
        streams::join(&state.db, &self.key, &rows, position, &session.fence()).await?;
        tracing::info!(accounts = new.len(), stream = %self.key, at = %position, "accounts joined the {}", self.what);
        for (account, member) in new {
            self.routes.insert(account.clone(), member.tenant_id);
            let job = catch_up(account.clone(), *member, position.to_string());
            self.spawn(account.clone(), job);
        }
        Ok(())
    }

    /// Runs `job` when a permit is free; a newer job for the same account replaces it.
    fn spawn(&mut self, account: String, job: impl Future<Output = ()> + Send + 'static) {
        let permits = self.permits.clone();
        let handle = self.catch_ups.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else { return };
            job.await;
        });
        if let Some(old) = self.catching_up.insert(account, handle) {
            old.abort();
        }
    }

    fn gauge(&self) {
        metrics::gauge!("mooring_stream_members", "horizon" => self.label.clone())
            .set(self.routes.len() as f64);
    }
}

/// Runs a member's catch-up until it succeeds or the session ends, backing off from
/// 0.5 s to 30 s between failures (the next session resumes it: the membership stays
/// not caught up until it is).
pub(super) async fn retry_until_done<F, Fut>(
    session: &Session,
    member: Member,
    account: &str,
    source: &str,
    attempt: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), WatchError>>,
{
    let mut backoff = std::time::Duration::from_millis(500);
    loop {
        match attempt().await {
            Ok(()) => return,
            Err(e) => tracing::warn!(
                tenant = %member.tenant_id, %account, error = %e,
                "catching up an account's payments from {source} failed; will retry"
            ),
        }
        super::held::sleep_or_cancel(&session.token, backoff).await;
        if session.token.is_cancelled() {
            return;
        }
        backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
    }
}
