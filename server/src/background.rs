//! The background jobs `start` launches besides the watcher and the outbox: sealing
//! legacy PII, purging what offboarded tenants left, and keeping every replica's
//! tenant snapshot current (config bus or polling).

use std::time::Duration;

use crate::state::AppState;
use crate::tasks;
use tokio_util::sync::CancellationToken;

/// Seals customer fields written before PII encryption, in the background (every
/// replica may: rows are compare-and-set, and sealed ones are skipped).
pub(crate) fn spawn_pii_sealing(state: &AppState) {
    let (db, tenants) = (state.db.clone(), state.tenants.clone());
    state.tasks.spawn(async move {
        let key_of = |id| tenants.by_id(id).map(|t| t.data_key.clone());
        match mooring_anchor::customers::seal_plaintext(&db, key_of).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(fields = n, "sealed plaintext customer fields"),
            Err(e) => {
                tracing::warn!(error = %e, "sealing plaintext customer fields failed; the next start retries")
            }
        }
        match mooring_anchor::sealed::seal_plaintext(&db, key_of).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(values = n, "sealed plaintext transaction fields and callback URLs"),
            Err(e) => tracing::warn!(error = %e, "sealing transaction fields and callback URLs failed; the next start retries"),
        }
    });
}

/// How long a quote nobody used is kept after it expired (a sending anchor may still
/// look it up for a while).
const UNUSED_QUOTE_RETENTION_DAYS: i64 = 7;

/// Deletes what is left of offboarded tenants, a bounded batch at a time, audit rows
/// past their retention, and unused quotes long expired.
pub(crate) fn spawn_offboarding_purge(state: &AppState, shutdown: CancellationToken) {
    let (db, period) = (state.db.clone(), state.cfg.offboarding_purge_ms);
    let retention = state.cfg.audit_retention_days;
    let stop = shutdown.clone();
    tasks::every(&state.tasks, period, tasks::First::AfterPeriod, shutdown, move || {
        let (db, shutdown) = (db.clone(), stop.clone());
        async move {
            // Unused quotes a week past expiry, and audit retention, ride on the same clock.
            let week_ago = chrono::Utc::now() - chrono::Duration::days(UNUSED_QUOTE_RETENTION_DAYS);
            match mooring_anchor::quotes::purge_unused(&db, week_ago, 1_000).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(quotes = n, "unused expired quotes deleted"),
                Err(e) => tracing::warn!(error = %e, "purging unused quotes failed; will retry"),
            }
            match mooring_tenants::audit::purge(&db, chrono::Duration::days(i64::from(retention))).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "audit rows past retention deleted"),
                Err(e) => tracing::warn!(error = %e, "audit retention failed; will retry"),
            }
            loop {
                match mooring_anchor::offboarding::purge_deleted(&db, 500).await {
                    Ok(0) => break,
                    Ok(_) if shutdown.is_cancelled() => return,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "deleting an offboarded tenant's rows failed; will retry");
                        break;
                    }
                }
            }
        }
    });
}

/// With Redis, a replica that changes tenant config says so on a channel and every
/// other replica reloads at once; the version poll below stays as the safety net (a
/// missed message costs at most one poll interval).
pub(crate) fn spawn_config_bus(state: &AppState, client: redis::Client, shutdown: CancellationToken) {
    let channel = state.redis_key(&["config"]);
    let me = state.instance_id.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    state.tenants.set_change_hook(Box::new(move || {
        let _ = tx.send(());
    }));
    if let Some(conn) = state.redis.clone() {
        let (channel, me, stop) = (channel.clone(), me.clone(), shutdown.clone());
        state.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    msg = rx.recv() => if msg.is_none() { return },
                }
                let mut conn = conn.clone();
                let sent: Result<i64, _> =
                    redis::cmd("PUBLISH").arg(&channel).arg(&me).query_async(&mut conn).await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "config change not published; replicas will poll it");
                }
            }
        });
    }
    let tenants = state.tenants.clone();
    let subscribed_flag = state.config_push_live.clone();
    state.tasks.spawn(async move {
        use futures::StreamExt;
        loop {
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                redis::RedisResult::Ok(pubsub)
            };
            let mut pubsub = tokio::select! {
                () = shutdown.cancelled() => return,
                p = subscribed => match p {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "config channel unavailable; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                },
            };
            let mut messages = pubsub.on_message();
            subscribed_flag.store(true, std::sync::atomic::Ordering::Relaxed);
            loop {
                let msg = tokio::select! {
                    () = shutdown.cancelled() => return,
                    m = messages.next() => m,
                };
                let Some(msg) = msg else {
                    // Changes published until we are back are caught by the poll.
                    subscribed_flag.store(false, std::sync::atomic::Ordering::Relaxed);
                    break;
                };
                if msg.get_payload::<String>().is_ok_and(|from| from == me) {
                    continue;
                }
                if let Err(e) = tenants.refresh().await {
                    tracing::warn!(error = %e, "tenant config reload failed");
                }
            }
        }
    });
}

/// Every replica polls the tenant config version (one primary-key read) and reloads
/// its cache when it moved, so a change made anywhere is served everywhere within
/// `config_poll_ms`, while requests themselves never touch the database for it.
pub(crate) fn spawn_config_watcher(state: &AppState, shutdown: CancellationToken) {
    let tenants = state.tenants.clone();
    let period = state.cfg.config_poll_ms;
    tasks::every(&state.tasks, period, tasks::First::Now, shutdown, move || {
        let tenants = tenants.clone();
        async move {
            match tenants.refresh().await {
                Ok(true) => ::metrics::counter!("mooring_config_reloads_total").increment(1),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "tenant config refresh failed; serving the cached config")
                }
            }
        }
    });
}
