//! A rolling restart on real parts: nginx (Debian's) terminating TLS for two tenant
//! domains with a certificate from a CA made here, forwarding X-Forwarded-For to three
//! replicas on PostgreSQL and Redis. While sending anchors run the SEP flow through nginx
//! and pay, each replica in turn gets the SIGTERM path (drain, stop: in-flight requests
//! finish, leases are given back) and is started again on its port. No client may see a
//! failed request, and every payment must move its transaction on.
//!
//! What the proxy retries, and why that is safe: nginx passes a request to the next
//! replica on a connection error (`proxy_next_upstream error timeout http_502 http_503
//! non_idempotent`). With no upstream keep-alive the only such error during a restart is
//! a connection the kernel had queued when the stopping replica closed its listener:
//! reset before the replica read a byte, so the request (a POST included) was never
//! processed. A request the replica accepted is always answered: graceful shutdown
//! finishes it. Without `non_idempotent` about one run in four lost a `POST /auth` to
//! exactly that race (502).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mooring_stellar::{Keypair, challenge};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpSocket};

use crate::common::{CallbackReceiver, TestEnv, eventually, network, transaction_request, unique_domain};

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and a certificate for `domains`, signed by it, in `dir`.
fn certificates(dir: &Path, domains: &[String]) {
    let d = |f: &str| dir.join(f).to_str().unwrap().to_string();
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=Mooring test CA", "-keyout", &d("ca.key"), "-out", &d("ca.pem")]));
    run(Command::new("openssl")
        .args(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mooring"])
        .args(["-keyout", &d("server.key"), "-out", &d("server.csr")]));
    let san: Vec<String> = domains.iter().map(|h| format!("DNS:{h}")).collect();
    std::fs::write(dir.join("san.ext"), format!("subjectAltName={}\n", san.join(","))).unwrap();
    run(Command::new("openssl").args(["x509", "-req", "-days", "1", "-in", &d("server.csr")]).args([
        "-CA",
        &d("ca.pem"),
        "-CAkey",
        &d("ca.key"),
        "-CAcreateserial",
        "-out",
        &d("server.pem"),
        "-extfile",
        &d("san.ext"),
    ]));
}

/// `max_fails=0`: nginx never sets a replica aside, it tries the next one on each
/// failed connect. With `max_fails=1 fail_timeout=2s` a loaded CI machine let the
/// restarting replica and one slow connect elsewhere mark every replica down together,
/// and nginx answered 502 itself for a second without asking any.
fn nginx_conf(dir: &Path, port: u16, upstreams: &[u16], domains: &[String]) -> String {
    let servers: String = upstreams.iter().map(|p| format!("server 127.0.0.1:{p} max_fails=0;\n")).collect();
    let p = dir.display();
    format!(
        "pid {p}/nginx.pid; error_log {p}/error.log warn; worker_processes 1;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n access_log off;\n client_body_temp_path {p}/body; proxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fcgi; uwsgi_temp_path {p}/uwsgi; scgi_temp_path {p}/scgi;\n\
         upstream mooring {{ {servers} }}\n\
         server {{ listen 127.0.0.1:{port} ssl; server_name {names};\n\
           ssl_certificate {p}/server.pem; ssl_certificate_key {p}/server.key;\n\
           location / {{ proxy_pass http://mooring; proxy_set_header Host $host;\n\
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             proxy_next_upstream error timeout http_502 http_503 non_idempotent; proxy_connect_timeout 1s; }} }}\n}}\n",
        names = domains.join(" ")
    )
}

/// A listener on `port` (0: any) that can be bound again right after its server stops.
fn listener(port: u16) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(format!("127.0.0.1:{port}").parse().unwrap()).unwrap();
    socket.listen(1024).unwrap()
}

/// Waits until the sending anchors got `n` more answers: the load ran through this
/// phase of the rollout.
async fn served(tally: &Tally, n: u64) {
    let from = tally.requests.load(Ordering::Relaxed);
    eventually("the load going on", async || {
        (tally.requests.load(Ordering::Relaxed) >= from + n).then_some(())
    })
    .await;
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    failures: AtomicU64,
    transactions: AtomicU64,
}

/// One sending anchor's SEP flow through the proxy, over and over: SEP-1, SEP-10,
/// SEP-12, SEP-31 create and read. Returns the transactions it created.
async fn sending_anchor(
    client: reqwest::Client,
    base: String,
    key: Keypair,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut created = Vec::new();
    let check = |status: StatusCode, what: &str, body: &Value| {
        tally.requests.fetch_add(1, Ordering::Relaxed);
        if !status.is_success() {
            tally.failures.fetch_add(1, Ordering::Relaxed);
            eprintln!("FAILED {what}: {status} {body}");
            return false;
        }
        true
    };
    let send = async |rb: reqwest::RequestBuilder| -> (StatusCode, Value) {
        match rb.send().await {
            Ok(res) => {
                let status = res.status();
                (status, res.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (StatusCode::BAD_GATEWAY, json!({ "client error": e.to_string() })),
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let (s, b) = send(client.get(format!("{base}/.well-known/stellar.toml"))).await;
        let _ = check(s, "stellar.toml", &b);
        let account = key.public_key().to_string();
        let (s, b) = send(client.get(format!("{base}/auth?account={account}"))).await;
        if !check(s, "challenge", &b) {
            continue;
        }
        let signed = challenge::sign(b["transaction"].as_str().unwrap(), &network(), &key).unwrap();
        let (s, b) = send(client.post(format!("{base}/auth")).json(&json!({ "transaction": signed }))).await;
        if !check(s, "token", &b) {
            continue;
        }
        let token = b["token"].as_str().unwrap().to_string();
        let memo = uuid::Uuid::new_v4().simple().to_string();
        let mut ids = Vec::new();
        for (ty, extra) in [
            ("sep31-sender", json!({})),
            ("sep31-receiver", json!({ "bank_number": "026009593", "bank_account_number": "12345678" })),
        ] {
            let mut body = json!({ "type": ty, "memo": format!("{ty}-{memo}"), "first_name": "Ana",
                "last_name": "Silva", "email_address": "ana@example.com" });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let (s, b) =
                send(client.put(format!("{base}/kyc/customer")).bearer_auth(&token).json(&body)).await;
            if check(s, "customer", &b) {
                ids.push(b["id"].as_str().unwrap().to_string());
            }
        }
        if ids.len() < 2 {
            continue;
        }
        let request = transaction_request(&ids[0], &ids[1]);
        let (s, b) =
            send(client.post(format!("{base}/sep31/transactions")).bearer_auth(&token).json(&request)).await;
        if !check(s, "transaction", &b) {
            continue;
        }
        let id = b["id"].as_str().unwrap().to_string();
        tally.transactions.fetch_add(1, Ordering::Relaxed);
        let (s, b) = send(client.get(format!("{base}/sep31/transactions/{id}")).bearer_auth(&token)).await;
        let _ = check(s, "read back", &b);
        created.push(id);
    }
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_behind_nginx_loses_no_request_and_no_payment() {
    let _heavy = crate::common::HEAVY.lock().await;
    let nginx = Path::new("/usr/sbin/nginx");
    let skip = |why: &str| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "*** SKIPPED the rolling restart: {why} ***");
    };
    if std::env::var("MOORING_TEST_REDIS_URL").is_err() || std::env::var("MOORING_TEST_DATABASE_URL").is_err()
    {
        return skip("needs PostgreSQL and Redis (the replicas share them)");
    }
    if !nginx.exists() {
        assert!(
            std::env::var("MOORING_TEST_ROLLOUT").is_err(),
            "MOORING_TEST_ROLLOUT is set but nginx is missing"
        );
        return skip("no /usr/sbin/nginx");
    }
    let env = TestEnv::new().await;
    let domains = [unique_domain("ra"), unique_domain("rb")];
    let tenants = [env.tenant(&domains[0]).await, env.tenant(&domains[1]).await];
    // Tenant A's back office: every status change arrives as a signed webhook, sent by
    // whichever replica's outbox claims it.
    let hooks = CallbackReceiver::start().await;
    let open = mooring_tenants::public_net::UrlPolicy { allow_private: true, allow_http: true };
    let types = ["transaction.status_changed".to_string()];
    mooring_anchor::webhooks::create(&env.db, &env.master_key, tenants[0].id, &hooks.url, &types, open)
        .await
        .unwrap();
    let config = |c: &mut mooring_server::Config| {
        c.trust_forwarded_for = true;
    };
    let mut replicas = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..3 {
        let l = listener(0);
        ports.push(l.local_addr().unwrap().port());
        let mut cfg = env.config();
        config(&mut cfg);
        replicas.push(Some(
            mooring_server::start(cfg, l, mooring_server::CancellationToken::new()).await.unwrap(),
        ));
    }

    let dir = std::env::temp_dir().join(format!("mooring-rollout-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir, &domains);
    let proxy_port = listener(0).local_addr().unwrap().port();
    std::fs::write(dir.join("nginx.conf"), nginx_conf(&dir, proxy_port, &ports, &domains)).unwrap();
    let mut proxy = Command::new(nginx)
        .args([
            "-p",
            dir.to_str().unwrap(),
            "-c",
            dir.join("nginx.conf").to_str().unwrap(),
            "-g",
            "daemon off;",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    let proxy_addr: std::net::SocketAddr = format!("127.0.0.1:{proxy_port}").parse().unwrap();
    let mut client = reqwest::Client::builder().add_root_certificate(ca).timeout(Duration::from_secs(20));
    for d in &domains {
        client = client.resolve(d, proxy_addr);
    }
    let client = client.build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .get(format!("https://{}:{proxy_port}/.well-known/stellar.toml", domains[0]))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "nginx never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for i in 0..4 {
        let (d, t) = (&domains[i % 2], &tenants[i % 2]);
        let base = format!("https://{d}:{proxy_port}");
        load.push(tokio::spawn(sending_anchor(
            client.clone(),
            base,
            t.sender.clone(),
            tally.clone(),
            stop.clone(),
        )));
    }

    // Each replica in turn: drain, stop (in-flight work finishes, leases given back),
    // start again on its port. Payments arrive throughout.
    let mut paid = Vec::new();
    for i in 0..3 {
        served(&tally, 30).await;
        paid.extend(pay_new(&env, &paid).await);
        let replica = replicas[i].take().unwrap();
        replica.begin_drain();
        served(&tally, 10).await;
        replica.stop().await.unwrap();
        let mut cfg = env.config();
        config(&mut cfg);
        let again =
            mooring_server::start(cfg, listener(ports[i]), mooring_server::CancellationToken::new()).await;
        replicas[i] = Some(again.unwrap());
    }
    served(&tally, 30).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    paid.extend(pay_new(&env, &paid).await);

    // Every paid transaction moved on, through whichever replica watches now. The
    // stopped replicas gave their leases back, so this does not wait for a lease to
    // expire (15 s by default).
    let last_paid = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &paid {
        loop {
            let t = crate::watcher::tx(&env, id).await;
            if t.status == mooring_stellar::sep31::Status::PendingReceiver {
                break;
            }
            assert!(Instant::now() < deadline, "payment for {id} never applied: {:?}", t.status);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let applied_in = last_paid.elapsed();
    assert!(
        applied_in < Duration::from_secs(10),
        "the last payments waited {applied_in:?}: a lease expired?"
    );
    // Tenant A's webhooks: one `pending_receiver` change per transaction of A paid.
    let of_a: std::collections::HashSet<String> = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let rows = mooring_entities::transaction::Entity::find()
            .filter(mooring_entities::transaction::Column::TenantId.eq(tenants[0].id))
            .all(&env.db)
            .await
            .unwrap();
        rows.iter().map(|t| t.id.to_string()).filter(|id| paid.contains(id)).collect()
    };
    let delivered = |bodies: &[Value]| -> std::collections::HashSet<String> {
        bodies
            .iter()
            .filter(|b| b["data"]["to_status"] == "pending_receiver")
            .filter_map(|b| b["data"]["transaction"]["id"].as_str().map(str::to_string))
            .collect()
    };
    let bodies = hooks.wait_for(30, |b| delivered(b).is_superset(&of_a)).await;
    let (requests, failures) =
        (tally.requests.load(Ordering::Relaxed), tally.failures.load(Ordering::Relaxed));
    eprintln!(
        "rolling restart: {requests} requests, {failures} failed, {} transactions, {} payments applied, \
         {} webhooks for {} of tenant A's; the last payments applied {applied_in:?} after they arrived",
        tally.transactions.load(Ordering::Relaxed),
        paid.len(),
        bodies.len(),
        of_a.len()
    );
    let _ = proxy.kill();
    let _ = proxy.wait();
    for r in replicas.into_iter().flatten() {
        r.stop().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(requests > 100, "the load ran: {requests} requests");
    assert!(!paid.is_empty(), "payments arrived during the restarts");
    assert_eq!(failures, 0, "requests failed during the rolling restart");
}

/// Pays every transaction created so far that is not paid yet.
async fn pay_new(env: &TestEnv, already: &[String]) -> Vec<String> {
    use sea_orm::EntityTrait;
    let all = mooring_entities::transaction::Entity::find().all(&env.db).await.unwrap();
    let mut paid = Vec::new();
    for t in all.iter().filter(|t| !already.contains(&t.id.to_string())) {
        env.horizon.add_payment(&t.stellar_account_id, &crate::watcher::pay_for(t));
        paid.push(t.id.to_string());
    }
    paid
}
