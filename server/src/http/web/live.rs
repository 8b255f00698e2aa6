//! Live updates of the transaction list: `GET /console/events` is a server-sent event
//! stream fed by the admin API's own `transactionEvents` subscription, run as the
//! signed-in key (its subscription caps and its 1 s credential re-check included);
//! `live.js` reloads the list when an event arrives.

use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::Request as GqlRequest;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use mooring_graphql::Recheck;

use super::signed_in;
use crate::state::AppState;

const SUBSCRIPTION: &str =
    "subscription($t: ID) { transactionEvents(tenantId: $t) { transactionId toStatus at } }";

pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: super::ListParams,
) -> Response {
    let Some(who) = signed_in(&state, &headers).await else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The stream outlives this request's check: the subscription re-checks the session's
    // key (revoked, or the operator token changed) as it runs.
    let recheck = {
        let (state, headers, caller) = (state.clone(), headers.clone(), who.caller);
        Recheck(Arc::new(move || {
            let (state, headers) = (state.clone(), headers.clone());
            Box::pin(async move { signed_in(&state, &headers).await.is_some_and(|w| w.caller == caller) })
        }))
    };
    let variables = async_graphql::Variables::from_json(serde_json::json!({ "t": params.0.tenant }));
    let request =
        GqlRequest::new(SUBSCRIPTION).variables(variables).data(who.caller).data(who.grant).data(recheck);
    let stream = state.graphql.execute_stream(request).map(|response| {
        let body = if response.errors.is_empty() {
            serde_json::to_string(&response.data).unwrap_or_default()
        } else {
            serde_json::json!({ "error": response.errors[0].message }).to_string()
        };
        Ok::<_, Infallible>(Event::default().data(body))
    });
    let mut res = Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
    res
}

pub async fn script() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("live.js"),
    )
        .into_response()
}
