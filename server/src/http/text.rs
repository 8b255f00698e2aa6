//! Text input checked at the HTTP boundary: a 400 naming the field for any control
//! character (see `mooring_stellar::text`), before anything reaches the database.

use std::collections::HashMap;

use mooring_stellar::text::has_forbidden;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

fn refuse(field: &str) -> ApiError {
    ApiError::bad_request(format!("{field} contains a control character"))
}

pub fn check(field: &str, value: &str) -> ApiResult<()> {
    if has_forbidden(field) {
        return Err(refuse("a field name"));
    }
    if has_forbidden(value) {
        return Err(refuse(field));
    }
    Ok(())
}

/// Every key and string in a JSON document; the error names the path
/// (`fields.transaction.account_number`).
pub fn check_json(value: &Value) -> ApiResult<()> {
    fn walk(value: &Value, path: &mut String) -> ApiResult<()> {
        match value {
            Value::String(s) if has_forbidden(s) => {
                Err(refuse(if path.is_empty() { "the body" } else { path }))
            }
            Value::Array(items) => items.iter().try_for_each(|v| walk(v, path)),
            Value::Object(map) => {
                for (key, v) in map {
                    if has_forbidden(key) {
                        return Err(refuse("a field name"));
                    }
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    walk(v, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

/// `a=1&b=2` (a query string or a form body) as a map, every name and value checked.
/// Malformed escapes decode leniently, as browsers do.
pub fn form_params(raw: &[u8]) -> ApiResult<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw).into_owned() {
        check(&name, &value)?;
        params.insert(name, value);
    }
    Ok(params)
}
