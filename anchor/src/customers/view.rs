//! What SEP-12 shows: a customer's status for a type, and the `GET /customer` body
//! (`mooring_wire::sep12::CustomerResponse`), which is also a SEP-12 callback's body.

use std::collections::BTreeMap;

use mooring_tenants::CustomerType;
use mooring_wire::sep12::{self, CustomerResponse, ProvidedField};

use super::{FieldStatus, Loaded, ReviewStatus, Status};

/// The customer's status for one type.
pub fn status(ty: &CustomerType, loaded: Option<&Loaded>) -> Status {
    let Some(loaded) = loaded else { return Status::NeedsInfo };
    if loaded.customer.review_status == Some(ReviewStatus::Rejected) {
        return Status::Rejected;
    }
    let provided = |name: &str| loaded.fields.iter().find(|f| f.name == name);
    let mut processing = false;
    for field in ty.fields.iter().filter(|f| !f.optional) {
        match provided(&field.name).map(|f| f.status) {
            None | Some(FieldStatus::Rejected) => return Status::NeedsInfo,
            Some(FieldStatus::Accepted) => {}
            Some(FieldStatus::Processing) => processing = true,
        }
    }
    if processing { Status::Processing } else { Status::Accepted }
}

fn wire_status(s: FieldStatus) -> sep12::FieldStatus {
    match s {
        FieldStatus::Accepted => sep12::FieldStatus::Accepted,
        FieldStatus::Processing => sep12::FieldStatus::Processing,
        FieldStatus::Rejected => sep12::FieldStatus::Rejected,
    }
}

/// The body of `GET /customer` (and of SEP-12 callbacks) for one type.
pub fn view(ty: &CustomerType, loaded: Option<&Loaded>) -> CustomerResponse {
    let status = status(ty, loaded);
    let mut fields = BTreeMap::new();
    let mut provided_fields = BTreeMap::new();
    for field in &ty.fields {
        let given = loaded.and_then(|l| l.fields.iter().find(|f| f.name == field.name));
        let spec = field.spec();
        match given {
            Some(row) => {
                // A rejected field must be sent again: list it in both.
                if row.status == FieldStatus::Rejected {
                    fields.insert(field.name.clone(), spec.clone());
                }
                provided_fields.insert(
                    field.name.clone(),
                    ProvidedField {
                        field_type: spec.field_type.unwrap_or_default(),
                        description: spec.description,
                        choices: spec.choices,
                        optional: spec.optional,
                        status: wire_status(row.status),
                        error: row.error.clone(),
                    },
                );
            }
            None => {
                fields.insert(field.name.clone(), spec);
            }
        }
    }
    let message = loaded.and_then(|l| l.customer.message.clone()).or_else(|| match status {
        Status::Rejected => Some("this customer was rejected".into()),
        _ => None,
    });
    CustomerResponse {
        id: loaded.map(|l| l.customer.id),
        status,
        fields: (!fields.is_empty() || status == Status::NeedsInfo).then_some(fields),
        provided_fields: (!provided_fields.is_empty()).then_some(provided_fields),
        message,
    }
}
