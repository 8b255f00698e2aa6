//! How configuration values may be written: durations as integers in the setting's unit
//! (the old form, `5000` for a `*_ms`) or as human durations (`"5s"`, `"1m30s"`,
//! `"250ms"`, `"2h"`, `"1d"`), and held as `Duration`s; lists as TOML lists or
//! comma-separated text (the environment's form), held as lists; secrets also from a
//! file (`MOORING_<NAME>_FILE`, e.g. a mounted Kubernetes secret).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in the setting's unit (`unit_ms` milliseconds): a bare number is already
/// in that unit; otherwise `[0-9]+(ms|s|m|h|d)` repeated.
pub fn parse_duration_ms(text: &str, unit_ms: u64) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    let bad = || format!("{text:?} is not a duration (e.g. 500ms, 30s, 5m, 1h30m, 2d)");
    let mut total: u64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = n.checked_mul(ms).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    if !total.is_multiple_of(unit_ms) {
        return Err(format!("{text:?} is finer than this setting's unit ({unit_ms} ms)"));
    }
    Ok(total / unit_ms)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Number(u64),
    Text(String),
}

fn duration<'de, D: Deserializer<'de>>(d: D, unit_ms: u64) -> Result<u64, D::Error> {
    match Written::deserialize(d)? {
        Written::Number(n) => Ok(n),
        Written::Text(t) => parse_duration_ms(&t, unit_ms).map_err(serde::de::Error::custom),
    }
}

/// `*_ms` settings: a `Duration`, shown in milliseconds.
pub mod millis {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        duration(d, 1).map(Duration::from_millis)
    }
}

/// `*_secs` settings: a `Duration`, shown in seconds.
pub mod secs {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        duration(d, 1_000).map(Duration::from_secs)
    }
}

/// Counts and limits that must be above zero (a zero rate would refuse everything).
pub fn positive<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default + PartialEq,
{
    let value = T::deserialize(d)?;
    if value == T::default() {
        return Err(serde::de::Error::custom("must be greater than 0"));
    }
    Ok(value)
}

/// [`positive`], for a setting that may be left unset.
pub fn positive_opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default + PartialEq,
{
    match Option::<T>::deserialize(d)? {
        Some(v) if v == T::default() => Err(serde::de::Error::custom("must be greater than 0")),
        v => Ok(v),
    }
}

/// List settings: a TOML list, or text with the items separated by commas (blank items
/// dropped).
pub mod list {
    use super::*;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Items(Vec<String>),
        Text(String),
    }

    pub fn serialize<S: Serializer>(items: &[String], s: S) -> Result<S::Ok, S::Error> {
        items.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let items = match Written::deserialize(d)? {
            Written::Items(items) => items,
            Written::Text(text) => text.split(',').map(str::to_string).collect(),
        };
        Ok(items.into_iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect())
    }
}

#[cfg(test)]
mod tests;
