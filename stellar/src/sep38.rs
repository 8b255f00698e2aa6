//! SEP-38 (Anchor RFQ) protocol pieces with no I/O: the asset identifiers
//! (`stellar:CODE:ISSUER`, `iso4217:CCY`) and the quote arithmetic.
//!
//! `price` is what one unit of the buy asset costs in the sell asset, before fees;
//! `total_price` the same with fees. The fee is taken in the sell asset (what a
//! receiving anchor charges on what it receives), so, as the SEP states:
//!
//! ```text
//! sell_amount − fee = price × buy_amount        sell_amount = total_price × buy_amount
//! ```
//!
//! **Rounding rule** (every amount has its asset's decimals, at most 7): the anchor
//! never promises more than it is paid for. Given `sell_amount`, the fee rounds *up*
//! to the sell asset's decimals and `buy_amount` rounds *down* to the buy asset's.
//! Given `buy_amount`, `price × buy_amount` and `sell_amount` round *up* to the sell
//! asset's decimals and the fee is what remains (so it absorbs the rounding, and the
//! first identity holds exactly up to the sell asset's decimals). `total_price` is `sell_amount / buy_amount` rounded
//! to 10 significant decimals, for display.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::Error;

/// A SEP-38 asset identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Asset {
    /// A Stellar asset (classic: code and issuer).
    Stellar { code: String, issuer: String },
    /// A fiat currency, by its ISO 4217 code.
    Iso4217(String),
}

fn bad(s: &str, why: &str) -> Error {
    Error::InvalidField { field: "asset".into(), reason: format!("{s:?} {why}") }
}

impl FromStr for Asset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if let Some(code) = s.strip_prefix("iso4217:") {
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Ok(Self::Iso4217(code.to_string()));
            }
            return Err(bad(s, "is not an ISO 4217 code (three capital letters)"));
        }
        if let Some(rest) = s.strip_prefix("stellar:") {
            let (code, issuer) = rest.split_once(':').ok_or_else(|| bad(s, "needs CODE:ISSUER"))?;
            if code.is_empty() || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad(s, "has an invalid asset code"));
            }
            issuer.parse::<crate::PublicKey>().map_err(|_| bad(s, "has an invalid issuer"))?;
            return Ok(Self::Stellar { code: code.to_string(), issuer: issuer.to_string() });
        }
        Err(bad(s, "must be stellar:CODE:ISSUER or iso4217:CCY"))
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stellar { code, issuer } => write!(f, "stellar:{code}:{issuer}"),
            Self::Iso4217(code) => write!(f, "iso4217:{code}"),
        }
    }
}

/// The amount the client fixed: what it sells, or what it wants bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    Sell(Decimal),
    Buy(Decimal),
}

/// The fee on the sell side: a fixed part plus a percentage of the sell amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fee {
    pub fixed: Decimal,
    /// Percent (1.5 is 1.5 %).
    pub percent: Decimal,
}

/// The largest amount priced: a Stellar amount's maximum (`i64::MAX` stroops).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(u32::MAX, u32::MAX >> 1, 0, false, 7);
/// Prices outside `[MIN_PRICE, MAX_PRICE]` are refused: with amounts up to
/// [`MAX_AMOUNT`], every product and quotient below then stays far inside `Decimal`'s
/// range, so the arithmetic cannot overflow (which would panic).
pub const MAX_PRICE: Decimal =
    Decimal::from_parts(1_000_000_000_000u64 as u32, (1_000_000_000_000u64 >> 32) as u32, 0, false, 0);
pub const MIN_PRICE: Decimal = Decimal::from_parts(1, 0, 0, false, 12);

/// A priced exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    pub price: Decimal,
    pub total_price: Decimal,
    pub sell_amount: Decimal,
    pub buy_amount: Decimal,
    /// In the sell asset.
    pub fee: Decimal,
}

/// Prices `given` at `price` (sell units per buy unit) with `fee`, amounts rounded to
/// the assets' decimals per the module's rounding rule. Fails when the amount does not
/// cover the fee, or a result is zero or cannot be represented.
pub fn quote(
    given: Given,
    price: Decimal,
    fee: Fee,
    sell_decimals: u32,
    buy_decimals: u32,
) -> Result<Quoted, Error> {
    let invalid = |why: &str| Error::InvalidAmount(why.to_string());
    if price <= Decimal::ZERO {
        return Err(invalid("the price must be positive"));
    }
    if !(MIN_PRICE..=MAX_PRICE).contains(&price) {
        return Err(invalid("the price is outside the range this anchor quotes"));
    }
    if matches!(given, Given::Sell(a) | Given::Buy(a) if a > MAX_AMOUNT) {
        return Err(invalid("the amount is larger than any Stellar amount"));
    }
    if fee.fixed > MAX_AMOUNT
        || fee.fixed < Decimal::ZERO
        || fee.percent < Decimal::ZERO
        || fee.percent > Decimal::ONE_HUNDRED
    {
        return Err(invalid("the fee terms are out of range"));
    }
    let (sell_decimals, buy_decimals) = (sell_decimals.min(7), buy_decimals.min(7));
    let hundred = Decimal::ONE_HUNDRED;
    let (sell_amount, buy_amount, fee_amount) = match given {
        Given::Sell(sell) => {
            if sell <= Decimal::ZERO || sell.normalize().scale() > sell_decimals {
                return Err(invalid(&format!(
                    "sell_amount must be positive with at most {sell_decimals} decimals"
                )));
            }
            let fee = (fee.fixed + sell * fee.percent / hundred)
                .round_dp_with_strategy(sell_decimals, RoundingStrategy::AwayFromZero);
            if fee >= sell {
                return Err(invalid("the amount does not cover the fee"));
            }
            let buy = ((sell - fee) / price).round_dp_with_strategy(buy_decimals, RoundingStrategy::ToZero);
            (sell, buy, fee)
        }
        Given::Buy(buy) => {
            if buy <= Decimal::ZERO || buy.normalize().scale() > buy_decimals {
                return Err(invalid(&format!(
                    "buy_amount must be positive with at most {buy_decimals} decimals"
                )));
            }
            // What the buy amount costs, in whole units of the sell asset's last decimal.
            let net = (price * buy).round_dp_with_strategy(sell_decimals, RoundingStrategy::AwayFromZero);
            if net > MAX_AMOUNT {
                return Err(invalid("the amount costs more than any Stellar amount"));
            }
            let keep = Decimal::ONE - fee.percent / hundred;
            if keep <= Decimal::ZERO {
                return Err(invalid("the fee takes everything"));
            }
            let sell = ((net + fee.fixed) / keep)
                .round_dp_with_strategy(sell_decimals, RoundingStrategy::AwayFromZero);
            (sell, buy, sell - net)
        }
    };
    if buy_amount <= Decimal::ZERO {
        return Err(invalid("the amount buys nothing at this price"));
    }
    if sell_amount > MAX_AMOUNT || buy_amount > MAX_AMOUNT {
        return Err(invalid("the result is larger than any Stellar amount"));
    }
    let total_price = (sell_amount / buy_amount).round_dp(10).normalize();
    Ok(Quoted {
        price: price.normalize(),
        total_price,
        sell_amount: sell_amount.normalize(),
        buy_amount: buy_amount.normalize(),
        fee: fee_amount.normalize(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    const ISSUER: &str = "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN";

    #[test]
    fn asset_identifiers_parse_and_print() {
        let usdc: Asset = format!("stellar:USDC:{ISSUER}").parse().unwrap();
        assert_eq!(usdc, Asset::Stellar { code: "USDC".into(), issuer: ISSUER.into() });
        assert_eq!(usdc.to_string(), format!("stellar:USDC:{ISSUER}"));
        assert_eq!("iso4217:MXN".parse::<Asset>().unwrap(), Asset::Iso4217("MXN".into()));
        for bad in
            ["iso4217:mxn", "iso4217:MXNN", "stellar:USDC", "stellar::G", "USDC:G", "stellar:USDC:GBAD", ""]
        {
            assert!(bad.parse::<Asset>().is_err(), "{bad}");
        }
        // The spec example's stray '&' is not an asset.
        assert!(format!("stellar:USDC:{ISSUER}&").parse::<Asset>().is_err());
    }

    #[test]
    fn the_spec_examples() {
        // 500 BRL at 5.42 BRL per USDC, no fee: 92.25 USDC (rounded down from 92.2509…).
        let q = quote(Given::Sell(d("500")), d("5.42"), Fee::default(), 2, 2).unwrap();
        assert_eq!((q.sell_amount, q.buy_amount), (d("500"), d("92.25")));
        // 100 USDC bought at 5.42: 542 BRL.
        let q = quote(Given::Buy(d("100")), d("5.42"), Fee::default(), 2, 7).unwrap();
        assert_eq!((q.sell_amount, q.buy_amount, q.fee), (d("542"), d("100"), d("0")));
    }

    #[test]
    fn the_identities_hold_with_fees_and_awkward_numbers() {
        let fee = Fee { fixed: d("0.35"), percent: d("1.5") };
        for (given, price, sd, bd) in [
            (Given::Sell(d("100")), d("0.0543"), 7, 2),
            (Given::Sell(d("0.9999999")), d("0.0000173"), 7, 2),
            (Given::Sell(d("12345.6789")), d("17.123456789"), 4, 2),
            (Given::Buy(d("1000")), d("0.0543"), 7, 2),
            (Given::Buy(d("0.01")), d("0.0543"), 7, 2),
            (Given::Buy(d("999999.99")), d("3.333333333"), 7, 2),
        ] {
            let q = quote(given, price, fee, sd, bd).unwrap();
            assert!(
                q.sell_amount.scale() <= sd && q.buy_amount.scale() <= bd && q.fee.scale() <= sd,
                "{q:?}"
            );
            let net = q.sell_amount - q.fee;
            match given {
                // Never more bought than paid for, and short of it by less than one
                // unit of the buy asset's last decimal.
                Given::Sell(_) => {
                    assert!(price * q.buy_amount <= net, "{q:?}");
                    assert!(price * (q.buy_amount + Decimal::new(1, bd)) > net, "{q:?}");
                    assert!(q.fee >= fee.fixed + q.sell_amount * fee.percent / Decimal::ONE_HUNDRED, "{q:?}");
                }
                // The fee absorbs the rounding: the first identity is exact, up to the
                // sell asset's decimals.
                Given::Buy(b) => {
                    assert_eq!(q.buy_amount, b);
                    let cost = price * q.buy_amount;
                    assert!(net >= cost && net - cost < Decimal::new(1, sd), "{q:?}");
                    assert!(
                        q.fee
                            >= fee.fixed + (q.sell_amount * fee.percent / Decimal::ONE_HUNDRED)
                                - Decimal::new(1, sd),
                        "{q:?}"
                    );
                }
            }
            let total = q.total_price * q.buy_amount;
            assert!((total - q.sell_amount).abs() <= q.buy_amount * Decimal::new(1, 10), "{q:?}");
        }
    }

    #[test]
    fn extreme_inputs_are_refused_not_overflowed() {
        assert_eq!(MAX_AMOUNT.to_string(), "922337203685.4775807");
        assert_eq!(MAX_PRICE, d("1000000000000"));
        assert_eq!(MIN_PRICE, d("0.000000000001"));
        let fee = Fee { fixed: d("1"), percent: d("99.9999999") };
        // The largest everything at once still prices (or refuses) without panicking.
        for (given, price) in [
            (Given::Buy(MAX_AMOUNT), MAX_PRICE),
            (Given::Sell(MAX_AMOUNT), MIN_PRICE),
            (Given::Buy(MAX_AMOUNT), MIN_PRICE),
            (Given::Sell(MAX_AMOUNT), MAX_PRICE),
        ] {
            let _ = quote(given, price, fee, 7, 7);
        }
        assert!(quote(Given::Sell(d("1")), MAX_PRICE * d("10"), Fee::default(), 7, 2).is_err());
        assert!(quote(Given::Sell(MAX_AMOUNT + d("1")), d("1"), Fee::default(), 7, 2).is_err());
    }

    #[test]
    fn amounts_that_cannot_be_honoured_are_refused() {
        let fee = Fee { fixed: d("5"), percent: d("0") };
        assert!(quote(Given::Sell(d("5")), d("1"), fee, 7, 2).is_err(), "does not cover the fee");
        assert!(quote(Given::Sell(d("0.001")), d("17"), Fee::default(), 7, 2).is_err(), "buys nothing");
        assert!(quote(Given::Sell(d("1.123")), d("1"), Fee::default(), 2, 2).is_err(), "too many decimals");
        assert!(quote(Given::Buy(d("0")), d("1"), Fee::default(), 7, 2).is_err());
        assert!(quote(Given::Buy(d("1")), d("0"), Fee::default(), 7, 2).is_err());
        let all = Fee { fixed: d("0"), percent: d("100") };
        assert!(quote(Given::Buy(d("1")), d("1"), all, 7, 2).is_err());
    }
}
