//! One self-test run's exchanges: each request as sent, its answer, and the verdict.

use mooring_graphql::sandbox::SelfTestFinish;
use mooring_tenants::Tenant;
use mooring_tenants::self_tests::Check;
use serde_json::Value;

use super::super::Sandbox;

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
pub(super) struct Exchange {
    pub(super) status: u16,
    pub(super) body: String,
}

impl Exchange {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A run against one tenant: its checks so far.
pub(super) struct Run<'a> {
    pub(super) sandbox: &'a Sandbox,
    pub(super) tenant: std::sync::Arc<Tenant>,
    pub(super) domain: String,
    pub(super) finish: SelfTestFinish,
    pub(super) checks: Vec<Check>,
}

/// What a failed check says.
pub(super) type Verdict<T> = Result<T, String>;

impl Run<'_> {
    /// Sends a request to a URL on the tenant's domain; returns it as the report shows
    /// it (the bearer token left out) and the answer.
    pub(super) async fn send(
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

    pub(super) fn record(
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
    pub(super) async fn call(
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

    pub(super) fn skip(&mut self, name: &str, why: &str) {
        self.checks.push(Check {
            name: name.into(),
            passed: true,
            message: format!("skipped: {why}"),
            request: String::new(),
            response: String::new(),
        });
    }
}
