//! Signing and bookkeeping for tenant webhooks, per the Standard Webhooks spec:
//! `webhook-id` (the delivery's id, the same on every retry), `webhook-timestamp`
//! (unix seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256>` of
//! `"<id>.<timestamp>.<body>"` under each current secret, space-separated (two during
//! a rotation's overlap, so a receiver knowing either verifies).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use mooring_entities::outbox::Model as Delivery;
use sha2::Sha256;
use uuid::Uuid;

use super::failure::Failure;
use crate::state::AppState;

/// The `webhook-signature` header value.
pub fn signature(secrets: &[impl AsRef<[u8]>], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|secret| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_ref()).expect("any key length");
            mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
            format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) async fn sign(
    state: &AppState,
    d: &Delivery,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::RequestBuilder, Failure> {
    let endpoint = d.endpoint_id.ok_or_else(|| Failure::Refused("a webhook without an endpoint".into()))?;
    let found = mooring_anchor::webhooks::signing_secrets(&state.db, &state.master_key, endpoint)
        .await
        .map_err(|e| Failure::Unreachable(format!("reading the endpoint: {e}")))?;
    let Some((endpoint, secrets)) = found else {
        return Err(Failure::Refused("the endpoint was deleted".into()));
    };
    if !endpoint.enabled {
        return Err(Failure::Refused("the endpoint is disabled".into()));
    }
    let id = format!("msg_{}", d.id.simple());
    let timestamp = chrono::Utc::now().timestamp();
    Ok(request
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature(&secrets, &id, timestamp, &d.body)))
}

/// Keeps the endpoint's failure streak; one failing past the platform's limit is
/// disabled (and says why in GraphQL).
pub(crate) async fn record_outcome(state: &AppState, endpoint: Uuid, error: Option<&str>) {
    let disable_after =
        chrono::Duration::from_std(state.cfg.webhook_disable_after_secs).unwrap_or(chrono::Duration::MAX);
    match mooring_anchor::webhooks::record_outcome(
        &state.db,
        endpoint,
        error.is_none(),
        error.unwrap_or(""),
        disable_after,
    )
    .await
    {
        Ok(true) => tracing::warn!(%endpoint, "webhook endpoint disabled after failing too long"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "recording a webhook outcome failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks spec (and its reference libraries).
    #[test]
    fn signs_as_the_standard_webhooks_reference() {
        let secret = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signed =
            signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, r#"{"test": 2432232314}"#);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_current_secret_signs() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let both = signature(&[a, b], "msg_1", 1, "{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [signature(&[a], "msg_1", 1, "{}"), signature(&[b], "msg_1", 1, "{}")]);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
    }
}
