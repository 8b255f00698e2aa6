//! The market rates of corridors on a feed, as this replica last polled them: the hot
//! SEP-38 endpoints read them without a database round trip. A manual rate needs no
//! board: it is in the tenant's configuration snapshot.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use mooring_tenants::{Corridor, RateSource};
use uuid::Uuid;

use super::price::Rate;

/// What the last polls of one feed gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    pub url: String,
    /// The last good rate: kept when the feed fails, until it is too old to quote on.
    pub last_good: Option<Rate>,
    pub last_error: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct RateBoard {
    feeds: RwLock<HashMap<Uuid, FeedState>>,
}

impl RateBoard {
    /// The rate `corridor` quotes on now, if it has one.
    pub fn rate(&self, corridor: &Corridor) -> Option<Rate> {
        match &corridor.rate {
            RateSource::Manual { rate, as_of } => Some(Rate { value: *rate, as_of: *as_of }),
            RateSource::Feed { url } => {
                let feeds = self.feeds.read().unwrap_or_else(|p| p.into_inner());
                // A feed URL just changed: its old value is not this feed's.
                feeds.get(&corridor.id).filter(|f| &f.url == url).and_then(|f| f.last_good)
            }
        }
    }

    pub fn state(&self, corridor_id: Uuid) -> Option<FeedState> {
        self.feeds.read().unwrap_or_else(|p| p.into_inner()).get(&corridor_id).cloned()
    }

    /// Records a poll of `url` for `corridor_id`: a rate, or why there was none.
    pub fn record(&self, corridor_id: Uuid, url: &str, polled: Result<Rate, String>) {
        let mut feeds = self.feeds.write().unwrap_or_else(|p| p.into_inner());
        let state = feeds.entry(corridor_id).or_default();
        if state.url != url {
            *state = FeedState { url: url.to_string(), ..FeedState::default() };
        }
        state.checked_at = Some(Utc::now());
        match polled {
            Ok(rate) => {
                state.last_good = Some(rate);
                state.last_error = None;
            }
            Err(e) => state.last_error = Some(e),
        }
    }

    /// Forgets feeds of corridors no longer configured.
    pub fn retain(&self, keep: impl Fn(&Uuid) -> bool) {
        self.feeds.write().unwrap_or_else(|p| p.into_inner()).retain(|id, _| keep(id));
    }
}
