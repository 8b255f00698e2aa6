use mooring_stellar::sep31::IllegalTransition;
use mooring_wire::error::TransactionFields;

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// SEP-31: KYC of this SEP-12 type is missing or not yet accepted.
    #[error("customer_info_needed")]
    CustomerInfoNeeded { sep12_type: String },
    /// SEP-31 (deprecated form): these transaction fields are missing.
    #[error("transaction_info_needed")]
    TransactionInfoNeeded { fields: TransactionFields },
    /// Someone else changed it first, or the request clashes with an earlier one
    /// (a reused `Idempotency-Key`, a refund already recorded): retrying may help.
    #[error("{0}")]
    Conflict(String),
    /// The object's current state does not allow this (an illegal status move, a
    /// `PATCH` outside `pending_transaction_info_update`, a refund of funds not held):
    /// retrying won't help until the state changes. One meaning, mapped once per
    /// boundary: SEP endpoints answer 400 (the SEPs' code for a request that cannot be
    /// honoured), the admin API CONFLICT.
    #[error("{0}")]
    WrongState(String),
    /// A dependency is not fit to answer now (a corridor's rate is stale): retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

pub type AnchorResult<T> = Result<T, AnchorError>;

impl From<IllegalTransition> for AnchorError {
    fn from(e: IllegalTransition) -> Self {
        Self::WrongState(e.to_string())
    }
}

impl AnchorError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
}
