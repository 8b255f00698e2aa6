//! Pricing a corridor (pure): the market rate less the spread becomes the SEP-38
//! `price`, the corridor's fee terms the fee, `stellar::sep38::quote` the amounts, and
//! the corridor's limits bound the sell amount.

use chrono::{DateTime, Utc};
use mooring_stellar::sep38::{self, Fee, Given};
use mooring_stellar::{Amount, amount::DECIMALS};
use mooring_tenants::Corridor;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{AnchorError, AnchorResult};

/// A market rate: units of the buy asset for one unit of the sell asset, true as of
/// `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub value: Decimal,
    pub as_of: DateTime<Utc>,
}

/// Decimals of a SEP-38 `price`: enough for any currency pair a remittance meets.
const PRICE_DECIMALS: u32 = 10;

/// A priced request, amounts in fixed point (each rounded to its asset's decimals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub price: Decimal,
    pub total_price: Decimal,
    pub sell_amount: Amount,
    pub buy_amount: Amount,
    pub fee: Amount,
    /// The fee's parts, as SEP-38 `fee.details` lists them.
    pub fee_details: Vec<(String, Amount)>,
}

/// The SEP-38 price for one unit of the buy asset in the sell asset: the inverse of the
/// market rate less the spread, rounded *up* (the anchor never under-charges).
pub fn price(corridor: &Corridor, rate: Rate) -> AnchorResult<Decimal> {
    let keep = Decimal::ONE - Decimal::from(corridor.spread_bps) / Decimal::from(10_000);
    let effective = rate.value * keep;
    if effective <= Decimal::ZERO {
        return Err(AnchorError::Unavailable("this corridor has no usable rate".into()));
    }
    let price =
        (Decimal::ONE / effective).round_dp_with_strategy(PRICE_DECIMALS, RoundingStrategy::AwayFromZero);
    Ok(price.normalize())
}

/// Whether a firm quote may rest on `rate` at `now`.
pub fn check_fresh(corridor: &Corridor, rate: Rate, now: DateTime<Utc>) -> AnchorResult<()> {
    match corridor.max_rate_age {
        Some(max) if now - rate.as_of > max => Err(AnchorError::Unavailable(format!(
            "the rate for {} → {} is stale (as of {}); firm quotes resume when it is refreshed",
            corridor.sell,
            corridor.buy,
            rate.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))),
        _ => Ok(()),
    }
}

/// Prices `given` on `corridor` at `rate`.
pub fn quote(corridor: &Corridor, rate: Rate, given: Given) -> AnchorResult<Priced> {
    let price = price(corridor, rate)?;
    // The fee tier goes by the sell amount; for a buy amount, by what it costs before fees.
    let basis = match given {
        Given::Sell(sell) => sell,
        Given::Buy(buy) => buy.checked_mul(price).unwrap_or(Decimal::MAX),
    };
    let basis = Amount::from_decimal(basis.round_dp_with_strategy(DECIMALS, RoundingStrategy::ToZero))
        .unwrap_or(Amount(i64::MAX));
    let (fixed, percent) = corridor.fee_terms(basis);
    let fee = Fee { fixed: fixed.to_decimal(), percent: percent.to_decimal() };
    let q = sep38::quote(given, price, fee, DECIMALS, corridor.buy_decimals)
        .map_err(|e| AnchorError::invalid(e.to_string()))?;
    let fixed_amount = |d: Decimal| Amount::from_decimal(d).map_err(|e| AnchorError::invalid(e.to_string()));
    let (sell_amount, buy_amount, fee_total) =
        (fixed_amount(q.sell_amount)?, fixed_amount(q.buy_amount)?, fixed_amount(q.fee)?);
    if corridor.min_sell.is_some_and(|min| sell_amount < min)
        || corridor.max_sell.is_some_and(|max| sell_amount > max)
    {
        return Err(AnchorError::invalid(format!(
            "sell_amount must be between {} and {} for {} → {} (this request sells {})",
            corridor.min_sell.map_or("0".into(), |a| a.to_string()),
            corridor.max_sell.map_or("unlimited".into(), |a| a.to_string()),
            corridor.sell,
            corridor.buy,
            sell_amount
        )));
    }
    let mut fee_details = Vec::new();
    let fixed_part = fixed.min(fee_total);
    if fixed_part > Amount::ZERO {
        fee_details.push(("fixed fee".to_string(), fixed_part));
    }
    let rest = Amount(fee_total.0 - fixed_part.0);
    if rest > Amount::ZERO {
        fee_details.push((format!("{}% fee", percent.to_decimal()), rest));
    }
    Ok(Priced {
        price: q.price,
        total_price: q.total_price,
        sell_amount,
        buy_amount,
        fee: fee_total,
        fee_details,
    })
}

#[cfg(test)]
mod tests {
    use mooring_tenants::{FeeTier, RateSource};

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn corridor() -> Corridor {
        Corridor {
            id: uuid::Uuid::nil(),
            sell: "stellar:SRT:GCDNJUBQSX7AJWLJACMJ7I4BC3Z47BQUTMHEICZLE6MU4KQBRYG5JY6B".parse().unwrap(),
            buy: "iso4217:MXN".parse().unwrap(),
            buy_decimals: 2,
            rate: RateSource::Feed { url: "https://rates.example".into() },
            max_rate_age: Some(chrono::Duration::seconds(60)),
            spread_bps: 100,
            quote_lifetime: chrono::Duration::seconds(300),
            min_sell: Some(Amount::from_units(1)),
            max_sell: Some(Amount::from_units(10_000)),
            fee_fixed: Amount::from_units(1),
            fee_percent: Amount::ZERO,
            fee_tiers: vec![FeeTier {
                min_amount: Amount::from_units(1_000),
                fee_fixed: Amount::ZERO,
                fee_percent: Amount::from_decimal(d("0.5")).unwrap(),
            }],
            enabled: true,
            max_outstanding: None,
        }
    }

    fn rate(value: &str) -> Rate {
        Rate { value: d(value), as_of: Utc::now() }
    }

    #[test]
    fn the_spread_raises_the_price_and_the_fee_is_in_the_sell_asset() {
        let c = corridor();
        // 20 MXN per SRT less 1 %: 19.8, so one MXN costs 1/19.8 SRT, rounded up.
        assert_eq!(price(&c, rate("20")).unwrap(), d("0.0505050506"));
        let q = quote(&c, rate("20"), Given::Sell(d("101"))).unwrap();
        assert_eq!(q.fee, Amount::from_units(1));
        // (101 − 1) / 0.0505050506 = 1979.99999…: rounded down to the centavo.
        assert_eq!(q.buy_amount.to_decimal(), d("1979.99"));
        assert_eq!(q.fee_details, vec![("fixed fee".to_string(), Amount::from_units(1))]);
    }

    #[test]
    fn tiers_go_by_the_sell_amount_in_both_directions() {
        let c = corridor();
        let q = quote(&c, rate("20"), Given::Sell(d("2000"))).unwrap();
        assert_eq!(q.fee.to_decimal(), d("10"), "0.5 % from 1,000 up, no fixed fee");
        let q = quote(&c, rate("20"), Given::Buy(d("39600"))).unwrap();
        // 39,600 MXN cost 2,000.0000… SRT before fees: the 0.5 % tier.
        assert!(q.fee_details.iter().all(|(name, _)| name == "0.5% fee"), "{q:?}");
        assert_eq!(q.buy_amount.to_decimal(), d("39600"));
    }

    #[test]
    fn limits_and_staleness_refuse() {
        let c = corridor();
        assert!(matches!(quote(&c, rate("20"), Given::Sell(d("20000"))), Err(AnchorError::Invalid(_))));
        assert!(matches!(quote(&c, rate("20"), Given::Sell(d("0.5"))), Err(AnchorError::Invalid(_))));
        let old = Rate { value: d("20"), as_of: Utc::now() - chrono::Duration::seconds(61) };
        assert!(matches!(check_fresh(&c, old, Utc::now()), Err(AnchorError::Unavailable(_))));
        assert!(check_fresh(&c, rate("20"), Utc::now()).is_ok());
        let never = Corridor { max_rate_age: None, ..c };
        assert!(check_fresh(&never, old, Utc::now()).is_ok());
    }
}
