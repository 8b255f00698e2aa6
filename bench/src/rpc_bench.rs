//! The Stellar RPC follower, measured against the RPC stand-in (real XDR).
//!
//! - `throughput`: 10 tenants, 100 open transactions each, `--payments` transfer
//!   events waiting on the RPC; the real server (in this process) catches up through
//!   its follower. Events applied per second, end to end.
//! - `follow`: a busy network — a ledger every `--ledger-ms` with `--per-ledger`
//!   transfer events, `--ours-percent` of them to tenants — followed by a `mooring`
//!   process of its own, whose CPU is read from `/proc` over `--secs`.

use std::time::{Duration, Instant};

use mooring_anchor::Owner;
use mooring_entities::{payment, stream_cursor, stream_member, transaction};
use mooring_server::{CancellationToken, Config};
use mooring_stellar::{Amount, Keypair, Network};
use mooring_tenants::MasterKey;
use mooring_tenants::admin::{self, NewAsset, NewTenant};
use mooring_tests::rpc_standin::{Addr, Memo, Movement, RpcStandIn};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const TENANTS: usize = 10;
const OPEN_PER_TENANT: usize = 100;
/// The platform Horizon a tenant is created with, so the platform RPC is its source.
const PLATFORM_HORIZON: &str = "https://horizon-testnet.stellar.org";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    Throughput,
    Follow,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    database_url: String,
    #[arg(long, value_enum, default_value = "throughput")]
    mode: Mode,
    /// Throughput: events waiting on the RPC.
    #[arg(long, default_value_t = 100_000)]
    payments: usize,
    /// Follow: how long to measure.
    #[arg(long, default_value_t = 60)]
    secs: u64,
    #[arg(long, default_value_t = 1_000)]
    per_ledger: usize,
    #[arg(long, default_value_t = 5_000)]
    ledger_ms: u64,
    #[arg(long, default_value_t = 1.0)]
    ours_percent: f64,
    /// Follow: the server binary to run.
    #[arg(long, default_value = "target/release/mooring")]
    mooring_bin: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let name = format!("mooring_rpcbench_{}", std::process::id());
    let admin = mooring_server::connect_db(&args.database_url).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
    let mut url = url::Url::parse(&args.database_url)?;
    url.set_path(&format!("/{name}"));
    let result = match args.mode {
        Mode::Throughput => throughput(url.as_str(), &args).await,
        Mode::Follow => follow(url.as_str(), &args).await,
    };
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
    result
}

struct Seeded {
    /// (distribution account, SEP-11 asset, open memos)
    tenants: Vec<(String, String, Vec<String>)>,
}

async fn seed(db: &sea_orm::DatabaseConnection, key: &MasterKey, open: usize) -> anyhow::Result<Seeded> {
    let mut tenants = Vec::new();
    for i in 0..TENANTS {
        let account = Keypair::generate().public_key().to_string();
        let issuer = Keypair::generate().public_key().to_string();
        let id = admin::create_tenant(
            db,
            key,
            NewTenant {
                name: format!("rpc bench {i}"),
                domains: vec![format!("rpcbench{i}.example")],
                network: Network::testnet(),
                horizon_url: PLATFORM_HORIZON.into(),
                distribution_account: Some(account.clone()),
                org_name: None,
                org_url: None,
                org_description: None,
            },
        )
        .await?;
        admin::add_asset(
            db,
            id,
            NewAsset {
                code: "SRT".into(),
                issuer: issuer.clone(),
                status: mooring_tenants::AssetStatus::Test,
                min_amount: None,
                max_amount: None,
                fee_fixed: Amount::ZERO,
                fee_percent: Amount::ZERO,
                memo_type: mooring_tenants::MemoType::Id,
                sender_sep12_type: None,
                receiver_sep12_type: None,
                funding_methods: vec![],
                anchor_asset_type: "fiat".into(),
                description: String::new(),
                display_decimals: 2,
                fields: vec![],
                fee_tiers: vec![],
                quotes_required: false,
            },
        )
        .await?;
        let dir = mooring_tenants::Directory::load(db.clone(), key.clone()).await?;
        let tenant = dir.by_id(id).expect("just created");
        let owner =
            Owner { tenant_id: id, sa_account: Keypair::generate().public_key().to_string(), memo: None };
        let mut memos = Vec::new();
        for _ in 0..open {
            memos.push(crate::watcher_bench::open_transaction(db, &tenant, &owner).await?);
        }
        tenants.push((account, format!("SRT:{issuer}"), memos));
    }
    Ok(Seeded { tenants })
}

fn transfer(to: &str, asset: &str, memo: u64) -> Movement {
    Movement::transfer(
        Addr::Account(Keypair::generate().public_key().to_string()),
        to,
        asset,
        1_000_000_000,
        Memo::Id(memo),
    )
}

/// Someone else's transfer on the network (another account, another asset).
fn foreign(asset: &str, n: u64) -> Movement {
    let to = Keypair::generate().public_key().to_string();
    Movement::transfer(
        Addr::Account(Keypair::generate().public_key().to_string()),
        &to,
        asset,
        1,
        Memo::Id(n),
    )
}

async fn throughput(database_url: &str, args: &Args) -> anyhow::Result<()> {
    let db = mooring_server::connect_db(database_url).await?;
    mooring_server::migrate(&db).await?;
    let key = MasterKey::generate();
    let rpc = RpcStandIn::start().await;
    let setup = Instant::now();
    let seeded = seed(&db, &key, OPEN_PER_TENANT).await?;
    // Every event is a tenant's: matched where it pays an open transaction, the rest
    // unmatched (stored, told). Ledgers of `per_ledger` events.
    let start = rpc.latest_ledger();
    let per_tenant = args.payments / TENANTS;
    let mut batch = Vec::with_capacity(args.per_ledger);
    for n in 0..per_tenant {
        for (account, asset, memos) in &seeded.tenants {
            let stride = (per_tenant / OPEN_PER_TENANT).max(1);
            let memo = if n % stride == 0 && n / stride < memos.len() {
                memos[n / stride].parse()?
            } else {
                7_000_000_000 + n as u64
            };
            batch.push(transfer(account, asset, memo));
            if batch.len() == args.per_ledger {
                rpc.add(&batch);
                batch.clear();
            }
        }
    }
    if !batch.is_empty() {
        rpc.add(&batch);
    }
    // The stream starts before them, every tenant a caught-up member (the catch-up
    // of a first watch is measured by the e2e tests, not here).
    let stream = format!("rpc:{}", rpc.url);
    let at = format!("{:019}-{:010}", i64::from(start) << 32, 0);
    stream_cursor::Entity::insert(stream_cursor::ActiveModel {
        stream: Set(stream.clone()),
        cursor: Set(at.clone()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(&db)
    .await?;
    let dir = mooring_tenants::Directory::load(db.clone(), key.clone()).await?;
    for t in dir.snapshot().tenants() {
        stream_member::Entity::insert(stream_member::ActiveModel {
            tenant_id: Set(t.id),
            account: Set(t.distribution_account.clone()),
            stream: Set(stream.clone()),
            joined_at: Set(at.clone()),
            caught_up: Set(true),
            updated_at: Set(chrono::Utc::now()),
        })
        .exec_without_returning(&db)
        .await?;
    }
    let total = (per_tenant * TENANTS) as u64;
    println!(
        "setup: {TENANTS} tenants, {} open transactions, {total} transfer events on the RPC ({:.1?})",
        TENANTS * OPEN_PER_TENANT,
        setup.elapsed()
    );
    let cfg = Config {
        database_url: database_url.to_string(),
        master_key: Some(key.to_base64()),
        config_poll_ms: std::time::Duration::from_millis(100),
        rpc_testnet_url: Some(rpc.url.clone()),
        rpc_poll_ms: std::time::Duration::from_millis(50),
        allow_private_outbound: true,
        ..Config::default()
    };
    let started = Instant::now();
    let server = mooring_server::start(
        cfg,
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        CancellationToken::new(),
    )
    .await?;
    loop {
        let stored = payment::Entity::find().count(&db).await?;
        if stored >= total {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {stored} of {total} after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let matched = transaction::Entity::find()
        .filter(transaction::Column::Status.eq("pending_receiver"))
        .count(&db)
        .await?;
    server.stop().await?;
    println!("rpc follower: {total} events applied ({matched} matched, the rest unmatched) in {elapsed:.2?}");
    println!("rpc follower: {:.0} events/s end to end", total as f64 / elapsed.as_secs_f64());
    anyhow::ensure!(
        matched == (TENANTS * OPEN_PER_TENANT) as u64,
        "every open transaction should be matched"
    );
    Ok(())
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = &stat[stat.rfind(')').ok_or_else(|| anyhow::anyhow!("odd stat"))? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

async fn follow(database_url: &str, args: &Args) -> anyhow::Result<()> {
    let db = mooring_server::connect_db(database_url).await?;
    mooring_server::migrate(&db).await?;
    let key = MasterKey::generate();
    let rpc = RpcStandIn::start().await;
    let seeded = seed(&db, &key, 0).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = std::process::Command::new(&args.mooring_bin)
        .arg("serve")
        .arg("--no-migrate")
        .env("MOORING_DATABASE_URL", database_url)
        .env("MOORING_MASTER_KEY", key.to_base64())
        .env("MOORING_BIND", format!("127.0.0.1:{port}"))
        .env("MOORING_RPC_TESTNET_URL", &rpc.url)
        .env("MOORING_ALLOW_PRIVATE_OUTBOUND", "true")
        .env("RUST_LOG", "warn")
        .spawn()?;
    let pid = child.id();
    let per_ours = ((args.per_ledger as f64) * args.ours_percent / 100.0).round() as usize;
    let foreign_asset = format!("USDC:{}", Keypair::generate().public_key());
    let mut memo = 9_000_000_000u64;
    let ledger = |memo: &mut u64| {
        let mut events = Vec::with_capacity(args.per_ledger);
        for n in 0..args.per_ledger {
            *memo += 1;
            if n < per_ours {
                let (account, asset, _) = &seeded.tenants[n % TENANTS];
                events.push(transfer(account, asset, *memo));
            } else {
                events.push(foreign(&foreign_asset, *memo));
            }
        }
        events
    };
    // Warm up: the follower starts, joins its members and reaches the head.
    let every = Duration::from_millis(args.ledger_ms);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        rpc.add(&ledger(&mut memo));
        tokio::time::sleep(every).await;
        let members =
            stream_member::Entity::find().filter(stream_member::Column::CaughtUp.eq(true)).count(&db).await?;
        if members == TENANTS as u64 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the follower did not start");
    }
    let stored_before = payment::Entity::find().count(&db).await?;
    let ticks_before = cpu_ticks(pid)?;
    let started = Instant::now();
    let mut ledgers = 0u64;
    while started.elapsed() < Duration::from_secs(args.secs) {
        let tick = Instant::now();
        rpc.add(&ledger(&mut memo));
        ledgers += 1;
        tokio::time::sleep(every.saturating_sub(tick.elapsed())).await;
    }
    let elapsed = started.elapsed();
    let ticks = cpu_ticks(pid)? - ticks_before;
    // Let the last ledger be read before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stored = payment::Entity::find().count(&db).await? - stored_before;
    let _ = child.kill();
    let _ = child.wait();
    let hz = 100.0; // USER_HZ on Linux
    let core = ticks as f64 / hz / elapsed.as_secs_f64() * 100.0;
    println!(
        "rpc follow: {ledgers} ledgers of {} transfer events ({per_ours} ours each) in {elapsed:.1?}; {stored} payments stored",
        args.per_ledger
    );
    println!("rpc follow: the mooring process used {core:.2} % of one core");
    anyhow::ensure!(stored >= ledgers * per_ours as u64, "every payment of ours is stored");
    Ok(())
}
