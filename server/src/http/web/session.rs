//! Console sessions, with nothing to store on the server: the cookie carries which key
//! signed in (its id, never the key; for the operator token, a fingerprint of it), a
//! CSRF token, and when it was issued and last used, under an HMAC keyed from the
//! master key, so every replica reads it. Each request re-checks the key (a revoked key
//! ends its sessions at once, a changed operator token the operator's) and slides the
//! idle deadline. The cookie is `HttpOnly; Secure; SameSite=Strict`, path `/console`.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::state::AppState;

pub const COOKIE: &str = "mooring_console";
/// A session unused this long is over.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// And any session is over this long after sign-in.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// The namespace the cookie's HMAC key is derived under (not a tenant's).
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x6d6f_6f72_696e_675f_636f_6e73_6f6c_6501);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The API key that signed in; `None`: the operator token.
    pub key: Option<Uuid>,
    /// For the operator token: a fingerprint of it, so a new token ends old sessions.
    pub operator: Option<String>,
    /// Sent back with every form that changes something.
    pub csrf: String,
    /// Unix seconds.
    pub issued: i64,
    pub seen: i64,
}

fn mac(state: &AppState) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(&state.master_key.jwt_secret(KEY_NAMESPACE)).expect("any key length")
}

pub fn operator_fingerprint(state: &AppState, token: &str) -> String {
    let mut m = mac(state);
    m.update(b"operator-token:");
    m.update(token.as_bytes());
    hex::encode(&m.finalize().into_bytes()[..16])
}

fn random_token() -> String {
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).expect("operating system random source");
    B64.encode(raw)
}

impl Session {
    pub fn new(key: Option<Uuid>, operator: Option<String>) -> Self {
        let now = Utc::now().timestamp();
        Session { key, operator, csrf: random_token(), issued: now, seen: now }
    }

    /// The cookie's value: the session, then its HMAC.
    fn seal(&self, state: &AppState) -> String {
        let body = B64.encode(serde_json::to_vec(self).expect("a session serialises"));
        let mut m = mac(state);
        m.update(body.as_bytes());
        format!("{body}.{}", B64.encode(m.finalize().into_bytes()))
    }

    /// The request's session, if its cookie is genuine and neither idle nor too old.
    pub fn from_headers(state: &AppState, headers: &HeaderMap) -> Option<Session> {
        let value = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(';'))
            .find_map(|c| c.trim().strip_prefix(COOKIE).and_then(|v| v.strip_prefix('=')))?;
        let (body, tag) = value.split_once('.')?;
        let mut m = mac(state);
        m.update(body.as_bytes());
        m.verify_slice(&B64.decode(tag).ok()?).ok()?;
        let s: Session = serde_json::from_slice(&B64.decode(body).ok()?).ok()?;
        let now = Utc::now().timestamp();
        let fresh = now - s.seen <= IDLE.as_secs() as i64 && now - s.issued <= MAX_AGE.as_secs() as i64;
        fresh.then_some(s)
    }

    /// `Set-Cookie` for this session, used now (the idle deadline slides).
    pub fn cookie(mut self, state: &AppState) -> HeaderValue {
        self.seen = Utc::now().timestamp();
        let value = format!(
            "{COOKIE}={}; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
            self.seal(state),
            IDLE.as_secs()
        );
        HeaderValue::from_str(&value).expect("cookie text is ASCII")
    }

    /// Whether `sent` (a form's `csrf` field) is this session's token.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        let (a, b) = (Sha256::digest(self.csrf.as_bytes()), Sha256::digest(sent.as_bytes()));
        a == b
    }
}

/// `Set-Cookie` that ends the session in the browser.
pub fn cleared() -> HeaderValue {
    HeaderValue::from_static("mooring_console=; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}
