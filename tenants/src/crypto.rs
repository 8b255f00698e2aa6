//! Secrets at rest. A tenant's signing seed is stored AES-256-GCM-encrypted under the
//! platform master key, with the tenant id as associated data so a ciphertext copied to
//! another tenant's row does not decrypt. JWT secrets are not stored at all: they are
//! derived from the master key, so every replica agrees without sharing more state.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::Error;

const VERSION_PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("operating system random source");
        Self(key)
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
            .map(Self)
            .ok_or_else(|| Error::Invalid("master key must be 32 bytes, as base64 or 64 hex digits".into()))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    pub fn encrypt_seed(&self, tenant: Uuid, seed: &[u8; 32]) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("operating system random source");
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: seed, aad: tenant.as_bytes() })
            .expect("AES-GCM encryption of 32 bytes cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION_PREFIX}{}", B64.encode(out))
    }

    pub fn decrypt_seed(&self, tenant: Uuid, stored: &str) -> Result<[u8; 32], Error> {
        let raw = stored
            .strip_prefix(VERSION_PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|r| r.len() > 12)
            .ok_or(Error::Decrypt)?;
        let (nonce, sealed) = raw.split_at(12);
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let seed = cipher
            .decrypt(
                &Nonce::try_from(nonce).map_err(|_| Error::Decrypt)?,
                Payload { msg: sealed, aad: tenant.as_bytes() },
            )
            .map_err(|_| Error::Decrypt)?;
        seed.try_into().map_err(|_| Error::Decrypt)
    }

    /// Seals a 32-byte secret for one `purpose` and its `owner` (both bound as
    /// associated data: a ciphertext copied to another row, or to a column meant for
    /// another kind of secret, does not open).
    pub fn seal(&self, purpose: &str, owner: Uuid, secret: &[u8; 32]) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("operating system random source");
        let aad = [purpose.as_bytes(), b":", owner.as_bytes()].concat();
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: secret, aad: &aad })
            .expect("AES-GCM encryption of 32 bytes cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION_PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, purpose: &str, owner: Uuid, stored: &str) -> Result<[u8; 32], Error> {
        let raw = stored
            .strip_prefix(VERSION_PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|r| r.len() > 12)
            .ok_or(Error::Decrypt)?;
        let (nonce, sealed) = raw.split_at(12);
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let aad = [purpose.as_bytes(), b":", owner.as_bytes()].concat();
        let secret = cipher
            .decrypt(&Nonce::try_from(nonce).map_err(|_| Error::Decrypt)?, Payload { msg: sealed, aad: &aad })
            .map_err(|_| Error::Decrypt)?;
        secret.try_into().map_err(|_| Error::Decrypt)
    }

    /// The HS256 secret for one tenant's SEP-10 tokens. Tenant A's secret says
    /// nothing about tenant B's, so a token from one is worthless at the other.
    pub fn jwt_secret(&self, tenant: Uuid) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"mooring sep10 jwt v1:");
        mac.update(tenant.as_bytes());
        mac.finalize().into_bytes().into()
    }
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
    fn parses_base64_and_hex() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_base64()).unwrap();
        assert_eq!(again.0, key.0);
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(MasterKey::parse(&hex).unwrap().0, key.0);
        assert!(MasterKey::parse("short").is_err());
    }

    #[test]
    fn jwt_secrets_differ_per_tenant() {
        let key = MasterKey::generate();
        assert_ne!(key.jwt_secret(Uuid::new_v4()), key.jwt_secret(Uuid::new_v4()));
    }
}
