//! How configuration values may be written: durations as integers in the setting's unit
//! (the old form, `5000` for a `*_ms`) or as human durations (`"5s"`, `"1m30s"`,
//! `"250ms"`, `"2h"`, `"1d"`); secrets also from a file (`MOORING_<NAME>_FILE`, e.g. a
//! mounted Kubernetes secret).

use serde::{Deserialize, Deserializer};

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

/// For `*_ms` settings.
pub fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    duration(d, 1)
}

/// For `*_secs` settings.
pub fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    duration(d, 1_000)
}

#[cfg(test)]
mod tests;
