//! A fee tier, shown alike on assets and corridors.

use async_graphql::SimpleObject;

/// Fees for amounts from `minAmount` up.
#[derive(SimpleObject)]
#[graphql(name = "FeeTier")]
pub struct FeeTierObj {
    /// Smallest amount the tier applies to.
    pub min_amount: String,
    /// Fixed fee.
    pub fee_fixed: String,
    /// Percentage fee, in percentage points.
    pub fee_percent: String,
}

impl From<mooring_tenants::FeeTier> for FeeTierObj {
    fn from(t: mooring_tenants::FeeTier) -> Self {
        Self {
            min_amount: t.min_amount.to_decimal().to_string(),
            fee_fixed: t.fee_fixed.to_decimal().to_string(),
            fee_percent: t.fee_percent.to_decimal().to_string(),
        }
    }
}
