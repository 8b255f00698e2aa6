//! One account's own payments feed: the watch of a tenant an operator gave its own
//! Horizon (or of every tenant, with shared streams off).
//!
//! Catch up by paging from the stored cursor, then stream (SSE) from there; on any
//! error `held` starts over from the stored cursor, so nothing is missed and nothing
//! applied twice (payments are unique per tenant, account and operation). Without
//! streaming, poll instead.

use futures::StreamExt;
use mooring_anchor::payments;
use tokio_util::sync::CancellationToken;

use super::held::{self, Session, sleep_or_cancel};
use super::{CLOCK_SKEW, PAGE, Spec, WatchError, next_batch, observe};
use crate::horizon::{Feed, HorizonError, PaymentRecord};
use crate::state::AppState;

/// Watches one account until `token` is cancelled.
pub(super) async fn run(state: AppState, spec: Spec, token: CancellationToken) {
    let key = format!("watch:{}:{}", spec.tenant_id, spec.account);
    held::run(state.clone(), key, "account", token, move |session| {
        let (state, spec) = (state.clone(), spec.clone());
        Box::pin(async move { follow(&state, &spec, &session).await })
    })
    .await
}

/// Catch up, then stream, until an error or cancellation.
async fn follow(state: &AppState, spec: &Spec, session: &Session) -> Result<(), WatchError> {
    let horizon = &state.horizon;
    let feed = Feed::Account(&spec.account);
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

    loop {
        // Catch up by paging.
        loop {
            if session.token.is_cancelled() {
                return Ok(());
            }
            let page = horizon
                .payments_page(&spec.horizon_url, feed, Some(&cursor), PAGE)
                .await?
                .ok_or(HorizonError::Status(404))?;
            session.answered();
            let full = page.len() == PAGE as usize;
            if let Some(last) = apply(state, spec, session, page).await? {
                cursor = last;
            }
            if !full {
                break;
            }
        }
        // Then stream; fall back to polling where Horizon does not stream.
        let stream = match horizon.payments_stream(&spec.horizon_url, feed, &cursor).await {
            Ok(s) => s,
            Err(HorizonError::NoStreaming) => {
                sleep_or_cancel(&session.token, state.cfg.watch_poll_ms).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut chunks = Box::pin(stream.ready_chunks(super::STREAM_BATCH));
        loop {
            let first = tokio::select! {
                () = session.token.cancelled() => return Ok(()),
                next = chunks.next() => next,
            };
            let Some((records, ended)) = next_batch(first, &mut chunks).await else {
                return Err(WatchError::StreamEnded);
            };
            let records = records?;
            session.answered();
            apply(state, spec, session, records).await?;
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
    session: &Session,
    records: Vec<PaymentRecord>,
) -> Result<Option<String>, WatchError> {
    let tenant = state.tenants.by_id(spec.tenant_id).ok_or(WatchError::TenantGone)?;
    let Some(cursor) = records.last().map(|r| r.paging_token.clone()) else { return Ok(None) };
    let observed = super::payments_in(&records)?;
    let outcomes =
        payments::apply_batch(&state.db, &tenant, &spec.account, &observed, &cursor, &session.fence())
            .await?;
    observe(&tenant.id_text, &observed, &outcomes);
    if let Some(lag) = super::lag_seconds(observed.last().map(|p| p.ledger_time.as_str())) {
        let tenant = metrics::SharedString::from_shared(tenant.id_text.clone());
        metrics::gauge!("mooring_watcher_lag_seconds", "tenant" => tenant).set(lag);
    }
    Ok(Some(cursor))
}
