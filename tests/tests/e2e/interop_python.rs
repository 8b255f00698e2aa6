//! Interoperability with an independent SEP-10 implementation: Python's stellar-sdk,
//! installed into a venv under `target/` on first use.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{TestEnv, unique_domain};

const SDK: &str = "stellar-sdk==16.1.1";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The venv's python, with the SDK installed. Fails loudly (never skips) when it
/// cannot be set up: CI must run this test. Set up once per test run, however many
/// tests ask at the same time.
fn python_with_sdk() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(set_up_venv).clone()
}

fn set_up_venv() -> PathBuf {
    let venv = workspace().join("target").join("pyenv");
    let python = venv.join("bin").join("python");
    let has_sdk = python.exists()
        && Command::new(&python).args(["-c", "import stellar_sdk"]).status().is_ok_and(|s| s.success());
    if !has_sdk {
        let status = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3");
        assert!(status.success(), "creating the venv failed");
        let status = Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", SDK])
            .status()
            .expect("pip");
        assert!(status.success(), "installing {SDK} failed");
    }
    python
}

pub(crate) fn run_script(script: &str, args: &[&str]) -> Value {
    run_script_env(script, args, &[])
}

pub(crate) fn run_script_env(script: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let python = python_with_sdk();
    let out = Command::new(python)
        .arg(workspace().join("tests").join("python").join(script))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("running the Python client");
    assert!(
        out.status.success(),
        "python client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("client prints JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn python_stellar_sdk_accepts_our_challenges_and_we_accept_its_signatures() {
    let env = TestEnv::new().await;
    let domain = unique_domain("py");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let server = app.signing_key(&domain).to_string();
    let (base, host, secret) = (app.base.clone(), domain.clone(), t.sender.secret());

    let out = tokio::task::spawn_blocking(move || {
        let passphrase = "Test SDF Network ; September 2015";
        let plain = run_script("sep10_client.py", &[&base, &host, &server, &secret, passphrase]);
        let with_memo = run_script("sep10_client.py", &[&base, &host, &server, &secret, passphrase, "4242"]);
        (plain, with_memo)
    })
    .await
    .unwrap();
    let (plain, with_memo) = out;
    assert_eq!(plain["client_account_id"], t.sender.public_key().to_string());
    assert_eq!(with_memo["memo"], 4242);

    for result in [&plain, &with_memo] {
        let token = result["token"].as_str().unwrap();
        let res = app.get(&domain, "/sep31/info").bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sending_anchor_runs_the_main_sep31_flow() {
    let env = TestEnv::new().await;
    let domain = unique_domain("py");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let (base, host, secret) = (app.base.clone(), domain.clone(), t.sender.secret());
    let out = tokio::task::spawn_blocking(move || run_script("sa_flow.py", &[&base, &host, &secret]))
        .await
        .unwrap();
    assert_eq!(out["status"], "pending_sender");
    assert_eq!(out["amount_fee"], "2");
    assert_eq!(out["amount_out"], "98");
    let id: uuid::Uuid = out["id"].as_str().unwrap().parse().unwrap();
    let stored = mooring_anchor::transactions::get_for_tenant(&env.db, t.id, id).await.unwrap().unwrap();
    assert_eq!(stored.stellar_memo, out["stellar_memo"].as_str().unwrap());
    assert_eq!(stored.sa_account, t.sender.public_key().to_string());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sending_anchor_runs_the_quoted_flow_through_to_payout() {
    let env = TestEnv::new().await;
    let domain = unique_domain("py38");
    let t = env.tenant(&domain).await;
    let app = env.start().await;
    let srt_issuer = app.server.state.tenants.resolve(&domain).unwrap().assets[0].issuer.clone();
    mooring_tenants::admin::set_offchain_asset(&env.db, t.id, mooring_server::demo::demo_peso())
        .await
        .unwrap();
    mooring_tenants::admin::set_corridor(
        &env.db,
        t.id,
        mooring_server::demo::demo_corridor(&srt_issuer),
        Default::default(),
    )
    .await
    .unwrap();
    app.server.state.tenants.changed().await.unwrap();

    let (base, host, secret) = (app.base.clone(), domain.clone(), t.sender.secret());
    let out = tokio::task::spawn_blocking(move || run_script("sep38_flow.py", &[&base, &host, &secret]))
        .await
        .unwrap();
    // The demo corridor: 17 MXN per SRT, fee 1 + 1 %: 1,000 MXN cost 58.8235295 SRT
    // (rounded up) plus the fee.
    let tx = &out["transaction"];
    assert_eq!(out["quote"]["price"], "0.0588235295");
    assert_eq!(tx["amount_out"], "1000");
    let id: uuid::Uuid = tx["id"].as_str().unwrap().parse().unwrap();

    // The sending anchor pays the quote's sell amount; the tenant pays out the pesos.
    let stored = mooring_anchor::transactions::get_for_tenant(&env.db, t.id, id).await.unwrap().unwrap();
    assert_eq!(
        mooring_stellar::Amount(stored.amount_in).to_decimal().to_string(),
        out["quote"]["sell_amount"].as_str().unwrap()
    );
    env.horizon.add_payment(&stored.stellar_account_id, &crate::watcher::pay_for(&stored));
    crate::watcher::wait_status(&env, &id.to_string(), mooring_stellar::sep31::Status::PendingReceiver).await;
    let done = mooring_anchor::transactions::apply(
        &env.db,
        mooring_anchor::KeyScope::Tenant(t.id),
        id,
        mooring_anchor::transactions::Change::Complete { external_id: "SPEI-42".into() },
        &mooring_anchor::Actor::Tenant,
    )
    .await
    .unwrap();
    assert_eq!(done.status, mooring_stellar::sep31::Status::Completed);
    app.stop().await;
}

/// SEP-10's `web_auth_domain` is the host of the auth endpoint. Mooring emits the port
/// only where it is part of the URLs it publishes (`localhost`/`127.0.0.1` development
/// domains, served over http on their port); a public domain is published as
/// `https://domain/…` (TLS on 443 at the proxy), so a request that reached us as
/// `domain:8443` still gets `domain`. Python's stellar-sdk checks both ways.
#[tokio::test(flavor = "multi_thread")]
async fn web_auth_domain_carries_the_port_only_for_local_domains() {
    let env = TestEnv::new().await;
    let public = unique_domain("port");
    let t = env.tenant(&public).await;
    let local_tenant = env.tenant("localhost").await;
    let app = env.start().await;
    let port = app.server.addr.port();
    let base = app.base.clone();
    let passphrase = "Test SDF Network ; September 2015";
    let (public_key, local_key) =
        (app.signing_key(&public).to_string(), app.signing_key("localhost").to_string());
    let (secret, local_secret) = (t.sender.secret(), local_tenant.sender.secret());
    let out = tokio::task::spawn_blocking(move || {
        let behind_proxy = format!("{public}:8443");
        let public_out = run_script_env(
            "sep10_client.py",
            &[&base, &behind_proxy, &public_key, &secret, passphrase],
            &[("EXPECT_DOMAIN", &public)],
        );
        let local = format!("localhost:{port}");
        let local_out = run_script_env(
            "sep10_client.py",
            &[&base, &local, &local_key, &local_secret, passphrase],
            &[("EXPECT_DOMAIN", &local)],
        );
        (public_out, local_out)
    })
    .await
    .unwrap();
    assert!(out.0["token"].is_string(), "{:?}", out.0);
    assert!(out.1["token"].is_string(), "{:?}", out.1);
    app.stop().await;
}

/// The RPC stand-in's XDR is the network's, not a private dialect: Python's
/// stellar-sdk fetches the events with its own RPC client, decodes every topic and
/// value, and derives each asset's contract id on its own.
#[tokio::test]
async fn python_reads_the_rpc_stand_ins_events() {
    use mooring_tests::rpc_standin::{Addr, Memo, Movement, RpcStandIn, TESTNET};
    let rpc = RpcStandIn::start().await;
    let start = rpc.latest_ledger() + 1;
    let issuer = mooring_stellar::Keypair::generate().public_key().to_string();
    let dist = mooring_stellar::Keypair::generate().public_key().to_string();
    let sender = mooring_stellar::Keypair::generate().public_key().to_string();
    let asset = format!("SRT:{issuer}");
    let wallet = stellar_strkey::Contract([7; 32]).to_string().to_string();
    let hash = [5u8; 32];
    let mut mint = Movement::transfer(Addr::Account(issuer.clone()), &dist, &asset, 30, Memo::None);
    mint.mint = true;
    let mut fake = Movement::transfer(Addr::Account(sender.clone()), &dist, &asset, 40, Memo::Id(4));
    fake.contract = Some(stellar_strkey::Contract([66; 32]).to_string().to_string());
    rpc.add(&[
        Movement::transfer(Addr::Account(sender.clone()), &dist, &asset, 1_234_567, Memo::Id(u64::MAX)),
        Movement::transfer(Addr::Contract(wallet.clone()), &dist, &asset, 10, Memo::Text("INV-7".into())),
        Movement::transfer(Addr::Account(sender.clone()), &dist, "native", 20, Memo::Bytes(hash)),
        mint,
        fake,
    ]);
    let url = rpc.url.clone();
    let read = tokio::task::spawn_blocking(move || {
        run_script("rpc_events.py", &[&url, &start.to_string(), TESTNET])
    })
    .await
    .unwrap();
    let events = read.as_array().unwrap();
    assert_eq!(events.len(), 5, "{read}");
    let expect = |i: usize, name: &str, from: Value, asset: &str, amount: &str, muxed: Value, sac: bool| {
        let e = &events[i];
        assert_eq!(e["name"], name, "{e}");
        assert_eq!(e["from"], from, "{e}");
        assert_eq!(e["to"], dist.as_str(), "{e}");
        assert_eq!(e["asset"], asset, "{e}");
        assert_eq!(e["amount"], amount, "{e}");
        assert_eq!(e["muxed"], muxed, "{e}");
        assert_eq!(e["sac"], sac, "{e}");
    };
    use serde_json::json;
    expect(0, "transfer", json!(sender), &asset, "1234567", json!(["id", u64::MAX.to_string()]), true);
    expect(1, "transfer", json!(wallet), &asset, "10", json!(["text", "INV-7"]), true);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(hash);
    expect(2, "transfer", json!(sender), "native", "20", json!(["hash", b64]), true);
    expect(3, "mint", Value::Null, &asset, "30", Value::Null, true);
    expect(4, "transfer", json!(sender), &asset, "40", json!(["id", "4"]), false);
}
