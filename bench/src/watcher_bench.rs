//! End-to-end throughput of the payment watcher: 10 tenants, 100 open transactions
//! each, 100,000 payments waiting on a Horizon stand-in; the real server catches up
//! through its watcher. Measures payments stored (and transactions moved, events
//! written) per second.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::{Json, Router};
use mooring_anchor::Owner;
use mooring_anchor::transactions::{self, NewTransaction};
use mooring_entities::{payment, transaction, watch_cursor};
use mooring_server::{CancellationToken, Config};
use mooring_stellar::{Amount, Keypair, Network};
use mooring_tenants::MasterKey;
use mooring_tenants::admin::{self, NewAsset, NewTenant};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

const TENANTS: usize = 10;
const OPEN_PER_TENANT: usize = 100;

type Feeds = Arc<(HashMap<String, Vec<Value>>, Via)>;

/// How the stand-in hands the payments over.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Via {
    /// Catch-up pages of 200 (what a watcher does after downtime).
    Pages,
    /// Server-Sent Events (what a watcher does when it is live).
    Stream,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<usize>,
    order: Option<String>,
}

async fn payments(
    State(state): State<Feeds>,
    Path(account): Path<String>,
    Query(q): Query<PageQuery>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (feeds, via) = &*state;
    let feed = feeds.get(&account).map_or(&[][..], |f| f.as_slice());
    let has_cursor = q.cursor.is_some();
    let cursor: u64 = q.cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let after = |cursor: u64| {
        let start =
            feed.partition_point(|r| r["paging_token"].as_str().unwrap().parse::<u64>().unwrap() <= cursor);
        &feed[start..]
    };
    if headers.get("accept").is_some_and(|v| v.to_str().unwrap_or("").contains("event-stream")) {
        let mut frames = vec!["retry: 1000\nevent: open\ndata: \"hello\"\n\n".to_string()];
        if matches!(via, Via::Stream) {
            frames.extend(
                after(cursor)
                    .iter()
                    .map(|r| format!("id: {}\ndata: {r}\n\n", r["paging_token"].as_str().unwrap())),
            );
        }
        let body = futures::stream::iter(frames.into_iter().map(Ok::<_, std::convert::Infallible>))
            .chain(futures::stream::pending());
        return axum::response::Response::builder()
            .header("content-type", "text/event-stream")
            .body(axum::body::Body::from_stream(body))
            .unwrap();
    }
    if matches!(via, Via::Stream) && q.order.as_deref() != Some("desc") {
        // Nothing to catch up: everything comes over the stream.
        return Json(json!({ "_embedded": { "records": [] } })).into_response();
    }
    let limit = q.limit.unwrap_or(10);
    let records: Vec<&Value> = if q.order.as_deref() == Some("desc") {
        let before =
            |r: &&Value| !has_cursor || r["paging_token"].as_str().unwrap().parse::<u64>().unwrap() < cursor;
        feed.iter().rev().filter(before).take(limit).collect()
    } else {
        after(cursor).iter().take(limit).collect()
    };
    Json(json!({ "_embedded": { "records": records } })).into_response()
}

use futures::StreamExt;

/// Opens a 100 SRT transaction for `owner` at `tenant` (an asset without KYC types);
/// returns the memo that pays it.
pub(crate) async fn open_transaction(
    db: &sea_orm::DatabaseConnection,
    tenant: &mooring_tenants::Tenant,
    owner: &Owner,
) -> anyhow::Result<String> {
    let created = transactions::create(
        db,
        &transactions::GroupCommit::start(db.clone()),
        tenant,
        owner,
        NewTransaction {
            amount: Amount::from_units(100),
            asset_code: "SRT".into(),
            asset_issuer: None,
            funding_method: None,
            sender_id: None,
            receiver_id: None,
            refund_memo: None,
            lang: None,
            fields: Default::default(),
            idempotency_key: None,
            request_hash: String::new(),
            quote_id: None,
            destination_asset: None,
        },
        chrono::Duration::days(1),
    )
    .await?;
    Ok(created.transaction.stellar_memo)
}

fn record(op: u64, to: &str, code: &str, issuer: &str, amount: &str, memo: &str) -> Value {
    json!({
        "id": op.to_string(), "paging_token": op.to_string(), "transaction_successful": true,
        "type": "payment", "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "transaction_hash": format!("{op:064x}"), "from": "GBENCHSENDERXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "to": to, "amount": amount, "asset_type": "credit_alphanum4", "asset_code": code, "asset_issuer": issuer,
        "transaction": { "memo_type": "id", "memo": memo, "successful": true },
    })
}

pub async fn run(admin_url: &str, payments_total: usize, via: Via) -> anyhow::Result<()> {
    let name = format!("mooring_bench_{}", std::process::id());
    let admin = mooring_server::connect_db(admin_url).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    let result = bench(url.as_str(), payments_total, via).await;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
    result
}

async fn bench(database_url: &str, payments_total: usize, via: Via) -> anyhow::Result<()> {
    let db = mooring_server::connect_db(database_url).await?;
    mooring_server::migrate(&db).await?;
    let key = MasterKey::generate();
    let horizon_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let horizon_url = format!("http://{}", horizon_listener.local_addr()?);

    let per_tenant = payments_total / TENANTS;
    let mut feeds = HashMap::new();
    let mut op = 1_000u64;
    let setup = Instant::now();
    for i in 0..TENANTS {
        let account = Keypair::generate().public_key().to_string();
        let issuer = Keypair::generate().public_key().to_string();
        let id = admin::create_tenant(
            &db,
            &key,
            NewTenant {
                name: format!("bench {i}"),
                domains: vec![format!("bench{i}.example")],
                network: Network::testnet(),
                horizon_url: horizon_url.clone(),
                distribution_account: Some(account.clone()),
                org_name: None,
                org_url: None,
                org_description: None,
            },
        )
        .await?;
        admin::add_asset(
            &db,
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
        // The directory snapshot is what the server hands the anchor code.
        let dir = mooring_tenants::Directory::load(db.clone(), key.clone()).await?;
        let tenant = dir.by_id(id).expect("just created");
        let owner =
            Owner { tenant_id: id, sa_account: Keypair::generate().public_key().to_string(), memo: None };
        let mut memos = Vec::new();
        for _ in 0..OPEN_PER_TENANT {
            memos.push(open_transaction(&db, &tenant, &owner).await?);
        }
        // Spread the matching payments through the feed; the rest carry unknown memos.
        let stride = per_tenant / OPEN_PER_TENANT;
        let feed: Vec<Value> = (0..per_tenant)
            .map(|n| {
                op += 1;
                let memo = if n % stride == 0 && n / stride < memos.len() {
                    memos[n / stride].clone()
                } else {
                    (n as u64 + 7_000_000_000).to_string()
                };
                record(op, &account, "SRT", &issuer, "100.0000000", &memo)
            })
            .collect();
        feeds.insert(account.clone(), feed);
        watch_cursor::Entity::insert(watch_cursor::ActiveModel {
            tenant_id: Set(id),
            account: Set(account),
            cursor: Set("0".into()),
            updated_at: Set(chrono::Utc::now()),
        })
        .exec_without_returning(&db)
        .await?;
    }
    println!(
        "setup: {TENANTS} tenants, {} open transactions, {payments_total} payments queued ({:.1?})",
        TENANTS * OPEN_PER_TENANT,
        setup.elapsed()
    );

    let app = Router::new()
        .route("/accounts/{id}/payments", axum::routing::get(payments))
        .with_state(Arc::new((feeds, via)));
    tokio::spawn(async move { axum::serve(horizon_listener, app).await });

    let cfg = Config {
        database_url: database_url.to_string(),
        master_key: Some(key.to_base64()),
        config_poll_ms: std::time::Duration::from_millis(100),
        // Each tenant's own Horizon is the loopback stand-in, behind the outbound fence.
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
    let total = payments_total as u64;
    loop {
        let stored = payment::Entity::find().count(&db).await?;
        if stored >= total {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {stored} of {total} payments after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let matched = transaction::Entity::find()
        .filter(transaction::Column::Status.eq("pending_receiver"))
        .count(&db)
        .await?;
    server.stop().await?;
    println!(
        "watcher ({via:?}): {total} payments stored ({matched} matched to transactions, the rest unmatched) in {elapsed:.2?}"
    );
    println!("watcher: {:.0} payments/s end to end", total as f64 / elapsed.as_secs_f64());
    anyhow::ensure!(
        matched == (TENANTS * OPEN_PER_TENANT) as u64,
        "every open transaction should be matched"
    );
    Ok(())
}
