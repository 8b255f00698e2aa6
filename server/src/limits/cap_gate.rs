//! What this replica remembers of tenants whose aggregate cap is spent. GCRA moves a
//! bucket forward only when it allows a request, so once a tenant's cap refuses with
//! "retry after W", nothing can pass that cap before W has gone by, on this replica or
//! on any other. Requests in that window are refused from here: no limiter call (a
//! Redis round trip in production), no key building, so a flood on one tenant is
//! answered for the price of a map look-up and the CPU stays with the other tenants.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use uuid::Uuid;

use crate::backends::rate_limit::Limit;

#[derive(Default)]
pub struct CapGate {
    /// Until when each tenant's cap is known to refuse, and which cap that was: a new
    /// cap is a new bucket, so it opens the gate at once. One entry per tenant that was
    /// ever capped, overwritten in place: bounded by the number of tenants.
    closed: DashMap<Uuid, (Limit, Instant)>,
}

impl CapGate {
    /// How long the tenant's cap still refuses, if it is known to.
    pub fn closed_for(&self, tenant: Uuid, cap: Limit, now: Instant) -> Option<Duration> {
        let (closed_cap, until) = *self.closed.get(&tenant)?;
        (closed_cap == cap && until > now).then(|| until - now)
    }

    /// The tenant's cap refused at `now`, and will until `retry_after` has gone by.
    pub fn close(&self, tenant: Uuid, cap: Limit, now: Instant, retry_after: Duration) {
        self.closed.insert(tenant, (cap, now + retry_after));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_tenant_stays_closed_until_its_wait_is_over() {
        let gate = CapGate::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (cap, now) = (Limit::new(5, 10), Instant::now());
        assert_eq!(gate.closed_for(a, cap, now), None);
        gate.close(a, cap, now, Duration::from_millis(40));
        let later = now + Duration::from_millis(10);
        assert_eq!(gate.closed_for(a, cap, later), Some(Duration::from_millis(30)));
        assert_eq!(gate.closed_for(b, cap, now), None, "another tenant is not affected");
        assert_eq!(gate.closed_for(a, Limit::new(50, 100), later), None, "a new cap starts afresh");
        assert_eq!(
            gate.closed_for(a, cap, now + Duration::from_millis(40)),
            None,
            "open again once the wait is over"
        );
    }
}
