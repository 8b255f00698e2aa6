//! JSON columns with a shape: read and written as these types, never as loose JSON.
//! They hold what the SEPs show (the anchor maps them onto its wire types), so the
//! stored text of existing rows reads back unchanged.

use std::collections::BTreeMap;

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// The parts of a fee: `[{name, amount, description?}]`, amounts as decimal strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct FeeParts(pub Vec<FeePart>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeePart {
    pub name: String,
    pub amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The transaction fields an anchor asked to be sent again: `{"transaction": {name:
/// {description, optional, choices?}}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct RequestedFields {
    pub transaction: BTreeMap<String, RequestedField>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedField {
    pub description: String,
    #[serde(default)]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
}
