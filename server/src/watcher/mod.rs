//! The payment watcher: follows the payments to every active tenant's distribution
//! account and hands them to `mooring_anchor::payments`.
//!
//! Tenants on one of the platform's Horizons share one network-wide stream per Horizon
//! (`shared`): it routes each operation to the account it pays, so 10,000 tenants cost
//! one connection, one cursor and one lease. A tenant an operator gave its own Horizon
//! has its own stream (`account`). Either way, one replica at a time does the work
//! (`held`: a database lease, fenced in every write), and every batch of payments is
//! applied in one database transaction with the cursor that covers it.
//!
//! A supervisor reconciles what runs with the tenant configuration, on config changes
//! only.

mod account;
mod held;
mod resets;
mod roster;
mod rpc;
mod shared;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use mooring_anchor::AnchorError;
use mooring_anchor::payments::{self, Applied, Observed};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::horizon::{HorizonError, PaymentRecord};
use crate::state::AppState;
use mooring_tenants::ledger_source::Source;

const PAGE: u32 = 200;
/// How many already-received stream events are applied in one database transaction.
const STREAM_BATCH: usize = 200;
/// How long a small stream batch may wait for more events before it is applied.
const BATCH_WAIT: Duration = Duration::from_millis(5);

/// How far before the moment an account was configured a first watch starts:
/// tolerance for the difference between our clock and the ledger's close times. A
/// payment that early is stored (as unmatched, usually), never skipped.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(30);

/// A watched account, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    tenant_id: Uuid,
    horizon_url: String,
    account: String,
    watch_from: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, thiserror::Error)]
enum WatchError {
    #[error(transparent)]
    Horizon(#[from] HorizonError),
    #[error(transparent)]
    Rpc(#[from] crate::rpc::RpcError),
    #[error("the RPC serves another network ({0:?})")]
    WrongNetwork(String),
    #[error("unreadable stream position {0:?}")]
    Cursor(String),
    #[error("the network was reset; starting again on the new ledger")]
    NetworkReset,
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    #[error("the stream ended")]
    StreamEnded,
    #[error("tenant is gone")]
    TenantGone,
}

/// What runs for one shared Horizon: the member list it is told. It stops at shutdown.
struct RunningStream {
    members: tokio::sync::watch::Sender<Arc<roster::Members>>,
}

/// Starts the supervisor; it stops every watch when `shutdown` fires.
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let tasks = state.tasks.clone();
    let shared_horizons: HashSet<String> = if state.cfg.watch_shared {
        [&state.cfg.horizon_public_url, &state.cfg.horizon_testnet_url]
            .into_iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect()
    } else {
        HashSet::new()
    };
    tasks.spawn(async move {
        let mut accounts: HashMap<(Uuid, String), (Spec, CancellationToken)> = HashMap::new();
        let mut streams: HashMap<String, RunningStream> = HashMap::new();
        let mut rpcs: HashMap<String, (rpc::RpcSpec, RunningStream, CancellationToken)> = HashMap::new();
        let period = state.cfg.config_poll_ms;
        let mut seen_version = None;
        loop {
            let snapshot = state.tenants.snapshot();
            // Only a config change can change what to watch: with thousands of tenants,
            // don't walk them all every period for nothing.
            if seen_version != Some(snapshot.version) {
                seen_version = Some(snapshot.version);
                let mut own: HashMap<(Uuid, String), Spec> = HashMap::new();
                let mut by_stream: HashMap<String, roster::Members> = HashMap::new();
                let mut by_rpc: HashMap<String, (rpc::RpcSpec, roster::Members)> = HashMap::new();
                let watched = snapshot
                    .tenants()
                    .filter(|t| t.status == mooring_tenants::TenantStatus::Active)
                    .filter(|t| t.assets.iter().any(|a| a.sep31_enabled));
                for t in watched {
                    if let Source::Rpc { url, horizon } = state.ledgers.source(t) {
                        let member = roster::Member { tenant_id: t.id, watch_from: t.watch_from };
                        let spec = rpc::RpcSpec { url: url.clone(), network: t.network.clone(), horizon };
                        by_rpc
                            .entry(url)
                            .or_insert_with(|| (spec, roster::Members::new()))
                            .1
                            .insert(t.distribution_account.clone(), member);
                    } else if shared_horizons.contains(&t.horizon_url) {
                        let member = roster::Member { tenant_id: t.id, watch_from: t.watch_from };
                        by_stream
                            .entry(t.horizon_url.clone())
                            .or_default()
                            .insert(t.distribution_account.clone(), member);
                    } else {
                        let spec = Spec {
                            tenant_id: t.id,
                            horizon_url: t.horizon_url.clone(),
                            account: t.distribution_account.clone(),
                            watch_from: t.watch_from,
                        };
                        own.insert((t.id, t.distribution_account.clone()), spec);
                    }
                }
                reconcile_accounts(&state, &shutdown, &mut accounts, own);
                reconcile_streams(&state, &shutdown, &mut streams, by_stream);
                reconcile_rpcs(&state, &shutdown, &mut rpcs, by_rpc);
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
        }
    });
}

/// A watch whose spec changed (another Horizon, a new start) is restarted.
fn reconcile_accounts(
    state: &AppState,
    shutdown: &CancellationToken,
    running: &mut HashMap<(Uuid, String), (Spec, CancellationToken)>,
    wanted: HashMap<(Uuid, String), Spec>,
) {
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
            state.tasks.spawn(account::run(state.clone(), spec.clone(), token.clone()));
            slot.insert((spec, token));
        }
    }
}

/// A shared stream is told its new members. One left without members keeps running
/// (there are at most as many as the platform has Horizons): members leave only
/// through a running stream, which records it — a stream stopped instead would keep
/// stale memberships that a later rejoin would trust.
fn reconcile_streams(
    state: &AppState,
    shutdown: &CancellationToken,
    running: &mut HashMap<String, RunningStream>,
    mut wanted: HashMap<String, roster::Members>,
) {
    for (url, stream) in running.iter() {
        let members = wanted.remove(url).unwrap_or_default();
        stream.members.send_if_modified(|current| {
            let changed = **current != members;
            if changed {
                *current = Arc::new(members);
            }
            changed
        });
    }
    for (url, members) in wanted {
        let (tx, rx) = tokio::sync::watch::channel(Arc::new(members));
        state.tasks.spawn(shared::run(state.clone(), url.clone(), rx, shutdown.child_token()));
        running.insert(url, RunningStream { members: tx });
    }
}

/// As [`reconcile_streams`], for RPC followers; one whose spec changed (another
/// network or Horizon) is restarted.
fn reconcile_rpcs(
    state: &AppState,
    shutdown: &CancellationToken,
    running: &mut HashMap<String, (rpc::RpcSpec, RunningStream, CancellationToken)>,
    mut wanted: HashMap<String, (rpc::RpcSpec, roster::Members)>,
) {
    running.retain(|url, (spec, _, token)| {
        let keep = wanted.get(url).is_none_or(|(want, _)| want == spec);
        if !keep {
            token.cancel();
        }
        keep
    });
    for (url, (_, stream, _)) in running.iter() {
        let members = wanted.remove(url).map(|(_, m)| m).unwrap_or_default();
        stream.members.send_if_modified(|current| {
            let changed = **current != members;
            if changed {
                *current = Arc::new(members);
            }
            changed
        });
    }
    for (url, (spec, members)) in wanted {
        let (tx, rx) = tokio::sync::watch::channel(Arc::new(members));
        let token = shutdown.child_token();
        state.tasks.spawn(rpc::run(state.clone(), spec.clone(), rx, token.clone()));
        running.insert(url, (spec, RunningStream { members: tx }, token));
    }
}

/// The next batch from a stream of records: the chunk already received, topped up for
/// a moment under load — one database transaction per few hundred payments instead of
/// one per handful. `None`: the stream ended before anything arrived; `true` in the
/// answer: it ended after this batch.
async fn next_batch<S>(
    first: Option<Vec<Result<PaymentRecord, HorizonError>>>,
    chunks: &mut S,
) -> Option<(Result<Vec<PaymentRecord>, HorizonError>, bool)>
where
    S: Stream<Item = Vec<Result<PaymentRecord, HorizonError>>> + Unpin,
{
    let mut items = first?;
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
    Some((items.into_iter().collect(), ended))
}

/// Every payment in `records`, in order (an `invoke_host_function` may hold several).
fn payments_in(records: &[PaymentRecord]) -> Result<Vec<Observed>, HorizonError> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        out.extend(r.payments()?);
    }
    Ok(out)
}

/// Counts what applying a tenant's payments did.
fn observe(tenant: &Arc<str>, observed: &[Observed], outcomes: &[Applied]) {
    for (p, outcome) in observed.iter().zip(outcomes) {
        tracing::debug!(operation = %p.operation_id, ?outcome, "payment observed");
        let outcome = match outcome {
            Applied::Ignored => "ignored",
            Applied::AlreadySeen => "already_seen",
            Applied::Recorded(payments::Outcome::Matched) => "matched",
            Applied::Recorded(payments::Outcome::Overpaid) => "overpaid",
            Applied::Recorded(payments::Outcome::Mismatched) => "mismatched",
            Applied::Recorded(payments::Outcome::Unmatched) => "unmatched",
        };
        let tenant = metrics::SharedString::from_shared(tenant.clone());
        metrics::counter!("mooring_watcher_records_total", "tenant" => tenant, "outcome" => outcome)
            .increment(1);
    }
}

/// How far behind the ledger a watch is: seconds since the last record's ledger closed.
fn lag_seconds(ledger_time: Option<&str>) -> Option<f64> {
    let closed = chrono::DateTime::parse_from_rfc3339(ledger_time?).ok()?;
    let lag = (chrono::Utc::now() - closed.with_timezone(&chrono::Utc)).num_milliseconds().max(0);
    Some(lag as f64 / 1000.0)
}
