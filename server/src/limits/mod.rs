//! What each request costs against the rate limits. Cheap reads, the SEP-10 token
//! exchange (two signature checks and a Horizon look-up) and writes (new transactions,
//! KYC uploads) each have their own per-(tenant, client) quota, and every SEP request
//! also draws from its tenant's aggregate cap, checked first, so a flood from many
//! addresses costs a cheap 429 instead of work that slows other tenants.

mod cap_gate;

pub use cap_gate::CapGate;

use axum::http::Method;

use crate::backends::rate_limit::Limit;
use crate::cfg::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Read,
    Auth,
    Write,
}

impl Class {
    pub fn of(method: &Method, path: &str) -> Self {
        match (method, path) {
            (&Method::POST, "/auth") => Self::Auth,
            (&Method::GET | &Method::HEAD | &Method::OPTIONS, _) => Self::Read,
            // POST /sep31/transactions, PATCH, SEP-12 PUT/DELETE, callback URLs, and
            // SEP-38 POST /quote when it comes.
            _ => Self::Write,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Auth => "auth",
            Self::Write => "write",
        }
    }
}

/// A failed admin authentication costs this many requests of the client's allowance:
/// guessing keys is slow, a mistyped one now and then is not.
pub const ADMIN_FAILURE_COST: u32 = 10;

/// The platform's limits, read once from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub read: Limit,
    pub auth: Limit,
    pub write: Limit,
    /// A tenant's aggregate cap unless its operator set one.
    pub tenant: Limit,
    /// Admin API, per client address and per key.
    pub admin: Limit,
}

impl RateLimits {
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            read: Limit::new(cfg.rate_limit_per_second, cfg.rate_limit_burst),
            auth: Limit::new(cfg.rate_limit_auth_per_second, cfg.rate_limit_auth_burst),
            write: Limit::new(cfg.rate_limit_write_per_second, cfg.rate_limit_write_burst),
            tenant: Limit::new(cfg.tenant_rate_limit_per_second, cfg.tenant_rate_limit_burst),
            admin: Limit::new(cfg.admin_rate_limit_per_second, cfg.admin_rate_limit_burst),
        }
    }

    pub fn for_class(&self, class: Class) -> Limit {
        match class {
            Class::Read => self.read,
            Class::Auth => self.auth,
            Class::Write => self.write,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fall_in_their_cost_class() {
        assert_eq!(Class::of(&Method::GET, "/.well-known/stellar.toml"), Class::Read);
        assert_eq!(Class::of(&Method::GET, "/auth"), Class::Read);
        assert_eq!(Class::of(&Method::POST, "/auth"), Class::Auth);
        assert_eq!(Class::of(&Method::POST, "/sep31/transactions"), Class::Write);
        assert_eq!(Class::of(&Method::PUT, "/kyc/customer"), Class::Write);
        assert_eq!(Class::of(&Method::PATCH, "/sep31/transactions/x"), Class::Write);
        assert_eq!(Class::of(&Method::DELETE, "/kyc/customer/G"), Class::Write);
    }
}
