use std::fmt;

use stellar_strkey::ed25519;
use stellar_xdr::{MuxedAccount, MuxedAccountMed25519, Uint256};

use crate::{Error, PublicKey};

/// Who is authenticating: a plain account, an account plus a SEP-10 id memo (a user of
/// a shared account), or a muxed `M...` account. The three shapes of a JWT `sub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAccount {
    Account { key: PublicKey, memo: Option<u64> },
    Muxed { key: PublicKey, id: u64 },
}

impl ClientAccount {
    /// Parses SEP-10's `account` and `memo` parameters. The memo must be a decimal
    /// uint64 (an id memo) and cannot be combined with an `M...` account.
    pub fn parse(account: &str, memo: Option<&str>) -> Result<Self, Error> {
        if account.starts_with('M') {
            let muxed = ed25519::MuxedAccount::from_string(account)
                .map_err(|_| Error::InvalidAccount(format!("{account:?} is not a valid M... account")))?;
            if memo.is_some() {
                return Err(Error::InvalidMemo(
                    "a memo cannot be combined with a muxed (M...) account".into(),
                ));
            }
            return Ok(Self::Muxed { key: PublicKey(muxed.ed25519), id: muxed.id });
        }
        if account.starts_with('C') {
            return Err(Error::InvalidAccount("contract (C...) accounts are not supported".into()));
        }
        let key: PublicKey = account.parse()?;
        let memo = memo.map(parse_id_memo).transpose()?;
        Ok(Self::Account { key, memo })
    }

    /// The ed25519 key behind the account: the one whose signers must sign.
    pub fn key(&self) -> PublicKey {
        match self {
            Self::Account { key, .. } | Self::Muxed { key, .. } => *key,
        }
    }

    pub fn memo(&self) -> Option<u64> {
        match self {
            Self::Account { memo, .. } => *memo,
            Self::Muxed { .. } => None,
        }
    }

    pub fn to_xdr(&self) -> MuxedAccount {
        match self {
            Self::Account { key, .. } => MuxedAccount::Ed25519(Uint256(key.0)),
            Self::Muxed { key, id } => {
                MuxedAccount::MuxedEd25519(MuxedAccountMed25519 { id: *id, ed25519: Uint256(key.0) })
            }
        }
    }

    /// Rebuilds the client from a challenge operation's source and the challenge memo.
    pub fn from_xdr(source: &MuxedAccount, memo: Option<u64>) -> Result<Self, Error> {
        match source {
            MuxedAccount::Ed25519(key) => Ok(Self::Account { key: PublicKey(key.0), memo }),
            MuxedAccount::MuxedEd25519(m) if memo.is_none() => {
                Ok(Self::Muxed { key: PublicKey(m.ed25519.0), id: m.id })
            }
            MuxedAccount::MuxedEd25519(_) => {
                Err(Error::InvalidMemo("a memo cannot be combined with a muxed (M...) account".into()))
            }
        }
    }
}

/// The JWT `sub`: `G...`, `G...:memo` or `M...`.
impl fmt::Display for ClientAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Account { key, memo: None } => write!(f, "{key}"),
            Self::Account { key, memo: Some(m) } => write!(f, "{key}:{m}"),
            Self::Muxed { key, id } => {
                let m = ed25519::MuxedAccount { ed25519: key.0, id: *id };
                f.write_str(m.to_string().as_str())
            }
        }
    }
}

/// A SEP-10 memo: a decimal uint64 with no sign, padding or leading zeros games.
pub fn parse_id_memo(memo: &str) -> Result<u64, Error> {
    let canonical = !memo.is_empty()
        && memo.bytes().all(|b| b.is_ascii_digit())
        && (memo == "0" || !memo.starts_with('0'));
    canonical
        .then(|| memo.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| Error::InvalidMemo(format!("{memo:?} is not an id memo (a uint64)")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keypair;

    #[test]
    fn parses_the_three_shapes_and_prints_them_as_sub() {
        let key = Keypair::generate().public_key();
        let g = key.to_string();
        assert_eq!(ClientAccount::parse(&g, None).unwrap().to_string(), g);
        let with_memo = ClientAccount::parse(&g, Some("42")).unwrap();
        assert_eq!(with_memo.to_string(), format!("{g}:42"));
        let m = ed25519::MuxedAccount { ed25519: key.0, id: 7 }.to_string().to_string();
        let muxed = ClientAccount::parse(&m, None).unwrap();
        assert_eq!(muxed, ClientAccount::Muxed { key, id: 7 });
        assert_eq!(muxed.to_string(), m);
        assert_eq!(muxed.key(), key);
    }

    #[test]
    fn rejects_bad_memos_and_accounts() {
        let key = Keypair::generate().public_key().to_string();
        for memo in ["", "abc", "-1", "01", "1.5", "18446744073709551616", " 1"] {
            assert!(ClientAccount::parse(&key, Some(memo)).is_err(), "{memo:?}");
        }
        assert!(ClientAccount::parse(&key, Some("18446744073709551615")).is_ok());
        assert!(ClientAccount::parse("GBAD", None).is_err());
        let m = ed25519::MuxedAccount { ed25519: [1; 32], id: 7 }.to_string().to_string();
        assert!(ClientAccount::parse(&m, Some("1")).is_err());
    }

    #[test]
    fn xdr_round_trip() {
        let key = Keypair::generate().public_key();
        for c in [
            ClientAccount::Account { key, memo: None },
            ClientAccount::Account { key, memo: Some(9) },
            ClientAccount::Muxed { key, id: 3 },
        ] {
            assert_eq!(ClientAccount::from_xdr(&c.to_xdr(), c.memo()).unwrap(), c);
        }
    }
}
