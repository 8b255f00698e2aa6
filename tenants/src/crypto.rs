//! Secrets at rest. A tenant's signing seed is stored AES-256-GCM-encrypted under the
//! platform master key, with the tenant id as associated data so a ciphertext copied to
//! another tenant's row does not decrypt. JWT secrets are not stored at all: they are
//! derived from the master key, so every replica agrees without sharing more state.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Error;

/// Sealed before key ids existed: tried with the current key, then the previous one.
const LEGACY_PREFIX: &str = "v1:";
/// `v2:<key id>:<base64(nonce || ciphertext)>`: the id names the key that opens it.
const PREFIX: &str = "v2:";

/// What the master key seals a webhook signing secret for.
pub const WEBHOOK_SECRET_PURPOSE: &str = "webhook-secret";

#[derive(Clone)]
struct Key {
    bytes: [u8; 32],
    /// Short public name of the key (a hash of it): stored beside what it seals.
    id: String,
}

impl Key {
    fn new(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new_with_prefix(b"mooring master key id:").chain_update(bytes).finalize();
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self { bytes, id }
    }

    fn seal(&self, aad: &[u8], secret: &[u8; 32]) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.bytes).expect("32-byte key");
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("operating system random source");
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: secret, aad })
            .expect("AES-GCM encryption of 32 bytes cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.id, B64.encode(out))
    }

    fn open(&self, aad: &[u8], encoded: &str) -> Result<[u8; 32], Error> {
        let raw = B64.decode(encoded).ok().filter(|r| r.len() > 12).ok_or(Error::Decrypt)?;
        let (nonce, sealed) = raw.split_at(12);
        let cipher = Aes256Gcm::new_from_slice(&self.bytes).expect("32-byte key");
        let secret = cipher
            .decrypt(&Nonce::try_from(nonce).map_err(|_| Error::Decrypt)?, Payload { msg: sealed, aad })
            .map_err(|_| Error::Decrypt)?;
        secret.try_into().map_err(|_| Error::Decrypt)
    }
}

/// The platform master key: seals tenant signing seeds, tenant data keys and webhook
/// secrets (each bound to its owner and purpose as associated data), and derives
/// per-tenant JWT secrets. During a rotation it also holds the previous key: what
/// that key sealed still opens, new seals use the current one, and
/// `mooring rotate-master-key` re-seals everything under it.
#[derive(Clone)]
pub struct MasterKey {
    current: Key,
    previous: Option<Key>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({}, redacted)", self.current.id)
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("operating system random source");
        Self { current: Key::new(key), previous: None }
    }

    /// Parses 32 bytes given as base64 (standard or URL-safe) or 64 hex digits.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16)).collect::<Result<Vec<u8>, _>>().ok()
        } else {
            B64.decode(s).or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s)).ok()
        };
        bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(|b| Self { current: Key::new(b), previous: None })
            .ok_or_else(|| Error::Invalid("master key must be 32 bytes, as base64 or 64 hex digits".into()))
    }

    /// This key, still accepting what `previous` sealed (while rotating).
    pub fn with_previous(mut self, previous: &MasterKey) -> Self {
        if previous.current.id != self.current.id {
            self.previous = Some(previous.current.clone());
        }
        self
    }

    /// The current key's public id.
    pub fn id(&self) -> &str {
        &self.current.id
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.current.bytes)
    }

    /// Whether `stored` is sealed under the current key (else a rotation re-seals it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(id, _)| id == self.current.id)
    }

    fn open_with(&self, aad: &[u8], stored: &str) -> Result<[u8; 32], Error> {
        if let Some(rest) = stored.strip_prefix(PREFIX) {
            let (id, encoded) = rest.split_once(':').ok_or(Error::Decrypt)?;
            let key = [Some(&self.current), self.previous.as_ref()]
                .into_iter()
                .flatten()
                .find(|k| k.id == id)
                .ok_or(Error::Decrypt)?;
            return key.open(aad, encoded);
        }
        let encoded = stored.strip_prefix(LEGACY_PREFIX).ok_or(Error::Decrypt)?;
        self.current.open(aad, encoded).or_else(|e| match &self.previous {
            Some(previous) => previous.open(aad, encoded),
            None => Err(e),
        })
    }

    pub fn encrypt_seed(&self, tenant: Uuid, seed: &[u8; 32]) -> String {
        self.current.seal(tenant.as_bytes(), seed)
    }

    pub fn decrypt_seed(&self, tenant: Uuid, stored: &str) -> Result<[u8; 32], Error> {
        self.open_with(tenant.as_bytes(), stored)
    }

    /// Seals a 32-byte secret for one `purpose` and its `owner` (both bound as
    /// associated data: a ciphertext copied to another row, or to a column meant for
    /// another kind of secret, does not open).
    pub fn seal(&self, purpose: &str, owner: Uuid, secret: &[u8; 32]) -> String {
        self.current.seal(&[purpose.as_bytes(), b":", owner.as_bytes()].concat(), secret)
    }

    pub fn open(&self, purpose: &str, owner: Uuid, stored: &str) -> Result<[u8; 32], Error> {
        self.open_with(&[purpose.as_bytes(), b":", owner.as_bytes()].concat(), stored)
    }

    /// The HS256 secret for one tenant's SEP-10 tokens. Tenant A's secret says
    /// nothing about tenant B's, so a token from one is worthless at the other.
    pub fn jwt_secret(&self, tenant: Uuid) -> [u8; 32] {
        jwt_secret(&self.current, tenant)
    }

    /// The same under the previous key, while rotating: tokens issued before (or by a
    /// replica not yet restarted) keep working until they expire.
    pub fn previous_jwt_secret(&self, tenant: Uuid) -> Option<[u8; 32]> {
        self.previous.as_ref().map(|k| jwt_secret(k, tenant))
    }
}

fn jwt_secret(key: &Key, tenant: Uuid) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.bytes).expect("any key length");
    mac.update(b"mooring sep10 jwt v1:");
    mac.update(tenant.as_bytes());
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_round_trip_only_for_their_tenant_and_key() {
        let key = MasterKey::generate();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let seed = [7u8; 32];
        let stored = key.encrypt_seed(a, &seed);
        assert!(!stored.contains(&B64.encode(seed)));
        assert_eq!(key.decrypt_seed(a, &stored).unwrap(), seed);
        assert!(key.decrypt_seed(b, &stored).is_err());
        assert!(MasterKey::generate().decrypt_seed(a, &stored).is_err());
        assert!(key.decrypt_seed(a, "v1:AAAA").is_err());
    }

    #[test]
    fn a_rotation_opens_both_keys_seals_with_the_new_one_and_then_refuses_the_old() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let tenant = Uuid::new_v4();
        let sealed_old = old.encrypt_seed(tenant, &[1; 32]);
        let rotating = new.clone().with_previous(&old);
        assert_eq!(rotating.decrypt_seed(tenant, &sealed_old).unwrap(), [1; 32]);
        assert!(!rotating.is_current(&sealed_old));
        let resealed = rotating.encrypt_seed(tenant, &[1; 32]);
        assert!(rotating.is_current(&resealed) && resealed.starts_with(&format!("v2:{}:", new.id())));
        assert_eq!(new.decrypt_seed(tenant, &resealed).unwrap(), [1; 32]);
        assert!(new.decrypt_seed(tenant, &sealed_old).is_err(), "the old key is gone after the rotation");
        assert_eq!(rotating.previous_jwt_secret(tenant), Some(old.jwt_secret(tenant)));
        // Ciphertexts from before key ids (v1:) still open, with either key.
        let legacy = format!("v1:{}", sealed_old.rsplit(':').next().unwrap());
        assert_eq!(rotating.decrypt_seed(tenant, &legacy).unwrap(), [1; 32]);
    }

    #[test]
    fn parses_base64_and_hex() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_base64()).unwrap();
        assert_eq!(again.current.bytes, key.current.bytes);
        let hex: String = key.current.bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(MasterKey::parse(&hex).unwrap().current.bytes, key.current.bytes);
        assert!(MasterKey::parse("short").is_err());
    }

    #[test]
    fn jwt_secrets_differ_per_tenant() {
        let key = MasterKey::generate();
        assert_ne!(key.jwt_secret(Uuid::new_v4()), key.jwt_secret(Uuid::new_v4()));
    }
}
