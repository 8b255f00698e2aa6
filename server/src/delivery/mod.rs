//! Delivers queued callbacks (SEP-31 transaction and SEP-12 customer updates), signed
//! as SEP-31 prescribes: `Signature: t=<unix seconds>, s=<base64 ed25519>` over
//! `"<t>.<host>.<body>"` with the tenant's SIGNING_KEY, signed just before sending —
//! and the tenants' own webhooks (`webhook.rs` signs those), from the same outbox.
//! `failure.rs` is what both report back.

mod failure;
mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mooring_anchor::outbox;
use mooring_entities::outbox::Model as Callback;
use mooring_stellar::Keypair;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::outbound::FencedClient;
use crate::state::AppState;
use failure::Failure;

/// The `Signature` header value for `body` sent to `url` at `t`.
pub fn signature(key: &Keypair, url: &url::Url, t: i64, body: &str) -> String {
    // The reference implementation signs host:port when the URL names a port.
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    };
    let signed = key.sign(format!("{t}.{host}.{body}").as_bytes());
    format!("t={t}, s={}", B64.encode(signed))
}

/// The signed request for a queued row: a SEP callback signed with the tenant's
/// SIGNING_KEY, or a webhook signed with its endpoint's secret(s).
async fn request(
    state: &AppState,
    http: &FencedClient,
    cb: &Callback,
) -> Result<reqwest::RequestBuilder, Failure> {
    let url = url::Url::parse(&cb.url).map_err(|e| Failure::Refused(e.to_string()))?;
    let request = http
        .post(url.as_str())
        .map_err(|e| Failure::Refused(e.0))?
        .header("content-type", "application/json")
        .body(cb.body.clone());
    if cb.kind == outbox::Kind::Webhook {
        return webhook::sign(state, cb, request).await;
    }
    let tenant =
        state.tenants.by_id(cb.tenant_id).ok_or(Failure::Refused("tenant no longer exists".into()))?;
    let t = chrono::Utc::now().timestamp();
    let sig = signature(&tenant.signing_key, &url, t, &cb.body);
    Ok(request.header("signature", &sig).header("x-stellar-signature", &sig))
}

async fn deliver(
    state: &AppState,
    http: &FencedClient,
    cb: &Callback,
) -> (Result<(), Failure>, outbox::Attempt) {
    let started = Instant::now();
    let mut attempt = outbox::Attempt::default();
    let result = match request(state, http, cb).await {
        Err(refused) => Err(refused),
        Ok(request) => match request.send().await {
            Err(e) => Err(Failure::Unreachable(crate::outbound::describe(e))),
            Ok(response) => {
                let status = response.status();
                attempt.status = Some(status.as_u16());
                match status {
                    s if s.is_success() => Ok(()),
                    s if s.is_server_error() => {
                        Err(Failure::Unreachable(format!("receiver answered {}", s.as_u16())))
                    }
                    s => Err(Failure::Refused(format!("receiver answered {}", s.as_u16()))),
                }
            }
        },
    };
    attempt.latency_ms = started.elapsed().as_millis() as i64;
    (result, attempt)
}

/// Deliveries in flight at once, over all destinations.
const MAX_IN_FLIGHT: usize = 64;
/// In flight at once to one destination (scheme, host and port of the URL).
const PER_DESTINATION: usize = 2;
/// In flight at once for one tenant's callbacks, so one tenant's receivers (or its
/// sending anchors' tarpits) cannot take every slot.
const PER_TENANT: usize = 8;
/// When a busy destination's (or tenant's) rows are due again.
const BUSY_RETRY: chrono::Duration = chrono::Duration::seconds(2);
/// Longest pause for a destination that keeps failing.
const MAX_DESTINATION_BACKOFF: Duration = Duration::from_secs(300);

/// What is in flight, by destination and tenant, and which destinations are paused
/// after failing. Per replica: each replica paces its own sends.
#[derive(Default)]
struct Load {
    by_destination: HashMap<String, usize>,
    by_tenant: HashMap<Uuid, usize>,
    /// destination → (paused until, consecutive failures)
    paused: HashMap<String, (Instant, u32)>,
}

fn destination(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_string(),
    }
}

/// A slot taken in [`Load`]; given back when the delivery ends, however it ends.
struct Slot {
    load: Arc<Mutex<Load>>,
    destination: String,
    tenant: Uuid,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut load = self.load.lock().expect("load lock");
        decrement(&mut load.by_destination, &self.destination);
        decrement(&mut load.by_tenant, &self.tenant);
    }
}

fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

enum Admission {
    Go(Slot),
    /// Not now: give the row back, due at this time.
    Later(chrono::DateTime<chrono::Utc>),
}

fn admit(load: &Arc<Mutex<Load>>, permits: &Arc<Semaphore>, cb: &Callback) -> Admission {
    let destination = destination(&cb.url);
    let now = Instant::now();
    let mut guard = load.lock().expect("load lock");
    if let Some((until, _)) = guard.paused.get(&destination)
        && *until > now
    {
        let wait = chrono::Duration::from_std(*until - now).unwrap_or(BUSY_RETRY);
        return Admission::Later(chrono::Utc::now() + wait);
    }
    let busy = guard.by_destination.get(&destination).copied().unwrap_or(0) >= PER_DESTINATION
        || guard.by_tenant.get(&cb.tenant_id).copied().unwrap_or(0) >= PER_TENANT;
    let Some(permit) = (!busy).then(|| permits.clone().try_acquire_owned().ok()).flatten() else {
        return Admission::Later(chrono::Utc::now() + BUSY_RETRY);
    };
    *guard.by_destination.entry(destination.clone()).or_default() += 1;
    *guard.by_tenant.entry(cb.tenant_id).or_default() += 1;
    drop(guard);
    Admission::Go(Slot { load: load.clone(), destination, tenant: cb.tenant_id, _permit: permit })
}

/// Runs until `shutdown`: claims due callbacks and delivers them concurrently, within
/// the limits above, so one slow or failing receiver only delays its own callbacks.
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let http = FencedClient::new(&state.fence, Some(SEND_TIMEOUT), Duration::from_secs(5));
    let period = state.cfg.outbox_poll_ms;
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let load = Arc::new(Mutex::new(Load::default()));
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let free = permits.available_permits() as u64;
            let due = match outbox::claim_due(&state.db, free).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "callback outbox unavailable");
                    continue;
                }
            };
            for mut claim in due {
                if let Err(why) = open_url(&state, &mut claim.row) {
                    if let Err(e) = outbox::mark_failed(&state.db, &claim, &why, outbox::Attempt::default()).await {
                        tracing::warn!(error = %e, "recording a callback attempt failed");
                    }
                    continue;
                }
                let slot = match admit(&load, &permits, &claim.row) {
                    Admission::Go(slot) => slot,
                    Admission::Later(at) => {
                        if let Err(e) = outbox::release(&state.db, &claim, at).await {
                            tracing::warn!(error = %e, "giving a callback back failed; its claim will expire");
                        }
                        continue;
                    }
                };
                let (state, http) = (state.clone(), http.clone());
                state.tasks.clone().spawn(async move {
                    send(&state, &http, &claim, &slot).await;
                    drop(slot);
                });
            }
        }
    });
}

/// A SEP callback's URL is stored sealed with its tenant's data key (the sending
/// anchor's customer endpoints are personal data); it is opened here, just before
/// sending, and never written back.
fn open_url(state: &AppState, row: &mut Callback) -> Result<(), String> {
    if row.kind == outbox::Kind::Webhook || !mooring_tenants::pii::is_sealed_text(&row.url) {
        return Ok(());
    }
    let tenant = state.tenants.by_id(row.tenant_id).ok_or("the tenant no longer exists")?;
    row.url = mooring_anchor::sealed::open_url(&tenant.data_key, row.tenant_id, row.subject_id, &row.url)
        .map_err(|_| "the callback URL does not open")?;
    Ok(())
}

const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const _: () = assert!(SEND_TIMEOUT.as_secs() * 2 < outbox::LEASE.num_seconds() as u64);

async fn send(state: &AppState, http: &FencedClient, claim: &outbox::Claimed, slot: &Slot) {
    // Fenced: a claim that expired or was taken over is another worker's now.
    match outbox::renew(&state.db, claim).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "renewing a callback claim failed; not sending");
            return;
        }
    }
    let cb = &claim.row;
    let (outcome, attempt) = deliver(state, http, cb).await;
    let why = match &outcome {
        Ok(()) => None,
        Err(Failure::Unreachable(why) | Failure::Refused(why)) => Some(why.clone()),
    };
    let result = match outcome {
        Ok(()) => {
            slot.load.lock().expect("load lock").paused.remove(&slot.destination);
            delivery_counted(cb, "delivered");
            outbox::mark_delivered(&state.db, claim, attempt).await
        }
        Err(failure) => {
            if let Failure::Unreachable(_) = failure {
                pause(&slot.load, &slot.destination);
            }
            let why = why.clone().unwrap_or_default();
            delivery_counted(cb, "failed");
            tracing::info!(callback = %cb.id, kind = ?cb.kind, attempt = cb.attempts + 1, %why, "callback not delivered");
            outbox::mark_failed(&state.db, claim, &why, attempt).await
        }
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "recording a callback attempt failed");
    }
    if let Some(endpoint) = cb.endpoint_id {
        webhook::record_outcome(state, endpoint, why.as_deref()).await;
    }
}

/// A destination that failed pauses for 1 s, 2 s, 4 s, … up to five minutes.
fn pause(load: &Mutex<Load>, destination: &str) {
    let mut load = load.lock().expect("load lock");
    let now = Instant::now();
    // Forget destinations quiet for ten minutes; the rest keep their failure count.
    load.paused.retain(|_, (until, _)| now.saturating_duration_since(*until) < Duration::from_secs(600));
    let failures = load.paused.get(destination).map_or(0, |(_, n)| *n) + 1;
    let wait = Duration::from_secs(1u64 << failures.min(9)).min(MAX_DESTINATION_BACKOFF);
    load.paused.insert(destination.to_string(), (now + wait, failures));
}

/// Callback attempts by tenant, kind and result.
fn delivery_counted(cb: &mooring_entities::outbox::Model, result: &'static str) {
    let kind = match cb.kind {
        outbox::Kind::Transaction => "transaction",
        outbox::Kind::Customer => "customer",
        outbox::Kind::Webhook => "webhook",
    };
    metrics::counter!("mooring_callbacks_total",
        "tenant" => cb.tenant_id.to_string(), "kind" => kind, "result" => result)
    .increment(1);
}
