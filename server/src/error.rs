//! The one error type of the HTTP layer. Only this file knows the SEP error shape
//! (`{"error": "..."}`); internal failures are logged here and answered opaquely.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mooring_wire::error::{CustomerInfoNeeded, ErrorBody, TransactionInfoNeeded};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A SEP-specific error body, e.g. SEP-31's `customer_info_needed` with its `type`.
    #[error("{body}")]
    Sep { status: StatusCode, body: serde_json::Value },
    #[error("rate limit exceeded")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Sep { status, .. } => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl From<mooring_tenants::Error> for ApiError {
    fn from(e: mooring_tenants::Error) -> Self {
        Self::Internal(e.into())
    }
}

fn to_body(body: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or_default()
}

impl From<mooring_anchor::AnchorError> for ApiError {
    fn from(e: mooring_anchor::AnchorError) -> Self {
        use mooring_anchor::AnchorError as A;
        match e {
            A::NotFound(m) => Self::NotFound(m),
            A::Invalid(m) => Self::BadRequest(m),
            A::WrongState(m) => Self::BadRequest(m),
            A::Conflict(m) => Self::Conflict(m),
            A::CustomerInfoNeeded { sep12_type } => Self::Sep {
                status: StatusCode::BAD_REQUEST,
                body: to_body(&CustomerInfoNeeded::new(Some(sep12_type))),
            },
            A::TransactionInfoNeeded { fields } => Self::Sep {
                status: StatusCode::BAD_REQUEST,
                body: to_body(&TransactionInfoNeeded::new(fields)),
            },
            A::Unavailable(m) => Self::Unavailable(m),
            A::Db(e) => Self::Internal(e.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Sep { body, .. } = self {
            return (status, Json(body)).into_response();
        }
        let message = match &self {
            Self::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                "internal server error".to_string()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(ErrorBody { error: message })).into_response();
        if let Self::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        response
    }
}
