//! One follower per Stellar RPC, shared by every tenant whose ledger comes from it.
//!
//! It polls `getEvents` for CAP-67 `transfer` and `mint` events from its stored cursor
//! and routes each by its receiving account. RPC allows 5 filters of 5 contract ids per
//! request — far fewer than a platform's assets — so it asks for the events by name
//! and decides here which are real: only an event whose contract is the SAC that its
//! asset derives to on this network counts (any contract can emit look-alike topics).
//! It pages with the answer's top-level cursor, which moves past the scanned window
//! of ledgers even when no event matched.
//!
//! The guarantees are the shared Horizon stream's: a batch's payments and the cursor
//! commit in one database transaction under the lease's fence; a payment's identity
//! is tenant, account, event id and the network epoch (event ids repeat after a
//! testnet reset); a joining account is caught up from where its tenant configured
//! it. What is new is the window: RPC keeps only recent ledgers, so a cursor older
//! than its oldest ledger is a gap — recorded, told to the tenants, and read from
//! Horizon where the network has one — and a network whose latest ledger is below
//! the cursor, or whose ledger at a stored sequence has another hash, was reset.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mooring_anchor::payments::{self, Observed, Routed};
use mooring_anchor::{ledger, streams};
use mooring_stellar::Network;
use mooring_stellar::events::{self, EventPosition, Movement};
use tokio::sync::{Semaphore, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::held::{self, Session, sleep_or_cancel};
use super::shared::{Member, Members};
use super::{CLOCK_SKEW, WatchError, observe};
use crate::horizon::{Feed, token_after};
use crate::rpc::{EventInfo, RpcError, Start};
use crate::state::AppState;

/// Events per `getEvents` request (RPC's default ceiling is 10,000).
const PAGE: u32 = 1_000;
/// Horizon records per page when a gap is read from Horizon.
const HORIZON_PAGE: u32 = 200;
/// How often a quiet stream stores its position (replay after a crash is harmless).
const IDLE_SAVE: Duration = Duration::from_secs(1);
const CATCH_UPS: usize = 4;

/// What one RPC follower follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RpcSpec {
    pub url: String,
    pub network: Network,
    /// Where ledgers older than RPC keeps are read (gaps, old first watches).
    pub horizon: Option<String>,
}

pub(super) fn stream_key(url: &str) -> String {
    format!("rpc:{url}")
}

pub(super) async fn run(
    state: AppState,
    spec: RpcSpec,
    members: watch::Receiver<Arc<Members>>,
    token: CancellationToken,
) {
    held::run(state.clone(), stream_key(&spec.url), "rpc", token, move |session| {
        let (state, spec, members) = (state.clone(), spec.clone(), members.clone());
        Box::pin(async move { Follow::start(state, spec, members, session).await?.run().await })
    })
    .await
}

/// Turns RPC events into payments: decoding, the SAC check, the epoch in the identity.
#[derive(Clone)]
struct Reader {
    network: Network,
    epoch: i32,
    /// SEP-11 asset → its SAC's contract id on this network (`None`: not an asset).
    sacs: Arc<std::sync::Mutex<HashMap<String, Option<String>>>>,
    label: metrics::SharedString,
}

use super::resets::{self, Judgement, with_epoch};

impl Reader {
    fn count(&self, verdict: &'static str) {
        metrics::counter!("mooring_rpc_events_total", "rpc" => self.label.clone(), "verdict" => verdict)
            .increment(1);
    }

    fn sac(&self, asset: &str) -> Option<String> {
        let mut sacs = self.sacs.lock().expect("not poisoned");
        sacs.entry(asset.to_string())
            .or_insert_with(|| events::sac_contract_id(&self.network, asset).ok())
            .clone()
    }

    /// The payment an event makes to `to` (a routed account), if it is one.
    fn payment(&self, ev: &EventInfo, wanted: impl Fn(&str) -> bool) -> Option<Observed> {
        if !ev.in_successful_contract_call {
            return None;
        }
        let e = match events::decode_base64(&ev.topic, &ev.value) {
            Ok(Some(e)) => e,
            Ok(None) => return None,
            Err(error) => {
                // Someone's contract emitted a malformed look-alike: skip it, never stop.
                tracing::debug!(event = %ev.id, %error, "unreadable asset event");
                self.count("malformed");
                return None;
            }
        };
        if !wanted(&e.to_base) {
            return None;
        }
        if self.sac(&e.asset).as_deref() != Some(ev.contract_id.as_str()) {
            tracing::warn!(
                event = %ev.id, contract = %ev.contract_id, asset = %e.asset, to = %e.to_base,
                "ignored a transfer event not emitted by the asset's own contract"
            );
            self.count("counterfeit");
            return None;
        }
        self.count("ours");
        let (asset_code, asset_issuer) = e.asset_parts();
        let (memo_type, memo) = match &e.memo {
            Some((kind, value)) => (kind.as_str().to_string(), Some(value.clone())),
            None => ("none".to_string(), None),
        };
        Some(Observed {
            operation_id: with_epoch(&ev.id, self.epoch),
            paging_token: ev.id.clone(),
            op_type: e.movement.as_str().to_string(),
            successful: true,
            // A mint's sender is the issuer.
            from: match e.movement {
                Movement::Transfer => e.from.clone().unwrap_or_default(),
                Movement::Mint => asset_issuer.clone(),
            },
            to_muxed: (e.to != e.to_base).then(|| e.to.clone()),
            to: e.to_base,
            asset_code,
            asset_issuer,
            amount: e.amount,
            memo_type,
            memo,
            tx_hash: ev.tx_hash.clone(),
            ledger_time: ev.ledger_closed_at.clone(),
        })
    }
}

fn position_of(cursor: &str) -> Result<EventPosition, WatchError> {
    EventPosition::parse(cursor).ok_or_else(|| WatchError::Cursor(cursor.to_string()))
}

struct Follow {
    state: AppState,
    spec: RpcSpec,
    key: String,
    session: Session,
    members: watch::Receiver<Arc<Members>>,
    routes: HashMap<String, Uuid>,
    position: String,
    reader: Reader,
    /// When the network was last checked for a reset (`None`: not yet).
    checked_at: Option<Instant>,
    saved_at: Instant,
    unsaved: bool,
    catch_ups: JoinSet<()>,
    catching_up: HashMap<String, AbortHandle>,
    permits: Arc<Semaphore>,
    topics: Vec<Vec<String>>,
}

impl Follow {
    async fn start(
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
        let reader = Reader { network: spec.network.clone(), epoch, sacs: Arc::default(), label };
        let mut follow = Self {
            state,
            key,
            session,
            members,
            routes: HashMap::new(),
            position,
            reader,
            // Check for a reset before the first request.
            checked_at: None,
            saved_at: Instant::now(),
            unsaved: false,
            catch_ups: JoinSet::new(),
            catching_up: HashMap::new(),
            permits: Arc::new(Semaphore::new(CATCH_UPS)),
            topics: events::movement_topics(None).map_err(|e| WatchError::Cursor(e.to_string()))?,
            spec,
        };
        follow.load_members().await?;
        Ok(follow)
    }

    async fn load_members(&mut self) -> Result<(), WatchError> {
        let wanted = self.members.borrow_and_update().clone();
        for m in streams::members(&self.state.db, &self.key).await? {
            match wanted.get(&m.account) {
                Some(w) if w.tenant_id == m.tenant_id => {
                    self.routes.insert(m.account.clone(), m.tenant_id);
                    if !m.caught_up {
                        self.catch_up(m.account, *w, m.joined_at);
                    }
                }
                _ => streams::leave(&self.state.db, &self.key, m.tenant_id, &m.account).await?,
            }
        }
        self.join_new(&wanted).await?;
        self.gauge();
        Ok(())
    }

    async fn update_members(&mut self) -> Result<(), WatchError> {
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
            streams::leave(&self.state.db, &self.key, tenant, &account).await?;
            tracing::info!(%tenant, %account, rpc = %self.spec.url, "account left the RPC stream");
        }
        self.join_new(&wanted).await?;
        self.gauge();
        Ok(())
    }

    async fn join_new(&mut self, wanted: &Members) -> Result<(), WatchError> {
        let new: Vec<(&String, &Member)> =
            wanted.iter().filter(|(a, _)| !self.routes.contains_key(*a)).collect();
        if new.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Uuid, &str)> = new.iter().map(|(a, m)| (m.tenant_id, a.as_str())).collect();
        let fence = self.session.fence();
        streams::join(&self.state.db, &self.key, &rows, &self.position, &fence).await?;
        tracing::info!(accounts = new.len(), rpc = %self.spec.url, at = %self.position, "accounts joined the RPC stream");
        for (account, member) in new {
            self.routes.insert(account.clone(), member.tenant_id);
            self.catch_up(account.clone(), *member, self.position.clone());
        }
        Ok(())
    }

    fn catch_up(&mut self, account: String, member: Member, joined_at: String) {
        let job = CatchUp {
            state: self.state.clone(),
            spec: self.spec.clone(),
            key: self.key.clone(),
            session: self.session.clone(),
            reader: self.reader.clone(),
            account: account.clone(),
            member,
            joined_at,
        };
        let permits = self.permits.clone();
        let handle = self.catch_ups.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else { return };
            job.run_until_done().await;
        });
        if let Some(old) = self.catching_up.insert(account, handle) {
            old.abort();
        }
    }

    fn gauge(&self) {
        metrics::gauge!("mooring_stream_members", "horizon" => self.reader.label.clone())
            .set(self.routes.len() as f64);
    }

    async fn run(mut self) -> Result<(), WatchError> {
        let state = self.state.clone();
        let poll = Duration::from_millis(state.cfg.rpc_poll_ms);
        loop {
            if self.session.token.is_cancelled() {
                return Ok(());
            }
            if self.members.has_changed().unwrap_or(false) {
                self.update_members().await?;
            }
            let reset_check = Duration::from_millis(state.cfg.reset_check_ms);
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
                    changed = self.members.changed() => {
                        // The supervisor is gone: the process is stopping.
                        if changed.is_err() {
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
            let Some(p) = self.reader.payment(ev, |to| self.routes.contains_key(to)) else { continue };
            // A tenant deleted since the supervisor's last look: nothing to apply to.
            let Some(tenant) = self.routes.get(&p.to).and_then(|t| self.state.tenants.by_id(*t)) else {
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
        if let Some(lag) = super::lag_seconds(observed.last().map(|p| p.ledger_time.as_str())) {
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
        let Some(reason) = reason else {
            ledger::store_checked_ledger(
                &self.state.db,
                &self.key,
                latest.sequence,
                &latest.id,
                &self.session.fence(),
            )
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
        ledger::store_checked_ledger(
            &self.state.db,
            &self.key,
            latest.sequence,
            &latest.id,
            &self.session.fence(),
        )
        .await?;
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
        let members: Vec<(Uuid, String)> = self.routes.iter().map(|(a, t)| (*t, a.clone())).collect();
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

/// One account's payments read from Horizon between two operation ids: what RPC no
/// longer keeps.
struct HorizonRange<'a> {
    state: &'a AppState,
    horizon: &'a str,
    reader: &'a Reader,
    session: &'a Session,
    tenant_id: Uuid,
    account: &'a str,
}

impl HorizonRange<'_> {
    /// Applies the account's payments after `from_token`, before operation `until`.
    async fn apply(&self, from_token: &str, until: i64) -> Result<(), WatchError> {
        let until = until.to_string();
        let mut cursor = from_token.to_string();
        loop {
            let Some(page) = self
                .state
                .horizon
                .payments_page(self.horizon, Feed::Account(self.account), Some(&cursor), HORIZON_PAGE)
                .await?
            else {
                return Ok(()); // not on the ledger: it received nothing
            };
            let fetched = page.len();
            let before: Vec<_> =
                page.into_iter().take_while(|r| token_after(&until, &r.paging_token)).collect();
            let done = before.len() < fetched || fetched < HORIZON_PAGE as usize;
            if let Some(last) = before.last() {
                cursor = last.paging_token.clone();
                let mut observed = super::payments_in(&before)?;
                for p in &mut observed {
                    p.operation_id = with_epoch(&p.operation_id, self.reader.epoch);
                }
                let tenant = self.state.tenants.by_id(self.tenant_id).ok_or(WatchError::TenantGone)?;
                let outcomes = payments::apply_observed(
                    &self.state.db,
                    &tenant,
                    self.account,
                    &observed,
                    &self.session.fence(),
                )
                .await?;
                observe(&tenant.id_text, &observed, &outcomes);
            }
            if done {
                return Ok(());
            }
        }
    }
}

/// Catching one member up to where it joined: from the ledger its tenant configured it
/// at (`watch_from`), with `getEvents` filtered to its address; what RPC no longer
/// keeps, from Horizon (or recorded as a gap).
struct CatchUp {
    state: AppState,
    spec: RpcSpec,
    key: String,
    session: Session,
    reader: Reader,
    account: String,
    member: Member,
    joined_at: String,
}

impl CatchUp {
    async fn run_until_done(self) {
        let mut backoff = Duration::from_millis(500);
        loop {
            match self.run().await {
                Ok(()) => return,
                Err(e) => tracing::warn!(
                    tenant = %self.member.tenant_id, account = %self.account, error = %e,
                    "catching up an account's payments from RPC failed; will retry"
                ),
            }
            sleep_or_cancel(&self.session.token, backoff).await;
            if self.session.token.is_cancelled() {
                return;
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    // A tenant moved from Horizon to RPC while live is caught up here from `watch_from`:
    // a payment Horizon already applied comes again under its event id and is stored
    // as unmatched (its transaction no longer waits). Horizon's operation id is the RPC
    // position's TOID + 1 (1-based operation index), so the account's Horizon cursor
    // could bound this catch-up; not done yet (README: switch sources before go-live).
    async fn run(&self) -> Result<(), WatchError> {
        let (state, rpc, url) = (&self.state, &self.state.rpc, self.spec.url.as_str());
        let joined = position_of(&self.joined_at)?;
        let since = self.member.watch_from - CLOCK_SKEW;
        let start = match ledger_at(state, url, since.timestamp()).await? {
            At::Ledger(l) => l,
            At::BeforeOldest { oldest, oldest_close } => {
                self.before_window(since, oldest, oldest_close).await?;
                oldest
            }
        };
        let topics =
            events::movement_topics(Some(&self.account)).map_err(|e| WatchError::Cursor(e.to_string()))?;
        let fence = self.session.fence();
        let mut from = EventPosition::ledger_start(start).to_string();
        while position_of(&from)? < joined {
            let page = rpc.events(url, Start::After(&from), &topics, PAGE).await?;
            let full = page.events.len() == PAGE as usize;
            let mut observed = Vec::new();
            for ev in page.events.iter().filter(|e| EventPosition::parse(&e.id).is_some_and(|p| p <= joined))
            {
                if let Some(p) = self.reader.payment(ev, |to| to == self.account) {
                    observed.push(p);
                }
            }
            if !observed.is_empty() {
                let tenant = state.tenants.by_id(self.member.tenant_id).ok_or(WatchError::TenantGone)?;
                let outcomes =
                    payments::apply_observed(&state.db, &tenant, &self.account, &observed, &fence).await?;
                observe(&tenant.id_text, &observed, &outcomes);
            }
            let next = if !page.cursor.is_empty() {
                page.cursor
            } else if let Some(last) = page.events.last() {
                last.id.clone()
            } else {
                break;
            };
            if position_of(&next)? <= position_of(&from)? || (!full && page.latest_ledger < joined.ledger()) {
                break;
            }
            from = next;
        }
        streams::mark_caught_up(
            &state.db,
            &self.key,
            self.member.tenant_id,
            &self.account,
            &self.joined_at,
            false,
            &fence,
        )
        .await?;
        Ok(())
    }

    /// The tenant's watch starts before the oldest ledger RPC keeps: read that part
    /// from Horizon, or record it as a gap.
    async fn before_window(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        oldest: u32,
        oldest_close: i64,
    ) -> Result<(), WatchError> {
        if let Some(horizon) = &self.spec.horizon {
            let state = &self.state;
            let from = state.horizon.cursor_before(horizon, &self.account, since, HORIZON_PAGE).await?;
            let read = HorizonRange {
                state,
                horizon,
                reader: &self.reader,
                session: &self.session,
                tenant_id: self.member.tenant_id,
                account: &self.account,
            };
            return read.apply(&from, EventPosition::ledger_start(oldest).toid).await;
        }
        // About one ledger every 5 seconds: where the watch would have started.
        let missed = ((oldest_close - since.timestamp()).max(0) / 5) as u32;
        let from = oldest.saturating_sub(missed).max(1);
        if from < oldest {
            let fence = self.session.fence();
            ledger::record_gap(
                &self.state.db,
                &self.key,
                &[(self.member.tenant_id, &self.account)],
                from,
                oldest - 1,
                &fence,
            )
            .await?;
            tracing::error!(
                tenant = %self.member.tenant_id, account = %self.account, from, to = oldest - 1,
                "a first watch starts before the oldest ledger RPC keeps and no Horizon is configured: a gap"
            );
        }
        Ok(())
    }
}

enum At {
    Ledger(u32),
    BeforeOldest { oldest: u32, oldest_close: i64 },
}

/// The first ledger that closed at or after `time` (unix seconds), by binary search
/// over `getLedgers` within the window RPC keeps.
async fn ledger_at(state: &AppState, url: &str, time: i64) -> Result<At, WatchError> {
    let rpc = &state.rpc;
    let probe = |seq: u32| async move {
        let page = rpc.ledgers(url, seq, 1).await?;
        Ok::<_, WatchError>(page)
    };
    let first = match rpc.ledgers(url, 1, 1).await {
        Ok(p) => p,
        Err(RpcError::OutOfRange { oldest, .. }) => probe(oldest).await?,
        Err(e) => return Err(e.into()),
    };
    let (oldest, latest) = (first.oldest_ledger.max(1), first.latest_ledger);
    let oldest_close =
        probe(oldest).await?.ledgers.first().map_or(first.oldest_ledger_close_time, |l| l.ledger_close_time);
    if time < oldest_close {
        return Ok(At::BeforeOldest { oldest, oldest_close });
    }
    let (mut lo, mut hi) = (oldest, latest);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let closed = probe(mid).await?.ledgers.first().map_or(i64::MAX, |l| l.ledger_close_time);
        if closed < time { lo = mid + 1 } else { hi = mid }
    }
    Ok(At::Ledger(lo))
}
