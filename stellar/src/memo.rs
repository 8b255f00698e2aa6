//! Stellar memos as SEP-31 hands them out (`stellar_memo_type` + `stellar_memo`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::Error;

/// Stored as its SEP-31 name (`id`, `text`, `hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter))]
#[cfg_attr(feature = "sea-orm", sea_orm(rs_type = "String", db_type = "Text"))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum MemoType {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "id"))]
    Id,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "text"))]
    Text,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "hash"))]
    Hash,
}

impl MemoType {
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "id" => Ok(Self::Id),
            "text" => Ok(Self::Text),
            "hash" => Ok(Self::Hash),
            other => Err(Error::InvalidMemo(format!("memo type {other:?} is not id, text or hash"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Text => "text",
            Self::Hash => "hash",
        }
    }

    /// A fresh random memo of this type, in its SEP-31 string form. Callers still
    /// enforce uniqueness (a database constraint); randomness only makes clashes rare.
    pub fn generate(self) -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("operating system random source");
        match self {
            // 62 bits keeps it well inside uint64 and JavaScript-unsafe on purpose
            // (SEP-31 sends memos as strings).
            Self::Id => (u64::from_le_bytes(bytes[..8].try_into().unwrap()) >> 2).to_string(),
            // 20 characters of base32-ish alphabet: under the 28-byte text limit.
            Self::Text => {
                const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
                bytes[..20].iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect()
            }
            Self::Hash => B64.encode(bytes),
        }
    }

    /// Checks a memo value (e.g. a `refund_memo`) against its type.
    pub fn validate(self, value: &str) -> Result<(), Error> {
        let ok = match self {
            Self::Id => crate::account::parse_id_memo(value).is_ok(),
            Self::Text => !value.is_empty() && value.len() <= 28,
            Self::Hash => B64.decode(value).is_ok_and(|b| b.len() == 32),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidMemo(format!("{value:?} is not a valid {} memo", self.as_str())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_memos_validate() {
        for t in [MemoType::Id, MemoType::Text, MemoType::Hash] {
            let a = t.generate();
            assert!(t.validate(&a).is_ok(), "{a}");
            assert_ne!(a, t.generate());
        }
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(MemoType::Id.validate("abc").is_err());
        assert!(MemoType::Text.validate(&"x".repeat(29)).is_err());
        assert!(MemoType::Hash.validate("AAAA").is_err());
        assert!(MemoType::parse("return").is_err());
    }
}
