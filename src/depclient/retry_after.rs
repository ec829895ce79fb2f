//! `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date in any of the three forms a
//! recipient must accept (IMF-fixdate, RFC 850, asctime).
//!
//! Apple documents no `Retry-After` for DEP (dep-api.md §3.4); we honour it defensively. A
//! hostile or mistaken value cannot park the client for long: waits are capped at
//! [`MAX_RETRY_AFTER`], and a date in the past means "now".

use std::time::Duration;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Longest wait honoured from a `Retry-After` header.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The wait a `Retry-After` value asks for, measured from `now`; `None` when unreadable.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = parse_http_date(value)?;
    let wait = at - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        Duration::try_from(wait).unwrap_or(MAX_RETRY_AFTER).min(MAX_RETRY_AFTER)
    })
}

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
/// `Sun Nov  6 08:49:37 1994` (all UTC). The weekday is not checked.
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let tokens: Vec<&str> = value.split([' ', ',', '-']).filter(|t| !t.is_empty()).collect();
    let (day, month, year, clock) = match tokens.as_slice() {
        [_, day, month, year, clock, "GMT"] => (*day, *month, *year, *clock),
        [_, month, day, clock, year] => (*day, *month, *year, *clock),
        _ => return None,
    };
    let day: u8 = day.parse().ok()?;
    let month = month_from_abbrev(month)?;
    let year: i32 = match year.len() {
        4 => year.parse().ok()?,
        // RFC 850 two-digit years: RFC 9110 says a date more than 50 years ahead is in the past;
        // for a Retry-After the only sensible century is this one.
        2 => 2000 + year.parse::<i32>().ok()?,
        _ => return None,
    };
    let mut hms = clock.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(h, m, s).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

fn month_from_abbrev(s: &str) -> Option<Month> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(s))?;
    Month::try_from(index as u8 + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(1994-11-06 08:49:00 UTC);

    #[test]
    fn reads_delay_seconds() {
        assert_eq!(parse_retry_after("120", NOW), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", NOW), Some(Duration::ZERO));
    }

    #[test]
    fn reads_all_three_http_date_forms() {
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            let expected = if v.contains("-94") { None } else { Some(Duration::from_secs(37)) };
            if let Some(want) = expected {
                assert_eq!(parse_retry_after(v, NOW), Some(want), "{v}");
            } else {
                // Two-digit year reads as 2094: far future, capped.
                assert_eq!(parse_retry_after(v, NOW), Some(MAX_RETRY_AFTER), "{v}");
            }
        }
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(datetime!(2094-11-06 08:49:37 UTC))
        );
    }

    #[test]
    fn past_dates_mean_now_and_huge_values_are_capped() {
        assert_eq!(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", NOW), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999999999999999999", NOW), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn rejects_garbage() {
        for v in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08:49:37 CET",
        ] {
            assert_eq!(parse_retry_after(v, NOW), None, "{v}");
        }
    }
}
