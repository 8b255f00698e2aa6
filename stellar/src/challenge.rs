//! SEP-10 challenge transactions: building them exactly as the spec lays them out, and
//! reading back a signed one with every check the spec lists.
//!
//! Both directions take `now` (unix seconds) as an argument; the caller owns the clock.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use stellar_xdr::{
    DataValue, Limits, ManageDataOp, Memo, MuxedAccount, Operation, OperationBody, Preconditions, ReadXdr,
    SequenceNumber, String64, TimeBounds, TimePoint, Transaction, TransactionEnvelope, TransactionExt,
    TransactionV1Envelope, Uint256, WriteXdr,
};

use crate::error::challenge as invalid;
use crate::{ClientAccount, Error, Keypair, Network, PublicKey};

/// How long a challenge may be answered, per the spec's recommendation.
pub const CHALLENGE_TTL_SECS: u64 = 900;
/// Clock skew tolerated on the challenge's lower time bound: replicas behind a load
/// balancer never share a clock exactly, and the bound protects nothing we rely on.
pub const MIN_TIME_GRACE_SECS: u64 = 300;
/// A signed challenge is small; anything much bigger is not one of ours.
const MAX_XDR_BYTES: usize = 16 * 1024;
const NONCE_BYTES: usize = 48;

/// What the server puts into a challenge.
pub struct ChallengeSpec<'a> {
    pub server: &'a Keypair,
    pub network: &'a Network,
    pub client: ClientAccount,
    /// The `<home_domain>` of the first operation's `<home_domain> auth` key.
    pub home_domain: &'a str,
    /// Host (and port, if any) of the WEB_AUTH_ENDPOINT.
    pub web_auth_domain: &'a str,
    /// A verified client domain and the SIGNING_KEY its stellar.toml lists.
    pub client_domain: Option<(&'a str, PublicKey)>,
    pub now: u64,
}

/// A challenge ready to hand out.
#[derive(Debug, Clone)]
pub struct IssuedChallenge {
    /// Base64 XDR of the server-signed envelope.
    pub xdr: String,
    /// Transaction hash: the challenge's identity for single-use bookkeeping.
    pub hash: [u8; 32],
    pub expires_at: u64,
}

pub fn build(spec: &ChallengeSpec<'_>) -> Result<IssuedChallenge, Error> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).expect("operating system random source");
    build_with_nonce(spec, &nonce)
}

fn manage_data(source: Option<MuxedAccount>, key: &str, value: &[u8]) -> Result<Operation, Error> {
    let data_name: stellar_xdr::StringM<64> =
        key.try_into().map_err(|_| invalid(format!("data key {key:?} is longer than 64 bytes")))?;
    let data_value: stellar_xdr::BytesM<64> =
        value.try_into().map_err(|_| invalid("data value is longer than 64 bytes"))?;
    Ok(Operation {
        source_account: source,
        body: OperationBody::ManageData(ManageDataOp {
            data_name: String64(data_name),
            data_value: Some(DataValue(data_value)),
        }),
    })
}

fn server_source(server: &PublicKey) -> MuxedAccount {
    MuxedAccount::Ed25519(Uint256(server.0))
}

fn build_with_nonce(spec: &ChallengeSpec<'_>, nonce: &[u8; NONCE_BYTES]) -> Result<IssuedChallenge, Error> {
    let server = spec.server.public_key();
    let nonce_b64 = B64.encode(nonce);
    let mut ops = vec![
        manage_data(Some(spec.client.to_xdr()), &format!("{} auth", spec.home_domain), nonce_b64.as_bytes())?,
        manage_data(Some(server_source(&server)), "web_auth_domain", spec.web_auth_domain.as_bytes())?,
    ];
    if let Some((domain, key)) = spec.client_domain {
        ops.push(manage_data(Some(server_source(&key)), "client_domain", domain.as_bytes())?);
    }
    let expires_at = spec.now + CHALLENGE_TTL_SECS;
    let tx = Transaction {
        source_account: server_source(&server),
        fee: 100 * ops.len() as u32,
        seq_num: SequenceNumber(0),
        cond: Preconditions::Time(TimeBounds {
            min_time: TimePoint(spec.now),
            max_time: TimePoint(expires_at),
        }),
        memo: spec.client.memo().map_or(Memo::None, Memo::Id),
        operations: ops.try_into().map_err(|_| invalid("too many operations"))?,
        ext: TransactionExt::V0,
    };
    let hash = tx.hash(spec.network.id()).map_err(|e| invalid(e.to_string()))?;
    let signature = spec.server.sign_decorated(&hash);
    let envelope = TransactionEnvelope::Tx(TransactionV1Envelope {
        tx,
        signatures: vec![signature].try_into().expect("one signature fits"),
    });
    let xdr = envelope.to_xdr_base64(Limits::none()).map_err(|e| invalid(e.to_string()))?;
    Ok(IssuedChallenge { xdr, hash, expires_at })
}

/// What the server expects a returned challenge to be bound to.
pub struct Expectations<'a> {
    pub server: PublicKey,
    pub network: &'a Network,
    /// Accepts the `<home_domain>` of the first operation's key (the tenant's domains).
    pub home_domain_ok: &'a dyn Fn(&str) -> bool,
    pub web_auth_domain: &'a str,
    pub now: u64,
}

/// A returned challenge that passed every structural check. Its signatures are checked
/// separately by [`ReadChallenge::verify_signers`], once the caller knows the signers.
#[derive(Debug, Clone)]
pub struct ReadChallenge {
    pub client: ClientAccount,
    pub home_domain: String,
    pub client_domain: Option<(String, PublicKey)>,
    pub hash: [u8; 32],
    pub expires_at: u64,
    server: PublicKey,
    signatures: Vec<stellar_xdr::DecoratedSignature>,
}

fn source_key(source: &MuxedAccount) -> PublicKey {
    match source {
        MuxedAccount::Ed25519(k) => PublicKey(k.0),
        MuxedAccount::MuxedEd25519(m) => PublicKey(m.ed25519.0),
    }
}

/// Reads a challenge returned by a client and checks everything that does not depend on
/// the client account's signers: envelope type, server source and sequence, time
/// bounds, operations, memo, the server's own signature.
pub fn read(xdr: &str, expect: &Expectations<'_>) -> Result<ReadChallenge, Error> {
    if xdr.len() > MAX_XDR_BYTES {
        return Err(invalid("transaction too large"));
    }
    let limits = Limits { depth: 64, len: MAX_XDR_BYTES };
    let envelope = TransactionEnvelope::from_xdr_base64(xdr.trim(), limits)
        .map_err(|_| invalid("transaction is not a base64 XDR transaction envelope"))?;
    let TransactionEnvelope::Tx(TransactionV1Envelope { tx, signatures }) = envelope else {
        return Err(invalid("transaction must be a v1 transaction envelope, not a fee bump"));
    };

    if tx.source_account != server_source(&expect.server) {
        return Err(invalid("transaction source is not this server's signing key"));
    }
    if tx.seq_num.0 != 0 {
        return Err(invalid("sequence number must be 0"));
    }
    let Preconditions::Time(bounds) = &tx.cond else {
        return Err(invalid("transaction must have time bounds and no other preconditions"));
    };
    let (min, max) = (bounds.min_time.0, bounds.max_time.0);
    if max == 0 || min > max {
        return Err(invalid("time bounds must be finite"));
    }
    if expect.now > max {
        return Err(Error::ChallengeExpired);
    }
    if min > expect.now + MIN_TIME_GRACE_SECS {
        return Err(invalid("challenge is not yet valid"));
    }

    let memo = match &tx.memo {
        Memo::None => None,
        Memo::Id(id) => Some(*id),
        _ => return Err(invalid("memo must be none or an id memo")),
    };

    let ops = tx.operations.as_vec();
    let Some(first) = ops.first() else {
        return Err(invalid("transaction has no operations"));
    };
    let (Some(client_source), OperationBody::ManageData(first_data)) = (&first.source_account, &first.body)
    else {
        return Err(invalid("first operation must be a manage_data with the client account as source"));
    };
    let client = ClientAccount::from_xdr(client_source, memo)?;
    let key = first_data.data_name.0.to_utf8_string().map_err(|_| invalid("data key is not UTF-8"))?;
    let home_domain = key
        .strip_suffix(" auth")
        .filter(|d| (expect.home_domain_ok)(d))
        .ok_or_else(|| invalid("first operation's key is not '<home_domain> auth' for this anchor"))?
        .to_string();
    let nonce = first_data.data_value.as_ref().map(|v| v.0.as_vec().as_slice()).unwrap_or_default();
    let nonce_ok = nonce.len() == 64 && B64.decode(nonce).is_ok_and(|n| n.len() == NONCE_BYTES);
    if !nonce_ok {
        return Err(invalid("nonce must be 48 random bytes, base64-encoded to 64 bytes"));
    }

    let mut client_domain = None;
    for op in &ops[1..] {
        let OperationBody::ManageData(data) = &op.body else {
            return Err(invalid("every operation must be a manage_data"));
        };
        let Some(source) = &op.source_account else {
            return Err(invalid("every operation must have a source account"));
        };
        let value = data.data_value.as_ref().map(|v| v.0.as_vec().clone()).unwrap_or_default();
        match data.data_name.0.as_vec().as_slice() {
            b"client_domain" => {
                let domain = String::from_utf8(value).map_err(|_| invalid("client_domain is not UTF-8"))?;
                client_domain = Some((domain, source_key(source)));
            }
            name => {
                if *source != server_source(&expect.server) {
                    return Err(invalid("operations after the first must come from the server"));
                }
                if name == b"web_auth_domain" && value != expect.web_auth_domain.as_bytes() {
                    return Err(invalid("web_auth_domain does not match this server"));
                }
            }
        }
    }

    let hash = tx.hash(expect.network.id()).map_err(|e| invalid(e.to_string()))?;
    let signed_by_server = signatures
        .iter()
        .any(|s| s.hint.0 == expect.server.hint() && expect.server.verify(&hash, s.signature.0.as_vec()));
    if !signed_by_server {
        return Err(invalid("transaction is not signed by this server (wrong network or tampered)"));
    }

    Ok(ReadChallenge {
        client,
        home_domain,
        client_domain,
        hash,
        expires_at: max,
        server: expect.server,
        signatures: signatures.to_vec(),
    })
}

/// An account signer as Horizon lists it: key and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    pub key: PublicKey,
    pub weight: u32,
}

impl ReadChallenge {
    /// Checks the client's signatures against the account's signers and the threshold
    /// to meet. Every signature must belong to the server, the client domain or a
    /// signer; each signer counts once; the server key never counts toward the weight.
    /// For an account that does not exist, pass the master key with weight 1 and a
    /// threshold of 1. Returns the client signers that signed.
    pub fn verify_signers(&self, signers: &[Signer], threshold: u32) -> Result<Vec<PublicKey>, Error> {
        let matches = |key: &PublicKey, sig: &stellar_xdr::DecoratedSignature| {
            sig.hint.0 == key.hint() && key.verify(&self.hash, sig.signature.0.as_vec())
        };
        let mut signed: Vec<Signer> = Vec::new();
        let mut client_domain_signed = false;
        for sig in &self.signatures {
            if matches(&self.server, sig) {
                continue;
            }
            if let Some((_, key)) = &self.client_domain
                && matches(key, sig)
            {
                client_domain_signed = true;
                continue;
            }
            let signer =
                signers.iter().filter(|s| s.key != self.server).find(|s| matches(&s.key, sig)).ok_or_else(
                    || Error::Signatures("transaction has a signature from no known signer".into()),
                )?;
            if !signed.iter().any(|s| s.key == signer.key) {
                signed.push(*signer);
            }
        }
        if self.client_domain.is_some() && !client_domain_signed {
            return Err(Error::Signatures("transaction is not signed by the client domain's key".into()));
        }
        let weight: u64 = signed.iter().map(|s| u64::from(s.weight)).sum();
        if signed.is_empty() || weight == 0 || weight < u64::from(threshold) {
            return Err(Error::Signatures(format!(
                "client signatures' weight {weight} does not reach the threshold {}",
                threshold.max(1)
            )));
        }
        Ok(signed.into_iter().map(|s| s.key).collect())
    }
}

/// Adds a signature to a challenge envelope: what a client (or a test) does.
pub fn sign(xdr: &str, network: &Network, signer: &Keypair) -> Result<String, Error> {
    let envelope = TransactionEnvelope::from_xdr_base64(xdr, Limits::none())
        .map_err(|_| invalid("not a transaction envelope"))?;
    let TransactionEnvelope::Tx(mut env) = envelope else {
        return Err(invalid("not a v1 envelope"));
    };
    let hash = env.tx.hash(network.id()).map_err(|e| invalid(e.to_string()))?;
    let mut sigs = env.signatures.to_vec();
    sigs.push(signer.sign_decorated(&hash));
    env.signatures = sigs.try_into().map_err(|_| invalid("too many signatures"))?;
    TransactionEnvelope::Tx(env).to_xdr_base64(Limits::none()).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests;
