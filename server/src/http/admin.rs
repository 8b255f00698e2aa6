//! The GraphQL admin API, served only on the admin host (`MOORING_ADMIN_HOST`), never
//! on a tenant's domain. Authentication happens here (bearer token: the operator token,
//! or an API key); authorization is the graphql crate's.

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mooring_graphql::{Caller, codes};
use mooring_tenants::api_keys::{self, KeyScope};
use mooring_tenants::host;
use serde_json::json;

use crate::state::AppState;

/// Constant-time comparison, so the operator token cannot be guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller a bearer token stands for, if any.
pub async fn authenticate(state: &AppState, token: &str) -> Option<Caller> {
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if let Some(operator) = state.cfg.operator_token.as_deref()
        && same(operator.as_bytes(), token.as_bytes())
    {
        return Some(Caller::Operator);
    }
    match api_keys::verify(&state.db, token).await {
        Ok(Some(KeyScope::Operator)) => Some(Caller::Operator),
        Ok(Some(KeyScope::Tenant(t))) => Some(Caller::Tenant(t)),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "API key check failed");
            None
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
}

fn unauthenticated() -> Response {
    let body = json!({ "errors": [{ "message": "missing or invalid API key", "extensions": { "code": codes::UNAUTHENTICATED } }] });
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], Json(body)).into_response()
}

async fn execute(State(state): State<AppState>, headers: HeaderMap, req: GraphQLRequest) -> Response {
    let Some(caller) = authenticate(&state, bearer(&headers).unwrap_or("")).await else {
        return unauthenticated();
    };
    let response: GraphQLResponse = state.graphql.execute(req.into_inner().data(caller)).await.into();
    response.into_response()
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").finish())
}

/// graphql-transport-ws (and the older graphql-ws); the API key comes in the
/// `connection_init` payload as `{"Authorization": "Bearer …"}`.
async fn subscriptions(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.graphql.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(|v| v.trim_start_matches("Bearer ").trim_start_matches("bearer ").to_string())
                        .unwrap_or_default();
                    let caller = authenticate(&state, &token)
                        .await
                        .ok_or_else(|| async_graphql::Error::new("missing or invalid API key"))?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}

/// Only the admin host reaches the admin API; elsewhere it does not exist.
async fn admin_host_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let on_admin_host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| host::normalize(h) == host::normalize(&state.cfg.admin_host));
    if on_admin_host {
        next.run(req).await
    } else {
        (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
    }
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/graphql", get(graphiql).post(execute))
        .route("/graphql/ws", get(subscriptions))
        .layer(middleware::from_fn_with_state(state, admin_host_only))
}
