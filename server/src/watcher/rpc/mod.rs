//! One follower per Stellar RPC, shared by every tenant whose ledger comes from it.
//!
//! It polls `getEvents` for CAP-67 `transfer` and `mint` events from its stored cursor
//! and routes each by its receiving account. RPC allows 5 filters of 5 contract ids per
//! request — far fewer than a platform's assets — so it asks for the events by name
//! and decides here which are real: only an event whose contract is the SAC that its
//! asset derives to on this network counts (any contract can emit look-alike topics).
//! It pages with the answer's top-level cursor, which moves past the scanned window
//! of ledgers even when no event matched.
//!
//! The guarantees are the shared Horizon stream's: a batch's payments and the cursor
//! commit in one database transaction under the lease's fence; a payment's identity
//! is tenant, account, event id and the network epoch (event ids repeat after a
//! testnet reset); a joining account is caught up from where its tenant configured
//! it. What is new is the window: RPC keeps only recent ledgers, so a cursor older
//! than its oldest ledger is a gap — recorded, told to the tenants, and read from
//! Horizon where the network has one — and a network whose latest ledger is below
//! the cursor, or whose ledger at a stored sequence has another hash, was reset.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mooring_anchor::payments::Observed;
use mooring_stellar::Network;
use mooring_stellar::events::{self, EventPosition, Movement};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::WatchError;
use super::held::{self};
use super::roster::Members;
use crate::rpc::EventInfo;
use crate::state::AppState;

mod catch_up;
mod follow;

use catch_up::CatchUp;
use follow::Follow;

/// Events per `getEvents` request (RPC's default ceiling is 10,000).
const PAGE: u32 = 1_000;
/// Horizon records per page when a gap is read from Horizon.
const HORIZON_PAGE: u32 = 200;
/// How often a quiet stream stores its position (replay after a crash is harmless).
const IDLE_SAVE: Duration = Duration::from_secs(1);

/// What one RPC follower follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RpcSpec {
    pub url: String,
    pub network: Network,
    /// Where ledgers older than RPC keeps are read (gaps, old first watches).
    pub horizon: Option<String>,
}

pub(super) fn stream_key(url: &str) -> String {
    format!("rpc:{url}")
}

pub(super) async fn run(
    state: AppState,
    spec: RpcSpec,
    members: watch::Receiver<Arc<Members>>,
    token: CancellationToken,
) {
    held::run(state.clone(), stream_key(&spec.url), "rpc", token, move |session| {
        let (state, spec, members) = (state.clone(), spec.clone(), members.clone());
        Box::pin(async move { Follow::start(state, spec, members, session).await?.run().await })
    })
    .await
}

/// Turns RPC events into payments: decoding, the SAC check, the epoch in the identity.
#[derive(Clone)]
struct Reader {
    network: Network,
    epoch: i32,
    /// SEP-11 asset → its SAC's contract id on this network (`None`: not an asset).
    sacs: Arc<std::sync::Mutex<HashMap<String, Option<String>>>>,
    label: metrics::SharedString,
}

use super::resets::with_epoch;

impl Reader {
    fn count(&self, verdict: &'static str) {
        metrics::counter!("mooring_rpc_events_total", "rpc" => self.label.clone(), "verdict" => verdict)
            .increment(1);
    }

    fn sac(&self, asset: &str) -> Option<String> {
        let mut sacs = self.sacs.lock().expect("not poisoned");
        sacs.entry(asset.to_string())
            .or_insert_with(|| events::sac_contract_id(&self.network, asset).ok())
            .clone()
    }

    /// The payment an event makes to `to` (a routed account), if it is one.
    fn payment(&self, ev: &EventInfo, wanted: impl Fn(&str) -> bool) -> Option<Observed> {
        if !ev.in_successful_contract_call {
            return None;
        }
        let e = match events::decode_base64(&ev.topic, &ev.value) {
            Ok(Some(e)) => e,
            Ok(None) => return None,
            Err(error) => {
                // Someone's contract emitted a malformed look-alike: skip it, never stop.
                tracing::debug!(event = %ev.id, %error, "unreadable asset event");
                self.count("malformed");
                return None;
            }
        };
        if !wanted(&e.to_base) {
            return None;
        }
        if self.sac(&e.asset).as_deref() != Some(ev.contract_id.as_str()) {
            tracing::warn!(
                event = %ev.id, contract = %ev.contract_id, asset = %e.asset, to = %e.to_base,
                "ignored a transfer event not emitted by the asset's own contract"
            );
            self.count("counterfeit");
            return None;
        }
        self.count("ours");
        let (asset_code, asset_issuer) = e.asset_parts();
        let (memo_type, memo) = match &e.memo {
            Some((kind, value)) => (kind.as_str().to_string(), Some(value.clone())),
            None => ("none".to_string(), None),
        };
        Some(Observed {
            operation_id: with_epoch(&ev.id, self.epoch),
            paging_token: ev.id.clone(),
            op_type: e.movement.as_str().to_string(),
            successful: true,
            // A mint's sender is the issuer.
            from: match e.movement {
                Movement::Transfer => e.from.clone().unwrap_or_default(),
                Movement::Mint => asset_issuer.clone(),
            },
            to_muxed: (e.to != e.to_base).then(|| e.to.clone()),
            to: e.to_base,
            asset_code,
            asset_issuer,
            amount: e.amount,
            memo_type,
            memo,
            tx_hash: ev.tx_hash.clone(),
            ledger_time: ev.ledger_closed_at.clone(),
        })
    }
}

fn position_of(cursor: &str) -> Result<EventPosition, WatchError> {
    EventPosition::parse(cursor).ok_or_else(|| WatchError::Cursor(cursor.to_string()))
}
