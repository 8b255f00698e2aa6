//! The self-test: Mooring plays a sending anchor against a tenant's public endpoints,
//! found the way a remote anchor finds them (its stellar.toml), over HTTP, and keeps
//! each step's request, response and verdict.
//!
//! On testnet it pays the transaction it created from the sandbox's test sending
//! anchor, waits for the watcher to see the payment (`pending_receiver`) and completes
//! it. On the public network it stops before paying. The SEP-10 key it uses is
//! approved for the run only and removed afterwards, whatever happened.

use std::time::{Duration, Instant};

use chrono::Utc;
use mooring_stellar::challenge::{self, Expectations};
use mooring_stellar::tx::{self, ClassicAsset, Draft, Op};
use mooring_stellar::{Amount, Keypair, MemoType, PublicKey};
use mooring_tenants::self_tests::{self, Check, Report};
use mooring_tenants::{Tenant, admin};
use serde_json::{Value, json};
use uuid::Uuid;

use super::writer::Writer;
use super::{Sandbox, SandboxError};
use crate::cfg::Config;
use mooring_graphql::sandbox::SelfTestFinish;

/// How the self-test reaches tenants.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Send every request to this base URL with the tenant's `Host` (for a deployment
    /// whose public names do not resolve from inside, and for tests); `None`: DNS.
    pub via: Option<String>,
    /// How long to wait for the watcher to see the test payment.
    pub payment_wait: Duration,
    /// How long replicas may take to learn that the run's key is approved.
    pub approval_wait: Duration,
}

impl Options {
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            via: Some(cfg.selftest_via.trim().trim_end_matches('/').to_string()).filter(|v| !v.is_empty()),
            payment_wait: Duration::from_secs(cfg.testnet_submit_timeout_secs.max(10) * 2),
            approval_wait: Duration::from_millis(cfg.config_poll_ms.saturating_mul(3).clamp(1000, 30_000)),
        }
    }
}

const BODY_SHOWN: usize = 4096;

fn cut(s: &str) -> String {
    if s.len() <= BODY_SHOWN {
        return s.to_string();
    }
    let mut end = BODY_SHOWN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// One exchange: status and body.
struct Exchange {
    status: u16,
    body: String,
}

impl Exchange {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A run against one tenant: its checks so far.
struct Run<'a> {
    sandbox: &'a Sandbox,
    tenant: std::sync::Arc<Tenant>,
    domain: String,
    finish: SelfTestFinish,
    checks: Vec<Check>,
}

/// What a failed check says.
type Verdict<T> = Result<T, String>;

impl Run<'_> {
    /// Sends a request to a URL on the tenant's domain; returns it as the report shows
    /// it (the bearer token left out) and the answer.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (String, Verdict<Exchange>) {
        let shown = match body {
            Some(b) => format!("{method} {url}\n{b}"),
            None => format!("{method} {url}"),
        };
        let parsed = match url::Url::parse(url) {
            Ok(u) if u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&self.domain)) => u,
            _ => return (shown, Err(format!("{url} is not on the tenant's domain {}", self.domain))),
        };
        let request = match &self.sandbox.selftest.via {
            Some(via) => {
                let target = format!("{via}{}", &parsed[url::Position::BeforePath..]);
                self.sandbox.http.request(method, target).header(reqwest::header::HOST, self.domain.clone())
            }
            None => match self.sandbox.fenced.request(method, url) {
                Ok(r) => r,
                Err(refused) => return (shown, Err(refused.0)),
            },
        };
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let request = match body {
            Some(b) => request.json(b),
            None => request,
        };
        let answer = async {
            let response = request.send().await.map_err(crate::outbound::describe)?;
            let status = response.status().as_u16();
            let body = response.text().await.map_err(|e| e.to_string())?;
            Ok(Exchange { status, body })
        }
        .await;
        (shown, answer)
    }

    fn record(
        &mut self,
        name: &str,
        request: String,
        answer: Option<&Exchange>,
        verdict: Verdict<String>,
    ) -> bool {
        let response = answer.map(|a| format!("HTTP {}\n{}", a.status, cut(&a.body))).unwrap_or_default();
        let passed = verdict.is_ok();
        let message = verdict.unwrap_or_else(|e| e);
        self.checks.push(Check { name: name.into(), passed, message, request, response });
        passed
    }

    /// A request whose answer must have `status` and pass `judge`; the JSON body on
    /// success. Reads like the exchange it records, hence the arguments one by one.
    #[allow(clippy::too_many_arguments)]
    async fn call(
        &mut self,
        name: &str,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
        status: u16,
        judge: impl FnOnce(&Value) -> Verdict<String>,
    ) -> Option<Value> {
        let (shown, answer) = self.send(method, url, token, body).await;
        match answer {
            Err(e) => {
                self.record(name, shown, None, Err(e));
                None
            }
            Ok(a) if a.status != status => {
                let why = format!("expected HTTP {status}, got {}", a.status);
                self.record(name, shown, Some(&a), Err(why));
                None
            }
            Ok(a) => {
                let json = a.json();
                let verdict = judge(&json);
                let ok = self.record(name, shown, Some(&a), verdict);
                ok.then_some(json)
            }
        }
    }

    fn skip(&mut self, name: &str, why: &str) {
        self.checks.push(Check {
            name: name.into(),
            passed: true,
            message: format!("skipped: {why}"),
            request: String::new(),
            response: String::new(),
        });
    }
}

/// The endpoints a stellar.toml publishes.
struct Endpoints {
    web_auth: String,
    kyc: String,
    direct: String,
    quote: Option<String>,
}

fn toml_endpoints(t: &Tenant, body: &str) -> Verdict<(Endpoints, String)> {
    let doc: toml::Table = toml::from_str(body).map_err(|e| format!("stellar.toml does not parse: {e}"))?;
    let text = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let need = |k: &str| text(k).ok_or_else(|| format!("stellar.toml has no {k}"));
    if text("NETWORK_PASSPHRASE").as_deref() != Some(t.network.passphrase()) {
        return Err("NETWORK_PASSPHRASE is not the tenant's network".into());
    }
    if text("SIGNING_KEY") != Some(t.signing_key.public_key().to_string()) {
        return Err("SIGNING_KEY is not the tenant's SEP-10 key".into());
    }
    let currencies = doc.get("CURRENCIES").and_then(|c| c.as_array()).cloned().unwrap_or_default();
    for asset in t.assets.iter().filter(|a| a.sep31_enabled) {
        let listed = currencies.iter().any(|c| {
            c.get("code").and_then(|v| v.as_str()) == Some(asset.code.as_str())
                && c.get("issuer").and_then(|v| v.as_str()) == Some(asset.issuer.as_str())
        });
        if !listed {
            return Err(format!("CURRENCIES does not list {}:{}", asset.code, asset.issuer));
        }
    }
    let endpoints = Endpoints {
        web_auth: need("WEB_AUTH_ENDPOINT")?,
        kyc: need("KYC_SERVER")?,
        direct: need("DIRECT_PAYMENT_SERVER")?,
        quote: text("ANCHOR_QUOTE_SERVER"),
    };
    let message = format!(
        "network, signing key and {} currencies as configured; SEP-10 at {}, SEP-12 at {}, SEP-31 at {}",
        currencies.len(),
        endpoints.web_auth,
        endpoints.kyc,
        endpoints.direct
    );
    Ok((endpoints, message))
}

/// Fills a SEP-12 or SEP-31 field list (`{name: {type, choices, optional}}`): every
/// required field gets a valid example value.
fn fill(fields: &Value) -> Verdict<serde_json::Map<String, Value>> {
    let mut out = serde_json::Map::new();
    for (name, spec) in fields.as_object().into_iter().flatten() {
        if spec.get("optional").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        let ty = match spec.get("type").and_then(Value::as_str).unwrap_or("string") {
            "binary" => mooring_stellar::sep9::FieldType::Binary,
            "number" => mooring_stellar::sep9::FieldType::Number,
            "date" => mooring_stellar::sep9::FieldType::Date,
            _ => mooring_stellar::sep9::FieldType::String,
        };
        let choices: Option<Vec<String>> = spec
            .get("choices")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
        let value = mooring_stellar::sep9::example(name, ty, choices.as_deref())
            .ok_or_else(|| format!("required field {name} is a file: the self-test sends no files"))?;
        out.insert(name.clone(), Value::String(value));
    }
    Ok(out)
}

impl Sandbox {
    pub async fn run_self_test(
        &self,
        tenant_id: Uuid,
        finish: SelfTestFinish,
    ) -> Result<Report, SandboxError> {
        let tenant = self.tenants.by_id(tenant_id).ok_or(SandboxError::NotFound)?;
        let domain = tenant
            .domains
            .first()
            .cloned()
            .ok_or(SandboxError::Refused("the tenant has no domain".into()))?;
        let started_at = Utc::now();
        // A sending anchor of the run's own, approved now and removed after.
        let key = Keypair::generate();
        let account = key.public_key().to_string();
        admin::approve_sender(&self.db, tenant_id, &account, "Mooring self-test (removed after the run)")
            .await?;
        self.tenants.refresh().await?;
        let mut run = Run { sandbox: self, tenant: tenant.clone(), domain, finish, checks: Vec::new() };
        run.go(&key).await;
        let removed = admin::remove_sender(&self.db, tenant_id, &account).await;
        self.tenants.refresh().await?;
        if let Err(e) = removed {
            run.checks.push(Check {
                name: "cleanup".into(),
                passed: false,
                message: format!("the self-test key {account} could not be removed: {e}"),
                request: String::new(),
                response: String::new(),
            });
        }
        let report = Report {
            id: Uuid::new_v4(),
            tenant_id,
            started_at,
            finished_at: Some(Utc::now()),
            passed: run.checks.iter().all(|c| c.passed),
            steps: run.checks,
        };
        self_tests::save(&self.db, &report).await?;
        Ok(report)
    }
}

impl Run<'_> {
    async fn go(&mut self, key: &Keypair) {
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
        if t.network.is_public() {
            return self.skip("payment", "the public network: the self-test never pays");
        }
        self.pay_and_follow(&endpoints, &token, &created, asset.code.clone(), &asset.issuer).await;
    }

    /// Testnet: pays the transaction from the sandbox's test sending anchor, waits for
    /// `pending_receiver`, then completes it as the tenant's back office would.
    async fn pay_and_follow(
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
            let state = writer
                .account(&from.public_key())
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the test sending anchor is not on the ledger: provision the sandbox first")?;
            let max_time = Utc::now().timestamp().max(0) as u64 + sandbox.submit_timeout.as_secs();
            let draft = Draft {
                source: from.public_key(),
                account_sequence: state.sequence,
                fee_per_op: tx::BASE_FEE,
                max_time,
                memo: Some((memo_type, memo)),
                ops: vec![(None, Op::Payment { destination: to, asset, amount })],
            };
            let signed = tx::sign(&draft, writer.network(), &[from]).map_err(|e| e.to_string())?;
            let landed = writer.submit(&signed, from, max_time).await.map_err(|e| e.to_string())?;
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
}

impl Run<'_> {
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
            let state = writer
                .account(&from.public_key())
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the distribution account is not on the ledger")?;
            let max_time = Utc::now().timestamp().max(0) as u64 + sandbox.submit_timeout.as_secs();
            let draft = Draft {
                source: from.public_key(),
                account_sequence: state.sequence,
                fee_per_op: tx::BASE_FEE,
                max_time,
                memo: None,
                ops: vec![(None, Op::Payment { destination: keys.sender.public_key(), asset, amount })],
            };
            let signed = tx::sign(&draft, writer.network(), &[from]).map_err(|e| e.to_string())?;
            let landed = writer.submit(&signed, from, max_time).await.map_err(|e| e.to_string())?;
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

fn void(_: bool) {}

/// The report as the CLI prints it: one line per step, then the verdict.
pub fn table(report: &Report) -> String {
    let width = report.steps.iter().map(|s| s.name.chars().count()).max().unwrap_or(4).max(4);
    let mut out = format!("{:<width$}  {:<6}  {}\n", "STEP", "RESULT", "MESSAGE");
    for s in &report.steps {
        let message = s.message.replace('\n', " ");
        out += &format!("{:<width$}  {:<6}  {}\n", s.name, if s.passed { "pass" } else { "FAIL" }, message);
    }
    let verdict = if report.passed { "PASSED" } else { "FAILED" };
    out += &format!("self-test {} ({verdict}): {} steps\n", report.id, report.steps.len());
    out
}
