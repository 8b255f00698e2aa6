//! What a query may cost, so that no request — however many aliases it has — can make
//! the server read or build more than a bounded number of rows. async-graphql adds
//! up each field's complexity over the whole document (aliases included) and refuses
//! the request before running it when the sum is over `Limits::max_complexity`.
//!
//! Every list field costs its children times the most rows it can return: the `first`
//! a caller asked for (capped by the field), or a field's fixed cap. A field that reads
//! the database costs [`READ`] on top.

/// A resolver's own database read.
pub const READ: usize = 10;

/// Rows assumed of the in-memory configuration lists (assets, customer types, fields,
/// corridors, fee tiers…): served from the tenant snapshot, no database read.
pub const CONFIG_ROWS: usize = 10;

/// A list read from the database of at most `first.min(cap)` rows.
pub fn rows(child_complexity: usize, first: u64, cap: u64) -> usize {
    READ + child_complexity.saturating_mul(first.clamp(1, cap) as usize)
}

/// A list kept in memory (the tenant's configuration).
pub fn config(child_complexity: usize) -> usize {
    child_complexity.saturating_mul(CONFIG_ROWS)
}

/// One object read from the database.
pub fn read(child_complexity: usize) -> usize {
    READ + child_complexity
}

/// The caps the admin API enforces; configurable, documented in README's Security
/// section.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Operations in one batched HTTP request; each is within the limits above.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_depth: 10, max_complexity: 5_000, max_batch: 10 }
    }
}
