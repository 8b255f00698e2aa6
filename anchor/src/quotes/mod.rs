//! SEP-38 firm quotes: [`price`] turns a corridor and a market rate into amounts (pure),
//! [`store`] keeps the quotes a sending anchor was given and lets one transaction use
//! each. Where the market rate comes from (a manual rate in the tenant's configuration
//! or the platform's feed poller) is the server's business.

mod board;
pub mod price;
mod store;

pub use board::{FeedState, RateBoard};
pub use price::{Priced, Rate, check_fresh, quote};
pub use store::{
    Quote, Terms, claim_in, create, fee_parts, find_in_scope, get, list, outstanding, purge_unused,
};
