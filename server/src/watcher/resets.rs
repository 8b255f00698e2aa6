//! Telling a testnet reset from a lagging ledger source (pure; see tests).
//!
//! Testnet starts again from ledger 1 about every three months, with the same
//! passphrase. Two signals: the network's latest ledger is well below where we are
//! (a load-balanced RPC or Horizon may lag a few ledgers, never this far), or a ledger
//! we saw now has another hash (a follower that was stopped for a long time, while the
//! new network grew past our position).

/// A source more than this many ledgers behind us was reset, not lagging.
pub(super) const MARGIN: u32 = 10;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Judgement {
    Reset(String),
    /// Behind a ledger we saw, within the margin: wait, keep what we saw.
    Lagging,
    /// Compare the hash of this ledger with the one we saw.
    CompareHash(u32),
    /// Nothing seen yet (or nothing to compare): remember the latest ledger.
    Fine,
}

/// `latest`: the source's newest ledger; `ours`: the ledger of our cursor; `seen`: the
/// last ledger we checked.
pub(super) fn judge(latest: u32, ours: u32, seen: Option<u32>) -> Judgement {
    if latest.saturating_add(MARGIN) < ours {
        return Judgement::Reset(format!(
            "the network's latest ledger {latest} is below our position {ours}"
        ));
    }
    match seen {
        Some(seq) if seq > latest && latest.saturating_add(MARGIN) < seq => {
            Judgement::Reset(format!("the network's latest ledger {latest} is below ledger {seq} we saw"))
        }
        Some(seq) if seq > latest => Judgement::Lagging,
        Some(seq) => Judgement::CompareHash(seq),
        None => Judgement::Fine,
    }
}

/// A payment's identity on its network: event and operation ids repeat after a
/// reset, so from the first reset on they carry the epoch.
pub(super) fn with_epoch(id: &str, epoch: i32) -> String {
    if epoch == 0 { id.to_string() } else { format!("{id}@{epoch}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_is_far_below_a_lag_is_near() {
        assert!(matches!(judge(5, 5_000, None), Judgement::Reset(_)));
        assert_eq!(judge(4_995, 5_000, None), Judgement::Fine, "a few ledgers behind is lag");
        assert!(matches!(judge(100, 90, Some(5_000)), Judgement::Reset(_)));
        assert_eq!(judge(4_998, 4_990, Some(5_000)), Judgement::Lagging);
        assert_eq!(judge(6_000, 5_500, Some(5_000)), Judgement::CompareHash(5_000));
        assert_eq!(with_epoch("1-2", 0), "1-2");
        assert_eq!(with_epoch("1-2", 3), "1-2@3");
    }
}
