//! An open-loop flood: requests at a fixed rate whatever the answers, each from another
//! `X-Forwarded-For` address. A closed loop (wrk) answers every cheap refusal with the
//! next request at once, so it always saturates the CPU; a fixed offered rate measures
//! what a flood of that size costs everyone else, with and without a cap.
//!
//! The generator shares the machine with the server it floods, so it must cost little:
//! requests are pre-formatted bytes pipelined on a few keep-alive connections (one write
//! per connection per millisecond) and responses are only parsed far enough to count
//! them. An HTTP client library spent about a core at 8,000 req/s and measured itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
    /// Not sent: that connection already had `MAX_IN_FLIGHT` requests unanswered.
    skipped: AtomicU64,
}

const MAX_IN_FLIGHT: u64 = 256;

pub struct Flood {
    pub url: String,
    pub host: String,
    pub rate: u32,
    pub secs: u64,
    pub addresses: u32,
    pub connections: u32,
}

pub async fn run(f: Flood) -> anyhow::Result<()> {
    let url = url::Url::parse(&f.url)?;
    let target = format!(
        "{}:{}",
        url.host_str().context("the URL has no host")?,
        url.port_or_known_default().context("the URL has no port")?
    );
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let tally = Arc::new(Tally::default());
    let mut connections = Vec::new();
    for c in 0..f.connections.max(1) {
        let stream = TcpStream::connect(&target).await?;
        stream.set_nodelay(true)?;
        let (reader, writer) = stream.into_split();
        let in_flight = Arc::new(AtomicU64::new(0));
        let reading = tokio::spawn(count_responses(reader, in_flight.clone(), tally.clone()));
        let share = f64::from(f.rate) / f64::from(f.connections.max(1));
        let (path, host, tally) = (path.clone(), f.host.clone(), tally.clone());
        let (secs, addresses, connections_n) = (f.secs, f.addresses.max(1), f.connections.max(1));
        connections.push(tokio::spawn(async move {
            let mut writer = writer;
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let started = Instant::now();
            let (mut sent, mut n) = (0u64, c);
            let mut buf = Vec::with_capacity(4096);
            while started.elapsed() < Duration::from_secs(secs) {
                tick.tick().await;
                let due = (started.elapsed().as_secs_f64() * share) as u64;
                buf.clear();
                while sent < due {
                    sent += 1;
                    if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
                        tally.skipped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    // Connections take turns through the address space.
                    n = (n + connections_n) % addresses;
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let a = format!("198.{}.{}.{}", 18 + n / 65_536 % 2, n / 256 % 256, n % 256);
                    buf.extend_from_slice(
                        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {a}\r\n\r\n")
                            .as_bytes(),
                    );
                }
                if !buf.is_empty() {
                    writer.write_all(&buf).await?;
                }
            }
            // Wait for the answers still on their way, then let the reader go.
            let deadline = Instant::now() + Duration::from_secs(5);
            while in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            reading.abort();
            anyhow::Ok(())
        }));
    }
    for c in connections {
        c.await??;
    }
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "offered {} req/s for {} s on {} connections: {} ok, {} refused (429), {} other, {} not sent (connection backed up)",
        f.rate,
        f.secs,
        f.connections,
        load(&tally.ok),
        load(&tally.refused),
        load(&tally.other),
        load(&tally.skipped)
    );
    Ok(())
}

/// Reads pipelined responses off one connection and counts them by status.
async fn count_responses(
    mut reader: OwnedReadHalf,
    in_flight: Arc<AtomicU64>,
    tally: Arc<Tally>,
) -> anyhow::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(head) = response.parse(&buf[start..])? else { break };
            let length: usize = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                .context("every answer has a Content-Length")?;
            if buf.len() - start < head + length {
                break;
            }
            let counter = match response.code {
                Some(200..=299) => &tally.ok,
                Some(429) => &tally.refused,
                _ => &tally.other,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            in_flight.fetch_sub(1, Ordering::Relaxed);
            start += head + length;
        }
        buf.drain(..start);
    }
}
