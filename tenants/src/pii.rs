//! Customer PII at rest: envelope encryption per tenant.
//!
//! Each tenant has a random 256-bit data key, stored sealed under the master key
//! (`tenants.data_key`). Every SEP-12 field value and file body is sealed with it
//! (AES-256-GCM) before it reaches the database, with the tenant, customer and field
//! name as associated data, so a ciphertext moved to another row, customer or tenant
//! does not open. Destroying a tenant's data key makes its customers' data unreadable
//! at once (crypto-shredding, for offboarding).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use uuid::Uuid;

use crate::{Error, MasterKey};

/// What the master key seals a data key for (domain separation from other secrets).
pub const DATA_KEY_PURPOSE: &str = "pii-data-key";
/// A sealed text value starts with this; anything else is a legacy plaintext row the
/// start-up pass has not sealed yet.
pub const TEXT_PREFIX: &str = "pii1:";
/// A sealed file starts with these bytes.
const FILE_MAGIC: &[u8] = b"\0pii1";
const NONCE: usize = 12;
const TAG: usize = 16;

/// Where a sealed value belongs: it opens only there.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub tenant: Uuid,
    pub customer: Uuid,
    pub field: &'a str,
}

impl Slot<'_> {
    fn aad(&self) -> Vec<u8> {
        [self.tenant.as_bytes().as_slice(), self.customer.as_bytes(), self.field.as_bytes()].concat()
    }
}

pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

impl DataKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("operating system random source");
        Self(key)
    }

    /// The key as stored for `tenant`: sealed under the master key.
    pub fn sealed(&self, master: &MasterKey, tenant: Uuid) -> String {
        master.seal(DATA_KEY_PURPOSE, tenant, &self.0)
    }

    pub fn unseal(master: &MasterKey, tenant: Uuid, stored: &str) -> Result<Self, Error> {
        master.open(DATA_KEY_PURPOSE, tenant, stored).map(Self)
    }

    fn seal_bytes(&self, slot: Slot<'_>, plain: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).expect("operating system random source");
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: &slot.aad() })
            .expect("AES-GCM encryption cannot fail for these sizes");
        [nonce.as_slice(), &sealed].concat()
    }

    fn open_bytes(&self, slot: Slot<'_>, sealed: &[u8]) -> Result<Vec<u8>, Error> {
        if sealed.len() < NONCE + TAG {
            return Err(Error::Decrypt);
        }
        let (nonce, body) = sealed.split_at(NONCE);
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        cipher
            .decrypt(
                &Nonce::try_from(nonce).map_err(|_| Error::Decrypt)?,
                Payload { msg: body, aad: &slot.aad() },
            )
            .map_err(|_| Error::Decrypt)
    }

    pub fn seal_text(&self, slot: Slot<'_>, plain: &str) -> String {
        format!("{TEXT_PREFIX}{}", B64.encode(self.seal_bytes(slot, plain.as_bytes())))
    }

    /// The value; a legacy plaintext value (not sealed yet) as it is.
    pub fn open_text(&self, slot: Slot<'_>, stored: &str) -> Result<String, Error> {
        let Some(encoded) = stored.strip_prefix(TEXT_PREFIX) else { return Ok(stored.to_string()) };
        let sealed = B64.decode(encoded).map_err(|_| Error::Decrypt)?;
        String::from_utf8(self.open_bytes(slot, &sealed)?).map_err(|_| Error::Decrypt)
    }

    pub fn seal_file(&self, slot: Slot<'_>, plain: &[u8]) -> Vec<u8> {
        [FILE_MAGIC, &self.seal_bytes(slot, plain)].concat()
    }

    /// The file; a legacy plaintext file (not sealed yet) as it is.
    pub fn open_file(&self, slot: Slot<'_>, stored: &[u8]) -> Result<Vec<u8>, Error> {
        match stored.strip_prefix(FILE_MAGIC) {
            Some(sealed) => self.open_bytes(slot, sealed),
            None => Ok(stored.to_vec()),
        }
    }
}

pub fn is_sealed_text(stored: &str) -> bool {
    stored.starts_with(TEXT_PREFIX)
}

pub fn is_sealed_file(stored: &[u8]) -> bool {
    stored.starts_with(FILE_MAGIC)
}

/// A sealed file's plaintext size, without opening it.
pub fn file_size(stored: &[u8]) -> usize {
    match stored.strip_prefix(FILE_MAGIC) {
        Some(sealed) => sealed.len().saturating_sub(NONCE + TAG),
        None => stored.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(field: &str) -> Slot<'_> {
        Slot { tenant: Uuid::from_u128(1), customer: Uuid::from_u128(2), field }
    }

    #[test]
    fn values_open_only_in_their_slot_and_with_their_key() {
        let key = DataKey::generate();
        let sealed = key.seal_text(slot("email_address"), "ana@example.com");
        assert!(is_sealed_text(&sealed) && !sealed.contains("ana"));
        assert_eq!(key.open_text(slot("email_address"), &sealed).unwrap(), "ana@example.com");
        assert!(key.open_text(slot("first_name"), &sealed).is_err(), "moved to another field");
        let other = Slot { customer: Uuid::from_u128(3), ..slot("email_address") };
        assert!(key.open_text(other, &sealed).is_err(), "moved to another customer");
        assert!(
            DataKey::generate().open_text(slot("email_address"), &sealed).is_err(),
            "another tenant's key"
        );
        assert_eq!(key.open_text(slot("x"), "legacy plaintext").unwrap(), "legacy plaintext");

        let file = key.seal_file(slot("photo_id_front"), b"\x89PNG...");
        assert!(is_sealed_file(&file) && file_size(&file) == 7);
        assert_eq!(key.open_file(slot("photo_id_front"), &file).unwrap(), b"\x89PNG...");
        assert!(key.open_file(slot("photo_id_back"), &file).is_err());
    }

    #[test]
    fn the_data_key_is_sealed_for_its_tenant_and_purpose() {
        let master = MasterKey::generate();
        let key = DataKey::generate();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let stored = key.sealed(&master, a);
        let opened = DataKey::unseal(&master, a, &stored).unwrap();
        assert_eq!(opened.0, key.0);
        assert!(DataKey::unseal(&master, b, &stored).is_err());
        assert!(master.decrypt_seed(a, &stored).is_err(), "not a signing seed");
        assert!(DataKey::unseal(&MasterKey::generate(), a, &stored).is_err());
    }
}
