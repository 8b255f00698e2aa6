//! How one delivery failed, for the outbox's backoff.

/// Why a delivery failed: the destination is down or slow (it backs off as a whole),
/// or it answered and refused this one callback (only the row backs off).
pub(crate) enum Failure {
    Unreachable(String),
    Refused(String),
}
