//! The expiry sweep: unpaid transactions past their deadline become `expired`.

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::tasks::{First, every};

/// Moves unpaid transactions past their deadline to `expired`.
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let period = state.cfg.expiry_sweep_ms;
    let tasks = state.tasks.clone();
    every(&tasks, period, First::AfterPeriod, shutdown, move || {
        let state = state.clone();
        async move {
            match mooring_anchor::transactions::expire_due(&state.db, 500).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "expired unpaid transactions"),
                Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
            }
        }
    });
}
