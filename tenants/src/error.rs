#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("a tenant's stored configuration is invalid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("domain {0:?} already belongs to a tenant")]
    DomainTaken(String),
    /// A distribution account is watched for one tenant per network only.
    #[error("account {0} is already the distribution account of another tenant on this network")]
    AccountTaken(String),
    /// The tenant's state does not allow this (deleting one that is not suspended).
    #[error("{0}")]
    WrongState(String),
    #[error("seed decryption failed: wrong master key or tampered ciphertext")]
    Decrypt,
}
