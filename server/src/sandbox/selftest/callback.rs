//! The SEP-31 callback check: the run registers a callback URL on the platform itself
//! (`/.mooring/selftest-callback/{token}`), and once the payment is seen, checks the
//! callback that arrived there as a sending anchor would: the `Signature` header
//! (`t=…, s=…` over `"<t>.<host>.<body>"`) verifies with the tenant's SIGNING_KEY, is
//! recent, and the body is this transaction in `pending_receiver`.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mooring_tenants::self_tests;
use serde_json::{Value, json};
use uuid::Uuid;

use super::exchange::{Run, Verdict};

/// Where and under which token the run waits for its callback.
pub(super) struct Expected {
    token: Uuid,
    url: url::Url,
}

impl Run<'_> {
    /// Asks the tenant to send this transaction's callbacks to the platform's receiver.
    pub(super) async fn register_callback(
        &mut self,
        direct: &str,
        token: &str,
        id: Uuid,
    ) -> Option<Expected> {
        let cb = match self_tests::expect_callback(&self.sandbox.db, self.tenant.id).await {
            Ok(cb) => cb,
            Err(e) => {
                self.record("SEP-31 callback URL", String::new(), None, Err(e.to_string()));
                return None;
            }
        };
        let raw = format!("{}{}/{cb}", self.sandbox.selftest.callback_base, super::CALLBACK_PATH);
        let url = url::Url::parse(&raw).ok()?;
        let put = format!("{direct}/transactions/{id}/callback");
        let shown = url.to_string();
        self.call(
            "SEP-31 callback URL",
            reqwest::Method::PUT,
            &put,
            Some(token),
            Some(&json!({ "url": raw })),
            204,
            |_| Ok(format!("callbacks go to {shown}")),
        )
        .await?;
        Some(Expected { token: cb, url })
    }

    /// Waits for the callback and checks it as a sending anchor checks one.
    pub(super) async fn callback_signed(&mut self, expected: Expected, id: Uuid) {
        let sandbox = self.sandbox;
        let deadline = Instant::now() + sandbox.selftest.payment_wait;
        let shown = format!("the callback for {id} at {}", expected.url);
        let verdict = loop {
            match self_tests::received_callback(&sandbox.db, expected.token).await {
                Err(e) => break Err(e.to_string()),
                Ok(Some((signature, _, body))) => {
                    break self.judge_callback(&expected.url, &signature, &body, id);
                }
                Ok(None) if Instant::now() > deadline => break Err("no callback arrived".into()),
                Ok(None) => tokio::time::sleep(sandbox.poll).await,
            }
        };
        self_tests::forget_callback(&sandbox.db, expected.token).await.ok();
        self.record("SEP-31 callback", shown, None, verdict);
    }

    fn judge_callback(&self, url: &url::Url, signature: &str, body: &str, id: Uuid) -> Verdict<String> {
        let part = |name: &str| {
            signature.split(',').map(str::trim).find_map(|p| p.strip_prefix(name)).map(str::to_string)
        };
        let t = part("t=").ok_or("no t= in the Signature header")?;
        let s = part("s=").ok_or("no s= in the Signature header")?;
        let sig = B64.decode(s).map_err(|_| "the signature is not base64")?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        let key = self.tenant.signing_key.public_key();
        if !key.verify(format!("{t}.{host}.{body}").as_bytes(), &sig) {
            return Err("the signature does not verify with the tenant's SIGNING_KEY".into());
        }
        let age = chrono::Utc::now().timestamp() - t.parse::<i64>().map_err(|_| "t is not a time")?;
        if !(-60..=300).contains(&age) {
            return Err(format!("the signature is {age} s old"));
        }
        let json: Value = serde_json::from_str(body).map_err(|_| "the body is not JSON")?;
        let tx = &json["transaction"];
        if tx["id"] != id.to_string().as_str() || tx["status"] != "pending_receiver" {
            return Err(format!(
                "the body is {} in {}, not {id} in pending_receiver",
                tx["id"], tx["status"]
            ));
        }
        Ok("signed by the tenant's SIGNING_KEY, recent, this transaction in pending_receiver".into())
    }
}
