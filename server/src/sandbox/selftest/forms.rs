//! What the self-test reads and fills: the endpoints stellar.toml publishes, and
//! SEP-12/SEP-31 field lists filled with valid example values.

use mooring_tenants::Tenant;
use serde_json::Value;

use super::exchange::Verdict;

/// The endpoints a stellar.toml publishes.
pub(super) struct Endpoints {
    pub(super) web_auth: String,
    pub(super) kyc: String,
    pub(super) direct: String,
    pub(super) quote: Option<String>,
}

pub(super) fn toml_endpoints(t: &Tenant, body: &str) -> Verdict<(Endpoints, String)> {
    let doc: toml::Table = toml::from_str(body).map_err(|e| format!("stellar.toml does not parse: {e}"))?;
    let text = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let need = |k: &str| text(k).ok_or_else(|| format!("stellar.toml has no {k}"));
    if text("NETWORK_PASSPHRASE").as_deref() != Some(t.network.passphrase()) {
        return Err("NETWORK_PASSPHRASE is not the tenant's network".into());
    }
    if text("SIGNING_KEY") != Some(t.signing_key.public_key().to_string()) {
        return Err("SIGNING_KEY is not the tenant's SEP-10 key".into());
    }
    let currencies = doc.get("CURRENCIES").and_then(|c| c.as_array()).cloned().unwrap_or_default();
    for asset in t.assets.iter().filter(|a| a.sep31_enabled) {
        let listed = currencies.iter().any(|c| {
            c.get("code").and_then(|v| v.as_str()) == Some(asset.code.as_str())
                && c.get("issuer").and_then(|v| v.as_str()) == Some(asset.issuer.as_str())
        });
        if !listed {
            return Err(format!("CURRENCIES does not list {}:{}", asset.code, asset.issuer));
        }
    }
    let endpoints = Endpoints {
        web_auth: need("WEB_AUTH_ENDPOINT")?,
        kyc: need("KYC_SERVER")?,
        direct: need("DIRECT_PAYMENT_SERVER")?,
        quote: text("ANCHOR_QUOTE_SERVER"),
    };
    let message = format!(
        "network, signing key and {} currencies as configured; SEP-10 at {}, SEP-12 at {}, SEP-31 at {}",
        currencies.len(),
        endpoints.web_auth,
        endpoints.kyc,
        endpoints.direct
    );
    Ok((endpoints, message))
}

/// Fills a SEP-12 or SEP-31 field list (`{name: {type, choices, optional}}`): every
/// required field gets a valid example value.
pub(super) fn fill(fields: &Value) -> Verdict<serde_json::Map<String, Value>> {
    let mut out = serde_json::Map::new();
    for (name, spec) in fields.as_object().into_iter().flatten() {
        if spec.get("optional").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        let ty = match spec.get("type").and_then(Value::as_str).unwrap_or("string") {
            "binary" => mooring_stellar::sep9::FieldType::Binary,
            "number" => mooring_stellar::sep9::FieldType::Number,
            "date" => mooring_stellar::sep9::FieldType::Date,
            _ => mooring_stellar::sep9::FieldType::String,
        };
        let choices: Option<Vec<String>> = spec
            .get("choices")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
        let value = mooring_stellar::sep9::example(name, ty, choices.as_deref())
            .ok_or_else(|| format!("required field {name} is a file: the self-test sends no files"))?;
        out.insert(name.clone(), Value::String(value));
    }
    Ok(out)
}
