//! Work that one replica at a time may do: run it while holding a database lease,
//! renew the lease, stop the work when the lease is lost, and start over with backoff
//! after an error. The work resumes from what it stored, so starting over is safe.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use mooring_anchor::leases::{self, Fence};
use tokio_util::sync::CancellationToken;

use super::WatchError;
use crate::state::AppState;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One spell of holding the lease: the work's fence and cancellation.
#[derive(Clone)]
pub(super) struct Session {
    pub key: Arc<str>,
    pub holder: Arc<str>,
    /// Cancelled on shutdown, when the watch is no longer wanted, or the lease is lost.
    pub token: CancellationToken,
    answered: Arc<AtomicBool>,
}

impl Session {
    pub fn fence(&self) -> Fence<'_> {
        Fence { key: &self.key, holder: &self.holder }
    }

    /// Horizon answered: the next failure starts backing off from the shortest delay.
    pub fn answered(&self) {
        self.answered.store(true, Ordering::Relaxed);
    }
}

pub(super) async fn sleep_or_cancel(token: &CancellationToken, d: Duration) {
    tokio::select! {
        () = token.cancelled() => {}
        () = tokio::time::sleep(d) => {}
    }
}

/// Runs `work` whenever this replica holds lease `key`, until `token` is cancelled.
/// `what` names the watch in logs and metrics (`account` or `stream`).
pub(super) async fn run(
    state: AppState,
    key: String,
    what: &'static str,
    token: CancellationToken,
    mut work: impl FnMut(Session) -> BoxFuture<'static, Result<(), WatchError>>,
) {
    let holder: Arc<str> = state.instance_id.as_str().into();
    let key: Arc<str> = key.into();
    let ttl = chrono::Duration::from_std(state.cfg.watch_lease_secs).unwrap_or(chrono::Duration::MAX);
    let mut backoff = Duration::from_secs(1);
    let mut announced = false;
    loop {
        if token.is_cancelled() {
            let _ = leases::release(&state.db, &key, &holder).await;
            return;
        }
        match leases::acquire(&state.db, &key, &holder, ttl).await {
            Ok(true) => {}
            Ok(false) => {
                // Another replica does this work; be ready to take over.
                sleep_or_cancel(&token, Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "watch lease unavailable");
                sleep_or_cancel(&token, backoff).await;
                continue;
            }
        }
        if !announced {
            tracing::info!(%key, "watching payments");
            announced = true;
        }
        metrics::gauge!("mooring_watcher_leases_held", "watch" => what).increment(1.0);
        let session = Session {
            key: key.clone(),
            holder: holder.clone(),
            token: token.child_token(),
            answered: Arc::default(),
        };
        let renewer = tokio::spawn(renew(state.clone(), session.clone(), ttl));
        let result = work(session.clone()).await;
        session.token.cancel();
        let _ = renewer.await;
        metrics::gauge!("mooring_watcher_leases_held", "watch" => what).decrement(1.0);
        if token.is_cancelled() {
            let _ = leases::release(&state.db, &key, &holder).await;
            return;
        }
        if session.answered.load(Ordering::Relaxed) {
            backoff = Duration::from_secs(1);
        }
        metrics::counter!("mooring_watcher_reconnects_total", "watch" => what).increment(1);
        if let Err(e) = result {
            tracing::warn!(
                %key,
                error = %e,
                retry_in_ms = backoff.as_millis() as u64,
                "payment watch interrupted; will resume from the stored cursor"
            );
        }
        sleep_or_cancel(&token, backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Keeps the lease alive; cancels the session if it is lost.
async fn renew(state: AppState, session: Session, ttl: chrono::Duration) {
    let every = (ttl / 3).to_std().unwrap_or(Duration::from_secs(1));
    loop {
        sleep_or_cancel(&session.token, every).await;
        if session.token.is_cancelled() {
            return;
        }
        match leases::acquire(&state.db, &session.key, &session.holder, ttl).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(key = %session.key, "watch lease lost to another replica");
                session.token.cancel();
                return;
            }
            Err(e) => tracing::warn!(error = %e, "renewing the watch lease failed"),
        }
    }
}
