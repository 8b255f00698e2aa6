//! Writing to testnet through Stellar RPC: account and trustline reads
//! (`getLedgerEntries`), submission (`sendTransaction`, then `getTransaction` until it
//! lands) with bounded fee bumps, and Friendbot.
//!
//! Retries never pay twice: a retry resends the *same* envelope (same hash), and a fee
//! bump wraps the same inner transaction, so one sequence number covers every attempt.

use std::time::Duration;

use mooring_stellar::ledger_entry::{self, AccountState};
use mooring_stellar::tx::{self, ClassicAsset, Outcome, Signed};
use mooring_stellar::{Amount, Keypair, Network, PublicKey};

use crate::rpc::{Rpc, RpcError};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Rpc(#[from] RpcError),
    /// The ledger refused or failed it; `Outcome` names the codes.
    #[error("the transaction failed: {0}")]
    Failed(Outcome),
    #[error("the network stayed congested up to the fee cap of {0} stroops per operation")]
    Congested(u32),
    /// Its time bound passed without it landing: it can never apply now.
    #[error("the transaction did not land before its time bound")]
    Expired,
    #[error("{0}")]
    Refused(String),
    #[error("Friendbot: {0}")]
    Friendbot(String),
}

impl WriteError {
    /// The ledger moved past this transaction's sequence number (it, or a bump of it,
    /// applied already): the caller reads the ledger again rather than failing.
    pub fn sequence_moved_on(&self) -> bool {
        matches!(self, Self::Failed(o) if o.is_bad_seq())
    }
}

/// A transaction on the ledger.
#[derive(Debug, Clone)]
pub struct Landed {
    pub hash: String,
    pub ledger: u32,
}

/// One testnet RPC, checked to be on the tenant's (non-public) network.
pub struct Writer<'a> {
    rpc: &'a Rpc,
    url: String,
    network: Network,
    max_fee: u32,
    poll: Duration,
}

impl<'a> Writer<'a> {
    /// Refuses the public network, and an RPC whose passphrase is not `network`'s: a
    /// misconfigured URL must not turn sandbox writes into mainnet writes.
    pub async fn connect(
        rpc: &'a Rpc,
        url: &str,
        network: &Network,
        max_fee: u32,
        poll: Duration,
    ) -> Result<Writer<'a>, WriteError> {
        if network.is_public() {
            return Err(WriteError::Refused("Mooring never writes to the public network".into()));
        }
        let passphrase = rpc.network_passphrase(url).await?;
        if passphrase != network.passphrase() || Network::new(passphrase.clone()).is_public() {
            return Err(WriteError::Refused(format!(
                "the RPC at {url} is on another network ({passphrase:?})"
            )));
        }
        Ok(Self {
            rpc,
            url: url.to_string(),
            network: network.clone(),
            max_fee: max_fee.max(tx::BASE_FEE),
            poll,
        })
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub async fn account(&self, account: &PublicKey) -> Result<Option<AccountState>, WriteError> {
        let key = ledger_entry::account_key(account);
        let entries = self.rpc.ledger_entries(&self.url, std::slice::from_ref(&key)).await?;
        entries
            .get(&key)
            .map(|xdr| ledger_entry::account_state(xdr).map_err(|e| WriteError::Rpc(RpcError::Body(e))))
            .transpose()
    }

    /// The balance of `account`'s trustline to `asset`; `None`: no trustline.
    pub async fn trustline(
        &self,
        account: &PublicKey,
        asset: &ClassicAsset,
    ) -> Result<Option<Amount>, WriteError> {
        let Some(key) = ledger_entry::trustline_key(account, asset) else { return Ok(None) };
        let entries = self.rpc.ledger_entries(&self.url, std::slice::from_ref(&key)).await?;
        entries
            .get(&key)
            .map(|xdr| ledger_entry::trustline_balance(xdr).map_err(|e| WriteError::Rpc(RpcError::Body(e))))
            .transpose()
    }

    /// The latest ledger's close time (unix seconds): the clock time bounds are judged by.
    pub async fn ledger_time(&self) -> Result<i64, WriteError> {
        let page = self.rpc.ledgers(&self.url, self.rpc.latest_ledger(&self.url).await?.sequence, 1).await?;
        Ok(page.ledgers.first().map_or(0, |l| l.ledger_close_time))
    }

    /// One payment from `from` (who also pays any fee bump), with `memo`, valid for
    /// `timeout`: built from the account's current sequence number, signed, submitted.
    pub async fn pay(
        &self,
        from: &Keypair,
        to: PublicKey,
        asset: ClassicAsset,
        amount: Amount,
        memo: Option<(mooring_stellar::MemoType, String)>,
        timeout: Duration,
    ) -> Result<Landed, WriteError> {
        let source = from.public_key();
        let state = self
            .account(&source)
            .await?
            .ok_or_else(|| WriteError::Refused(format!("{source} is not on the ledger")))?;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let max_time = now + timeout.as_secs();
        let draft = tx::Draft {
            source,
            account_sequence: state.sequence,
            fee_per_op: tx::BASE_FEE,
            max_time,
            memo,
            ops: vec![(None, tx::Op::Payment { destination: to, asset, amount })],
        };
        let signed =
            tx::sign(&draft, &self.network, &[from]).map_err(|e| WriteError::Refused(e.to_string()))?;
        self.submit(&signed, from, max_time).await
    }

    /// Submits `signed` until it lands, fails, or its time bound (`max_time`) passes.
    /// `fee_source` pays any fee bump.
    pub async fn submit(
        &self,
        signed: &Signed,
        fee_source: &Keypair,
        max_time: u64,
    ) -> Result<Landed, WriteError> {
        let mut current = signed.clone();
        let mut fee = tx::BASE_FEE;
        let mut unreachable = 0;
        loop {
            let sent = match self.rpc.send_transaction(&self.url, &current.xdr).await {
                Ok(sent) => sent,
                // The same envelope again: if the first one arrived, this one is a duplicate.
                Err(e @ (RpcError::Unreachable(_) | RpcError::Status(_))) => {
                    unreachable += 1;
                    if unreachable >= 5 {
                        return Err(e.into());
                    }
                    tokio::time::sleep(self.poll * unreachable).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match sent.status.as_str() {
                "PENDING" | "DUPLICATE" => return self.wait(&current, max_time).await,
                "TRY_AGAIN_LATER" => {}
                "ERROR" => {
                    let outcome = sent
                        .error_result_xdr
                        .as_deref()
                        .map(tx::outcome)
                        .transpose()
                        .map_err(|e| WriteError::Rpc(RpcError::Body(e.to_string())))?
                        .ok_or_else(|| WriteError::Rpc(RpcError::Body("ERROR without a result".into())))?;
                    if !outcome.is_insufficient_fee() {
                        return Err(WriteError::Failed(outcome));
                    }
                }
                other => {
                    return Err(WriteError::Rpc(RpcError::Body(format!("sendTransaction status {other:?}"))));
                }
            }
            // Congested: the same inner transaction, a higher fee, up to the cap.
            if fee >= self.max_fee {
                return Err(WriteError::Congested(self.max_fee));
            }
            fee = (fee * 4).min(self.max_fee);
            tracing::info!(fee, hash = %current.hash_hex(), "testnet is congested: bumping the fee");
            current = tx::fee_bump(signed, fee, fee_source, &self.network)
                .map_err(|e| WriteError::Refused(e.to_string()))?;
        }
    }

    async fn wait(&self, signed: &Signed, max_time: u64) -> Result<Landed, WriteError> {
        let hash = signed.hash_hex();
        loop {
            let status = self.rpc.transaction(&self.url, &hash).await?;
            match status.status.as_str() {
                "SUCCESS" => {
                    return Ok(Landed { hash, ledger: status.ledger.unwrap_or(status.latest_ledger) });
                }
                "FAILED" => {
                    let outcome = status
                        .result_xdr
                        .as_deref()
                        .map(tx::outcome)
                        .transpose()
                        .map_err(|e| WriteError::Rpc(RpcError::Body(e.to_string())))?;
                    return Err(WriteError::Failed(outcome.unwrap_or(Outcome {
                        success: false,
                        transaction: "tx_failed".into(),
                        operations: Vec::new(),
                    })));
                }
                _ if status.latest_ledger_close_time > max_time as i64 => return Err(WriteError::Expired),
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }
}

/// Asks Friendbot to create and fund `account`. Its answer is not trusted either way:
/// the caller reads the ledger afterwards (an account that already exists is refused
/// with 400, and that is fine). Any other refusal (404: not a Friendbot; 5xx) is an
/// error naming the status.
pub async fn friendbot(http: &reqwest::Client, url: &str, account: &PublicKey) -> Result<(), WriteError> {
    let response = http
        .get(url)
        .query(&[("addr", account.to_string())])
        .send()
        .await
        .map_err(|e| WriteError::Friendbot(crate::outbound::describe(e)))?;
    let status = response.status();
    if !status.is_success() && status != reqwest::StatusCode::BAD_REQUEST {
        return Err(WriteError::Friendbot(format!("{url} answered HTTP {}", status.as_u16())));
    }
    Ok(())
}
