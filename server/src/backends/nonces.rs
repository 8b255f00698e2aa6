//! Single-use SEP-10 challenges: a challenge id is recorded when issued and can be
//! consumed exactly once before it expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::FutureExt;
use redis::aio::ConnectionManager;

use super::{StoreError, StoreResult};

pub trait NonceStore: Send + Sync {
    /// Records a freshly issued challenge id, alive for `ttl`.
    fn issue<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreResult<'a, ()>;
    /// Consumes a challenge id: `true` for exactly one caller while it is alive.
    fn consume<'a>(&'a self, key: &'a str) -> StoreResult<'a, bool>;
}

#[derive(Default)]
pub struct MemoryNonces {
    live: Mutex<Live>,
}

#[derive(Default)]
struct Live {
    expiry: HashMap<String, Instant>,
    /// Size at which the next sweep runs. It doubles past what a sweep leaves, so
    /// sweeping costs O(1) per insert however many challenges are alive.
    sweep_at: usize,
}

/// Expired entries are swept once the map reaches this size (or twice what the last
/// sweep left), keeping memory bounded by the issue rate times the challenge lifetime.
const SWEEP_AT: usize = 10_000;

impl NonceStore for MemoryNonces {
    fn issue<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreResult<'a, ()> {
        let now = Instant::now();
        let mut live = self.live.lock().expect("nonce map poisoned");
        if live.expiry.len() >= live.sweep_at.max(SWEEP_AT) {
            live.expiry.retain(|_, expires| *expires > now);
            live.sweep_at = live.expiry.len() * 2;
        }
        live.expiry.insert(key.to_string(), now + ttl);
        futures::future::ready(Ok(())).boxed()
    }

    fn consume<'a>(&'a self, key: &'a str) -> StoreResult<'a, bool> {
        let removed = self.live.lock().expect("nonce map poisoned").expiry.remove(key);
        let alive = removed.is_some_and(|expires| expires > Instant::now());
        futures::future::ready(Ok(alive)).boxed()
    }
}

pub struct RedisNonces {
    conn: ConnectionManager,
}

impl RedisNonces {
    pub fn new(conn: ConnectionManager) -> Self {
        Self { conn }
    }
}

impl NonceStore for RedisNonces {
    fn issue<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreResult<'a, ()> {
        async move {
            let mut conn = self.conn.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(key)
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .query_async(&mut conn)
                .await?;
            set.map(|_| ()).ok_or_else(|| StoreError(format!("challenge id collision on {key}")))
        }
        .boxed()
    }

    fn consume<'a>(&'a self, key: &'a str) -> StoreResult<'a, bool> {
        async move {
            let mut conn = self.conn.clone();
            // DEL is atomic: of any number of racing replicas, one sees 1.
            let deleted: i64 = redis::cmd("DEL").arg(key).query_async(&mut conn).await?;
            Ok(deleted == 1)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_nonce_is_consumed_once_and_expires() {
        let store = MemoryNonces::default();
        store.issue("a", Duration::from_secs(60)).await.unwrap();
        assert!(store.consume("a").await.unwrap());
        assert!(!store.consume("a").await.unwrap());
        assert!(!store.consume("never-issued").await.unwrap());
        store.issue("b", Duration::from_millis(1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(!store.consume("b").await.unwrap());
    }
}
