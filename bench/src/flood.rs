//! An open-loop flood: requests at a fixed rate whatever the answers, each from another
//! `X-Forwarded-For` address. A closed loop (wrk) answers every cheap refusal with the
//! next request at once, so it always saturates the CPU; a fixed offered rate measures
//! what a flood of that size costs everyone else, with and without a cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
    failed: AtomicU64,
    /// Not sent: the generator already had `MAX_IN_FLIGHT` requests waiting.
    skipped: AtomicU64,
}

const MAX_IN_FLIGHT: usize = 2048;

pub async fn run(url: &str, host: &str, rate: u32, secs: u64, addresses: u32) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;
    let tally = Arc::new(Tally::default());
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    // Timers tick in milliseconds: send each millisecond's share at once.
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let (mut sent, mut n) = (0u64, 0u32);
    while started.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * f64::from(rate)) as u64;
        while sent < due {
            sent += 1;
            n = (n + 1) % addresses.max(1);
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tally.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let address = format!("198.{}.{}.{}", 18 + n / 65_536 % 2, n / 256 % 256, n % 256);
            let request = client.get(url).header("host", host).header("x-forwarded-for", address);
            let tally = tally.clone();
            tokio::spawn(async move {
                let counter = match request.send().await {
                    Ok(r) if r.status().is_success() => &tally.ok,
                    Ok(r) if r.status().as_u16() == 429 => &tally.refused,
                    Ok(_) => &tally.other,
                    Err(_) => &tally.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                drop(slot);
            });
        }
    }
    let _ = slots.acquire_many(MAX_IN_FLIGHT as u32).await;
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "offered {rate} req/s for {secs} s: {} ok, {} refused (429), {} other, {} failed, {} not sent (generator saturated)",
        load(&tally.ok),
        load(&tally.refused),
        load(&tally.other),
        load(&tally.failed),
        load(&tally.skipped)
    );
    Ok(())
}
