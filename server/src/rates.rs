//! The rate-feed poller: every corridor priced by a feed URL is polled on a fixed
//! period through the outbound client that refuses private addresses, and each
//! replica keeps the last good value on its own [`RateBoard`] (a replica that cannot
//! reach the feed keeps quoting on its last value until the corridor's maximum rate
//! age refuses firm quotes).
//!
//! A feed answers `GET <url>` with JSON `{"rate": "17.05", "as_of": "<RFC 3339>"}`:
//! `rate` (string or number) is units of the buy asset for one unit of the sell asset;
//! `as_of` (optional, default: when it was fetched) is when the rate was true.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use mooring_anchor::quotes::{Rate, RateBoard};
use mooring_tenants::{RateSource, TenantStatus};
use rust_decimal::Decimal;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::outbound::FencedClient;
use crate::state::AppState;

/// A feed's answer is a few hundred bytes; more is refused unread.
const MAX_FEED_BYTES: usize = 16 * 1024;
const FEED_TIMEOUT: Duration = Duration::from_secs(5);
const CONCURRENT_POLLS: usize = 8;

/// Reads a feed's body.
pub fn parse_feed(body: &[u8], fetched_at: DateTime<Utc>) -> Result<Rate, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the feed did not answer JSON".to_string())?;
    let text = match &v["rate"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("the feed's answer has no \"rate\"".into()),
    };
    let value: Decimal =
        text.trim().parse().map_err(|_| format!("the feed's rate {text:?} is not a decimal"))?;
    if value <= Decimal::ZERO {
        return Err(format!("the feed's rate {value} is not positive"));
    }
    let as_of = match &v["as_of"] {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| format!("the feed's as_of {s:?} is not an RFC 3339 time"))?
            .with_timezone(&Utc)
            // A clock ahead of ours must not make a rate look fresher than it is.
            .min(fetched_at),
        Value::Null => fetched_at,
        _ => return Err("the feed's as_of is not a string".into()),
    };
    Ok(Rate { value, as_of })
}

async fn fetch(client: &FencedClient, url: &str) -> Result<Rate, String> {
    let mut res = client
        .get(url)
        .map_err(|e| e.0)?
        .send()
        .await
        .map_err(|e| format!("the feed is unreachable: {}", crate::outbound::describe(e)))?;
    if !res.status().is_success() {
        return Err(format!("the feed answered HTTP {}", res.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| format!("reading the feed failed: {e}"))? {
        if body.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(format!("the feed's answer is over {MAX_FEED_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    parse_feed(&body, Utc::now())
}

/// Polls every feed once.
pub async fn poll_once(state: &AppState, client: &FencedClient, board: &RateBoard) {
    let snapshot = state.tenants.snapshot();
    let feeds: Vec<(Uuid, String)> = snapshot
        .tenants()
        .filter(|t| t.status == TenantStatus::Active)
        .flat_map(|t| t.corridors.iter())
        .filter(|c| c.enabled)
        .filter_map(|c| match &c.rate {
            RateSource::Feed { url } => Some((c.id, url.clone())),
            RateSource::Manual { .. } => None,
        })
        .collect();
    let polled: std::collections::HashSet<Uuid> = feeds.iter().map(|(id, _)| *id).collect();
    board.retain(|id| polled.contains(id));
    futures::stream::iter(feeds)
        .for_each_concurrent(CONCURRENT_POLLS, |(id, url)| async move {
            let polled = fetch(client, &url).await;
            if let Err(e) = &polled {
                tracing::warn!(corridor = %id, error = %e, "rate feed poll failed; keeping the last good rate");
            }
            metrics::counter!("mooring_rate_feed_polls_total", "ok" => if polled.is_ok() { "yes" } else { "no" })
                .increment(1);
            board.record(id, &url, polled);
        })
        .await;
}

pub fn spawn(state: &AppState, board: Arc<RateBoard>, shutdown: CancellationToken) {
    let period = state.cfg.rate_feed_poll_ms.max(Duration::from_millis(50));
    let client = FencedClient::new(&state.fence, Some(FEED_TIMEOUT), FEED_TIMEOUT);
    let state = state.clone();
    let tasks = state.tasks.clone();
    crate::tasks::every(&tasks, period, crate::tasks::First::Now, shutdown, move || {
        let (state, client, board) = (state.clone(), client.clone(), board.clone());
        async move { poll_once(&state, &client, &board).await }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_are_read_strictly() {
        let now = Utc::now();
        let r = parse_feed(br#"{"rate": "17.05", "as_of": "2026-01-01T00:00:00Z"}"#, now).unwrap();
        assert_eq!(r.value, "17.05".parse::<Decimal>().unwrap());
        assert_eq!(r.as_of.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(parse_feed(br#"{"rate": 17.05}"#, now).unwrap().as_of, now);
        let future = parse_feed(br#"{"rate": "1", "as_of": "2999-01-01T00:00:00Z"}"#, now).unwrap();
        assert_eq!(future.as_of, now, "a feed clock ahead of ours does not make a rate fresher");
        for bad in [
            &br#"{"rate": "-1"}"#[..],
            br#"{"rate": "x"}"#,
            br#"{}"#,
            b"<html>",
            br#"{"rate": "1", "as_of": 5}"#,
        ] {
            assert!(parse_feed(bad, now).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
