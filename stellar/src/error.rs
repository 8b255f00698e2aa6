/// Everything that can be wrong with protocol input. Messages are safe to show to a
/// client: they name the problem, never a secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("invalid account: {0}")]
    InvalidAccount(String),
    #[error("invalid memo: {0}")]
    InvalidMemo(String),
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    #[error("invalid secret seed")]
    InvalidSeed,
    #[error("invalid challenge: {0}")]
    InvalidChallenge(String),
    #[error("challenge expired")]
    ChallengeExpired,
    #[error("{0}")]
    Signatures(String),
    #[error("invalid asset: {0}")]
    InvalidAsset(String),
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    #[error("{field} {reason}")]
    InvalidField { field: String, reason: String },
}

pub(crate) fn challenge(msg: impl Into<String>) -> Error {
    Error::InvalidChallenge(msg.into())
}
