//! Shared-state backends, each a trait with an in-process implementation (one node) and
//! a Redis one (many replicas), picked once at start-up from the configuration.

pub mod nonces;
pub mod rate_limit;

use futures::future::BoxFuture;

#[derive(Debug, thiserror::Error)]
#[error("backend store: {0}")]
pub struct StoreError(pub String);

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        Self(e.to_string())
    }
}

pub type StoreResult<'a, T> = BoxFuture<'a, Result<T, StoreError>>;
