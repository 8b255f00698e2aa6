//! Relay connections with offset cursors: one helper checks the arguments and caps the
//! page size, so every list field pages the same way.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{OutputType, Result, SimpleObject};

use crate::error::invalid;

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// Totals on every connection.
#[derive(SimpleObject)]
pub struct Totals {
    /// How many objects match, across all pages.
    pub total_count: u64,
}

pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

pub fn page(after: Option<String>, first: Option<i32>) -> Result<Page> {
    let offset = match after {
        None => 0,
        Some(c) => {
            usize::decode_cursor(&c).map_err(|_| invalid("after is not a cursor of this list"))? as u64 + 1
        }
    };
    let limit = match first {
        None => DEFAULT_PAGE,
        Some(n) if n < 0 => return Err(invalid("first must not be negative")),
        Some(n) if n as u64 > MAX_PAGE => return Err(invalid(format!("first may be at most {MAX_PAGE}"))),
        Some(n) => n as u64,
    };
    Ok(Page { offset, limit })
}

pub fn connection<T: OutputType>(page: &Page, rows: Vec<T>, total: u64) -> Connection<usize, T, Totals> {
    let has_next = page.offset + (rows.len() as u64) < total;
    let mut conn =
        Connection::with_additional_fields(page.offset > 0, has_next, Totals { total_count: total });
    conn.edges
        .extend(rows.into_iter().enumerate().map(|(i, node)| Edge::new(page.offset as usize + i, node)));
    conn
}
