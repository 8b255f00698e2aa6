//! The admin API's cost limits: every list costs the rows it may return (aliases
//! included), batches are bounded, subscriptions are capped per connection and per key
//! and share one poller per tenant, and a WebSocket that never says `connection_init`
//! is closed.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mooring_stellar::Keypair;
use serde_json::{Value, json};

use crate::admin::{configure, onboard};
use crate::common::{ADMIN_HOST, Admin, Sa, TestEnv, Ws, graphql_ws, unique_domain, ws_message};

/// `n` aliases of `field`.
fn aliased(field: &str, n: usize) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!("a{i}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

#[tokio::test]
async fn amplified_lists_are_refused_before_they_run() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let domain = unique_domain("cost");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);

    // One list within the budget runs.
    tenant.ok("{ auditLog(first: 200) { actor } }", json!({})).await;

    // The red team's request: 2,400 aliases of auditLog(first: 200), and the same
    // trick on the other lists that took `first` without paying for it.
    for (what, query) in [
        ("auditLog", aliased("auditLog(first: 200) { actor }", 2400)),
        ("deliveries", aliased("webhookEndpoints { deliveries(first: 100) { id } }", 30)),
        ("quotes", aliased("tenant { quotes(first: 100) { id } }", 60)),
        ("senders", aliased("tenant { senders(first: 1000) { account } }", 10)),
        ("events", aliased("transactions(first: 100) { nodes { events(first: 1000) { toStatus } } }", 1)),
    ] {
        let started = Instant::now();
        let body = tenant.gql(&query, json!({})).await;
        let took = started.elapsed();
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too complex"), "{what}: {body}");
        assert!(body["data"].is_null(), "{what}: nothing ran");
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
    }

    // Batches: each operation within the budget, and only a few of them.
    let op = json!({ "query": "{ me { kind } }" });
    let batch = |n: usize| Value::Array(vec![op.clone(); n]);
    let send = |body: Value| app.post(ADMIN_HOST, "/graphql").bearer_auth(&key).json(&body).send();
    let res = send(batch(10)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap().as_array().unwrap().len(), 10);
    let res = send(batch(11)).await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 10"), "{body}");
    app.stop().await;
}

const SUBSCRIBE: &str = "subscription { transactionEvents { transactionId toStatus } }";

async fn acked(app: &crate::common::TestApp, key: &str) -> Ws {
    let mut ws = graphql_ws(app, key).await;
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    ws
}

async fn subscribe(ws: &mut Ws, id: &str) {
    ws.send(ws_message(json!({ "id": id, "type": "subscribe", "payload": { "query": SUBSCRIBE } })))
        .await
        .unwrap();
}

/// The next protocol message that is not a ping.
async fn next(ws: &mut Ws) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let msg = ws.next().await.unwrap().unwrap();
            let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
            if v["type"] != "ping" {
                return v;
            }
        }
    })
    .await
    .expect("a message")
}

#[tokio::test]
async fn subscriptions_are_capped_and_share_one_poller_per_tenant() {
    let env = TestEnv::new().await;
    let app = env
        .start_with(|c| {
            c.graphql_max_subscriptions_per_connection = 3;
            c.graphql_max_subscriptions_per_key = 5;
        })
        .await;
    let domain = unique_domain("subs");
    let (_, key) = onboard(&app, &env, &domain).await;
    let tenant = Admin::with_key(&app, &key);
    let sender = Keypair::generate();
    configure(&tenant, &sender, "1").await;

    // Three on the first connection; a fourth is refused, with the reason. (Which one is
    // up to the order the server starts them in.)
    let mut first = acked(&app, &key).await;
    for id in ["1", "2", "3", "4"] {
        subscribe(&mut first, id).await;
    }
    let refused = next(&mut first).await;
    assert!(refused.to_string().contains("at most 3 subscriptions per connection"), "{refused}");
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{refused}");
    let mut live: Vec<String> = ["1", "2", "3", "4"].iter().map(|s| s.to_string()).collect();
    live.retain(|id| *id != refused["id"]);
    assert_eq!(next(&mut first).await["type"], "complete", "the refused one ends");
    // Three more on a second connection: two reach the key's cap of five.
    let mut second = acked(&app, &key).await;
    for id in ["5", "6", "7"] {
        subscribe(&mut second, id).await;
    }
    let refused = next(&mut second).await;
    assert!(refused.to_string().contains("at most 5 subscriptions per API key"), "{refused}");
    assert_eq!(next(&mut second).await["type"], "complete");
    live.extend(["5", "6", "7"].iter().map(|s| s.to_string()).filter(|id| *id != refused["id"]));

    // Five subscriptions of one tenant: one poller, and every subscription gets the event.
    assert_eq!(app.server.state.event_hub.pollers(), 1);
    let sa = Sa::login(&app, &domain, &sender).await;
    // The tenant's feed started with the first subscription, before this event.
    let id = sa.transaction().await;
    let mut seen = Vec::new();
    for (ws, n) in [(&mut first, 3), (&mut second, 2)] {
        for _ in 0..n {
            let event = next(ws).await;
            assert_eq!(event["type"], "next", "{event}");
            assert_eq!(event["payload"]["data"]["transactionEvents"]["transactionId"], id.as_str());
            seen.push(event["id"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    live.sort();
    assert_eq!(seen, live);

    // Closing a connection gives its slots back.
    first.close(None).await.unwrap();
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut third = acked(&app, &key).await;
    loop {
        subscribe(&mut third, "x").await;
        let reply = tokio::time::timeout(Duration::from_millis(300), third.next()).await;
        let refused = matches!(&reply, Ok(Some(Ok(m))) if m.to_text().is_ok_and(|t| t.contains("\"error\"")));
        if !refused {
            break;
        }
        assert!(Instant::now() < deadline, "the closed connection's slots never came back");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_websocket_without_connection_init_is_closed_with_4408() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let env = TestEnv::new().await;
    let app = env.start_with(|c| c.graphql_ws_init_timeout_ms = std::time::Duration::from_millis(300)).await;
    // One that does say connection_init in time, opened first: its deadline passes
    // before the silent one's.
    let key = crate::common::OPERATOR_TOKEN;
    let mut ok = graphql_ws(&app, key).await;
    let ack = ok.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"));
    let mut request = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    request.headers_mut().insert("host", ADMIN_HOST.parse().unwrap());
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let started = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("closed in time");
    match reply {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4408, "{frame:?}"),
        other => panic!("expected a 4408 close, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The one that said connection_init in time stays open past its deadline.
    ok.send(ws_message(json!({ "type": "ping" }))).await.unwrap();
    let pong = ok.next().await.unwrap().unwrap();
    assert!(pong.to_text().unwrap().contains("pong"), "{pong:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_schema_is_introspected_without_a_key_and_nothing_else_is() {
    let env = TestEnv::new().await;
    let app = env.start().await;
    let introspection = include_str!("../../../graphql/tests/graphiql_introspection.graphql");
    let post = |auth: Option<&'static str>, body: Value| {
        let mut req = app.post(ADMIN_HOST, "/graphql").json(&body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    // GraphiQL's own query, as the console sends it before anyone signs in: with no
    // header, and with the console's empty "Bearer".
    for auth in [None, Some("Bearer"), Some("Bearer ")] {
        let res = post(auth, json!({ "query": introspection, "operationName": "IntrospectionQuery" }))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{auth:?}");
        let body: Value = res.json().await.unwrap();
        assert!(body["errors"].is_null(), "{auth:?}: {body}");
        assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 50);
    }
    // The same query with a key runs too (deeper than the data limit of 10).
    let body = Admin::operator(&app).gql(introspection, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    // Anything that reads data needs a key; so does a deep data query with one.
    for query in [
        "{ me { kind } }",
        "{ __typename me { kind } }",
        "mutation { createOperatorKey(name: \"x\") { key } }",
    ] {
        let res = post(None, json!({ "query": query })).await.unwrap();
        assert_eq!(res.status(), 401, "{query}");
    }
    // A data query cannot borrow the introspection depth by carrying `__schema`.
    let mixed = "{ me { kind } __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }";
    let body = Admin::operator(&app).gql(mixed, json!({})).await;
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("nested too deep"), "{body}");
    let too_deep =
        format!("{{ __schema {{ types {{ {}name{} }} }} }}", "ofType { ".repeat(20), " }".repeat(20));
    let res = post(None, json!({ "query": too_deep.as_str() })).await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("nested too deep"), "{body}");
    // An anonymous body is read only so far.
    let big = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(64 * 1024)) });
    assert_eq!(post(None, big).await.unwrap().status(), 401);
    app.stop().await;
}
