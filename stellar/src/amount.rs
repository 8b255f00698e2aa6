//! Stellar amounts: fixed-point with 7 decimals (stroops), never floats.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::Error;

pub const DECIMALS: u32 = 7;
const SCALE: i64 = 10_000_000;

/// An amount of an asset, or a percentage, held as an integer count of 10⁻⁷ units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn from_units(units: i64) -> Self {
        Amount(units * SCALE)
    }

    /// Exact conversion: more than 7 decimals, or out of range, is an error rather than
    /// a silent rounding.
    pub fn from_decimal(d: Decimal) -> Result<Self, Error> {
        let d = d.normalize();
        if d.scale() > DECIMALS {
            return Err(Error::InvalidAmount(format!("{d} has more than {DECIMALS} decimals")));
        }
        let stroops = d
            .checked_mul(Decimal::from(SCALE))
            .and_then(|s| i64::try_from(s).ok())
            .ok_or_else(|| Error::InvalidAmount(format!("{d} is out of range")))?;
        Ok(Amount(stroops))
    }

    /// `percent` % of this amount (percent in the same fixed-point form), rounded half
    /// away from zero to 7 decimals: the one rounding rule for fees.
    pub fn percent(self, percent: Amount) -> Amount {
        let scaled = i128::from(self.0) * i128::from(percent.0);
        let divisor = 100 * i128::from(SCALE);
        let rounded = (scaled + scaled.signum() * divisor / 2) / divisor;
        Amount(i64::try_from(rounded).unwrap_or(i64::MAX))
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, DECIMALS).normalize()
    }
}

impl FromStr for Amount {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let d = Decimal::from_str_exact(s.trim())
            .map_err(|_| Error::InvalidAmount(format!("{s:?} is not a decimal number")))?;
        Self::from_decimal(d)
    }
}

/// Always 7 decimals, as Horizon and SEP-31 responses print amounts.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Decimal::new(self.0, DECIMALS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!("10".parse::<Amount>().unwrap(), Amount(100_000_000));
        assert_eq!("0.0000001".parse::<Amount>().unwrap(), Amount(1));
        assert_eq!(Amount(1).to_string(), "0.0000001");
        assert_eq!(Amount::from_units(10).to_string(), "10.0000000");
        assert_eq!(Amount::from_units(10).to_decimal().to_string(), "10");
        assert_eq!("1.50".parse::<Amount>().unwrap().to_decimal().to_string(), "1.5");
    }

    #[test]
    fn percent_fees_follow_the_guide_and_round_half_up() {
        let one = Amount::from_units(1);
        // 100 SRT at 1 % = 1 (+1 fixed = the guide's fee of 2).
        assert_eq!(Amount::from_units(100).percent(one), one);
        // 0.0000001 at 50 % = 0.00000005 -> 0.0000001.
        assert_eq!(Amount(1).percent(Amount::from_units(50)), Amount(1));
        assert_eq!(Amount(1).percent(Amount::from_units(49)), Amount(0));
        assert_eq!(
            "12.3456789".parse::<Amount>().unwrap().percent("2.5".parse().unwrap()).to_string(),
            "0.3086420"
        );
    }

    #[test]
    fn refuses_excess_precision_and_junk() {
        assert!("0.00000001".parse::<Amount>().is_err());
        assert!("abc".parse::<Amount>().is_err());
        assert!("1e3".parse::<Amount>().is_err());
        assert!("99999999999999999999".parse::<Amount>().is_err());
    }
}
