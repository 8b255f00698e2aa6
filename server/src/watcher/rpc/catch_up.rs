//! Catching one joining member up to where it joined: RPC's window first, and
//! Horizon for what RPC no longer keeps.

use mooring_anchor::payments::{self};
use mooring_anchor::{ledger, streams};
use mooring_stellar::events::{self, EventPosition};
use uuid::Uuid;

use super::super::held::Session;
use super::super::resets::with_epoch;
use super::super::roster::Member;
use super::super::roster::retry_until_done;
use super::super::{CLOCK_SKEW, WatchError, observe};
use super::{HORIZON_PAGE, PAGE, Reader, RpcSpec, position_of};
use crate::horizon::{Feed, token_after};
use crate::rpc::{RpcError, Start};
use crate::state::AppState;

/// One account's payments read from Horizon between two operation ids: what RPC no
/// longer keeps.
pub(super) struct HorizonRange<'a> {
    pub(super) state: &'a AppState,
    pub(super) horizon: &'a str,
    pub(super) reader: &'a Reader,
    pub(super) session: &'a Session,
    pub(super) tenant_id: Uuid,
    pub(super) account: &'a str,
}

impl HorizonRange<'_> {
    /// Applies the account's payments after `from_token`, before operation `until`.
    pub(super) async fn apply(&self, from_token: &str, until: i64) -> Result<(), WatchError> {
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
                let mut observed = super::super::payments_in(&before)?;
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
pub(super) struct CatchUp {
    pub(super) state: AppState,
    pub(super) spec: RpcSpec,
    pub(super) key: String,
    pub(super) session: Session,
    pub(super) reader: Reader,
    pub(super) account: String,
    pub(super) member: Member,
    pub(super) joined_at: String,
}

impl CatchUp {
    pub(super) async fn run_until_done(self) {
        retry_until_done(&self.session, self.member, &self.account, "RPC", || self.run()).await;
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

pub(super) enum At {
    Ledger(u32),
    BeforeOldest { oldest: u32, oldest_close: i64 },
}

/// The first ledger that closed at or after `time` (unix seconds), by binary search
/// over `getLedgers` within the window RPC keeps.
pub(super) async fn ledger_at(state: &AppState, url: &str, time: i64) -> Result<At, WatchError> {
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
