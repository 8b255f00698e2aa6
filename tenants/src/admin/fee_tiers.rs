//! Fee tiers as stored (assets and corridors alike).

/// Stored fee tiers (see `asset::Model::fee_tiers`); `None` for none.
pub(super) fn tiers_json(tiers: &[crate::FeeTier]) -> Option<serde_json::Value> {
    (!tiers.is_empty()).then(|| {
        tiers
            .iter()
            .map(|t| {
                serde_json::json!({
                    "min_amount": t.min_amount.to_string(),
                    "fee_fixed": t.fee_fixed.to_string(),
                    "fee_percent": t.fee_percent.to_string(),
                })
            })
            .collect::<Vec<_>>()
            .into()
    })
}
