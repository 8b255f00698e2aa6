//! Helpers for `bench/run.sh`. Not part of the product.

use std::io::Write;

use clap::{Parser, Subcommand};
use futures::StreamExt;
use mooring_stellar::{Keypair, Network, challenge};

mod config_bench;
mod flood;
mod rpc_bench;
mod stream_bench;
mod subflood;
mod watcher_bench;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a new keypair: `SECRET PUBLIC`.
    Keygen,
    /// Serve Horizon's 404 for every account (accounts "not yet funded": SEP-10 then
    /// checks the master key), so Horizon costs as little as possible in the numbers.
    Horizon {
        #[arg(long, default_value_t = 18001)]
        port: u16,
    },
    /// Serve a local Stellar RPC stand-in (testnet passphrase; ledgers, CAP-67 events
    /// with real XDR, account entries): the demo's ledger source offline
    /// (`MOORING_DEMO_RPC_URL=http://127.0.0.1:18002`).
    Rpc {
        #[arg(long, default_value_t = 18002)]
        port: u16,
    },
    /// The RPC follower's cost: a local RPC closing a ledger every `--ledger-ms`
    /// with `--per-ledger` transfer events, `--ours-percent` of them to tenants.
    RpcBench(rpc_bench::Args),
    /// Feed the payment watcher PAYMENTS payments for 1,000 open transactions across 10
    /// tenants (PostgreSQL), and measure payments per second end to end.
    Watcher {
        /// PostgreSQL URL whose user may create databases.
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 100_000)]
        payments: usize,
        /// Hand the payments over as catch-up pages or as an SSE stream.
        #[arg(long, value_enum, default_value = "stream")]
        via: watcher_bench::Via,
    },
    /// Onboard tenants up to each of TENANTS (each with two customer types, an asset and
    /// a sender) and time config writes and their visibility at each size.
    Config {
        /// Where (e.g. `sqlite:///tmp/config-bench.db?mode=rwc` or a PostgreSQL URL).
        #[arg(long)]
        database_url: String,
        #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
        tenants: Vec<usize>,
        /// Redis for the two-replica measurement (config changes pushed); without it
        /// the second replica polls.
        #[arg(long)]
        redis_url: Option<String>,
    },
    /// Play a network's payments feed to TENANTS tenants sharing one stream; measure
    /// records/s, matched/s, lag, Horizon connections and memory.
    Stream(stream_bench::Args),
    /// Open many GraphQL subscriptions with one key and hold them (see `subflood.rs`).
    Subflood(subflood::Args),
    /// Send GETs to URL at RATE per second for SECS seconds (open loop), each from one of
    /// ADDRESSES rotating X-Forwarded-For addresses; print how they were answered.
    Flood {
        #[arg(long)]
        url: String,
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 10_000)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        secs: u64,
        #[arg(long, default_value_t = 62_500)]
        addresses: u32,
        /// Keep-alive connections the requests are pipelined on.
        #[arg(long, default_value_t = 16)]
        connections: u32,
    },
    /// Fetch COUNT challenges and write them, signed, one form body per line.
    Presign {
        #[arg(long)]
        url: String,
        #[arg(long)]
        host: String,
        #[arg(long)]
        secret: String,
        #[arg(long)]
        count: usize,
        #[arg(long)]
        out: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The in-process server's logs, when asked for (`RUST_LOG=warn`).
    if std::env::var_os("RUST_LOG").is_some() {
        mooring_server::telemetry::init(mooring_server::cfg::LogFormat::Human);
    }
    match Cli::parse().command {
        Command::Keygen => {
            let kp = Keypair::generate();
            println!("{} {}", kp.secret(), kp.public_key());
        }
        Command::Horizon { port } => {
            let app = axum::Router::new().fallback(|| async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    axum::Json(serde_json::json!({
                        "type": "https://stellar.org/horizon-errors/not_found",
                        "title": "Resource Missing",
                        "status": 404,
                    })),
                )
            });
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            axum::serve(listener, app).await?;
        }
        Command::Rpc { port } => {
            let rpc = mooring_tests::rpc_standin::RpcStandIn::start_on(
                std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                mooring_tests::rpc_standin::TESTNET,
            )
            .await;
            eprintln!("RPC stand-in on {}", rpc.url);
            std::future::pending::<()>().await;
        }
        Command::RpcBench(args) => rpc_bench::run(args).await?,
        Command::Watcher { database_url, payments, via } => {
            watcher_bench::run(&database_url, payments, via).await?
        }
        Command::Stream(args) => stream_bench::run(args).await?,
        Command::Subflood(args) => subflood::run(args).await?,
        Command::Config { database_url, tenants, redis_url } => {
            config_bench::run(&database_url, &tenants, redis_url.as_deref()).await?
        }
        Command::Flood { url, host, rate, secs, addresses, connections } => {
            flood::run(flood::Flood { url, host, rate, secs, addresses, connections }).await?
        }
        Command::Presign { url, host, secret, count, out } => {
            let signer = Keypair::from_secret(&secret)?;
            let account = signer.public_key().to_string();
            let http = reqwest::Client::new();
            let network = Network::testnet();
            let bodies: Vec<String> = futures::stream::iter(0..count)
                .map(|_| {
                    let (http, url, host, account) = (&http, &url, &host, &account);
                    async move {
                        let res: serde_json::Value = http
                            .get(format!("{url}/auth?account={account}"))
                            .header("host", host.as_str())
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?;
                        let xdr = res["transaction"].as_str().unwrap_or_default().to_string();
                        anyhow::Ok(xdr)
                    }
                })
                .buffer_unordered(32)
                .map(|xdr| {
                    let signed = challenge::sign(&xdr?, &network, &signer)?;
                    // Form-encode: base64 may hold '+', '/' and '='.
                    let encoded: String = signed
                        .bytes()
                        .map(|b| match b {
                            b'+' => "%2B".to_string(),
                            b'/' => "%2F".to_string(),
                            b'=' => "%3D".to_string(),
                            other => (other as char).to_string(),
                        })
                        .collect();
                    anyhow::Ok(format!("transaction={encoded}"))
                })
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()?;
            let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
            for body in bodies {
                writeln!(file, "{body}")?;
            }
        }
    }
    Ok(())
}
