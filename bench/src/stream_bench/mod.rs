//! The shared payments stream at platform scale: TENANTS tenants on one Horizon
//! stand-in that plays the network's payments feed — PAYMENTS operations, one in
//! OURS_EVERY paying an open transaction of one of PAYING tenants, the rest other
//! people's traffic — at RATE operations per second over Server-Sent Events (or, with
//! `--via pages`, all at once as catch-up pages after downtime). Reports how long the
//! tenants took to join, records/s and matched/s, end-to-end lag (ledger close → the
//! payment applied) p50/p99, Horizon stream connections, and resident memory.
//!
//! `--own-streams` runs the same with shared streams off (one stream per account) to
//! compare.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use mooring_anchor::Owner;
use mooring_entities::{payment, stream_cursor, stream_member};
use mooring_server::{CancellationToken, Config};
use mooring_stellar::Keypair;
use mooring_tenants::{Directory, MasterKey};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::watcher_bench::Via;

mod network;

use network::{BASE, Network, Op, account_feed, network_feed};

#[derive(clap::Args)]
pub struct Args {
    /// `sqlite://FILE?mode=rwc`, or a PostgreSQL URL whose user may create databases.
    #[arg(long)]
    pub database_url: String,
    #[arg(long, default_value_t = 10_000)]
    pub tenants: usize,
    /// How many tenants the matching payments are spread over.
    #[arg(long, default_value_t = 1_000)]
    pub paying: usize,
    #[arg(long, default_value_t = 200_000)]
    pub payments: usize,
    /// One operation in this many pays an open transaction.
    #[arg(long, default_value_t = 10)]
    pub ours_every: usize,
    /// Operations per second the network closes (streamed).
    #[arg(long, default_value_t = 5_000)]
    pub rate: u32,
    #[arg(long, value_enum, default_value = "stream")]
    pub via: Via,
    /// One stream per account instead (shared streams off), to compare.
    #[arg(long)]
    pub own_streams: bool,
    /// Serve metrics and print the watcher's and outbox's series at the end.
    #[arg(long)]
    pub metrics: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.database_url.starts_with("postgres") {
        let name = format!("mooring_stream_bench_{}", std::process::id());
        let admin = mooring_server::connect_db(&args.database_url).await?;
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
        let mut url = url::Url::parse(&args.database_url)?;
        url.set_path(&format!("/{name}"));
        let result = bench(url.as_str(), &args).await;
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
        result
    } else {
        bench(&args.database_url, &args).await
    }
}

async fn bench(database_url: &str, args: &Args) -> anyhow::Result<()> {
    let db = mooring_server::connect_db(database_url).await?;
    mooring_server::migrate(&db).await?;
    let key = MasterKey::generate();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let horizon_url = format!("http://{}", listener.local_addr()?);

    let setup = Instant::now();
    let mut tenants = Vec::with_capacity(args.tenants);
    for n in 0..args.tenants {
        tenants.push(crate::config_bench::onboard_with(&db, &key, n, &horizon_url, false).await?);
    }
    let onboarded = setup.elapsed();
    let dir = Directory::load(db.clone(), key.clone()).await?;
    let paying = args.paying.min(args.tenants);
    let ours = args.payments / args.ours_every;
    let per_tenant = ours.div_ceil(paying);
    let mut memos: Vec<Vec<String>> = Vec::with_capacity(paying);
    let mut accounts = Vec::with_capacity(args.tenants);
    for (n, id) in tenants.iter().enumerate() {
        let tenant = dir.by_id(*id).expect("onboarded");
        let asset = &tenant.assets[0];
        accounts.push((tenant.distribution_account.clone(), asset.issuer.clone(), Vec::new()));
        if n >= paying {
            continue;
        }
        let owner =
            Owner { tenant_id: *id, sa_account: Keypair::generate().public_key().to_string(), memo: None };
        let mut mine = Vec::with_capacity(per_tenant);
        for _ in 0..per_tenant {
            mine.push(crate::watcher_bench::open_transaction(&db, &tenant, &owner).await?);
        }
        memos.push(mine);
    }
    let mut ops = Vec::with_capacity(args.payments);
    let mut k = 0usize;
    for i in 0..args.payments {
        if i % args.ours_every == 0 && k < paying * per_tenant {
            let t = k % paying;
            let memo = memos[t][k / paying].clone();
            accounts[t].2.push(i);
            ops.push(Op { tenant: Some(t as u32), memo });
            k += 1;
        } else {
            ops.push(Op { tenant: None, memo: String::new() });
        }
    }
    let expected = k as u64;
    println!(
        "setup: {} tenants onboarded in {:.1} s; {expected} open transactions over {paying} tenants; {} operations to play ({:.1} s in all)",
        args.tenants,
        onboarded.as_secs_f64(),
        args.payments,
        setup.elapsed().as_secs_f64()
    );
    drop(dir);

    let by_account = accounts.iter().enumerate().map(|(i, (a, _, _))| (a.clone(), i)).collect();
    let closed_at = (0..args.payments).map(|_| AtomicI64::new(0)).collect();
    let net = Arc::new(Network {
        ops,
        accounts,
        emitted: AtomicUsize::new(0),
        closed_at,
        tick: tokio::sync::watch::channel(()).0,
        stream_connects: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/payments", axum::routing::get(network_feed))
        .route("/accounts/{id}/payments", axum::routing::get(account_feed))
        .with_state((net.clone(), Arc::new(by_account)));
    tokio::spawn(async move { axum::serve(listener, app).await });

    if matches!(args.via, Via::Pages) {
        // Downtime: everything closed before the server starts, which resumes from a
        // stored position before all of it with its members caught up.
        let now = chrono::Utc::now().timestamp_millis();
        for c in &net.closed_at {
            c.store(now, Ordering::Relaxed);
        }
        net.emitted.store(args.payments, Ordering::Release);
        let at = BASE.to_string();
        seed_joined(&db, &horizon_url, &tenants, &net, &at).await?;
    }

    let rss_before = crate::config_bench::rss_kib();
    let cfg = Config {
        database_url: database_url.to_string(),
        master_key: Some(key.to_base64()),
        horizon_testnet_url: horizon_url.clone(),
        watch_shared: !args.own_streams,
        config_poll_ms: std::time::Duration::from_millis(100),
        metrics_bind: args.metrics.then(|| "127.0.0.1:0".parse().expect("an address")),
        ..Config::default()
    };
    let started = Instant::now();
    let server = mooring_server::start(
        cfg,
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        CancellationToken::new(),
    )
    .await?;
    if matches!(args.via, Via::Stream) && !args.own_streams {
        let want = args.tenants as u64;
        loop {
            let caught_up = stream_member::Entity::find()
                .filter(stream_member::Column::CaughtUp.eq(true))
                .count(&db)
                .await?;
            if caught_up >= want {
                break;
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "{caught_up} of {want} joined");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "join: {} tenants joined the shared stream and caught up in {:.2} s",
            args.tenants,
            started.elapsed().as_secs_f64()
        );
    } else if matches!(args.via, Via::Stream) {
        // Give every account's stream a moment to connect.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }

    let played = Instant::now();
    if matches!(args.via, Via::Stream) {
        let net = net.clone();
        let (rate, total) = (args.rate as usize, args.payments);
        tokio::spawn(async move {
            let t0 = Instant::now();
            let mut interval = tokio::time::interval(Duration::from_millis(10));
            loop {
                interval.tick().await;
                let due = ((t0.elapsed().as_secs_f64() * rate as f64) as usize).min(total);
                let from = net.emitted.load(Ordering::Relaxed);
                if due > from {
                    let now = chrono::Utc::now().timestamp_millis();
                    for c in &net.closed_at[from..due] {
                        c.store(now, Ordering::Relaxed);
                    }
                    net.emitted.store(due, Ordering::Release);
                    net.tick.send_replace(());
                }
                if due == total {
                    return;
                }
            }
        });
    }
    let last = (BASE + args.payments as u64).to_string();
    let mut peak_rss = 0;
    loop {
        peak_rss = peak_rss.max(crate::config_bench::rss_kib());
        let stored = payment::Entity::find().count(&db).await?;
        let done = if args.own_streams {
            stored >= expected
        } else {
            let position = stream_cursor::Entity::find_by_id(horizon_url.clone()).one(&db).await?;
            stored >= expected && position.is_some_and(|p| p.cursor == last)
        };
        if done {
            break;
        }
        anyhow::ensure!(
            played.elapsed() < Duration::from_secs(900),
            "only {stored} of {expected} after 15 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = played.elapsed();
    let rows = payment::Entity::find().all(&db).await?;
    let mut lags: Vec<i64> = rows
        .iter()
        .filter_map(|p| {
            let closed = chrono::DateTime::parse_from_rfc3339(&p.ledger_time).ok()?;
            Some((p.observed_at - closed.with_timezone(&chrono::Utc)).num_milliseconds())
        })
        .collect();
    lags.sort();
    let pct =
        |p: usize| lags.get((lags.len() * p / 100).min(lags.len().saturating_sub(1))).copied().unwrap_or(0);
    let matched = mooring_entities::transaction::Entity::find()
        .filter(mooring_entities::transaction::Column::Status.eq("pending_receiver"))
        .count(&db)
        .await?;
    if let Some(addr) = server.metrics_addr {
        let text = reqwest::get(format!("http://{addr}/metrics")).await?.text().await?;
        let wanted = ["mooring_stream_", "mooring_watcher_leases", "mooring_outbox_", "mooring_db_pool"];
        for line in text.lines().filter(|l| wanted.iter().any(|w| l.starts_with(w))) {
            println!("  {line}");
        }
    }
    server.stop().await?;
    let mode = if args.own_streams { "one stream per account" } else { "shared stream" };
    println!(
        "{mode} ({:?}): {} network operations in {:.2} s = {:.0} records/s; {matched} of {expected} matched = {:.0} matched/s",
        args.via,
        args.payments,
        elapsed.as_secs_f64(),
        args.payments as f64 / elapsed.as_secs_f64(),
        matched as f64 / elapsed.as_secs_f64(),
    );
    if matches!(args.via, Via::Stream) {
        println!(
            "offered {} operations/s; lag ledger close → applied: p50 {} ms, p99 {} ms, max {} ms",
            args.rate,
            pct(50),
            pct(99),
            pct(100)
        );
    }
    println!(
        "Horizon stream connections: {}; RSS {:.0} MB before the server started, peak {:.0} MB ({:.1} KB per tenant above it)",
        net.stream_connects.load(Ordering::Relaxed),
        rss_before as f64 / 1024.0,
        peak_rss as f64 / 1024.0,
        (peak_rss.saturating_sub(rss_before)) as f64 / args.tenants as f64
    );
    anyhow::ensure!(matched == expected, "every open transaction paid should be matched");
    Ok(())
}

/// Members already joined at `at` and caught up, as a stream leaves them when it stops.
async fn seed_joined(
    db: &sea_orm::DatabaseConnection,
    stream: &str,
    tenants: &[Uuid],
    net: &Network,
    at: &str,
) -> anyhow::Result<()> {
    use sea_orm::Set;
    stream_cursor::Entity::insert(stream_cursor::ActiveModel {
        stream: Set(stream.to_string()),
        cursor: Set(at.to_string()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    let rows: Vec<_> = tenants
        .iter()
        .zip(&net.accounts)
        .map(|(id, (account, _, _))| stream_member::ActiveModel {
            tenant_id: Set(*id),
            account: Set(account.clone()),
            stream: Set(stream.to_string()),
            joined_at: Set(at.to_string()),
            caught_up: Set(true),
            updated_at: Set(chrono::Utc::now()),
        })
        .collect();
    for chunk in rows.chunks(500) {
        stream_member::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}
