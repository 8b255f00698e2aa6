//! Catching one member of the shared stream up from its own feed, from where its
//! tenant configured it to where it joined the stream.

use mooring_anchor::payments::{self};
use mooring_anchor::streams;

use super::super::held::Session;
use super::super::resets::with_epoch;
use super::super::roster::Member;
use super::super::roster::retry_until_done;
use super::super::{CLOCK_SKEW, PAGE, WatchError, observe};
use crate::horizon::{Feed, PaymentRecord, token_after};
use crate::state::AppState;

/// Catching one member up from its own feed to where it joined the stream.
pub(super) struct CatchUp {
    pub(super) state: AppState,
    pub(super) url: String,
    pub(super) session: Session,
    pub(super) account: String,
    pub(super) member: Member,
    pub(super) joined_at: String,
    pub(super) epoch: i32,
}

impl CatchUp {
    pub(super) async fn run_until_done(self) {
        retry_until_done(&self.session, self.member, &self.account, "its own feed", || self.run()).await;
    }

    async fn run(&self) -> Result<(), WatchError> {
        let (state, account, tenant_id) = (&self.state, self.account.as_str(), self.member.tenant_id);
        let mut cursor = match payments::cursor(&state.db, tenant_id, account).await? {
            Some(c) => c,
            None => {
                let since = self.member.watch_from - CLOCK_SKEW;
                let start = state.horizon.cursor_before(&self.url, account, since, PAGE).await?;
                payments::init_cursor(&state.db, tenant_id, account, &start).await?;
                start
            }
        };
        let fence = self.session.fence();
        while token_after(&self.joined_at, &cursor) {
            let Some(page) =
                state.horizon.payments_page(&self.url, Feed::Account(account), Some(&cursor), PAGE).await?
            else {
                break; // not on the ledger: it has received nothing
            };
            let full = page.len() == PAGE as usize;
            let fetched = page.len();
            // Operations after the join are the stream's.
            let before: Vec<PaymentRecord> =
                page.into_iter().take_while(|r| !token_after(&r.paging_token, &self.joined_at)).collect();
            let done = before.len() < fetched || !full;
            if !before.is_empty() {
                let tenant = state.tenants.by_id(tenant_id).ok_or(WatchError::TenantGone)?;
                let mut observed = super::super::payments_in(&before)?;
                for p in &mut observed {
                    p.operation_id = with_epoch(&p.operation_id, self.epoch);
                }
                let last = before.last().map(|r| r.paging_token.clone()).unwrap_or(cursor);
                let outcomes =
                    payments::apply_batch(&state.db, &tenant, account, &observed, &last, &fence).await?;
                observe(&tenant.id_text, &observed, &outcomes);
                cursor = last;
            }
            if done {
                break;
            }
        }
        streams::mark_caught_up(&state.db, &self.url, tenant_id, account, &self.joined_at, true, &fence)
            .await?;
        Ok(())
    }
}
