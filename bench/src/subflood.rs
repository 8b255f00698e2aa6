//! A subscription flood: one API key opens ATTEMPTS `transactionEvents` subscriptions
//! over graphql-transport-ws, PER_CONNECTION to a socket, and holds them for SECS
//! seconds; prints how many the server accepted and refused. `bench/subscriptions.sh`
//! measures another tenant's SEP latency meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(clap::Args)]
pub struct Args {
    /// `ws://127.0.0.1:PORT/graphql/ws`
    #[arg(long)]
    url: String,
    /// The admin host, sent as `Host`.
    #[arg(long)]
    host: String,
    #[arg(long)]
    key: String,
    #[arg(long, default_value_t = 2000)]
    attempts: usize,
    #[arg(long, default_value_t = 10)]
    per_connection: usize,
    #[arg(long, default_value_t = 15)]
    secs: u64,
}

#[derive(Default)]
struct Tally {
    refused: AtomicU64,
    sockets_refused: AtomicU64,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let tally = Arc::new(Tally::default());
    let sockets = a.attempts.div_ceil(a.per_connection);
    let mut tasks = Vec::new();
    for s in 0..sockets {
        let (url, host, key, tally) = (a.url.clone(), a.host.clone(), a.key.clone(), tally.clone());
        let count = a.per_connection.min(a.attempts - s * a.per_connection);
        let secs = a.secs;
        tasks.push(tokio::spawn(async move {
            let mut request = url.into_client_request().expect("a ws:// URL");
            request.headers_mut().insert("host", host.parse().expect("a host"));
            request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(request).await else {
                tally.sockets_refused.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let init = serde_json::json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } });
            if ws.send(Message::Text(init.to_string().into())).await.is_err() {
                tally.sockets_refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
            for i in 0..count {
                let sub = serde_json::json!({ "id": i.to_string(), "type": "subscribe",
                    "payload": { "query": "subscription { transactionEvents { transactionId toStatus } }" } });
                if ws.send(Message::Text(sub.to_string().into())).await.is_err() {
                    return;
                }
            }
            let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
            while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
                if let Message::Text(text) = msg
                    && text.contains("RATE_LIMITED")
                {
                    tally.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let refused = tally.refused.load(Ordering::Relaxed);
    let sockets_refused = tally.sockets_refused.load(Ordering::Relaxed);
    println!(
        "subscription flood: {} attempts on {sockets} sockets ({sockets_refused} sockets refused); {refused} subscriptions refused, {} held",
        a.attempts,
        (a.attempts as u64).saturating_sub(refused + sockets_refused * a.per_connection as u64),
    );
    Ok(())
}
