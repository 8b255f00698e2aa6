use sha2::{Digest, Sha256};

pub const TESTNET_PASSPHRASE: &str = "Test SDF Network ; September 2015";
pub const PUBLIC_PASSPHRASE: &str = "Public Global Stellar Network ; September 2015";

/// A Stellar network, known by its passphrase. Signatures commit to the network id
/// (the passphrase's SHA-256), which is what makes a testnet challenge useless on
/// the public network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    passphrase: String,
    id: [u8; 32],
}

impl Network {
    pub fn new(passphrase: impl Into<String>) -> Self {
        let passphrase = passphrase.into();
        let id = Sha256::digest(passphrase.as_bytes()).into();
        Self { passphrase, id }
    }

    pub fn testnet() -> Self {
        Self::new(TESTNET_PASSPHRASE)
    }

    pub fn public() -> Self {
        Self::new(PUBLIC_PASSPHRASE)
    }

    pub fn passphrase(&self) -> &str {
        &self.passphrase
    }

    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    pub fn is_public(&self) -> bool {
        self.passphrase == PUBLIC_PASSPHRASE
    }
}
