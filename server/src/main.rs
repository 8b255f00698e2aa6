use anyhow::Context;
use clap::{Parser, Subcommand};
use mooring_server::{Config, demo, telemetry};
use mooring_tenants::MasterKey;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Mooring: a hosted, multi-tenant Stellar SEP-31 receiving anchor.
///
/// Configuration comes from MOORING_* environment variables (see README.md), optionally
/// from a TOML file named by MOORING_CONFIG.
#[derive(Parser)]
#[command(name = "mooring", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations (under a lock), then serve the SEP APIs.
    Serve {
        /// Create (or reuse) a demo tenant on `localhost`, and generate a master key if
        /// none is configured.
        #[arg(long)]
        demo: bool,
        /// Do not migrate: refuse to start if the schema is behind (deployments that
        /// run `mooring migrate` as a job first).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Run pending database migrations and exit.
    Migrate,
    /// Re-seal every tenant seed, data key and webhook secret under MOORING_MASTER_KEY
    /// (the new key), opening them with it or MOORING_MASTER_KEY_PREVIOUS (the old).
    /// Run it after every replica was restarted with both; safe to interrupt and run
    /// again. Then remove MOORING_MASTER_KEY_PREVIOUS and restart the replicas.
    RotateMasterKey,
    /// Plays a sending anchor against a tenant's public endpoints (SEP-1, 10, 12, 31,
    /// 38; on testnet it also pays and follows the transaction to completed) and prints
    /// the report; non-zero exit when a step fails. The report is stored as well.
    Selftest {
        /// The tenant's id or one of its domains.
        #[arg(long)]
        tenant: String,
        /// Refund the paid transaction on the ledger instead of completing it.
        #[arg(long)]
        refund: bool,
    },
    /// Configuration: `mooring config check` validates it without starting anything and
    /// prints every effective setting, secrets redacted; non-zero exit when invalid.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    Check,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Config { action: ConfigAction::Check } = cli.command {
        let cfg = Config::load().map_err(|e| anyhow::anyhow!("configuration is invalid: {e:#}"))?;
        for (key, value) in cfg.effective() {
            println!("{key} = {value}");
        }
        println!("# configuration is valid");
        return Ok(());
    }
    let mut cfg = Config::load()?;
    telemetry::init(cfg.log_format);
    mooring_server::install_crypto_provider();
    match cli.command {
        Command::Migrate => {
            let db = mooring_server::connect_db(&cfg.database_url).await?;
            mooring_server::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::RotateMasterKey => {
            anyhow::ensure!(
                cfg.master_key_previous.is_some(),
                "set MOORING_MASTER_KEY to the new key and MOORING_MASTER_KEY_PREVIOUS to the old one"
            );
            let key = mooring_server::master_key(&cfg)?;
            let done = mooring_server::rotate_master_key(&cfg, None).await?;
            println!(
                "re-sealed {} of {} rows under master key {}; now remove MOORING_MASTER_KEY_PREVIOUS and restart",
                done.resealed,
                done.seen,
                key.id()
            );
            Ok(())
        }
        Command::Config { .. } => unreachable!("handled above"),
        Command::Selftest { tenant, refund } => {
            use mooring_graphql::sandbox::SelfTestFinish;
            let finish = if refund { SelfTestFinish::Refund } else { SelfTestFinish::Complete };
            let (table, passed) = mooring_server::self_test_cli(&cfg, &tenant, finish).await?;
            print!("{table}");
            if !passed {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Serve { demo, no_migrate } => {
            if no_migrate {
                cfg.migrate_on_start = false;
            }
            let mut metrics_listener = None;
            if demo {
                cfg.master_key = Some(demo::demo_master_key(&cfg)?);
                if cfg.operator_token.is_none() {
                    cfg.operator_token = Some(demo::demo_operator_token()?);
                }
                if cfg.metrics_bind.is_none() {
                    // The demo must start with one command: 9100 is also node_exporter's
                    // port, so when it is taken the demo runs without metrics.
                    // The probe's listener is the one served: another process starting
                    // at the same moment cannot take the port in between.
                    let demo_metrics: std::net::SocketAddr = "127.0.0.1:9100".parse()?;
                    if let Ok(bound) = TcpListener::bind(demo_metrics).await {
                        cfg.metrics_bind = Some(demo_metrics);
                        metrics_listener = Some(bound);
                    } else {
                        eprintln!(
                            "note: {demo_metrics} is taken; metrics are off (set MOORING_METRICS_BIND)"
                        );
                    }
                }
                let db = mooring_server::connect_db(&cfg.database_url).await?;
                mooring_server::migrate(&db).await?;
                let key = MasterKey::parse(cfg.master_key.as_deref().unwrap_or_default())?;
                let seeded = demo::ensure_demo_tenant(&db, &key, &cfg).await?;
                print_demo_banner(&cfg, &seeded);
            }
            serve(cfg, metrics_listener).await
        }
    }
}

async fn serve(cfg: Config, metrics_listener: Option<TcpListener>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(cfg.bind).await.with_context(|| format!("binding {}", cfg.bind))?;
    let shutdown = CancellationToken::new();
    let drain_delay = cfg.drain_delay_ms;
    let server =
        mooring_server::start_with_metrics(cfg, listener, metrics_listener, shutdown.clone()).await?;
    let state = server.state.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        // Not ready first, still serving: the load balancer stops sending new requests,
        // then the listener closes and in-flight requests finish.
        state.draining.store(true, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(
            delay_ms = drain_delay.as_millis() as u64,
            "shutting down: /readyz is 503, still serving"
        );
        tokio::select! {
            () = tokio::time::sleep(drain_delay) => {}
            () = wait_for_signal() => tracing::info!("second signal: stopping now"),
        }
        tracing::info!("shutting down: draining in-flight requests");
        shutdown.cancel();
    });
    server.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn print_demo_banner(cfg: &Config, seeded: &demo::DemoTenant) {
    let base = format!("http://localhost:{}", cfg.bind.port());
    println!("\n=== Mooring demo tenant ({}) ===", seeded.tenant_id);
    println!("  stellar.toml  {base}/.well-known/stellar.toml");
    println!("  SEP-10        {base}/auth?account=<G... of an approved sender>");
    println!("  SEP-31 info   {base}/sep31/info   (needs a SEP-10 token)");
    println!("  health        {base}/health");
    let admin = format!("http://{}:{}", cfg.admin_host, cfg.bind.port());
    println!("  admin API     {admin}/graphql   (GraphiQL in a browser)");
    println!("  operator token: in ./{} (or MOORING_OPERATOR_TOKEN)", demo::OPERATOR_TOKEN_FILE);
    match &seeded.new_sender_secret {
        Some(secret) => {
            println!("\n  A demo sending-anchor key was generated and approved. Its secret is shown ONCE:");
            println!("    {secret}");
        }
        None => {
            println!("\n  Reusing the demo tenant from an earlier run (its sender secret was printed then).")
        }
    }
    println!("  Approve your own sending anchors with MOORING_DEMO_SENDERS=G...,G...\n");
}
