//! Periodic background work: one loop shape for every "do this every so often until
//! shutdown" job, on the server's task tracker (stopping the server waits for a job
//! that is running, never for one that is sleeping).

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// When the first run happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum First {
    /// At once, then every `period`.
    Now,
    /// After one `period`.
    AfterPeriod,
}

/// Runs `job` every `period` (after it finished: runs never overlap) until `shutdown`.
pub fn every<F, Fut>(
    tasks: &TaskTracker,
    period: Duration,
    first: First,
    shutdown: CancellationToken,
    mut job: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tasks.spawn(async move {
        if first == First::Now {
            job().await;
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            job().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits for events, not time: three runs are reported, and after the shutdown the
    /// tracker drains (the loop returned).
    #[tokio::test]
    async fn runs_every_period_and_ends_at_shutdown() {
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        every(&tasks, Duration::from_millis(5), First::Now, stop.clone(), move || {
            let tx = tx.clone();
            async move {
                let _ = tx.send(());
            }
        });
        for _ in 0..3 {
            let ran = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
            assert!(matches!(ran, Ok(Some(()))), "the job ran");
        }
        stop.cancel();
        tasks.close();
        let drained = tokio::time::timeout(Duration::from_secs(5), tasks.wait()).await;
        assert!(drained.is_ok(), "the loop ended at shutdown");
    }
}
