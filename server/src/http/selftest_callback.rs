//! The receiver of self-test callbacks: `POST /.mooring/selftest-callback/{token}`, on
//! any host (the run gives its sending anchor a callback URL on the platform itself).
//! The token is a self-test run's unguessable id: an unknown token, or one already
//! used, is 404 and writes nothing. The signature is checked by the run, not here: the
//! run is what verifies that the tenant signs its callbacks as SEP-31 prescribes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use uuid::Uuid;

use crate::state::AppState;

use crate::sandbox::selftest::CALLBACK_PATH as PATH;

async fn receive(
    State(state): State<AppState>,
    Path(token): Path<Uuid>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (signature, host) = (text(header::HeaderName::from_static("signature")), text(header::HOST));
    match mooring_tenants::self_tests::receive_callback(&state.db, token, &signature, &host, &body).await {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(e) => {
            tracing::warn!(error = %e, "could not store a self-test callback");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{PATH}/{{token}}"), post(receive))
}
