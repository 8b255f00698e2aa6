//! Decoding a request's parameters into a wire type, and the serde helpers for the SEPs'
//! lenient inputs (a number or a numeric string; an empty string meaning "not given").

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use serde_json::{Map, Value};

/// Why a body or query string did not fit its type, in words a sending anchor can act on:
/// the field's path first (`fields.transaction`, `amount`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// `T` from a JSON object (a JSON body as sent, or a form / query string as strings).
pub fn decode<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if let Some(field) = inner.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
            let full = if path == "." { field.to_string() } else { format!("{path}.{field}") };
            return DecodeError(format!("{full} is required"));
        }
        if path == "." { DecodeError(inner) } else { DecodeError(format!("{path}: {inner}")) }
    })
}

/// An optional text parameter: absent, `null` and `""` all mean "not given"; numbers are
/// taken as their text (forms cannot tell them apart); anything else is refused.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then(|| v.to_string()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then_some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
    }
    d.deserialize_option(V)
}

/// An optional text parameter that must be a JSON string when given (SEP-31's
/// identifiers): a number is refused, as the SEP's examples show them as strings.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok((!s.is_empty()).then_some(s)),
        Some(_) => Err(de::Error::custom("must be a string")),
    }
}

/// An optional nested object (`fields`): serde would read a struct from a JSON array
/// too, by position; a SEP object is an object or nothing.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => serde_json::from_value(v).map(Some).map_err(de::Error::custom),
        Some(_) => Err(de::Error::custom("must be an object")),
    }
}

/// A nested object that must be there (`fields` of `PATCH /transactions/:id`).
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    opt_object(d)?.ok_or_else(|| de::Error::custom("must be an object"))
}

/// An amount as sent: a JSON number (the SEPs' examples) or a numeric string, kept as its
/// exact text so that it is parsed as a fixed-point decimal, never through a float.
pub fn opt_amount_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(de::Error::custom("must be a number or a numeric string")),
    }
}

/// A decimal amount as a JSON number (SEP-31 `/info`): an integer when it is whole, as
/// the SEP's examples show (`"fee_fixed": 5`). Only the wire sees the float.
pub fn number<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let text = d.normalize().to_string();
    match text.parse::<i64>() {
        Ok(whole) => s.serialize_i64(whole),
        Err(_) => s.serialize_f64(text.parse::<f64>().map_err(serde::ser::Error::custom)?),
    }
}

pub fn opt_number<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => number(d, s),
        None => s.serialize_none(),
    }
}

/// A time as SEP-31 shows it: RFC 3339, UTC, whole seconds (`2017-03-20T17:05:32Z`).
pub mod seconds {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(d)
    }

    pub mod opt {
        use chrono::{DateTime, SecondsFormat, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<DateTime<Utc>>::deserialize(d)
        }
    }
}

/// A time as SEP-38 shows it: RFC 3339, UTC, milliseconds (`2021-04-30T07:42:23.000Z`).
pub mod millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Deserialize, Debug)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_text")]
        name: Option<String>,
        #[serde(default, deserialize_with = "opt_amount_text")]
        amount: Option<String>,
        #[allow(dead_code)]
        inner: Option<Inner>,
    }

    #[derive(Deserialize, Debug)]
    struct Inner {
        #[allow(dead_code)]
        must: String,
    }

    fn probe(v: Value) -> Result<Probe, DecodeError> {
        decode(v.as_object().unwrap().clone())
    }

    #[test]
    fn empty_null_and_absent_text_are_not_given() {
        for v in [json!({}), json!({"name": null}), json!({"name": ""})] {
            assert_eq!(probe(v.clone()).unwrap().name, None, "{v}");
        }
        assert_eq!(probe(json!({"name": 12})).unwrap().name.as_deref(), Some("12"));
        let err = probe(json!({"name": ["a"]})).unwrap_err();
        assert!(err.0.starts_with("name: "), "{err}");
    }

    #[test]
    fn amounts_keep_their_exact_text() {
        assert_eq!(probe(json!({"amount": 100.1234567})).unwrap().amount.as_deref(), Some("100.1234567"));
        assert_eq!(probe(json!({"amount": "0.1"})).unwrap().amount.as_deref(), Some("0.1"));
        let err = probe(json!({"amount": {"x": 1}})).unwrap_err();
        assert_eq!(err.0, "amount: must be a number or a numeric string");
    }

    #[test]
    fn errors_name_the_path() {
        assert_eq!(probe(json!({"inner": {}})).unwrap_err().0, "inner.must is required");
        assert!(probe(json!({"inner": {"must": 1}})).unwrap_err().0.starts_with("inner.must: invalid type"));
    }

    #[test]
    fn numbers_are_whole_when_they_can_be() {
        let mut out = Vec::new();
        number(&Decimal::new(500, 2), &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(out, b"5");
        let mut out = Vec::new();
        number(&Decimal::new(1, 1), &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(out, b"0.1");
    }
}
