//! Pieces more than one SEP shares: a field description (SEP-12 `fields`, SEP-31
//! `fields.transaction`) and one line of a fee breakdown (SEP-31 `fee_details.details`,
//! SEP-38 `fee.details`).

use serde::{Deserialize, Serialize};

/// A field the anchor asks for. SEP-12 adds its `type`; SEP-31 has none.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    /// SEP-31 and SEP-12 read a missing `optional` as false; Mooring always says it.
    #[serde(default)]
    pub optional: bool,
}

impl FieldSpec {
    pub fn new(description: impl Into<String>, optional: bool, choices: Option<&[String]>) -> Self {
        Self {
            field_type: None,
            description: description.into(),
            choices: choices.map(<[String]>::to_vec),
            optional,
        }
    }

    /// The SEP-12 form: with the field's SEP-9 type.
    pub fn typed(mut self, field_type: impl Into<String>) -> Self {
        self.field_type = Some(field_type.into());
        self
    }
}

/// One part of a fee: a name and an amount in the fee's asset.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FeeDetail {
    pub name: String,
    /// A decimal string, up to 7 places.
    pub amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl FeeDetail {
    pub fn new(name: impl Into<String>, amount: String) -> Self {
        Self { name: name.into(), amount, description: None }
    }
}
