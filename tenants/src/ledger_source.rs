//! Where a tenant's view of the ledger comes from: Horizon or Stellar RPC.
//!
//! The platform configures a Horizon and, optionally, an RPC per network. Where a
//! network has both, RPC is the source (watching, SEP-10 signers) and Horizon serves
//! only history older than RPC keeps. A tenant an operator gave its own RPC uses it; a
//! tenant an operator gave its own Horizon (and no RPC) stays on that Horizon.

use mooring_stellar::Network;

use crate::Tenant;

/// The platform's ledger services per network (URLs without a trailing slash; an
/// empty Horizon URL means none).
#[derive(Debug, Clone, Default)]
pub struct PlatformLedgers {
    pub horizon_public: String,
    pub horizon_testnet: String,
    pub rpc_public: Option<String>,
    pub rpc_testnet: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Horizon {
        url: String,
    },
    /// `horizon`: where history older than the RPC's window is read, if anywhere.
    Rpc {
        url: String,
        horizon: Option<String>,
    },
}

impl Source {
    pub fn is_rpc(&self) -> bool {
        matches!(self, Self::Rpc { .. })
    }
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

impl PlatformLedgers {
    pub fn horizon_for(&self, network: &Network) -> &str {
        if network.is_public() { &self.horizon_public } else { &self.horizon_testnet }
    }

    pub fn rpc_for(&self, network: &Network) -> Option<&str> {
        if network.is_public() { self.rpc_public.as_deref() } else { self.rpc_testnet.as_deref() }
    }

    /// Every URL the operator configured (called without the outbound fence).
    pub fn all_urls(&self) -> Vec<String> {
        [&self.horizon_public, &self.horizon_testnet]
            .into_iter()
            .filter(|u| !u.is_empty())
            .cloned()
            .chain(self.rpc_public.iter().cloned())
            .chain(self.rpc_testnet.iter().cloned())
            .map(|u| trim(&u))
            .collect()
    }

    pub fn source(&self, t: &Tenant) -> Source {
        let horizon = (!t.horizon_url.is_empty()).then(|| t.horizon_url.clone());
        if let Some(url) = &t.rpc_url {
            return Source::Rpc { url: trim(url), horizon };
        }
        let platform_horizon = trim(self.horizon_for(&t.network));
        match self.rpc_for(&t.network) {
            // A tenant on its own Horizon was put there by an operator on purpose.
            Some(rpc) if t.horizon_url == platform_horizon || t.horizon_url.is_empty() => {
                Source::Rpc { url: trim(rpc), horizon }
            }
            _ => Source::Horizon { url: t.horizon_url.clone() },
        }
    }
}
