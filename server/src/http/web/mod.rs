//! The web console at `/console` on the admin host: server-rendered pages over the
//! GraphQL API (each page runs GraphQL documents in-process as the signed-in key, so
//! the roles, scoping, validation and audit of the API apply unchanged; there is no
//! other way into the data). Plain HTML forms, one small script of our own (the live
//! transaction list), no third-party code: the admin host's strict CSP holds, with
//! `form-action 'self'` for these pages.

mod activity;
mod config;
mod customers;
mod form;
mod health;
mod keys;
mod live;
mod operator;
mod pages;
mod quoting;
mod session;
mod settings;
mod transaction;

use std::net::SocketAddr;

use async_graphql::{Request as GqlRequest, Variables};
use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mooring_graphql::Caller;
use mooring_graphql::roles::Grant;
use mooring_tenants::api_keys::{self, KeyScope, Role};
use mooring_tenants::audit::{Actor, Audit};
use serde_json::Value;

use session::Session;

use crate::state::AppState;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/style.css", get(style))
        .route("/console/live.js", get(live::script))
        .route("/console/events", get(live::events))
        .route("/console/sign-in", post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/transactions", get(pages::transactions))
        .route(
            "/console/transactions/{id}",
            get(transaction::transaction).post(transaction::act_on_transaction),
        )
        .route("/console/customers", get(customers::customers))
        .route("/console/customers/{id}", get(customers::customer).post(customers::review_customer))
        .route("/console/keys", get(keys::keys).post(keys::create_key))
        .route("/console/keys/{id}/revoke", post(keys::revoke_key))
        .route("/console/tenants", get(operator::tenants).post(operator::create))
        .route("/console/tenants/{id}/suspend", post(operator::suspend))
        .route("/console/tenants/{id}/resume", post(operator::resume))
        .route("/console/tenants/{id}/conformance-on", post(operator::conformance_on))
        .route("/console/tenants/{id}/conformance-off", post(operator::conformance_off))
        .route("/console/senders", get(config::senders).post(config::approve_sender))
        .route("/console/senders/enabled", post(config::set_sender_enabled))
        .route("/console/assets", get(config::assets).post(config::upsert_asset))
        .route("/console/customer-types", get(settings::customer_types).post(settings::set_customer_type))
        .route("/console/settings", get(settings::settings).post(settings::update_settings))
        .route("/console/quotes", get(quoting::quoting))
        .route("/console/quotes/offchain", post(quoting::set_offchain))
        .route("/console/quotes/corridors", post(quoting::set_corridor))
        .route("/console/quotes/corridors/{id}/rate", post(quoting::set_rate))
        .route("/console/quotes/policy", post(quoting::set_policy))
        .route("/console/health", get(health::health))
        .route("/console/webhooks", get(activity::webhooks).post(activity::create_endpoint))
        .route("/console/webhooks/{id}/delete", post(activity::delete_endpoint))
        .route("/console/webhooks/{id}/enable", post(activity::enable_endpoint))
        .route("/console/webhooks/{id}/disable", post(activity::disable_endpoint))
        .route("/console/webhooks/{id}/test", post(activity::send_test))
        .route("/console/webhooks/deliveries/{id}/redeliver", post(activity::redeliver))
        .route("/console/audit", get(activity::audit))
        // A form posted from another site is refused before anything reads it (the
        // CSRF token covers signed-in forms; this also covers signing in).
        .layer(axum::middleware::from_fn(same_origin_posts))
}

/// A POST whose `Origin` is another site (or `null`) is refused with 403. Browsers send
/// `Origin` with every form post; a client that sends none is not a browser a page
/// could steer, and still needs the session's CSRF token for anything but signing in.
async fn same_origin_posts(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() == axum::http::Method::POST
        && let Some(origin) = req.headers().get(header::ORIGIN)
    {
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| url::Url::parse(o).ok())
            .and_then(|u| {
                Some(format!("{}{}", u.host_str()?, u.port().map(|p| format!(":{p}")).unwrap_or_default()))
            })
            .is_some_and(|o| o.eq_ignore_ascii_case(host));
        if !same {
            return (
                StatusCode::FORBIDDEN,
                Html(pages::sign_in_page(Some("Refused: the form came from another site."))),
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Who is signed in, as the API sees them.
pub struct SignedIn {
    session: Session,
    caller: Caller,
    grant: Grant,
    actor: Actor,
}

impl SignedIn {
    pub fn role(&self) -> Role {
        self.grant.0
    }

    pub fn is_operator(&self) -> bool {
        self.caller == Caller::Operator
    }

    /// Runs a GraphQL document as this key; `data`, or the first error's message and code.
    pub async fn gql(
        &self,
        state: &AppState,
        query: &str,
        variables: Value,
    ) -> Result<Value, (String, String)> {
        let request = GqlRequest::new(query)
            .variables(Variables::from_json(variables))
            .data(self.caller)
            .data(self.grant)
            .data(self.actor.clone())
            .data(Audit::default());
        let response = state.graphql.execute(request).await;
        if let Some(e) = response.errors.first() {
            let code = e
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .and_then(|c| c.clone().into_json().ok())
                .and_then(|c| c.as_str().map(str::to_string))
                .unwrap_or_default();
            return Err((e.message.clone(), code));
        }
        Ok(response.data.into_json().unwrap_or(Value::Null))
    }

    /// The response with the session's cookie renewed (the idle deadline slides).
    pub fn respond(&self, state: &AppState, status: StatusCode, html: String) -> Response {
        let cookie = self.session.clone().cookie(state);
        (status, [(header::SET_COOKIE, cookie)], Html(html)).into_response()
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf
    }

    pub fn csrf_ok(&self, sent: &str) -> bool {
        self.session.csrf_ok(sent)
    }
}

/// The signed-in caller for a console page, within the admin API's allowance for its
/// key (the console is the API by another door, so it draws from the same kind of
/// bucket: a 429 page when spent); `Err(None)`: not signed in.
pub async fn admitted(state: &AppState, headers: &HeaderMap) -> Result<SignedIn, Option<Response>> {
    let who = signed_in(state, headers).await.ok_or(None)?;
    let bucket = match who.actor.key.as_ref() {
        Some((id, _)) => format!("console:{id}"),
        None => "console:operator".to_string(),
    };
    crate::http::admin::draw(state, &["rl", "admin-key", &bucket], 1).await.map_err(Some)?;
    Ok(who)
}

/// The signed-in caller, if the cookie holds a live session of a live key.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<SignedIn> {
    let session = Session::from_headers(state, headers)?;
    let request_id = crate::http::admin::request_id(headers);
    match session.key {
        Some(id) => {
            let key = api_keys::live_by_id(&state.db, id).await.ok()??;
            let caller = match key.scope {
                KeyScope::Operator => Caller::Operator,
                KeyScope::Tenant(t) => Caller::Tenant(t),
            };
            let actor = Actor { key: Some((key.id, key.name)), key_roles: Some(key.roles), request_id };
            Some(SignedIn { session, caller, grant: Grant(key.role), actor })
        }
        None => {
            let token = state.cfg.operator_token.as_deref()?;
            if session.operator.as_deref() != Some(session::operator_fingerprint(state, token).as_str()) {
                return None;
            }
            let actor = Actor { key: None, key_roles: None, request_id };
            Some(SignedIn { session, caller: Caller::Operator, grant: Grant(Role::Admin), actor })
        }
    }
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Some(who) if who.is_operator() => Redirect::to("/console/tenants").into_response(),
        Some(_) => Redirect::to("/console/transactions").into_response(),
        None => (StatusCode::OK, Html(pages::sign_in_page(None))).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct SignInForm {
    token: String,
}

/// Signs in with an API key or the operator token, within the admin API's limits for
/// failed attempts; the session holds the key's id, never the key.
async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let token = form.token.trim();
    let (caller, _grant, actor) =
        match crate::http::admin::authenticate_limited(&state, peer, &headers, token).await {
            Ok(who) => who,
            Err(refused) if refused.status() == StatusCode::TOO_MANY_REQUESTS => return refused,
            Err(_) => {
                let page = pages::sign_in_page(Some("That key was not accepted."));
                return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
            }
        };
    let session = match actor.key {
        Some((id, _)) => Session::new(Some(id), None),
        None => Session::new(None, Some(session::operator_fingerprint(&state, token))),
    };
    let to = if caller == Caller::Operator { "/console/tenants" } else { "/console/transactions" };
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, session.cookie(&state)), (header::LOCATION, to.parse().unwrap())],
    )
        .into_response()
}

/// A form that only proves it came from the session's own page.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let Some(who) = signed_in(&state, &headers).await
        && !who.csrf_ok(&form.csrf)
    {
        return pages::forbidden_csrf();
    }
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, session::cleared()), (header::LOCATION, "/console".parse().unwrap())],
    )
        .into_response()
}

async fn style() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("style.css"),
    )
        .into_response()
}

/// `?status=…&tenant=…` on list pages.
#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub tenant: Option<String>,
    /// Transactions: created on or after / before this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    /// The sending anchor's account.
    pub sender: Option<String>,
    /// Transactions: amount in from / to (decimals).
    pub min: Option<String>,
    pub max: Option<String>,
    /// Transactions: the sender or receiver is this customer.
    pub customer: Option<String>,
    /// The page after this cursor.
    pub after: Option<String>,
    /// Customer types: the one to edit.
    pub edit: Option<String>,
}

pub type IdPath = Path<String>;
pub type ListParams = Query<ListQuery>;
