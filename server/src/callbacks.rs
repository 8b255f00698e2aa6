//! Delivers queued callbacks (SEP-31 transaction and SEP-12 customer updates), signed
//! as SEP-31 prescribes: `Signature: t=<unix seconds>, s=<base64 ed25519>` over
//! `"<t>.<host>.<body>"` with the tenant's SIGNING_KEY, signed just before sending.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mooring_anchor::outbox;
use mooring_entities::outbox::Model as Callback;
use mooring_stellar::Keypair;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const BATCH: u64 = 50;

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

async fn deliver(state: &AppState, http: &reqwest::Client, cb: &Callback) -> Result<(), String> {
    let tenant = state.tenants.by_id(cb.tenant_id).ok_or("tenant no longer exists")?;
    let url = url::Url::parse(&cb.url).map_err(|e| e.to_string())?;
    let t = chrono::Utc::now().timestamp();
    let sig = signature(&tenant.signing_key, &url, t, &cb.body);
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("signature", &sig)
        .header("x-stellar-signature", &sig)
        .body(cb.body.clone())
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("receiver answered {}", response.status().as_u16()))
    }
}

/// Runs until `shutdown`: claims due callbacks and delivers them.
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let http = crate::outbound::client(
        Duration::from_secs(10),
        Duration::from_secs(5),
        state.cfg.allow_private_outbound,
    );
    let period = Duration::from_millis(state.cfg.outbox_poll_ms);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let due = match outbox::claim_due(&state.db, BATCH).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "callback outbox unavailable");
                    continue;
                }
            };
            for cb in due {
                let result = match deliver(&state, &http, &cb).await {
                    Ok(()) => outbox::mark_delivered(&state.db, cb.id).await,
                    Err(why) => {
                        tracing::info!(callback = %cb.id, kind = %cb.kind, attempt = cb.attempts + 1, %why, "callback not delivered");
                        outbox::mark_failed(&state.db, &cb, &why).await
                    }
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "recording a callback attempt failed");
                }
            }
        }
    });
}

/// Moves unpaid transactions past their deadline to `expired`.
pub fn spawn_expiry(state: AppState, shutdown: CancellationToken) {
    let period = Duration::from_millis(state.cfg.expiry_sweep_ms);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            match mooring_anchor::transactions::expire_due(&state.db, 500).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "expired unpaid transactions"),
                Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
            }
        }
    });
}
