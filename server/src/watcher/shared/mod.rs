//! One network-wide payments stream per Horizon, shared by every member account.
//!
//! The stream follows `GET /payments` from its stored cursor (pages to catch up, then
//! Server-Sent Events) and routes each operation by the account it pays (`to`, the
//! base account of a muxed destination); the rest of the network's traffic is dropped
//! after one look at that field. A batch's payments and the stream's cursor commit in
//! one database transaction, so a crash replays a batch whole or not at all, and a
//! replay changes nothing (payments are unique per tenant, account and operation).
//!
//! Joining keeps the first-watch rule without a new connection: an account joins at
//! the stream's position P (stored before the next batch is applied, so every batch
//! after P routes to it), and what it received before P — from where its tenant
//! configured it, or from its own cursor — is caught up from the account's own feed
//! by a short-lived task, which then marks the member caught up. Leaving deletes the
//! membership, so a later rejoin catches up again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mooring_anchor::payments::{self, Observed, Routed};
use mooring_anchor::streams;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::held::{self, Session, sleep_or_cancel};
use super::resets::{self, Judgement, with_epoch};
use super::roster::{CatchUpRun, Member, Members, Roster};
use super::{PAGE, WatchError, next_batch, observe};
use crate::horizon::{Feed, HorizonError, PaymentRecord};
use crate::state::AppState;
use mooring_anchor::ledger;

mod catch_up;

use catch_up::CatchUp;

/// How often a stream stores its position when none of the traffic was ours: replay
/// after a crash is harmless, so this only bounds how much is replayed.
const IDLE_SAVE: Duration = Duration::from_secs(1);

/// Follows `horizon_url`'s payments for `members` until `token` is cancelled.
pub(super) async fn run(
    state: AppState,
    horizon_url: String,
    members: watch::Receiver<Arc<Members>>,
    token: CancellationToken,
) {
    let key = format!("stream:{horizon_url}");
    held::run(state.clone(), key, "stream", token, move |session| {
        let (state, url, members) = (state.clone(), horizon_url.clone(), members.clone());
        Box::pin(async move { Follow::start(state, url, members, session).await?.run().await })
    })
    .await
}

/// One session of following the stream.
struct Follow {
    state: AppState,
    url: String,
    session: Session,
    roster: Roster,
    /// The last token applied (routed or not); stored at least every [`IDLE_SAVE`].
    position: String,
    saved_at: Instant,
    unsaved: bool,
    label: metrics::SharedString,
    /// The network epoch (bumped at each reset): part of every payment's identity.
    epoch: i32,
    /// When the network was last checked for a reset (`None`: not yet).
    checked_at: Option<Instant>,
}

impl Follow {
    async fn start(
        state: AppState,
        url: String,
        members: watch::Receiver<Arc<Members>>,
        session: Session,
    ) -> Result<Self, WatchError> {
        let position = match streams::cursor(&state.db, &url).await? {
            Some(c) => c,
            None => {
                // Never ran: the network's past is nobody's business; each member
                // catches up its own from its own feed.
                let now = state.horizon.newest_token(&url, Feed::Network).await?;
                streams::init_cursor(&state.db, &url, &now).await?
            }
        };
        session.answered();
        let label = metrics::SharedString::from_owned(url.clone());
        let epoch = ledger::checkpoint(&state.db, &url).await?.map_or(0, |c| c.epoch);
        let mut follow = Self {
            epoch,
            checked_at: None,
            state,
            roster: Roster::new(url.clone(), "shared stream", label.clone(), members),
            url,
            session,
            position,
            saved_at: Instant::now(),
            unsaved: false,
            label,
        };
        follow.load_members().await?;
        Ok(follow)
    }

    /// The stored members this session continues with; stale ones leave, new ones join.
    async fn load_members(&mut self) -> Result<(), WatchError> {
        let job = self.catch_up_job();
        self.roster.load(&self.state, &self.session, &self.position, job).await
    }

    /// Takes the supervisor's new member list into account between two batches.
    async fn update_members(&mut self) -> Result<(), WatchError> {
        let job = self.catch_up_job();
        self.roster.update(&self.state, &self.session, &self.position, job).await
    }

    /// Catching a member up from its own feed to where it joined the stream.
    fn catch_up_job(&self) -> impl Fn(String, Member, String) -> CatchUpRun + use<> {
        let (state, url, session, epoch) =
            (self.state.clone(), self.url.clone(), self.session.clone(), self.epoch);
        move |account, member, joined_at| {
            let job = CatchUp {
                state: state.clone(),
                url: url.clone(),
                session: session.clone(),
                account,
                member,
                joined_at,
                epoch,
            };
            Box::pin(job.run_until_done())
        }
    }

    /// Catch up by paging, then stream, until an error or cancellation.
    async fn run(mut self) -> Result<(), WatchError> {
        let state = self.state.clone();
        let horizon = &state.horizon;
        loop {
            loop {
                if self.session.token.is_cancelled() {
                    return Ok(());
                }
                if self.roster.changed() {
                    self.update_members().await?;
                }
                self.check_reset_due().await?;
                let page = horizon
                    .payments_page(&self.url, Feed::Network, Some(&self.position), PAGE)
                    .await?
                    .ok_or(HorizonError::Status(404))?;
                self.session.answered();
                let full = page.len() == PAGE as usize;
                self.apply(page).await?;
                if !full {
                    break;
                }
            }
            let stream = match horizon.payments_stream(&self.url, Feed::Network, &self.position).await {
                Ok(s) => s,
                Err(HorizonError::NoStreaming) => {
                    let poll = state.cfg.watch_poll_ms;
                    sleep_or_cancel(&self.session.token, poll).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let mut chunks = Box::pin(stream.ready_chunks(super::STREAM_BATCH));
            // An interval, not a sleep per iteration: steady traffic must not postpone it.
            let mut reset_tick = tokio::time::interval(state.cfg.reset_check_ms);
            reset_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let first = tokio::select! {
                    _ = reset_tick.tick() => {
                        self.check_reset_due().await?;
                        continue;
                    }
                    () = self.session.token.cancelled() => return Ok(()),
                    alive = self.roster.wait_changed() => {
                        // The supervisor is gone: the process is stopping.
                        if !alive {
                            return Ok(());
                        }
                        self.update_members().await?;
                        continue;
                    }
                    // Store the position once the stream goes quiet.
                    () = tokio::time::sleep(IDLE_SAVE), if self.unsaved => {
                        self.save().await?;
                        continue;
                    }
                    next = chunks.next() => next,
                };
                let Some((records, ended)) = next_batch(first, &mut chunks).await else {
                    return Err(WatchError::StreamEnded);
                };
                let records = records?;
                self.session.answered();
                self.apply(records).await?;
                if ended {
                    return Err(WatchError::StreamEnded);
                }
            }
        }
    }

    /// Applies the members' operations among `records` and moves the position past
    /// all of them.
    async fn apply(&mut self, records: Vec<PaymentRecord>) -> Result<(), WatchError> {
        let Some(last) = records.last().map(|r| r.paging_token.clone()) else { return Ok(()) };
        let total = records.len() as u64;
        // Routed by each payment's recipient: an `invoke_host_function` may pay
        // several members at once.
        let mut ours: Vec<(Uuid, Observed)> = Vec::new();
        for r in records.iter().filter(|r| r.recipients().any(|to| self.roster.routes().contains_key(to))) {
            for p in r.payments()? {
                if let Some(tenant) = self.roster.routes().get(&p.to) {
                    ours.push((*tenant, p));
                }
            }
        }
        metrics::counter!("mooring_stream_records_total", "horizon" => self.label.clone(), "routed" => "no")
            .increment(total.saturating_sub(ours.len() as u64));
        if ours.is_empty() {
            self.position = last;
            self.unsaved = true;
            if self.saved_at.elapsed() >= IDLE_SAVE {
                self.save().await?;
            }
            return Ok(());
        }
        metrics::counter!("mooring_stream_records_total", "horizon" => self.label.clone(), "routed" => "yes")
            .increment(ours.len() as u64);
        let mut tenants = Vec::with_capacity(ours.len());
        let mut observed = Vec::with_capacity(ours.len());
        for (tenant_id, payment) in ours.iter() {
            // A tenant deleted since the supervisor's last look: nothing to apply to.
            let Some(tenant) = self.state.tenants.by_id(*tenant_id) else { continue };
            tenants.push(tenant);
            let mut payment = payment.clone();
            payment.operation_id = with_epoch(&payment.operation_id, self.epoch);
            observed.push(payment);
        }
        let routed: Vec<Routed<'_>> =
            tenants.iter().zip(&observed).map(|(tenant, observed)| Routed { tenant, observed }).collect();
        let fence = self.session.fence();
        let outcomes = payments::apply_routed(&self.state.db, &self.url, &routed, &last, &fence).await?;
        for ((tenant, p), outcome) in tenants.iter().zip(&observed).zip(&outcomes) {
            observe(&tenant.id_text, std::slice::from_ref(p), std::slice::from_ref(outcome));
        }
        if let Some(lag) = super::lag_seconds(ours.last().map(|(_, p)| p.ledger_time.as_str())) {
            metrics::gauge!("mooring_stream_lag_seconds", "horizon" => self.label.clone()).set(lag);
        }
        self.position = last;
        self.unsaved = false;
        self.saved_at = Instant::now();
        Ok(())
    }

    async fn save(&mut self) -> Result<(), WatchError> {
        streams::store_cursor(&self.state.db, &self.url, &self.position, &self.session.fence()).await?;
        self.unsaved = false;
        self.saved_at = Instant::now();
        Ok(())
    }

    /// Checks for a network reset when one is due. A reset ends the session
    /// ([`WatchError::NetworkReset`]): the next one starts on the new network from
    /// the start, with the new epoch.
    async fn check_reset_due(&mut self) -> Result<(), WatchError> {
        let every = self.state.cfg.reset_check_ms;
        if self.checked_at.is_some_and(|t| t.elapsed() < every) {
            return Ok(());
        }
        self.checked_at = Some(Instant::now());
        match self.check_reset().await {
            // A Horizon that cannot say (no root or ledgers endpoint, a blip) must not
            // stop payments; the check runs again later.
            Err(WatchError::Horizon(e)) => {
                tracing::debug!(horizon = %self.url, error = %e, "could not check for a network reset");
                Ok(())
            }
            other => other,
        }
    }

    async fn check_reset(&mut self) -> Result<(), WatchError> {
        let horizon = &self.state.horizon;
        let latest = horizon.latest_ledger(&self.url).await?;
        // Horizon's paging tokens are operation ids: the ledger in the high 32 bits.
        let ours = self.position.parse::<u64>().map_or(0, |t| (t >> 32) as u32);
        let seen = ledger::checkpoint(&self.state.db, &self.url).await?.and_then(|c| c.ledger);
        let reason = match resets::judge(latest, ours, seen.as_ref().map(|(s, _)| *s)) {
            Judgement::Reset(why) => Some(why),
            Judgement::Lagging => return Ok(()),
            Judgement::Fine => None,
            Judgement::CompareHash(seq) => {
                let now = horizon.ledger_hash(&self.url, seq).await?;
                now.filter(|h| seen.as_ref().is_some_and(|(_, hash)| !h.eq_ignore_ascii_case(hash)))
                    .map(|_| format!("ledger {seq} now has another hash"))
            }
        };
        let fence = self.session.fence();
        let Some(reason) = reason else {
            if let Some(hash) = horizon.ledger_hash(&self.url, latest).await? {
                ledger::store_checked_ledger(&self.state.db, &self.url, latest, &hash, &fence).await?;
            }
            return Ok(());
        };
        // The new network's payments from its beginning.
        let what = ledger::Reset { reason: reason.clone(), new_cursor: "0".into() };
        let (epoch, told) = ledger::reset(&self.state.db, &self.url, &what, &fence).await?;
        metrics::counter!("mooring_network_resets_total", "source" => "horizon").increment(1);
        tracing::error!(
            horizon = %self.url, %reason, epoch, tenants = told.len(),
            "the network was reset: following the new ledger from its start; configuration and history are kept"
        );
        Err(WatchError::NetworkReset)
    }
}
