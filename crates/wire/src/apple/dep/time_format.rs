//! Timestamps in DEP bodies: ISO-8601 `YYYY-MM-DDTHH:MM:SSZ` (dep-api.md §3.2).
//!
//! Use as `#[serde(default, with = "time_format::option")]` on `Option<OffsetDateTime>`.
//! Reading is tolerant: RFC 3339 with any offset or fraction is accepted; an empty string, a
//! `null`, or a value that does not parse reads as `None` rather than failing the whole page
//! (one odd `profile_push_time` must not stop a sync). Writing uses Apple's form: UTC, whole
//! seconds, `Z`.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Formats as Apple does: `2025-04-28T08:03:42Z` (UTC, no fraction).
pub fn format(t: OffsetDateTime) -> String {
    let utc = t.to_offset(UtcOffset::UTC);
    let whole = utc.replace_nanosecond(0).unwrap_or(utc);
    whole.format(&Rfc3339).unwrap_or_else(|_| String::new())
}

/// Parses an RFC 3339 timestamp; `None` when empty or malformed.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Serde adapter for `Option<OffsetDateTime>`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        // Accept any JSON value: a number or object where a date belongs reads as absent too.
        let v = serde_json::Value::deserialize(d)?;
        Ok(v.as_str().and_then(super::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_apple() {
        assert_eq!(format(datetime!(2025-04-28 08:03:42.123 UTC)), "2025-04-28T08:03:42Z");
        assert_eq!(format(datetime!(2025-04-28 10:03:42 +2)), "2025-04-28T08:03:42Z");
    }

    #[test]
    fn parses_apple_and_depsim_forms() {
        assert_eq!(parse("2025-04-28T08:03:42Z"), Some(datetime!(2025-04-28 08:03:42 UTC)));
        assert!(parse("0001-01-01T00:00:00Z").is_some());
    }

    #[test]
    fn malformed_or_empty_reads_as_none() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2025-13-40T99:00:00Z"), None);
    }
}
