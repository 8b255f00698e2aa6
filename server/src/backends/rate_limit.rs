//! Rate limiting by key (tenant and client IP), with the GCRA algorithm in both
//! backends: governor's keyed limiter in process, a Lua script in Redis so that every
//! replica draws from the same allowance.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use redis::aio::ConnectionManager;

use super::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny { retry_after: Duration },
}

pub trait RateLimiter: Send + Sync {
    fn check<'a>(&'a self, key: &'a str) -> StoreResult<'a, Decision>;
}

pub struct MemoryRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl MemoryRateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let quota = Quota::per_second(NonZeroU32::new(per_second).expect("validated > 0"))
            .allow_burst(NonZeroU32::new(burst).expect("validated > 0"));
        Self { limiter: DefaultKeyedRateLimiter::keyed(quota), checks: AtomicU64::new(0) }
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn check<'a>(&'a self, key: &'a str) -> StoreResult<'a, Decision> {
        // Forget idle keys now and then, so one-off client IPs don't pile up.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 100_000 == 99_999 {
            self.limiter.retain_recent();
        }
        let decision = match self.limiter.check_key(&key.to_string()) {
            Ok(()) => Decision::Allow,
            Err(not_until) => {
                Decision::Deny { retry_after: not_until.wait_time_from(DefaultClock::default().now()) }
            }
        };
        futures::future::ready(Ok(decision)).boxed()
    }
}

/// GCRA on the Redis server's clock: the key holds the theoretical arrival time (ms).
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > tolerance then
  return math.ceil(new_tat - now - tolerance)
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return 0
"#;

pub struct RedisRateLimiter {
    conn: ConnectionManager,
    script: redis::Script,
    interval_ms: f64,
    tolerance_ms: f64,
}

impl RedisRateLimiter {
    pub fn new(conn: ConnectionManager, per_second: u32, burst: u32) -> Self {
        let interval_ms = 1000.0 / f64::from(per_second);
        Self {
            conn,
            script: redis::Script::new(GCRA),
            interval_ms,
            tolerance_ms: interval_ms * f64::from(burst),
        }
    }
}

impl RateLimiter for RedisRateLimiter {
    fn check<'a>(&'a self, key: &'a str) -> StoreResult<'a, Decision> {
        async move {
            let mut conn = self.conn.clone();
            let wait_ms: i64 = self
                .script
                .key(key)
                .arg(self.interval_ms)
                .arg(self.tolerance_ms)
                .invoke_async(&mut conn)
                .await?;
            Ok(if wait_ms > 0 {
                Decision::Deny { retry_after: Duration::from_millis(wait_ms.unsigned_abs()) }
            } else {
                Decision::Allow
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_limiter_allows_the_burst_then_denies_per_key() {
        let limiter = MemoryRateLimiter::new(1, 3);
        for _ in 0..3 {
            assert_eq!(limiter.check("a").await.unwrap(), Decision::Allow);
        }
        assert!(matches!(limiter.check("a").await.unwrap(), Decision::Deny { .. }));
        assert_eq!(limiter.check("b").await.unwrap(), Decision::Allow);
    }
}
