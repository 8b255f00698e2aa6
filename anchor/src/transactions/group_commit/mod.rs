//! Group commit for new transactions: the `POST /transactions` that arrive together
//! share one database transaction — one `BEGIN`, one multi-row insert of the
//! transactions, one of their `created` events, one `COMMIT` — instead of a
//! transaction each. On a busy write path the database's cost is per statement and per
//! commit far more than per row, so this is where `POST /transactions` spends least.
//!
//! What each request still gets, exactly as alone:
//! - its row and its event (and its webhook outbox rows) commit together or not at all,
//!   and it is answered only after the commit;
//! - a unique key taken (the memo, or the `Idempotency-Key` of a concurrent retry) is
//!   that request's answer only: the insert skips the row (`ON CONFLICT DO NOTHING`)
//!   and the request goes on alone, as it did before (replay, or a new memo);
//! - any other failure of a shared transaction is retried one request at a time, so no
//!   request fails for another's fault.
//!
//! Batches form by themselves: a worker takes whatever is waiting when it is free (up
//! to [`MAX_BATCH`]), so an idle server commits each request at once and a busy one
//! commits many per round trip. Nothing waits on a timer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use mooring_entities::{begin_write, transaction, transaction_event};
use mooring_stellar::sep31::Status;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, EntityTrait, TryIntoModel};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::transition::{Hooks, after_event, event_row};
use crate::Actor;

/// The most requests one database transaction carries: with 38 columns a row, 64 rows
/// stay far below both backends' bound on bind parameters, and a batch's locks are
/// held for a few milliseconds at most.
pub const MAX_BATCH: usize = 64;

/// Requests waiting for a worker; past this, senders wait (back-pressure on the
/// handlers rather than an unbounded queue).
const QUEUE: usize = 1024;

/// What became of one request's row.
pub(super) enum Inserted {
    /// Committed, with its event.
    Row(Box<transaction::Model>),
    /// A unique key of the row was taken: the memo, or the idempotency key (a
    /// concurrent retry won). Nothing of it was written.
    Clash,
}

struct Job {
    /// Created by the sending anchor whose row it is (`sa_account`).
    row: transaction::ActiveModel,
    hooks: Hooks,
    reply: oneshot::Sender<Result<Inserted, DbErr>>,
}

/// The queue new transactions are committed through; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
    batches: Arc<AtomicU64>,
    in_flight: Arc<AtomicUsize>,
}

impl GroupCommit {
    /// Starts the workers on `db`: one on SQLite (it has one writer anyway), two
    /// elsewhere, so one batch is gathered while the other commits (measured on two
    /// cores: one worker makes larger batches but waits on each commit; four or more
    /// make smaller ones and more commits).
    pub fn start(db: DatabaseConnection) -> Self {
        let workers = if db.get_database_backend() == DbBackend::Sqlite { 1 } else { 2 };
        Self::with_workers(db, workers)
    }

    pub fn with_workers(db: DatabaseConnection, workers: usize) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let waiting = Arc::new(Mutex::new(waiting));
        let batches = Arc::new(AtomicU64::new(0));
        for _ in 0..workers.max(1) {
            tokio::spawn(work(db.clone(), waiting.clone(), batches.clone()));
        }
        Self { queue, batches, in_flight: Default::default() }
    }

    /// Requests handed in and not answered yet: waiting for a worker, or in a batch
    /// being committed.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Database transactions begun for new transactions since the start (a batch
    /// retried one by one counts once).
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Inserts `row` (every column set) with its `created` event by its sending anchor,
    /// committed with whatever else is waiting, and answers after the commit.
    pub(super) async fn insert(
        &self,
        row: transaction::ActiveModel,
        hooks: Hooks,
    ) -> Result<Inserted, DbErr> {
        let (reply, answer) = oneshot::channel();
        let gone = || DbErr::Custom("the transaction writer stopped".into());
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let _answered = InFlight(&self.in_flight);
        self.queue.send(Job { row, hooks, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Counts a request out of [`GroupCommit::in_flight`] however it ends (answered, or
/// its request dropped).
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn work(db: DatabaseConnection, waiting: Arc<Mutex<mpsc::Receiver<Job>>>, batches: Arc<AtomicU64>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        // The lock is held only while taking jobs, so the other worker gathers the next
        // batch while this one commits.
        if waiting.lock().await.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return; // every sender is gone
        }
        batches.fetch_add(1, Ordering::Relaxed);
        metrics::histogram!("mooring_transaction_create_batch_size").record(jobs.len() as f64);
        // Every batch takes the idempotency index's entries in the same order, so two
        // batches on PostgreSQL holding each other's keys cannot deadlock (a retry sent
        // twice at once would otherwise stall both for the deadlock timeout). Stable:
        // of two rows with one key, the first to arrive still wins.
        jobs.sort_by(|a, b| idempotency_entry(&a.row).cmp(&idempotency_entry(&b.row)));
        match commit(&db, &jobs).await {
            Ok(inserted) => {
                for job in jobs.drain(..) {
                    let row = inserted.contains(row_id(&job.row)).then_some(job.row);
                    let _ = job.reply.send(outcome(row));
                }
            }
            Err(e) if jobs.len() == 1 => {
                let job = jobs.remove(0);
                let _ = job.reply.send(Err(e));
            }
            Err(e) => {
                tracing::warn!(error = %e, batch = jobs.len(), "a shared insert of new transactions failed; each is retried alone");
                for job in jobs.drain(..) {
                    let result = alone(&db, &job).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// After a failed batch, `job` in a transaction of its own. If its row is there
/// already, under its own id, the batch did commit and only its answer was lost (with
/// the connection, say): that row is this request's.
async fn alone(db: &DatabaseConnection, job: &Job) -> Result<Inserted, DbErr> {
    if !commit(db, std::slice::from_ref(job)).await?.is_empty() {
        return outcome(Some(job.row.clone()));
    }
    match transaction::Entity::find_by_id(*row_id(&job.row)).one(db).await? {
        Some(row) => Ok(Inserted::Row(Box::new(row))),
        None => Ok(Inserted::Clash),
    }
}

fn outcome(inserted: Option<transaction::ActiveModel>) -> Result<Inserted, DbErr> {
    match inserted {
        Some(row) => Ok(Inserted::Row(Box::new(row.try_into_model()?))),
        None => Ok(Inserted::Clash),
    }
}

fn idempotency_entry(row: &transaction::ActiveModel) -> (&Uuid, &str, Option<&str>) {
    (row.tenant_id.as_ref(), row.sa_account.as_ref(), row.idempotency_key.as_ref().as_deref())
}

fn row_id(row: &transaction::ActiveModel) -> &Uuid {
    row.id.as_ref()
}

/// One database transaction for `jobs`: the rows no unique key stops, their events and
/// outbox rows. The ids of the rows inserted.
///
/// (On PostgreSQL, the rows and their events inserted by one statement — a
/// data-modifying `WITH`, one round trip instead of four — was measured and left out:
/// no gain beyond this machine's noise in three paired runs.)
async fn commit(db: &DatabaseConnection, jobs: &[Job]) -> Result<Vec<Uuid>, DbErr> {
    let txn = begin_write(db).await?;
    // No conflict target: any unique index (memo, idempotency key, id) skips the row.
    let inserted: Vec<Uuid> = transaction::Entity::insert_many(jobs.iter().map(|j| j.row.clone()))
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_with_returning_keys(&*txn)
        .await?;
    let created: Vec<(transaction::Model, &Job)> = jobs
        .iter()
        .filter(|j| inserted.contains(row_id(&j.row)))
        .map(|j| Ok((j.row.clone().try_into_model()?, j)))
        .collect::<Result<_, DbErr>>()?;
    let actor = |t: &transaction::Model| Actor::SendingAnchor(t.sa_account.clone());
    if !created.is_empty() {
        transaction_event::Entity::insert_many(
            created.iter().map(|(t, _)| event_row(t, None, Status::PendingSender, &actor(t), None)),
        )
        .exec_without_returning(&*txn)
        .await?;
    }
    for (t, j) in &created {
        after_event(&*txn, t, None, Status::PendingSender, &actor(t), None, j.hooks).await?;
    }
    txn.commit().await?;
    Ok(inserted)
}

#[cfg(test)]
mod tests;
