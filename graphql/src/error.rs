//! GraphQL errors carry a machine-readable `extensions.code`.

use async_graphql::{Error, ErrorExtensions};

pub mod codes {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INTERNAL: &str = "INTERNAL";
    /// The request itself could not be read (too large, not JSON).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// Too many requests from this address or key; see `Retry-After`.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
}

pub fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, e| e.set("code", code))
}

pub fn not_found(what: &str) -> Error {
    coded(codes::NOT_FOUND, format!("{what} not found"))
}

pub fn invalid(message: impl Into<String>) -> Error {
    coded(codes::INVALID_INPUT, message)
}

pub fn internal(e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "admin API internal error");
    coded(codes::INTERNAL, "internal error")
}

pub fn from_anchor(e: mooring_anchor::AnchorError) -> Error {
    use mooring_anchor::AnchorError as A;
    match e {
        A::NotFound(m) => coded(codes::NOT_FOUND, m),
        A::Invalid(m) => invalid(m),
        A::WrongState(m) => coded(codes::CONFLICT, m),
        A::Conflict(m) => coded(codes::CONFLICT, m),
        A::CustomerInfoNeeded { sep12_type } => invalid(format!("customer info needed: {sep12_type}")),
        A::TransactionInfoNeeded { .. } => invalid("transaction info needed"),
        A::Unavailable(m) => coded(codes::CONFLICT, m),
        A::Db(e) => internal(e),
    }
}

pub fn from_tenants(e: mooring_tenants::Error) -> Error {
    use mooring_tenants::Error as T;
    match e {
        T::Invalid(m) => invalid(m),
        T::NotFound(m) => coded(codes::NOT_FOUND, format!("{m} not found")),
        T::DomainTaken(d) => coded(codes::CONFLICT, format!("domain {d} already belongs to a tenant")),
        e @ T::AccountTaken(_) => coded(codes::CONFLICT, e.to_string()),
        T::WrongState(m) => coded(codes::CONFLICT, m),
        other => internal(other),
    }
}
