//! The payment watcher: follows each active tenant's distribution account on the
//! tenant's Horizon and hands every payment to `mooring_anchor::payments`.
//!
//! Per account: take the lease (one replica at a time), catch up by paging from the
//! stored cursor, then stream (SSE) from there; on any error, back off and start over
//! from the stored cursor, so nothing is missed and nothing applied twice (payments
//! are unique on their operation id). Without streaming, poll instead. A supervisor
//! reconciles the set of watched accounts with the tenant configuration.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use mooring_anchor::payments::{self, Applied, Fence};
use mooring_anchor::{AnchorError, leases};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::horizon::{HorizonError, PaymentRecord};
use crate::state::AppState;

const PAGE: u32 = 200;
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How many already-received stream events are applied in one database transaction.
const STREAM_BATCH: usize = 200;
/// How long a small stream batch may wait for more events before it is applied.
const BATCH_WAIT: Duration = Duration::from_millis(5);

/// How far before the moment an account was configured a first watch starts:
/// tolerance for the difference between our clock and the ledger's close times. A
/// payment that early is stored (as unmatched, usually), never skipped.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(30);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    tenant_id: Uuid,
    horizon_url: String,
    account: String,
    watch_from: chrono::DateTime<chrono::Utc>,
}

/// Starts the supervisor; it stops every watch when `shutdown` fires.
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let mut running: HashMap<(Uuid, String), (Spec, CancellationToken)> = HashMap::new();
        let period = Duration::from_millis(state.cfg.config_poll_ms);
        let mut seen_version = None;
        loop {
            let snapshot = state.tenants.snapshot();
            // Only a config change can change what to watch: with thousands of tenants,
            // don't walk them all every period for nothing.
            if seen_version == Some(snapshot.version) {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(period) => continue,
                }
            }
            seen_version = Some(snapshot.version);
            let wanted: HashMap<(Uuid, String), Spec> = snapshot
                .tenants()
                .filter(|t| t.status == mooring_tenants::TenantStatus::Active)
                .filter(|t| t.assets.iter().any(|a| a.sep31_enabled))
                .map(|t| {
                    let spec = Spec {
                        tenant_id: t.id,
                        horizon_url: t.horizon_url.clone(),
                        account: t.distribution_account.clone(),
                        watch_from: t.watch_from,
                    };
                    ((t.id, t.distribution_account.clone()), spec)
                })
                .collect();
            // A watch whose spec changed (another Horizon, a new start) is restarted.
            running.retain(|key, (spec, token)| {
                let keep = wanted.get(key) == Some(spec);
                if !keep {
                    token.cancel();
                }
                keep
            });
            for (key, spec) in wanted {
                if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(key) {
                    let token = shutdown.child_token();
                    state.tasks.spawn(watch(state.clone(), spec.clone(), token.clone()));
                    slot.insert((spec, token));
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
        }
    });
}

fn lease_key(spec: &Spec) -> String {
    format!("watch:{}:{}", spec.tenant_id, spec.account)
}

/// Watches one account until `token` is cancelled.
async fn watch(state: AppState, spec: Spec, token: CancellationToken) {
    let key = lease_key(&spec);
    let holder = state.instance_id.clone();
    let ttl = chrono::Duration::seconds(state.cfg.watch_lease_secs as i64);
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
                // Another replica watches this account; be ready to take over.
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
            tracing::info!(tenant = %spec.tenant_id, account = %spec.account, "watching payments");
            announced = true;
        }
        let session = token.child_token();
        let renewer = tokio::spawn(renew(state.clone(), key.clone(), holder.clone(), ttl, session.clone()));
        let result = follow(&state, &spec, &key, &holder, &session, &mut backoff).await;
        session.cancel();
        let _ = renewer.await;
        if token.is_cancelled() {
            let _ = leases::release(&state.db, &key, &holder).await;
            return;
        }
        if let Err(e) = result {
            tracing::warn!(
                tenant = %spec.tenant_id,
                horizon = %spec.horizon_url,
                error = %e,
                retry_in_ms = backoff.as_millis() as u64,
                "payment watch interrupted; will resume from the stored cursor"
            );
        }
        sleep_or_cancel(&token, backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn sleep_or_cancel(token: &CancellationToken, d: Duration) {
    tokio::select! {
        () = token.cancelled() => {}
        () = tokio::time::sleep(d) => {}
    }
}

/// Keeps the lease alive; cancels the session if it is lost.
async fn renew(
    state: AppState,
    key: String,
    holder: String,
    ttl: chrono::Duration,
    session: CancellationToken,
) {
    let every = (ttl / 3).to_std().unwrap_or(Duration::from_secs(1));
    loop {
        sleep_or_cancel(&session, every).await;
        if session.is_cancelled() {
            return;
        }
        match leases::acquire(&state.db, &key, &holder, ttl).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(%key, "watch lease lost to another replica");
                session.cancel();
                return;
            }
            Err(e) => tracing::warn!(error = %e, "renewing the watch lease failed"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum WatchError {
    #[error(transparent)]
    Horizon(#[from] HorizonError),
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    #[error("the stream ended")]
    StreamEnded,
    #[error("tenant is gone")]
    TenantGone,
}

/// Catch up, then stream, until an error or cancellation. Resets `backoff` whenever
/// Horizon answers.
async fn follow(
    state: &AppState,
    spec: &Spec,
    key: &str,
    holder: &str,
    session: &CancellationToken,
    backoff: &mut Duration,
) -> Result<(), WatchError> {
    let horizon = &state.horizon;
    let mut cursor = match payments::cursor(&state.db, spec.tenant_id, &spec.account).await? {
        Some(c) => c,
        None => {
            // First watch of this account: start where the account became the tenant's
            // (not "now": a sending anchor may have paid before we got here), and store
            // that at once, so a restart resumes from there.
            let since = spec.watch_from - CLOCK_SKEW;
            let start = horizon.cursor_before(&spec.horizon_url, &spec.account, since, PAGE).await?;
            payments::init_cursor(&state.db, spec.tenant_id, &spec.account, &start).await?;
            start
        }
    };
    let fence = Fence { key, holder };

    loop {
        // Catch up by paging.
        loop {
            if session.is_cancelled() {
                return Ok(());
            }
            let page = horizon.payments_page(&spec.horizon_url, &spec.account, Some(&cursor), PAGE).await?;
            *backoff = Duration::from_secs(1);
            let full = page.len() == PAGE as usize;
            if let Some(last) = apply(state, spec, &fence, page).await? {
                cursor = last;
            }
            if !full {
                break;
            }
        }
        // Then stream; fall back to polling where Horizon does not stream.
        let stream = match horizon.payments_stream(&spec.horizon_url, &spec.account, &cursor).await {
            Ok(s) => s,
            Err(HorizonError::NoStreaming) => {
                sleep_or_cancel(session, Duration::from_millis(state.cfg.watch_poll_ms)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut chunks = Box::pin(stream.ready_chunks(STREAM_BATCH));
        loop {
            let next = tokio::select! {
                () = session.cancelled() => return Ok(()),
                next = chunks.next() => next,
            };
            let Some(mut items) = next else { return Err(WatchError::StreamEnded) };
            // Under load, top a small batch up for a moment: one database transaction
            // per few hundred payments instead of one per handful.
            let deadline = tokio::time::Instant::now() + BATCH_WAIT;
            let mut ended = false;
            while items.len() < STREAM_BATCH {
                match tokio::time::timeout_at(deadline, chunks.next()).await {
                    Ok(Some(more)) => items.extend(more),
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            let records = items.into_iter().collect::<Result<Vec<_>, _>>()?;
            *backoff = Duration::from_secs(1);
            apply(state, spec, &fence, records).await?;
            if ended {
                return Err(WatchError::StreamEnded);
            }
        }
    }
}

/// Applies records in one database transaction; returns the new cursor.
async fn apply(
    state: &AppState,
    spec: &Spec,
    fence: &Fence<'_>,
    records: Vec<PaymentRecord>,
) -> Result<Option<String>, WatchError> {
    let tenant = state.tenants.by_id(spec.tenant_id).ok_or(WatchError::TenantGone)?;
    let observed = records.iter().map(PaymentRecord::observed).collect::<Result<Vec<_>, _>>()?;
    let outcomes = payments::apply_batch(&state.db, &tenant, &spec.account, &observed, fence).await?;
    let tenant_label = spec.tenant_id.to_string();
    for (p, outcome) in observed.iter().zip(&outcomes) {
        tracing::debug!(operation = %p.operation_id, ?outcome, "payment observed");
        let outcome = match outcome {
            Applied::Ignored => "ignored",
            Applied::AlreadySeen => "already_seen",
            Applied::Recorded(payments::Outcome::Matched) => "matched",
            Applied::Recorded(payments::Outcome::Overpaid) => "overpaid",
            Applied::Recorded(payments::Outcome::Mismatched) => "mismatched",
            Applied::Recorded(payments::Outcome::Unmatched) => "unmatched",
        };
        metrics::counter!("mooring_watcher_records_total", "tenant" => tenant_label.clone(), "outcome" => outcome)
            .increment(1);
    }
    // How far behind the ledger this watch is: the last record's ledger close time.
    if let Some(closed) =
        observed.last().and_then(|p| chrono::DateTime::parse_from_rfc3339(&p.ledger_time).ok())
    {
        let lag = (chrono::Utc::now() - closed.with_timezone(&chrono::Utc)).num_milliseconds().max(0);
        metrics::gauge!("mooring_watcher_lag_seconds", "tenant" => tenant_label).set(lag as f64 / 1000.0);
    }
    Ok(observed.last().map(|p| p.paging_token.clone()))
}
