//! One session of an RPC follower: the members' routes, the `getEvents` loop, the
//! cursor, the reset check and the gap when the cursor fell out of RPC's window.

use std::sync::Arc;
use std::time::Instant;

use mooring_anchor::payments::{self, Routed};
use mooring_anchor::{ledger, streams};
use mooring_stellar::events::{self, EventPosition};
use tokio::sync::watch;
use uuid::Uuid;

use super::super::held::Session;
use super::super::resets::{self, Judgement};
use super::super::roster::{CatchUpRun, Member, Members, Roster};
use super::super::{WatchError, observe};
use super::catch_up::HorizonRange;
use super::{CatchUp, IDLE_SAVE, PAGE, Reader, RpcSpec, position_of, stream_key};
use crate::rpc::{RpcError, Start};
use crate::state::AppState;

pub(super) struct Follow {
    state: AppState,
    spec: RpcSpec,
    key: String,
    session: Session,
    roster: Roster,
    position: String,
    reader: Reader,
    /// When the network was last checked for a reset (`None`: not yet).
    checked_at: Option<Instant>,
    saved_at: Instant,
    unsaved: bool,
    topics: Vec<Vec<String>>,
}

impl Follow {
    pub(super) async fn start(
        state: AppState,
        spec: RpcSpec,
        members: watch::Receiver<Arc<Members>>,
        session: Session,
    ) -> Result<Self, WatchError> {
        let rpc = &state.rpc;
        let passphrase = rpc.network_passphrase(&spec.url).await?;
        if passphrase != spec.network.passphrase() {
            return Err(WatchError::WrongNetwork(passphrase));
        }
        let key = stream_key(&spec.url);
        let position = match streams::cursor(&state.db, &key).await? {
            Some(c) => c,
            None => {
                // Never ran: the network's past is nobody's business; each member
                // catches up its own.
                let latest = rpc.latest_ledger(&spec.url).await?;
                let start = EventPosition::ledger_start(latest.sequence).to_string();
                let stored = streams::init_cursor(&state.db, &key, &start).await?;
                ledger::store_checked_ledger(&state.db, &key, latest.sequence, &latest.id, &session.fence())
                    .await?;
                stored
            }
        };
        position_of(&position)?;
        let epoch = ledger::checkpoint(&state.db, &key).await?.map_or(0, |c| c.epoch);
        session.answered();
        let label = metrics::SharedString::from_owned(spec.url.clone());
        let roster = Roster::new(key.clone(), "RPC stream", label.clone(), members);
        let reader = Reader { network: spec.network.clone(), epoch, sacs: Arc::default(), label };
        let mut follow = Self {
            state,
            key,
            session,
            roster,
            position,
            reader,
            // Check for a reset before the first request.
            checked_at: None,
            saved_at: Instant::now(),
            unsaved: false,
            topics: events::movement_topics(None).map_err(|e| WatchError::Cursor(e.to_string()))?,
            spec,
        };
        follow.load_members().await?;
        Ok(follow)
    }

    async fn load_members(&mut self) -> Result<(), WatchError> {
        let job = self.catch_up_job();
        self.roster.load(&self.state, &self.session, &self.position, job).await
    }

    async fn update_members(&mut self) -> Result<(), WatchError> {
        let job = self.catch_up_job();
        self.roster.update(&self.state, &self.session, &self.position, job).await
    }

    /// Catching a member up (RPC's window, then Horizon for what is older).
    fn catch_up_job(&self) -> impl Fn(String, Member, String) -> CatchUpRun + use<> {
        let (state, spec, key) = (self.state.clone(), self.spec.clone(), self.key.clone());
        let (session, reader) = (self.session.clone(), self.reader.clone());
        move |account, member, joined_at| {
            let job = CatchUp {
                state: state.clone(),
                spec: spec.clone(),
                key: key.clone(),
                session: session.clone(),
                reader: reader.clone(),
                account,
                member,
                joined_at,
            };
            Box::pin(job.run_until_done())
        }
    }

    pub(super) async fn run(mut self) -> Result<(), WatchError> {
        let state = self.state.clone();
        let poll = state.cfg.rpc_poll_ms;
        loop {
            if self.session.token.is_cancelled() {
                return Ok(());
            }
            if self.roster.changed() {
                self.update_members().await?;
            }
            let reset_check = state.cfg.reset_check_ms;
            if self.checked_at.is_none_or(|t| t.elapsed() >= reset_check) && self.check_reset().await? {
                continue;
            }
            let page =
                state.rpc.events(&self.spec.url, Start::After(&self.position), &self.topics, PAGE).await;
            let caught_up = match page {
                Ok(page) => {
                    self.session.answered();
                    let full = page.events.len() == PAGE as usize;
                    self.apply(page).await?;
                    !full
                }
                Err(RpcError::OutOfRange { oldest, latest }) => {
                    self.session.answered();
                    let ours = position_of(&self.position)?.ledger();
                    if ours < oldest {
                        self.gap(ours, oldest).await?;
                        false
                    } else if ours > latest && self.check_reset().await? {
                        false
                    } else {
                        // This RPC lags behind the ledger we read last: wait for it.
                        true
                    }
                }
                Err(e) => return Err(e.into()),
            };
            if caught_up {
                if self.unsaved {
                    self.save().await?;
                }
                tokio::select! {
                    () = self.session.token.cancelled() => return Ok(()),
                    alive = self.roster.wait_changed() => {
                        // The supervisor is gone: the process is stopping.
                        if !alive {
                            return Ok(());
                        }
                        self.update_members().await?;
                    }
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }
    }

    /// Applies the members' payments in `page` and moves the position to its cursor.
    async fn apply(&mut self, page: crate::rpc::EventsPage) -> Result<(), WatchError> {
        let next = if !page.cursor.is_empty() {
            page.cursor.clone()
        } else if let Some(last) = page.events.last() {
            last.id.clone()
        } else {
            return Ok(());
        };
        // Never move backwards (an RPC answering from behind another one).
        if position_of(&next)? <= position_of(&self.position)? {
            return Ok(());
        }
        let mut tenants = Vec::new();
        let mut observed = Vec::new();
        for ev in &page.events {
            let Some(p) = self.reader.payment(ev, |to| self.roster.routes().contains_key(to)) else {
                continue;
            };
            // A tenant deleted since the supervisor's last look: nothing to apply to.
            let Some(tenant) = self.roster.routes().get(&p.to).and_then(|t| self.state.tenants.by_id(*t))
            else {
                continue;
            };
            tenants.push(tenant);
            observed.push(p);
        }
        if observed.is_empty() {
            self.position = next;
            self.unsaved = true;
            if self.saved_at.elapsed() >= IDLE_SAVE {
                self.save().await?;
            }
            return Ok(());
        }
        let routed: Vec<Routed<'_>> =
            tenants.iter().zip(&observed).map(|(tenant, observed)| Routed { tenant, observed }).collect();
        let fence = self.session.fence();
        let outcomes = payments::apply_routed(&self.state.db, &self.key, &routed, &next, &fence).await?;
        for ((tenant, p), outcome) in tenants.iter().zip(&observed).zip(&outcomes) {
            observe(&tenant.id_text, std::slice::from_ref(p), std::slice::from_ref(outcome));
        }
        if let Some(lag) = super::super::lag_seconds(observed.last().map(|p| p.ledger_time.as_str())) {
            metrics::gauge!("mooring_stream_lag_seconds", "horizon" => self.reader.label.clone()).set(lag);
        }
        self.position = next;
        self.unsaved = false;
        self.saved_at = Instant::now();
        Ok(())
    }

    async fn save(&mut self) -> Result<(), WatchError> {
        streams::store_cursor(&self.state.db, &self.key, &self.position, &self.session.fence()).await?;
        self.unsaved = false;
        self.saved_at = Instant::now();
        Ok(())
    }

    /// Whether the network was reset since we last looked (and if so, starts again on
    /// the new one). Otherwise remembers the latest ledger's hash for the next check.
    async fn check_reset(&mut self) -> Result<bool, WatchError> {
        self.checked_at = Some(Instant::now());
        let rpc = &self.state.rpc;
        let latest = rpc.latest_ledger(&self.spec.url).await?;
        let ours = position_of(&self.position)?.ledger();
        let checkpoint = ledger::checkpoint(&self.state.db, &self.key).await?;
        let seen = checkpoint.and_then(|c| c.ledger);
        let reason = match resets::judge(latest.sequence, ours, seen.as_ref().map(|(s, _)| *s)) {
            Judgement::Reset(why) => Some(why),
            Judgement::Lagging => return Ok(false),
            Judgement::Fine => None,
            Judgement::CompareHash(seq) => match rpc.ledgers(&self.spec.url, seq, 1).await {
                Ok(page) => page
                    .ledgers
                    .first()
                    .filter(|l| l.sequence == seq)
                    .filter(|l| seen.as_ref().is_some_and(|(_, hash)| !l.hash.eq_ignore_ascii_case(hash)))
                    .map(|_| format!("ledger {seq} now has another hash")),
                // Older than this RPC keeps: nothing to compare with.
                Err(RpcError::OutOfRange { .. }) => None,
                Err(e) => return Err(e.into()),
            },
        };
        let fence = self.session.fence();
        let Some(reason) = reason else {
            ledger::store_checked_ledger(&self.state.db, &self.key, latest.sequence, &latest.id, &fence)
                .await?;
            return Ok(false);
        };
        let oldest = match rpc.ledgers(&self.spec.url, 1, 1).await {
            Ok(page) => page.oldest_ledger.max(1),
            Err(RpcError::OutOfRange { oldest, .. }) => oldest,
            Err(e) => return Err(e.into()),
        };
        let new_cursor = EventPosition::ledger_start(oldest).to_string();
        let what = ledger::Reset { reason: reason.clone(), new_cursor: new_cursor.clone() };
        let (epoch, told) = ledger::reset(&self.state.db, &self.key, &what, &self.session.fence()).await?;
        metrics::counter!("mooring_network_resets_total", "source" => "rpc").increment(1);
        tracing::error!(
            rpc = %self.spec.url, %reason, epoch, tenants = told.len(), from = %self.position, to = %new_cursor,
            "the network was reset: following the new ledger from its start; configuration and history are kept"
        );
        self.reader.epoch = epoch;
        self.position = new_cursor;
        ledger::store_checked_ledger(&self.state.db, &self.key, latest.sequence, &latest.id, &fence).await?;
        Ok(true)
    }

    /// The cursor is older than the oldest ledger this RPC keeps: ledgers `ours` to
    /// `oldest - 1` cannot be read here. Recorded and told per member; read from
    /// Horizon where the network has one; then the stream goes on from `oldest`.
    async fn gap(&mut self, ours: u32, oldest: u32) -> Result<(), WatchError> {
        let after = position_of(&self.position)?;
        // A cursor at the very end of its ledger has read all of it.
        let ours = if after.event == u32::MAX { ours + 1 } else { ours };
        if ours >= oldest {
            self.position = EventPosition::ledger_start(oldest).to_string();
            return self.save().await;
        }
        let to = oldest - 1;
        let members: Vec<(Uuid, String)> =
            self.roster.routes().iter().map(|(a, t)| (*t, a.clone())).collect();
        let rows: Vec<(Uuid, &str)> = members.iter().map(|(t, a)| (*t, a.as_str())).collect();
        let fence = self.session.fence();
        let gaps = ledger::record_gap(&self.state.db, &self.key, &rows, ours, to, &fence).await?;
        let gauge = metrics::gauge!("mooring_ledger_gap_ledgers", "source" => self.reader.label.clone());
        gauge.set(f64::from(to - ours + 1));
        tracing::error!(
            rpc = %self.spec.url, from = ours, to, tenants = members.len(),
            horizon = self.spec.horizon.is_some(),
            "ledgers older than this RPC keeps were not read: a gap (reading it from Horizon where configured)"
        );
        let mut open = 0;
        for ((tenant_id, account), gap) in members.iter().zip(gaps) {
            let done = match &self.spec.horizon {
                Some(horizon) => {
                    let read = HorizonRange {
                        state: &self.state,
                        horizon,
                        reader: &self.reader,
                        session: &self.session,
                        tenant_id: *tenant_id,
                        account,
                    };
                    // The Horizon operation after the last event read (RPC's operation
                    // index is 0-based, Horizon's 1-based) up to `oldest`.
                    let from_token = (after.toid + 1).to_string();
                    match read.apply(&from_token, EventPosition::ledger_start(oldest).toid).await {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::warn!(tenant = %tenant_id, %account, error = %e, "reading a gap from Horizon failed; it stays open");
                            false
                        }
                    }
                }
                None => false,
            };
            if done {
                ledger::resolve_gap(&self.state.db, gap, "caught up from Horizon").await?;
            } else {
                open += 1;
            }
        }
        if open == 0 {
            gauge.set(0.0);
        }
        self.position = EventPosition::ledger_start(oldest).to_string();
        self.save().await
    }
}
