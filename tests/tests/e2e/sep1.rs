use reqwest::StatusCode;

use crate::common::{TestEnv, unique_domain};

#[tokio::test]
async fn each_tenant_serves_its_own_stellar_toml() {
    let env = TestEnv::new().await;
    let (a, b) = (unique_domain("a"), unique_domain("b"));
    env.tenant(&a).await;
    env.tenant(&b).await;
    let app = env.start().await;

    let mut keys = Vec::new();
    for domain in [&a, &b] {
        // Port and case in the Host header do not matter.
        let res = app
            .get(&format!("{}:443", domain.to_uppercase()), "/.well-known/stellar.toml")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let body = res.text().await.unwrap();
        assert!(body.len() < 100 * 1024);
        let toml: toml::Table = body.parse().expect("valid TOML");
        assert_eq!(toml["NETWORK_PASSPHRASE"].as_str(), Some("Test SDF Network ; September 2015"));
        assert_eq!(toml["WEB_AUTH_ENDPOINT"].as_str().unwrap(), format!("https://{domain}/auth"));
        assert_eq!(toml["KYC_SERVER"].as_str().unwrap(), format!("https://{domain}/kyc"));
        assert_eq!(toml["DIRECT_PAYMENT_SERVER"].as_str().unwrap(), format!("https://{domain}/sep31"));
        let signing_key = toml["SIGNING_KEY"].as_str().unwrap().to_string();
        assert_eq!(signing_key, app.signing_key(domain).to_string());
        let accounts = toml["ACCOUNTS"].as_array().unwrap();
        assert_eq!(accounts.len(), 1);
        let currency = &toml["CURRENCIES"].as_array().unwrap()[0];
        assert_eq!(currency["code"].as_str(), Some("SRT"));
        assert!(currency["issuer"].as_str().unwrap().starts_with('G'));
        assert_eq!(currency["status"].as_str(), Some("test"));
        assert_eq!(currency["is_asset_anchored"].as_bool(), Some(true));
        assert_eq!(currency["anchor_asset_type"].as_str(), Some("fiat"));
        assert!(toml["DOCUMENTATION"]["ORG_NAME"].as_str().is_some());
        for url in ["WEB_AUTH_ENDPOINT", "KYC_SERVER", "DIRECT_PAYMENT_SERVER"] {
            assert!(!toml[url].as_str().unwrap().ends_with('/'), "{url} has a trailing slash");
        }
        keys.push(signing_key);
    }
    assert_ne!(keys[0], keys[1], "tenants must not share a signing key");
    app.stop().await;
}

#[tokio::test]
async fn localhost_tenant_urls_keep_the_port_and_use_http() {
    let env = TestEnv::new().await;
    env.tenant("localhost").await;
    let app = env.start().await;
    let body =
        app.get("localhost:8123", "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    let toml: toml::Table = body.parse().unwrap();
    assert_eq!(toml["WEB_AUTH_ENDPOINT"].as_str(), Some("http://localhost:8123/auth"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_host_is_a_json_404() {
    let env = TestEnv::new().await;
    env.tenant(&unique_domain("a")).await;
    let app = env.start().await;
    for path in ["/.well-known/stellar.toml", "/auth?account=x", "/sep31/info"] {
        let res = app.get("nobody.example", path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("nobody.example"));
    }
    app.stop().await;
}

/// SDF's validator rejects a currency without `desc`; one without a description gets
/// a sensible default.
#[tokio::test]
async fn every_currency_has_a_desc() {
    let env = TestEnv::new().await;
    let domain = unique_domain("desc");
    let t = env.tenant(&domain).await;
    let mut bare =
        mooring_server::demo::guide_asset(mooring_stellar::Keypair::generate().public_key().to_string());
    bare.code = "NODESC".into();
    bare.description = String::new();
    mooring_tenants::admin::add_asset(&env.db, t.id, bare).await.unwrap();
    let app = env.start().await;
    let body = app.get(&domain, "/.well-known/stellar.toml").send().await.unwrap().text().await.unwrap();
    let toml: toml::Table = body.parse().unwrap();
    let currencies = toml["CURRENCIES"].as_array().unwrap();
    assert_eq!(currencies.len(), 2, "{body}");
    for c in currencies {
        let desc = c["desc"].as_str().unwrap_or_default();
        assert!(!desc.is_empty(), "{c}");
        if c["code"].as_str() == Some("NODESC") {
            assert!(desc.contains("NODESC"), "{desc}");
        }
    }
    app.stop().await;
}
