//! What one configuration change costs as the platform grows: tenants are onboarded
//! (each with two customer types, an asset and an approved sender) up to each
//! checkpoint, then config writes to random tenants are timed, alone and until the
//! writing replica's cache serves them (`Directory::changed`). Also the cache's
//! resident size per tenant.

use std::time::{Duration, Instant};

use mooring_server::demo::{guide_asset, guide_customer_types};
use mooring_stellar::{Keypair, Network};
use mooring_tenants::admin::{self, NewTenant};
use mooring_tenants::{Directory, MasterKey};

const WRITES: usize = 200;

pub async fn run(database_url: &str, checkpoints: &[usize], redis_url: Option<&str>) -> anyhow::Result<()> {
    let db = mooring_server::connect_db(database_url).await?;
    mooring_server::migrate(&db).await?;
    let key = MasterKey::generate();
    let rss_empty = rss_kib();
    let dir = Directory::load(db.clone(), key.clone()).await?;
    let mut ids = Vec::new();
    println!("tenants | write p50 | write p99 | write + visible here p50 | p99 | cache RSS per tenant");
    for &target in checkpoints {
        let onboard = Instant::now();
        while ids.len() < target {
            ids.push(onboard_one(&db, &key, ids.len(), "http://127.0.0.1:9").await?);
        }
        let onboarded = onboard.elapsed();
        dir.reload().await?;
        let per_tenant = (rss_kib().saturating_sub(rss_empty) as f64 * 1024.0) / ids.len() as f64;
        let (mut write, mut visible) = (Vec::new(), Vec::new());
        for i in 0..WRITES {
            let tenant = ids[(i * 7919) % ids.len()];
            let account = Keypair::generate().public_key().to_string();
            let started = Instant::now();
            admin::approve_sender(&db, tenant, &account, "bench").await?;
            write.push(started.elapsed());
            dir.changed().await?;
            visible.push(started.elapsed());
            anyhow::ensure!(
                dir.by_id(tenant)
                    .is_some_and(|t| t.approved_senders.iter().any(|k| k.to_string() == account)),
                "the change is not served"
            );
        }
        println!(
            "{:>7} | {:>9} | {:>9} | {:>24} | {:>6} | {:.1} KB (onboarding took {:.1} s)",
            ids.len(),
            ms(percentile(&mut write, 50)),
            ms(percentile(&mut write, 99)),
            ms(percentile(&mut visible, 50)),
            ms(percentile(&mut visible, 99)),
            per_tenant / 1024.0,
            onboarded.as_secs_f64(),
        );
        replicas(database_url, redis_url, &key, &ids).await?;
    }
    Ok(())
}

const OPERATOR: &str = "bench-operator-token-0123456789";

/// Two server replicas on the database: stellar.toml latency on one (random tenants,
/// one keep-alive connection), and how long a GraphQL config write on A takes to be
/// served by B (pushed over Redis when given; else B's version poll, every second).
async fn replicas(
    database_url: &str,
    redis_url: Option<&str>,
    key: &MasterKey,
    ids: &[uuid::Uuid],
) -> anyhow::Result<()> {
    let cfg = || mooring_server::Config {
        database_url: database_url.to_string(),
        redis_url: redis_url.map(str::to_string),
        redis_prefix: format!("mooring-config-bench-{}", std::process::id()),
        master_key: Some(key.to_base64()),
        operator_token: Some(OPERATOR.into()),
        config_poll_ms: std::time::Duration::from_millis(1000),
        watcher_enabled: false,
        rate_limit_per_second: 1_000_000,
        rate_limit_burst: 1_000_000,
        tenant_rate_limit_per_second: 1_000_000,
        tenant_rate_limit_burst: 1_000_000,
        admin_rate_limit_per_second: 1_000_000,
        admin_rate_limit_burst: 1_000_000,
        ..mooring_server::Config::default()
    };
    let start = || async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        mooring_server::start(cfg(), listener, mooring_server::CancellationToken::new()).await
    };
    let (a, b) = (start().await?, start().await?);
    let http = reqwest::Client::new();

    let mut toml = Vec::new();
    for i in 0..5_000 {
        let n = (i * 7919) % ids.len();
        let started = Instant::now();
        let res = http
            .get(format!("http://{}/.well-known/stellar.toml", a.addr))
            .header("host", format!("t{n}.bench.example"))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "stellar.toml answered {}", res.status());
        res.bytes().await?;
        toml.push(started.elapsed());
    }

    let mut across = Vec::new();
    for i in 0..100 {
        let tenant = ids[(i * 7907) % ids.len()];
        let account = Keypair::generate().public_key().to_string();
        let started = Instant::now();
        let res: serde_json::Value = http
            .post(format!("http://{}/graphql", a.addr))
            .header("host", "admin.localhost")
            .bearer_auth(OPERATOR)
            .json(&serde_json::json!({
                "query": "mutation($t: ID!, $a: String!) { approveSender(tenantId: $t, account: $a, name: \"bench\") { id } }",
                "variables": { "t": tenant.to_string(), "a": account },
            }))
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(res.get("errors").is_none(), "{res}");
        let served = |s: &mooring_server::Server| {
            s.state
                .tenants
                .by_id(tenant)
                .is_some_and(|t| t.approved_senders.iter().any(|k| k.to_string() == account))
        };
        while !served(&b) {
            anyhow::ensure!(started.elapsed() < Duration::from_secs(5), "B never served the change");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        across.push(started.elapsed());
    }
    a.stop().await?;
    b.stop().await?;
    println!(
        "        | stellar.toml p50 {} p99 {} | written on A, served by B ({}): p50 {} p99 {}",
        ms(percentile(&mut toml, 50)),
        ms(percentile(&mut toml, 99)),
        if redis_url.is_some() { "Redis push" } else { "version poll, 1 s" },
        ms(percentile(&mut across, 50)),
        ms(percentile(&mut across, 99)),
    );
    Ok(())
}

pub(crate) async fn onboard_one(
    db: &sea_orm::DatabaseConnection,
    key: &MasterKey,
    n: usize,
    horizon_url: &str,
) -> anyhow::Result<uuid::Uuid> {
    onboard_with(db, key, n, horizon_url, true).await
}

/// As [`onboard_one`]; without `kyc` the asset asks for no SEP-12 customers, so the
/// bench can open transactions without registering any.
pub(crate) async fn onboard_with(
    db: &sea_orm::DatabaseConnection,
    key: &MasterKey,
    n: usize,
    horizon_url: &str,
    kyc: bool,
) -> anyhow::Result<uuid::Uuid> {
    let id = admin::create_tenant(
        db,
        key,
        NewTenant {
            name: format!("Bench {n}"),
            domains: vec![format!("t{n}.bench.example")],
            network: Network::testnet(),
            horizon_url: horizon_url.into(),
            distribution_account: Some(Keypair::generate().public_key().to_string()),
            org_name: None,
            org_url: None,
            org_description: None,
        },
    )
    .await?;
    for ty in guide_customer_types() {
        admin::add_customer_type(db, id, ty).await?;
    }
    let mut asset = guide_asset(Keypair::generate().public_key().to_string());
    if !kyc {
        asset.sender_sep12_type = None;
        asset.receiver_sep12_type = None;
        asset.fields = vec![];
    }
    admin::add_asset(db, id, asset).await?;
    admin::approve_sender(db, id, &Keypair::generate().public_key().to_string(), "bench").await?;
    Ok(id)
}

fn percentile(v: &mut [Duration], p: usize) -> Duration {
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// This process's resident set, from /proc (Linux).
pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}
