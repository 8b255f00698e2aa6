//! Batches as they form under load, made deterministic: the test holds the writers back
//! (SQLite's write turn; on PostgreSQL a lock the insert waits for) so the worker waits
//! with its first request while the rest queue up. On SQLite, and on PostgreSQL as well
//! when `MOORING_TEST_DATABASE_URL` is set (as CI does).

use std::time::Duration;

use chrono::{SubsecRound, Utc};
use mooring_entities::{transaction, transaction_event, write_turn};
use mooring_migration::{Migrator, MigratorTrait};
use mooring_stellar::memo::MemoType;
use mooring_stellar::sep31::Status;
use mooring_stellar::{Keypair, Network};
use mooring_tenants::MasterKey;
use mooring_tenants::admin::{NewTenant, create_tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::{GroupCommit, Inserted};
use crate::transactions::transition::Hooks;

struct TestDb {
    db: DatabaseConnection,
    tenant: Uuid,
    /// PostgreSQL: the admin URL and the database made for this test, dropped at the end.
    postgres: Option<(String, String)>,
}

async fn db() -> TestDb {
    let id = Uuid::new_v4().simple().to_string();
    let (url, postgres) = match std::env::var("MOORING_TEST_DATABASE_URL") {
        Ok(admin) => {
            let name = format!("mooring_gc_{id}");
            let conn = Database::connect(admin.as_str()).await.expect("PostgreSQL for tests");
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
            conn.close().await.unwrap();
            let (base, _) = admin.rsplit_once('/').expect("a database URL");
            (format!("{base}/{name}"), Some((admin, name)))
        }
        // A file of its own: the writer gate is per database file.
        Err(_) => {
            let path = std::env::temp_dir().join(format!("mooring-group-commit-{id}.db"));
            (format!("sqlite://{}?mode=rwc", path.display()), None)
        }
    };
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(4).sqlx_logging(false);
    let db = Database::connect(opts).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let tenant = create_tenant(
        &db,
        &MasterKey::generate(),
        NewTenant {
            name: "a".into(),
            domains: vec!["a.example".into()],
            network: Network::testnet(),
            horizon_url: "https://horizon-testnet.stellar.org/".into(),
            distribution_account: Some(Keypair::generate().public_key().to_string()),
            org_name: None,
            org_url: None,
            org_description: None,
        },
    )
    .await
    .unwrap();
    TestDb { db, tenant, postgres }
}

impl TestDb {
    /// One worker, so the batches are the same on both backends.
    fn commits(&self) -> GroupCommit {
        GroupCommit::with_workers(self.db.clone(), 1)
    }

    async fn drop_database(self) {
        self.db.close().await.unwrap();
        if let Some((admin, name)) = self.postgres {
            let conn = Database::connect(admin.as_str()).await.unwrap();
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

/// Holds the writers back until dropped (PostgreSQL: the lock's transaction rolls back).
enum Hold {
    Turn(#[allow(dead_code)] Option<tokio::sync::OwnedSemaphorePermit>),
    Lock(#[allow(dead_code)] sea_orm::DatabaseTransaction),
}

async fn hold(db: &DatabaseConnection) -> Hold {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("LOCK TABLE transactions IN EXCLUSIVE MODE").await.unwrap();
        Hold::Lock(txn)
    } else {
        Hold::Turn(write_turn(db).await.unwrap())
    }
}

/// A new transaction of `tenant`'s (from the unit tests' fixture), with a memo of its
/// own and `key`, at microseconds as stored.
fn row(tenant: Uuid, key: Option<&str>) -> transaction::ActiveModel {
    let now = Utc::now().trunc_subsecs(6);
    transaction::Model {
        tenant_id: tenant,
        sa_account: "GSA".into(),
        stellar_memo: MemoType::Id.generate(),
        idempotency_key: key.map(str::to_string),
        started_at: now,
        updated_at: now,
        expires_at: now,
        ..crate::fixtures::tx(Status::PendingSender, 100)
    }
    .into_active_model()
    .reset_all()
}

/// Sends `rows` in this order while the test holds the write turn; lets the worker go
/// once all but the first (which the worker holds) are queued. Their outcomes, in order.
async fn burst(
    db: &DatabaseConnection,
    commits: &GroupCommit,
    rows: Vec<transaction::ActiveModel>,
) -> Vec<Result<Inserted, sea_orm::DbErr>> {
    let held = hold(db).await;
    let mut sent = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let c = commits.clone();
        sent.push(tokio::spawn(async move { c.insert(row, Hooks::NoneEnabled).await }));
        // In order: the first one is the worker's (it has begun its batch, and waits for
        // the turn) before the next is sent; the others wait in the queue.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while (commits.batches(), commits.in_flight()) != (1, i + 1) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} batches, {} in flight",
                commits.batches(),
                commits.in_flight()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    drop(held);
    let mut out = Vec::new();
    for s in sent {
        out.push(s.await.unwrap());
    }
    out
}

async fn events_of(db: &DatabaseConnection, id: Uuid) -> u64 {
    transaction_event::Entity::find()
        .filter(transaction_event::Column::TransactionId.eq(id))
        .count(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn requests_waiting_together_share_one_commit_each_with_its_event() {
    let t = db().await;
    let (db, tenant, commits) = (&t.db, t.tenant, t.commits());
    let rows: Vec<_> = (0..6).map(|_| row(tenant, None)).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| *r.id.as_ref()).collect();
    let out = burst(db, &commits, rows).await;
    for (out, id) in out.into_iter().zip(&ids) {
        let Ok(Inserted::Row(t)) = out else { panic!("not inserted") };
        assert_eq!(t.id, *id);
        assert_eq!(
            *t,
            transaction::Entity::find_by_id(*id).one(db).await.unwrap().unwrap(),
            "answered as stored"
        );
        let events = transaction_event::Entity::find()
            .filter(transaction_event::Column::TransactionId.eq(*id))
            .all(db)
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].tenant_id, events[0].from_status, events[0].to_status),
            (tenant, None, Status::PendingSender)
        );
        assert_eq!(events[0].actor, "sending_anchor:GSA", "by the sending anchor whose transaction it is");
    }
    // The first alone (the worker held it while the test had the turn), the other five together.
    assert_eq!(commits.batches(), 2);
    t.drop_database().await;
}

#[tokio::test]
async fn a_taken_key_skips_only_its_own_row() {
    let t = db().await;
    let (db, tenant, commits) = (&t.db, t.tenant, t.commits());
    let rows = vec![row(tenant, None), row(tenant, Some("k")), row(tenant, Some("k")), row(tenant, None)];
    let ids: Vec<Uuid> = rows.iter().map(|r| *r.id.as_ref()).collect();
    let out = burst(db, &commits, rows).await;
    assert!(matches!(out[0], Ok(Inserted::Row(_))));
    assert!(matches!(out[1], Ok(Inserted::Row(_))), "the first with the key wins");
    assert!(matches!(out[2], Ok(Inserted::Clash)), "the second with it is skipped");
    assert!(matches!(out[3], Ok(Inserted::Row(_))), "and the rest of the batch is not");
    assert!(transaction::Entity::find_by_id(ids[2]).one(db).await.unwrap().is_none());
    assert_eq!(events_of(db, ids[2]).await, 0, "no event for the skipped row");
    assert_eq!(events_of(db, ids[3]).await, 1);
    assert_eq!(commits.batches(), 2);
    t.drop_database().await;
}

#[tokio::test]
async fn a_failing_row_fails_alone_and_the_others_commit() {
    let t = db().await;
    let (db, tenant, commits) = (&t.db, t.tenant, t.commits());
    // A tenant that does not exist: the foreign key refuses the row, and with it the
    // whole multi-row insert, which is then retried one row at a time.
    let rows = vec![row(tenant, None), row(tenant, None), row(Uuid::new_v4(), None), row(tenant, None)];
    let ids: Vec<Uuid> = rows.iter().map(|r| *r.id.as_ref()).collect();
    let out = burst(db, &commits, rows).await;
    assert!(matches!(out[0], Ok(Inserted::Row(_))));
    assert!(matches!(out[1], Ok(Inserted::Row(_))));
    assert!(out[2].is_err(), "the failing row gets its own error");
    assert!(matches!(out[3], Ok(Inserted::Row(_))));
    assert_eq!(transaction::Entity::find().count(db).await.unwrap(), 3);
    assert_eq!(events_of(db, ids[2]).await, 0);
    for id in [ids[1], ids[3]] {
        assert_eq!(events_of(db, id).await, 1);
    }
    t.drop_database().await;
}
