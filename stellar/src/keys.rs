use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use stellar_strkey::ed25519;
use stellar_xdr::{DecoratedSignature, SignatureHint};

use crate::Error;

/// An ed25519 account key, shown as a `G...` strkey.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The last four bytes of the key: Stellar's hint for which key made a signature.
    pub fn hint(&self) -> [u8; 4] {
        let mut hint = [0u8; 4];
        hint.copy_from_slice(&self.0[28..]);
        hint
    }

    /// Checks a raw ed25519 signature. Malformed keys or signatures simply fail.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }
}

impl FromStr for PublicKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ed25519::PublicKey::from_string(s)
            .map(|k| PublicKey(k.0))
            .map_err(|_| Error::InvalidAccount(format!("{s:?} is not a G... account")))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ed25519::PublicKey(self.0).to_string().as_str())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// An ed25519 signing key. Its `Debug` never prints the seed, so a stray `{:?}` in a
/// log line cannot leak it.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// A new key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("operating system random source");
        Self::from_seed(seed)
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(&seed) }
    }

    /// Parses an `S...` secret seed.
    pub fn from_secret(secret: &str) -> Result<Self, Error> {
        ed25519::PrivateKey::from_string(secret).map(|k| Self::from_seed(k.0)).map_err(|_| Error::InvalidSeed)
    }

    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The `S...` form. Only for showing a generated demo key once, or for tests.
    pub fn secret(&self) -> String {
        format!("{}", ed25519::PrivateKey(self.seed()).as_unredacted())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// A transaction signature: ed25519 over the transaction hash, tagged with the hint.
    pub fn sign_decorated(&self, tx_hash: &[u8; 32]) -> DecoratedSignature {
        DecoratedSignature {
            hint: SignatureHint(self.public_key().hint()),
            signature: stellar_xdr::Signature(self.sign(tx_hash).to_vec().try_into().expect("64 bytes fit")),
        }
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({}, seed redacted)", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trips_and_debug_hides_it() {
        let kp = Keypair::generate();
        let secret = kp.secret();
        assert!(secret.starts_with('S'));
        let again = Keypair::from_secret(&secret).unwrap();
        assert_eq!(again.public_key(), kp.public_key());
        assert!(!format!("{kp:?}").contains(&secret));
    }

    #[test]
    fn known_vector() {
        // Seed and account from the Stellar SDKs' own test vectors.
        let kp = Keypair::from_secret("SDJHRQF4GCMIIKAAAQ6IHY42X73FQFLHUULAPSKKD4DFDM7UXWWCRHBE").unwrap();
        assert_eq!(kp.public_key().to_string(), "GCZHXL5HXQX5ABDM26LHYRCQZ5OJFHLOPLZX47WEBP3V2PF5AVFK2A5D");
    }

    #[test]
    fn signatures_verify_only_for_their_message() {
        let kp = Keypair::generate();
        let sig = kp.sign(b"hello");
        assert!(kp.public_key().verify(b"hello", &sig));
        assert!(!kp.public_key().verify(b"hellO", &sig));
        assert!(!Keypair::generate().public_key().verify(b"hello", &sig));
    }

    #[test]
    fn rejects_non_account_strings() {
        assert!("GABC".parse::<PublicKey>().is_err());
        assert!("SDJHRQF4GCMIIKAAAQ6IHY42X73FQFLHUULAPSKKD4DFDM7UXWWCRHBE".parse::<PublicKey>().is_err());
    }
}
