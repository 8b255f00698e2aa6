//! The GraphQL admin API, served only on the admin host (`MOORING_ADMIN_HOST`), never
//! on a tenant's domain. Authentication happens here (bearer token: the operator token,
//! or an API key); authorization is the graphql crate's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{BatchRequest, Data};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{ConnectInfo, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{SinkExt, StreamExt};
use mooring_graphql::live::ConnectionSlots;
use mooring_graphql::roles::Grant;
use mooring_graphql::{Caller, Recheck, codes};
use mooring_tenants::api_keys::{self, KeyScope, Role};
use mooring_tenants::audit::{Actor, Audit};
use mooring_tenants::host;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::console;
use crate::backends::rate_limit::{Check, Decision};
use crate::error::ApiError;
use crate::limits::ADMIN_FAILURE_COST;
use crate::state::AppState;

/// Constant-time comparison, so the operator token cannot be guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller a bearer token stands for, if any.
pub async fn authenticate(state: &AppState, token: &str) -> Option<Caller> {
    identify(state, token).await.map(|who| who.caller)
}

/// Who a bearer token is: the caller, what its key may do, and which key it is (none:
/// the operator token) with its stored roles, for the audit log.
struct Identity {
    caller: Caller,
    grant: Grant,
    key: Option<(uuid::Uuid, String)>,
    key_roles: Option<String>,
}

async fn identify(state: &AppState, token: &str) -> Option<Identity> {
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if let Some(operator) = state.cfg.operator_token.as_deref()
        && same(operator.as_bytes(), token.as_bytes())
    {
        return Some(Identity {
            caller: Caller::Operator,
            grant: Grant(Role::Admin),
            key: None,
            key_roles: None,
        });
    }
    match api_keys::verify_key(&state.db, token).await {
        Ok(Some(key)) => {
            let caller = match key.scope {
                KeyScope::Operator => Caller::Operator,
                KeyScope::Tenant(t) => Caller::Tenant(t),
            };
            Some(Identity {
                caller,
                grant: Grant(key.role),
                key: Some((key.id, key.name)),
                key_roles: Some(key.roles),
            })
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "API key check failed");
            None
        }
    }
}

/// The request's id for the audit log: the proxy's `X-Request-Id` when it is a sane
/// token, else a new one.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
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

fn refused(status: StatusCode, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": codes::BAD_REQUEST } }] });
    (status, Json(body)).into_response()
}

fn too_many(retry_after: std::time::Duration) -> Response {
    let body = json!({ "errors": [{ "message": "too many requests", "extensions": { "code": codes::RATE_LIMITED } }] });
    let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, secs.to_string())], Json(body)).into_response()
}

/// Draws `cost` from one admin bucket; a 429 if it is empty. A store outage lets the
/// request through, as on the SEP side.
pub(crate) async fn draw(state: &AppState, parts: &[&str], cost: u32) -> Result<(), Response> {
    let check = Check { key: state.redis_key(parts), limit: state.rate_limits.admin, cost };
    match state.rate_limiter.check(std::slice::from_ref(&check)).await {
        Ok(Decision::Deny { retry_after, .. }) => Err(too_many(retry_after)),
        Ok(Decision::Allow) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            Ok(())
        }
    }
}

/// Charges a failed authentication. When the allowance cannot cover a whole failure,
/// what is left of it is spent, so the address's next attempt is refused before any
/// key is checked: guessing stops, even for a guess that would be right.
async fn failed(state: &AppState, client: &str) -> Result<(), Response> {
    let key = ["rl", "admin-ip", client];
    let Err(refused) = draw(state, &key, ADMIN_FAILURE_COST).await else { return Ok(()) };
    for _ in 0..ADMIN_FAILURE_COST {
        if draw(state, &key, 1).await.is_err() {
            break;
        }
    }
    Err(refused)
}

/// Authenticates within the admin limits: every attempt draws from the client
/// address's allowance, a failed one ten times over (guessing API keys is slow), and
/// each key has its own allowance for the calls it makes.
pub(crate) async fn authenticate_limited(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    token: &str,
) -> Result<(Caller, Grant, Actor), Response> {
    let client = state.client_address(Some(peer.ip()), headers);
    draw(state, &["rl", "admin-ip", &client], 1).await?;
    let Some(who) = identify(state, token).await else {
        failed(state, &client).await?;
        return Err(unauthenticated());
    };
    let key_id = hex::encode(&Sha256::digest(token.trim().as_bytes())[..12]);
    draw(state, &["rl", "admin-key", &key_id], 1).await?;
    let actor = Actor { key: who.key, key_roles: who.key_roles, request_id: request_id(headers) };
    Ok((who.caller, who.grant, actor))
}

/// The caller is authenticated from the headers before a byte of the body is read, and
/// the body is read only up to `MOORING_GRAPHQL_MAX_BODY_BYTES`: an anonymous client
/// costs a header parse, whatever it sends.
async fn execute(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let token = bearer(&headers).unwrap_or("").trim();
    if token.is_empty()
        && headers.get(header::AUTHORIZATION).is_none_or(|h| h.as_bytes().trim_ascii() == b"Bearer")
    {
        return anonymous(&state, peer, &headers, body).await;
    }
    let (caller, grant, actor) = match authenticate_limited(&state, peer, &headers, token).await {
        Ok(who) => who,
        Err(refused) => return refused,
    };
    let bytes = match axum::body::to_bytes(body, state.cfg.graphql_max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(e) if crate::http::too_large(&e) => {
            return refused(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large");
        }
        Err(_) => return refused(StatusCode::BAD_REQUEST, "unreadable request body"),
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(e) => return refused(StatusCode::BAD_REQUEST, &format!("invalid GraphQL request: {e}")),
    };
    // Each operation is within the cost limit; so is their number.
    if let BatchRequest::Batch(ops) = &batch
        && ops.len() > state.cfg.graphql_max_batch
    {
        let max = state.cfg.graphql_max_batch;
        return refused(StatusCode::BAD_REQUEST, &format!("at most {max} operations per batched request"));
    }
    let introspection = match &batch {
        BatchRequest::Single(r) => mooring_graphql::is_introspection(&r.query),
        BatchRequest::Batch(rs) => rs.iter().all(|r| mooring_graphql::is_introspection(&r.query)),
    };
    let schema = if introspection { &state.graphql_introspection } else { &state.graphql };
    // The request's audit slot: each root mutation's row is put there by the audit
    // extension and carried by the mutation's first write transaction.
    let batch = batch.data(caller).data(grant).data(actor).data(Audit::default());
    let response: GraphQLResponse = schema.execute_batch(batch).await.into();
    response.into_response()
}

/// The schema is public (it is in the repository): a request without a key may
/// introspect it, so the console's Docs pane and autocomplete work before anyone signs
/// in. Anything else without a key is 401. Such a request draws from its address's
/// admin allowance and its body is read only up to [`ANONYMOUS_MAX_BODY`].
async fn anonymous(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Response {
    let client = state.client_address(Some(peer.ip()), headers);
    if let Err(refused) = draw(state, &["rl", "admin-ip", &client], 1).await {
        return refused;
    }
    let Ok(bytes) = axum::body::to_bytes(body, ANONYMOUS_MAX_BODY).await else { return unauthenticated() };
    let Ok(request) = serde_json::from_slice::<async_graphql::Request>(&bytes) else {
        return unauthenticated();
    };
    if !mooring_graphql::is_introspection(&request.query) {
        return unauthenticated();
    }
    let response: GraphQLResponse = state.graphql_introspection.execute(request).await.into();
    response.into_response()
}

/// GraphiQL's introspection query is about 1.5 KiB.
const ANONYMOUS_MAX_BODY: usize = 16 * 1024;

/// graphql-transport-ws (and the older graphql-ws); the API key comes in the
/// `connection_init` payload as `{"Authorization": "Bearer …"}`.
async fn subscriptions(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The key comes later, in connection_init; the address pays for the upgrade now.
    let client = state.client_address(Some(peer.ip()), &headers);
    if let Err(refused) = draw(&state, &["rl", "admin-ip", &client], 1).await {
        return refused;
    }
    let schema = state.graphql.clone();
    let init_timeout = state.cfg.graphql_ws_init_timeout_ms;
    let per_connection = state.cfg.graphql_max_subscriptions_per_connection;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            // The protocol runs on a channel, so that this task can still close the
            // socket itself when `connection_init` does not come in time.
            let (mut socket_tx, socket_rx) = socket.split();
            let (out_tx, mut out_rx) = futures::channel::mpsc::channel::<Message>(16);
            let initialized = Arc::new(AtomicBool::new(false));
            let init_seen = initialized.clone();
            let serve = GraphQLWebSocket::new_with_pair(out_tx, socket_rx, schema, protocol)
                .on_connection_init(move |payload| async move {
                    init_seen.store(true, Ordering::SeqCst);
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .map(|v| v.trim_start_matches("Bearer ").trim_start_matches("bearer ").to_string())
                        .unwrap_or_default();
                    let Some(who) = identify(&state, &token).await else {
                        let _ = failed(&state, &client).await;
                        return Err(async_graphql::Error::new("missing or invalid API key"));
                    };
                    let caller = who.caller;
                    let mut data = Data::default();
                    data.insert(caller);
                    // A mutation sent over the socket is held to the key's roles and
                    // audited (its row written after it: operations on one socket
                    // run concurrently, so they share no audit slot).
                    data.insert(who.grant);
                    data.insert(Actor {
                        key: who.key,
                        key_roles: who.key_roles,
                        request_id: request_id(&HeaderMap::new()),
                    });
                    data.insert(ConnectionSlots(Arc::new(Semaphore::new(per_connection))));
                    // Subscriptions outlive the handshake: they re-check the key as they run.
                    data.insert(Recheck(std::sync::Arc::new(move || {
                        let (state, token) = (state.clone(), token.clone());
                        Box::pin(async move { authenticate(&state, &token).await == Some(caller) })
                    })));
                    Ok(data)
                })
                .serve();
            tokio::pin!(serve);
            let deadline = tokio::time::sleep(init_timeout);
            tokio::pin!(deadline);
            let mut served = false;
            loop {
                tokio::select! {
                    () = &mut serve, if !served => served = true,
                    out = out_rx.next() => match out {
                        Some(message) => {
                            if socket_tx.send(message).await.is_err() {
                                return;
                            }
                        }
                        None => {
                            let _ = socket_tx.close().await;
                            return;
                        }
                    },
                    () = &mut deadline, if !initialized.load(Ordering::SeqCst) => {
                        let close = CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() };
                        let _ = socket_tx.send(Message::Close(Some(close))).await;
                        return;
                    }
                }
            }
        })
        .into_response()
}

/// Only the admin host reaches the admin API; elsewhere it does not exist.
async fn admin_host_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let on_admin_host =
        req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|h| {
            host::is_valid(h) && host::normalize(h) == host::normalize(&state.cfg.admin_host)
        });
    if on_admin_host { next.run(req).await } else { ApiError::NotFound("not found".into()).into_response() }
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/graphql", get(console::page).post(execute))
        .route("/graphql/assets/{name}", get(console::asset))
        .route("/graphql/ws", get(subscriptions))
        .merge(super::web::router())
        .merge(crate::probes::probes())
        .layer(middleware::from_fn(console::security_headers))
        .layer(middleware::from_fn_with_state(state, admin_host_only))
}
