//! The SEP conversation a sending anchor has with a receiving anchor: SEP-1, SEP-10,
//! SEP-31 `/info`, SEP-12 per type, SEP-38 prices, SEP-31 `POST` and `GET`.

use std::time::{Duration, Instant};

use chrono::Utc;
use mooring_stellar::challenge::{self, Expectations};
use mooring_stellar::{Amount, Keypair};
use serde_json::{Value, json};

use super::exchange::Run;
use super::forms::{fill, toml_endpoints};
use super::void;

impl Run<'_> {
    pub(super) async fn go(&mut self, key: &Keypair) {
        use reqwest::Method;
        let t = self.tenant.clone();
        // SEP-1.
        let url = format!("https://{}/.well-known/stellar.toml", self.domain);
        let (shown, answer) = self.send(Method::GET, &url, None, None).await;
        let endpoints = match answer {
            Ok(a) if a.status == 200 => match toml_endpoints(&t, &a.body) {
                Ok((e, message)) => {
                    self.record("SEP-1 stellar.toml", shown, Some(&a), Ok(message));
                    e
                }
                Err(why) => return void(self.record("SEP-1 stellar.toml", shown, Some(&a), Err(why))),
            },
            Ok(a) => {
                let why = format!("expected HTTP 200, got {}", a.status);
                return void(self.record("SEP-1 stellar.toml", shown, Some(&a), Err(why)));
            }
            Err(e) => return void(self.record("SEP-1 stellar.toml", shown, None, Err(e))),
        };

        // SEP-10: challenge, checked as a wallet checks it, signed, exchanged.
        let account = key.public_key().to_string();
        let url = format!("{}?account={account}", endpoints.web_auth);
        let web_auth_domain = url::Url::parse(&endpoints.web_auth)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let server = t.signing_key.public_key();
        let network = t.network.clone();
        let domain = self.domain.clone();
        let now = Utc::now().timestamp().max(0) as u64;
        let mut signed_challenge = None;
        // The run's key was approved a moment ago; a replica serving this domain learns
        // of it within its config poll (or at once over Redis): refusals until then.
        let deadline = Instant::now() + self.sandbox.selftest.approval_wait;
        while Instant::now() < deadline {
            match self.send(Method::GET, &url, None, None).await.1 {
                Ok(a) if a.status == 403 => tokio::time::sleep(Duration::from_millis(100)).await,
                _ => break,
            }
        }
        let challenge = self
            .call("SEP-10 challenge", Method::GET, &url, None, None, 200, |b| {
                let xdr = b["transaction"].as_str().ok_or("no transaction")?;
                let expect = Expectations {
                    server,
                    network: &network,
                    home_domain_ok: &|d: &str| d == domain,
                    web_auth_domain: &web_auth_domain,
                    now,
                };
                challenge::read(xdr, &expect).map_err(|e| format!("the challenge is not valid: {e}"))?;
                signed_challenge =
                    Some(challenge::sign(xdr, &network, key).map_err(|e| format!("could not sign it: {e}"))?);
                Ok("a valid challenge, signed by the tenant's SIGNING_KEY, for its domain".into())
            })
            .await;
        let (Some(_), Some(signed)) = (challenge, signed_challenge) else { return };
        let token = self
            .call(
                "SEP-10 token",
                Method::POST,
                &endpoints.web_auth,
                None,
                Some(&json!({ "transaction": signed })),
                200,
                |b| {
                    b["token"]
                        .as_str()
                        .map(|_| "a token for the self-test's account".to_string())
                        .ok_or("no token".into())
                },
            )
            .await;
        let Some(token) = token.and_then(|b| b["token"].as_str().map(str::to_string)) else { return };

        // SEP-31 /info: what the sending anchor must send.
        let info = self
            .call(
                "SEP-31 /info",
                Method::GET,
                &format!("{}/info", endpoints.direct),
                Some(&token),
                None,
                200,
                |b| {
                    let receive = b["receive"].as_object().ok_or("no receive object")?;
                    if receive.is_empty() {
                        return Err("no asset is enabled for receiving".into());
                    }
                    Ok(format!("receives {}", receive.keys().cloned().collect::<Vec<_>>().join(", ")))
                },
            )
            .await;
        let Some(info) = info else { return };
        let Some(asset) = t.assets.iter().find(|a| a.sep31_enabled && info["receive"].get(&a.code).is_some())
        else {
            return;
        };
        let entry = info["receive"][&asset.code].clone();

        // SEP-12: one customer per type /info names, sender and receiver.
        let mut ids = serde_json::Map::new();
        // A sending anchor registers each of its customers under its own memo (SEP-12:
        // account + memo is one customer); the run's key is fresh, so are its customers.
        for role in ["sender", "receiver"] {
            let memo = format!("self-test-{role}");
            let types: Vec<String> = entry["sep12"][role]["types"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for ty in types {
                let name = format!("SEP-12 {role} ({ty})");
                let url = format!("{}/customer?type={ty}&memo={memo}", endpoints.kyc);
                let Some(form) = self
                    .call(&format!("{name}: fields"), Method::GET, &url, Some(&token), None, 200, |b| {
                        Ok(format!("{} fields asked", b["fields"].as_object().map_or(0, |f| f.len())))
                    })
                    .await
                else {
                    return;
                };
                let mut body = match fill(&form["fields"]) {
                    Ok(f) => f,
                    Err(why) => return void(self.record(&name, String::new(), None, Err(why))),
                };
                body.insert("type".into(), Value::String(ty.clone()));
                body.insert("memo".into(), Value::String(memo.clone()));
                let url = format!("{}/customer", endpoints.kyc);
                let put = self
                    .call(&name, Method::PUT, &url, Some(&token), Some(&Value::Object(body)), 202, |b| {
                        b["id"].as_str().map(|id| format!("customer {id}")).ok_or("no id".into())
                    })
                    .await;
                let Some(id) = put.and_then(|b| b["id"].as_str().map(str::to_string)) else { return };
                if ids.insert(format!("{role}_id"), Value::String(id)).is_some() {
                    // A second type for one role: the first one's customer is used.
                }
            }
        }

        // SEP-38, when the asset is quoted.
        match (&endpoints.quote, entry["quotes_supported"].as_bool().unwrap_or(false)) {
            (Some(quote), true) => {
                let url = format!(
                    "{quote}/prices?sell_asset=stellar:{}:{}&sell_amount=100",
                    asset.code, asset.issuer
                );
                let priced = self
                    .call("SEP-38 prices", Method::GET, &url, Some(&token), None, 200, |b| {
                        let n = b["buy_assets"].as_array().map_or(0, Vec::len);
                        if n == 0 {
                            Err("no buy asset is priced".into())
                        } else {
                            Ok(format!("{n} buy assets priced"))
                        }
                    })
                    .await;
                if priced.is_none() {
                    return;
                }
            }
            _ => self.skip("SEP-38 prices", "the asset has no corridor"),
        }

        // SEP-31: a transaction.
        let amount = asset.min_amount.unwrap_or(Amount::from_units(100)).max(Amount::from_units(1));
        let fields = match fill(&entry["fields"]["transaction"]) {
            Ok(f) => f,
            Err(why) => return void(self.record("SEP-31 POST /transactions", String::new(), None, Err(why))),
        };
        let mut body = json!({
            "amount": amount.to_string(),
            "asset_code": asset.code,
            "asset_issuer": asset.issuer,
            "fields": { "transaction": fields },
        });
        for (k, v) in ids {
            body[k] = v;
        }
        if entry["quotes_required"].as_bool().unwrap_or(false) {
            return self.skip(
                "SEP-31 POST /transactions",
                "the asset needs a firm quote; the self-test does not take one",
            );
        }
        let url = format!("{}/transactions", endpoints.direct);
        if t.network.is_public() {
            // Mainnet customers wait for the tenant's review (PROCESSING), so the anchor
            // must refuse a transaction for them: that refusal is the check, and the run
            // ends there — it never pays on the public network.
            let name = "SEP-31 POST /transactions";
            let (shown, answer) = self.send(Method::POST, &url, Some(&token), Some(&body)).await;
            let verdict = match &answer {
                Ok(a) if a.status == 400 && a.json()["error"] == "customer_info_needed" => Ok(
                    "refused for customers awaiting review, as the public network requires; the self-test never pays there"
                        .to_string(),
                ),
                Ok(a) if a.status == 201 => {
                    Ok("accepted (customers already reviewed); the self-test never pays on the public network".into())
                }
                Ok(a) => Err(format!("expected 201 or customer_info_needed, got HTTP {}", a.status)),
                Err(e) => Err(e.clone()),
            };
            self.record(name, shown, answer.as_ref().ok(), verdict);
            return;
        }
        let created = self
            .call("SEP-31 POST /transactions", Method::POST, &url, Some(&token), Some(&body), 201, |b| {
                let id = b["id"].as_str().ok_or("no id")?;
                b["stellar_account_id"].as_str().ok_or("no stellar_account_id")?;
                Ok(format!(
                    "transaction {id}, to be paid to {} with memo {}",
                    b["stellar_account_id"], b["stellar_memo"]
                ))
            })
            .await;
        let Some(created) = created else { return };
        let url = format!("{}/transactions/{}", endpoints.direct, created["id"].as_str().unwrap_or_default());
        let fetched = self
            .call("SEP-31 GET /transactions/:id", Method::GET, &url, Some(&token), None, 200, |b| {
                let tx = &b["transaction"];
                if tx["status"] != "pending_sender" {
                    return Err(format!("status {} (expected pending_sender)", tx["status"]));
                }
                tx["amount_in"].as_str().ok_or("no amount_in")?;
                Ok(format!("pending_sender, {} {} to pay", tx["amount_in"], tx["amount_in_asset"]))
            })
            .await;
        let Some(fetched) = fetched else { return };
        let mut created = created;
        created["amount_in"] = fetched["transaction"]["amount_in"].clone();
        self.pay_and_follow(&endpoints, &token, &created, asset.code.clone(), &asset.issuer).await;
    }
}
