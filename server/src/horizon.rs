//! The few Horizon endpoints Mooring reads. Production talks to real Horizon; tests
//! talk to a stand-in serving the same JSON through this same client.

use std::time::Duration;

use mooring_stellar::PublicKey;
use mooring_stellar::challenge::Signer;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum HorizonError {
    #[error("Horizon could not be reached: {0}")]
    Unreachable(String),
    #[error("Horizon answered {0}")]
    Status(u16),
    #[error("Horizon sent an unexpected body: {0}")]
    Body(String),
}

/// What SEP-10 needs of an account: who may sign, and the weight to reach.
#[derive(Debug, Clone)]
pub struct AccountSigners {
    pub signers: Vec<Signer>,
    pub med_threshold: u32,
}

#[derive(Deserialize)]
struct AccountJson {
    thresholds: Thresholds,
    signers: Vec<SignerJson>,
}

#[derive(Deserialize)]
struct Thresholds {
    med_threshold: u32,
}

#[derive(Deserialize)]
struct SignerJson {
    key: String,
    weight: u32,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Clone)]
pub struct Horizon {
    http: reqwest::Client,
}

impl Horizon {
    pub fn new(timeout: Duration) -> Self {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("mooring/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client");
        Self { http }
    }

    /// `GET /accounts/{id}`: `None` when the account does not exist (404).
    pub async fn account_signers(
        &self,
        horizon_url: &str,
        account: &PublicKey,
    ) -> Result<Option<AccountSigners>, HorizonError> {
        let url = format!("{}/accounts/{account}", horizon_url.trim_end_matches('/'));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| HorizonError::Unreachable(e.without_url().to_string()))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            other => return Err(HorizonError::Status(other)),
        }
        let body: AccountJson = response.json().await.map_err(|e| HorizonError::Body(e.to_string()))?;
        // Only ed25519 keys can sign a challenge; hash-x and pre-auth signers cannot.
        let signers = body
            .signers
            .into_iter()
            .filter(|s| s.kind == "ed25519_public_key")
            .filter_map(|s| Some(Signer { key: s.key.parse().ok()?, weight: s.weight }))
            .collect();
        Ok(Some(AccountSigners { signers, med_threshold: body.thresholds.med_threshold }))
    }
}
