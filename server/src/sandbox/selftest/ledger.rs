//! The self-test's ledger side on testnet: the payment from the sandbox's test sending
//! anchor, the watcher seeing it, the tenant's webhook, and completion or refund.

use std::time::Instant;

use mooring_graphql::sandbox::SelfTestFinish;
use mooring_stellar::tx::ClassicAsset;
use mooring_stellar::{Amount, MemoType, PublicKey};
use serde_json::Value;
use uuid::Uuid;

use super::super::writer::Writer;
use super::exchange::Run;
use super::forms::Endpoints;
use super::void;

impl Run<'_> {
    /// Testnet: pays the transaction from the sandbox's test sending anchor, waits for
    /// `pending_receiver`, then completes it as the tenant's back office would.
    pub(super) async fn pay_and_follow(
        &mut self,
        endpoints: &Endpoints,
        token: &str,
        created: &Value,
        code: String,
        issuer: &str,
    ) {
        let sandbox = self.sandbox;
        let tenant_id = self.tenant.id;
        let Some(id) = created["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else { return };
        let Some(callback) = self.register_callback(&endpoints.direct, token, id).await else { return };
        let paid = async {
            let keys = mooring_tenants::sandbox::ensure(&sandbox.db, &sandbox.master_key, tenant_id, None)
                .await
                .map_err(|e| e.to_string())?;
            let url = sandbox.rpc_url(&self.tenant).map_err(|e| e.to_string())?;
            let writer =
                Writer::connect(&sandbox.rpc, &url, &self.tenant.network, sandbox.max_fee, sandbox.poll)
                    .await
                    .map_err(|e| e.to_string())?;
            let issuer: PublicKey =
                issuer.parse().map_err(|_| "the asset's issuer is not an account".to_string())?;
            let asset = ClassicAsset::credit(&code, issuer).map_err(|e| e.to_string())?;
            let to: PublicKey = created["stellar_account_id"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|_| "stellar_account_id")?;
            let amount: Amount = created["amount_in"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|_| "amount_in is not an amount".to_string())?;
            let memo_type = MemoType::parse(created["stellar_memo_type"].as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            let memo = created["stellar_memo"].as_str().unwrap_or_default().to_string();
            let from = &keys.sender;
            let landed = writer
                .pay(from, to, asset, amount, Some((memo_type, memo)), sandbox.submit_timeout)
                .await
                .map_err(|e| format!("{e} (is the sandbox provisioned?)"))?;
            Ok::<_, String>(format!(
                "{amount} {code} paid from {} in ledger {} ({})",
                from.public_key(),
                landed.ledger,
                landed.hash
            ))
        }
        .await;
        let shown = format!("payment of transaction {id} from the sandbox's test sending anchor");
        if !self.record("payment", shown, None, paid) {
            return;
        }
        // The watcher sees it through the same path as any payment.
        let url = format!("{}/transactions/{id}", endpoints.direct);
        let deadline = Instant::now() + sandbox.selftest.payment_wait;
        loop {
            let (shown, answer) = self.send(reqwest::Method::GET, &url, Some(token), None).await;
            let status = answer
                .as_ref()
                .ok()
                .map(|a| a.json()["transaction"]["status"].as_str().unwrap_or_default().to_string());
            if status.as_deref() == Some("pending_receiver") {
                let a = answer.ok();
                self.record(
                    "payment seen (pending_receiver)",
                    shown,
                    a.as_ref(),
                    Ok("the watcher matched the payment by its memo".into()),
                );
                break;
            }
            if Instant::now() > deadline {
                let why = format!("still {status:?} after {:?}", sandbox.selftest.payment_wait);
                let a = answer.ok();
                return void(self.record("payment seen (pending_receiver)", shown, a.as_ref(), Err(why)));
            }
            tokio::time::sleep(sandbox.poll).await;
        }
        self.callback_signed(callback, id).await;
        self.webhook_delivered(id).await;
        if self.finish == SelfTestFinish::Refund {
            return self.refund(id, created, &code, issuer).await;
        }
        let completed = mooring_anchor::transactions::apply(
            &sandbox.db,
            mooring_tenants::api_keys::KeyScope::Tenant(tenant_id),
            id,
            mooring_anchor::transactions::Change::Complete { external_id: format!("self-test-{id}") },
            &mooring_anchor::Actor::System,
        )
        .await;
        let verdict = completed
            .map(|_| "completed, as the back office would after paying out".to_string())
            .map_err(|e| e.to_string());
        self.record("completed", format!("complete transaction {id}"), None, verdict);
    }

    /// Sends the payment back from the distribution account (Mooring must hold its key:
    /// a distribution account it generated) and records the refund, as a tenant refunds.
    async fn refund(&mut self, id: Uuid, created: &Value, code: &str, issuer: &str) {
        let sandbox = self.sandbox;
        let tenant = self.tenant.clone();
        let refunded = async {
            let keys = mooring_tenants::sandbox::ensure(&sandbox.db, &sandbox.master_key, tenant.id, None)
                .await
                .map_err(|e| e.to_string())?;
            let from = keys
                .distribution
                .as_ref()
                .filter(|k| k.public_key().to_string() == tenant.distribution_account)
                .ok_or("Mooring holds no key for the distribution account: finish with COMPLETE")?;
            let url = sandbox.rpc_url(&tenant).map_err(|e| e.to_string())?;
            let writer = Writer::connect(&sandbox.rpc, &url, &tenant.network, sandbox.max_fee, sandbox.poll)
                .await
                .map_err(|e| e.to_string())?;
            let issuer: PublicKey =
                issuer.parse().map_err(|_| "the asset's issuer is not an account".to_string())?;
            let asset = ClassicAsset::credit(code, issuer).map_err(|e| e.to_string())?;
            let amount: Amount =
                created["amount_in"].as_str().unwrap_or_default().parse().map_err(|_| "amount_in")?;
            let to = keys.sender.public_key();
            let landed = writer
                .pay(from, to, asset, amount, None, sandbox.submit_timeout)
                .await
                .map_err(|e| e.to_string())?;
            let refund = mooring_anchor::refunds::Refund {
                amount,
                fee: Amount::ZERO,
                stellar_transaction_id: landed.hash.clone(),
                reason: "Mooring self-test".into(),
            };
            let t = mooring_anchor::refunds::record(
                &sandbox.db,
                tenant.id,
                id,
                &refund,
                &mooring_anchor::Actor::System,
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(format!("{amount} sent back in {}; status {}", landed.hash, t.status.as_str()))
        }
        .await;
        self.record(
            "refunded",
            format!("refund of transaction {id} to the test sending anchor"),
            None,
            refunded,
        );
    }

    /// The tenant's back office heard of the payment: each enabled endpoint subscribed
    /// to `transaction.status_changed` got that event for the run's transaction,
    /// signed, and answered 2xx (from the delivery log).
    async fn webhook_delivered(&mut self, transaction: Uuid) {
        let db = &self.sandbox.db;
        let tenant = self.tenant.id;
        let endpoints = match mooring_anchor::webhooks::list(db, tenant).await {
            Ok(list) => list,
            Err(e) => return void(self.record("webhook", String::new(), None, Err(e.to_string()))),
        };
        let wanted: Vec<_> = endpoints
            .into_iter()
            .filter(|e| e.enabled)
            .filter(|e| {
                let types = mooring_anchor::webhooks::event_types(e);
                types.is_empty() || types.iter().any(|t| t == "transaction.status_changed")
            })
            .collect();
        if wanted.is_empty() {
            return self.skip("webhook", "no enabled endpoint takes transaction.status_changed");
        }
        let deadline = Instant::now() + self.sandbox.selftest.payment_wait;
        for e in wanted {
            let shown = format!("transaction.status_changed for {transaction} to {}", e.url);
            // The outbox keys an endpoint's events by subject per endpoint (their order).
            let subject = Uuid::new_v5(&e.id, transaction.as_bytes());
            let verdict = loop {
                let rows = mooring_anchor::webhooks::deliveries(db, tenant, e.id, None, 100).await;
                let row = rows.map(|rows| {
                    rows.into_iter().find(|d| {
                        d.subject_id == subject
                            && d.event_type.as_deref() == Some("transaction.status_changed")
                            && d.body.contains("\"pending_receiver\"")
                    })
                });
                match row {
                    Err(err) => break Err(err.to_string()),
                    Ok(Some(d)) if d.delivered_at.is_some() => {
                        break Ok(format!("delivered, signed, HTTP {}", d.last_status.unwrap_or_default()));
                    }
                    Ok(Some(d)) if d.failed_at.is_some() => {
                        break Err(format!("gave up: {}", d.last_error.unwrap_or_default()));
                    }
                    Ok(d) if Instant::now() > deadline => {
                        let why = d.and_then(|d| d.last_error).unwrap_or_else(|| "not delivered yet".into());
                        break Err(format!("not delivered in time: {why}"));
                    }
                    Ok(_) => tokio::time::sleep(self.sandbox.poll).await,
                }
            };
            self.record("webhook", shown, None, verdict);
        }
    }
}
