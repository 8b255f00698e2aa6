//! What SEP-12 shows: a customer's status for a type, and the `GET /customer` body.

use mooring_tenants::CustomerType;
use serde_json::{Map, Value, json};

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

/// The body of `GET /customer` (and of SEP-12 callbacks) for one type.
pub fn view(ty: &CustomerType, loaded: Option<&Loaded>) -> Value {
    let status = status(ty, loaded);
    let mut fields = Map::new();
    let mut provided_fields = Map::new();
    for field in &ty.fields {
        let given = loaded.and_then(|l| l.fields.iter().find(|f| f.name == field.name));
        match given {
            Some(row) => {
                let mut v = field.sep12_json();
                v["status"] = json!(row.status.as_str());
                if let Some(error) = &row.error {
                    v["error"] = json!(error);
                }
                // A rejected field must be sent again: list it in both.
                if row.status == FieldStatus::Rejected {
                    fields.insert(field.name.clone(), field.sep12_json());
                }
                provided_fields.insert(field.name.clone(), v);
            }
            None => {
                fields.insert(field.name.clone(), field.sep12_json());
            }
        }
    }
    let mut body = json!({ "status": status.as_str() });
    if let Some(l) = loaded {
        body["id"] = json!(l.customer.id);
    }
    if !fields.is_empty() || status == Status::NeedsInfo {
        body["fields"] = Value::Object(fields);
    }
    if !provided_fields.is_empty() {
        body["provided_fields"] = Value::Object(provided_fields);
    }
    let message = loaded.and_then(|l| l.customer.message.clone()).or_else(|| match status {
        Status::Rejected => Some("this customer was rejected".into()),
        _ => None,
    });
    if let Some(m) = message {
        body["message"] = json!(m);
    }
    body
}
