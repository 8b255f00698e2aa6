//! Rate limiting with the GCRA algorithm in both backends: governor's keyed limiters
//! in process, a Lua script in Redis so that every replica draws from the same
//! allowance. A request is checked against several buckets at once (its tenant's
//! aggregate cap, its client's quota for its cost class); each bucket names its own
//! limit, and a check may cost more than one unit (a failed admin login).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::FutureExt;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use redis::aio::ConnectionManager;

use super::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// `refused_by` is the index, in the checks given, of the bucket whose wait this is.
    Deny {
        retry_after: Duration,
        refused_by: usize,
    },
}

/// A sustained rate and the burst allowed before it applies (both validated > 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    pub per_second: u32,
    pub burst: u32,
}

impl Limit {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self { per_second: per_second.max(1), burst: burst.max(1) }
    }

    fn interval(self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.per_second))
    }
}

/// One bucket a request draws from.
#[derive(Debug, Clone)]
pub struct Check {
    pub key: String,
    pub limit: Limit,
    pub cost: u32,
}

pub trait RateLimiter: Send + Sync {
    /// Allowed only if every bucket allows it; the answer to a denial is the longest
    /// wait among the buckets that refused.
    fn check<'a>(&'a self, checks: &'a [Check]) -> StoreResult<'a, Decision>;
}

/// One governor keyed limiter per distinct limit (a handful: the cost classes and the
/// tenant caps operators set).
#[derive(Default)]
pub struct MemoryRateLimiter {
    limiters: RwLock<HashMap<Limit, Arc<DefaultKeyedRateLimiter<String>>>>,
    checks: AtomicU64,
}

impl MemoryRateLimiter {
    fn limiter(&self, limit: Limit) -> Arc<DefaultKeyedRateLimiter<String>> {
        if let Some(l) = self.limiters.read().expect("limiters lock").get(&limit) {
            return l.clone();
        }
        let quota = Quota::per_second(NonZeroU32::new(limit.per_second).expect("Limit::new keeps it > 0"))
            .allow_burst(NonZeroU32::new(limit.burst).expect("Limit::new keeps it > 0"));
        let mut limiters = self.limiters.write().expect("limiters lock");
        limiters.entry(limit).or_insert_with(|| Arc::new(DefaultKeyedRateLimiter::keyed(quota))).clone()
    }

    fn check_one(&self, index: usize, check: &Check) -> Decision {
        let limiter = self.limiter(check.limit);
        let cost = NonZeroU32::new(check.cost.max(1)).expect("at least 1");
        match limiter.check_key_n(&check.key, cost) {
            Ok(Ok(())) => Decision::Allow,
            Ok(Err(not_until)) => {
                Decision::Deny {
                    // The limiter's own clock: making a new one reads the CPU's
                    // features every time.
                    retry_after: not_until.wait_time_from(limiter.clock().now()),
                    refused_by: index,
                }
            }
            // A cost above the burst can never pass: wait as long as it would take.
            Err(_) => Decision::Deny { retry_after: check.limit.interval() * check.cost, refused_by: index },
        }
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn check<'a>(&'a self, checks: &'a [Check]) -> StoreResult<'a, Decision> {
        // Forget idle keys now and then, so one-off client addresses don't pile up.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 100_000 == 99_999 {
            for limiter in self.limiters.read().expect("limiters lock").values() {
                limiter.retain_recent();
            }
        }
        // In order, stopping at the first refusal: the cheap aggregate bucket comes
        // first, so a flood is refused before it spends anyone's own allowance.
        let decision = checks
            .iter()
            .enumerate()
            .map(|(i, c)| self.check_one(i, c))
            .find(|d| matches!(d, Decision::Deny { .. }))
            .unwrap_or(Decision::Allow);
        futures::future::ready(Ok(decision)).boxed()
    }
}

/// GCRA on the Redis server's clock over every key at once: each key holds its
/// theoretical arrival time (ms); nothing is spent unless every key allows the request.
/// ARGV holds (interval ms, tolerance ms, cost) per key. Returns {wait ms, index of the
/// key that asked for that wait (1-based)}, wait 0 when allowed.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local refused_by = 0
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[3 * i - 2])
  local tolerance = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval * cost
  if new_tat - now > tolerance and new_tat - now - tolerance > wait then
    wait = new_tat - now - tolerance
    refused_by = i
  end
  tats[i] = new_tat
end
if wait > 0 then
  return {math.ceil(wait), refused_by}
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(tats[i] - now))
end
return {0, 0}
"#;

pub struct RedisRateLimiter {
    conn: ConnectionManager,
    script: redis::Script,
}

impl RedisRateLimiter {
    pub fn new(conn: ConnectionManager) -> Self {
        Self { conn, script: redis::Script::new(GCRA) }
    }
}

impl RateLimiter for RedisRateLimiter {
    fn check<'a>(&'a self, checks: &'a [Check]) -> StoreResult<'a, Decision> {
        async move {
            let mut conn = self.conn.clone();
            let mut invocation = self.script.prepare_invoke();
            for c in checks {
                let interval_ms = 1000.0 / f64::from(c.limit.per_second);
                invocation
                    .key(&c.key)
                    .arg(interval_ms)
                    .arg(interval_ms * f64::from(c.limit.burst))
                    .arg(c.cost);
            }
            let (wait_ms, refused_by): (i64, usize) = invocation.invoke_async(&mut conn).await?;
            Ok(if wait_ms > 0 {
                Decision::Deny {
                    retry_after: Duration::from_millis(wait_ms.unsigned_abs()),
                    refused_by: refused_by.saturating_sub(1),
                }
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

    fn check(key: &str, per_second: u32, burst: u32, cost: u32) -> Vec<Check> {
        vec![Check { key: key.into(), limit: Limit::new(per_second, burst), cost }]
    }

    #[tokio::test]
    async fn memory_limiter_allows_the_burst_then_denies_per_key() {
        let limiter = MemoryRateLimiter::default();
        for _ in 0..3 {
            assert_eq!(limiter.check(&check("a", 1, 3, 1)).await.unwrap(), Decision::Allow);
        }
        assert!(matches!(limiter.check(&check("a", 1, 3, 1)).await.unwrap(), Decision::Deny { .. }));
        assert_eq!(limiter.check(&check("b", 1, 3, 1)).await.unwrap(), Decision::Allow);
    }

    #[tokio::test]
    async fn costs_and_limits_differ_per_check() {
        let limiter = MemoryRateLimiter::default();
        assert_eq!(limiter.check(&check("x", 1, 10, 6)).await.unwrap(), Decision::Allow);
        assert!(matches!(limiter.check(&check("x", 1, 10, 6)).await.unwrap(), Decision::Deny { .. }));
        // A cost above the burst never passes.
        assert!(matches!(limiter.check(&check("y", 1, 2, 3)).await.unwrap(), Decision::Deny { .. }));
        // The first refusing bucket stops the request.
        let both = [check("cap", 1, 1, 1), check("client", 1, 5, 1)].concat();
        assert_eq!(limiter.check(&both).await.unwrap(), Decision::Allow);
        assert!(matches!(limiter.check(&both).await.unwrap(), Decision::Deny { refused_by: 0, .. }));
        let client_only = [check("cap2", 100, 100, 1), check("client2", 1, 1, 1)].concat();
        assert_eq!(limiter.check(&client_only).await.unwrap(), Decision::Allow);
        assert!(matches!(limiter.check(&client_only).await.unwrap(), Decision::Deny { refused_by: 1, .. }));
    }

    #[tokio::test]
    async fn redis_limiter_names_the_bucket_that_refused() {
        let Ok(url) = std::env::var("MOORING_TEST_REDIS_URL") else {
            eprintln!(
                "*** SKIPPED redis_limiter_names_the_bucket_that_refused: needs MOORING_TEST_REDIS_URL ***"
            );
            return;
        };
        let conn = ConnectionManager::new(redis::Client::open(url).unwrap()).await.unwrap();
        let limiter = RedisRateLimiter::new(conn);
        let run = uuid::Uuid::new_v4();
        let key = |name: &str| format!("mooring-unit-{run}:{name}");
        let cap_first = [check(&key("cap"), 1, 1, 1), check(&key("client"), 1, 5, 1)].concat();
        assert_eq!(limiter.check(&cap_first).await.unwrap(), Decision::Allow);
        assert!(matches!(limiter.check(&cap_first).await.unwrap(), Decision::Deny { refused_by: 0, .. }));
        let client_second = [check(&key("cap2"), 100, 100, 1), check(&key("client2"), 1, 1, 1)].concat();
        assert_eq!(limiter.check(&client_second).await.unwrap(), Decision::Allow);
        let Decision::Deny { retry_after, refused_by } = limiter.check(&client_second).await.unwrap() else {
            panic!("the client's bucket is empty")
        };
        assert_eq!(refused_by, 1);
        assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1));
    }
}
