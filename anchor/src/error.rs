use mooring_stellar::sep31::IllegalTransition;
use serde_json::Value;

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
    TransactionInfoNeeded { fields: Value },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

pub type AnchorResult<T> = Result<T, AnchorError>;

impl AnchorError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
}
