//! Faults the DEP simulator can inject, and the `--faults` SPEC syntax that switches them.
//!
//! Owns [`Faults`] (plain data; the running simulator keeps one behind an `ArcSwap` so tests
//! and the portal can change it at run time) and its parser/printer. Decisions are drawn from
//! the simulator's seeded RNG so a run with the same seed and request order is reproducible.
//! Pure: no I/O.
//!
//! SPEC: comma-separated items, whitespace ignored, later items win:
//!
//! | item | effect |
//! | --- | --- |
//! | `5xx=RATE` | that share of DEP requests answers 500/502/503 with body `Try again` |
//! | `429=RATE` | that share answers 429 with `Retry-After` (not documented by Apple, dep-api.md §3.4) |
//! | `retry-after=SECS` | the `Retry-After` value of 429 answers (default 1) |
//! | `slow=DUR[@RATE]` | delay responses by `DUR` (`250ms`, `2s`); `@RATE` delays only that share |
//! | `reset=RATE` | that share drops the connection mid-response |
//! | `echo-cursor[=RATE]` | fetch/sync with a cursor echoes it with `more_to_follow: true` (§3.2 item 6) |
//! | `tc-not-signed` | `/session` and API calls answer 403 `T_C_NOT_SIGNED` |
//! | `access-denied` | `/session` and API calls answer 403 `ACCESS_DENIED` |
//! | `revoked` | every token is revoked: `/session` 401 `token_rejected`, calls 403 `signature_invalid` |
//! | `throttle=RATE` | assign answers that share of devices `THROTTLED` (protocol ≥ 9) |
//! | `throttle-retry=SECS` | `retry_after_seconds` sent with throttled devices (protocol ≥ 10; default 30) |
//! | `assign-fail=RATE` | assign/remove answers that share of devices `FAILED` |
//! | `dup=RATE` | sync repeats that share of records (Apple may send duplicates, §3.2 item 4), never beyond the page's `limit` |
//! | `rotate-session[=N]` | every N-th use of a session (default every use) answers a new `X-ADM-Auth-Session`, which the client must adopt (§2.2) |
//! | `none` | all off |
//!
//! RATE is a number in `[0, 1]` (`0.05`) or a percentage (`5%`).

use std::fmt;
use std::time::Duration;

/// What the simulator currently breaks on purpose. `Default` is "nothing".
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    pub server_error_rate: f64,
    pub too_many_requests_rate: f64,
    pub retry_after_secs: u32,
    pub slow: Option<Slow>,
    pub reset_rate: f64,
    pub echo_cursor_rate: f64,
    pub terms_not_signed: bool,
    pub access_denied: bool,
    pub revoked: bool,
    pub throttle_rate: f64,
    pub throttle_retry_after_secs: u32,
    pub assign_fail_rate: f64,
    pub duplicate_rate: f64,
    /// Hand out a new `X-ADM-Auth-Session` on every N-th use of a session.
    pub rotate_session_every: Option<u32>,
}

/// Slow responses: `delay` applied to `rate` of requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slow {
    pub delay: Duration,
    pub rate: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            server_error_rate: 0.0,
            too_many_requests_rate: 0.0,
            retry_after_secs: 1,
            slow: None,
            reset_rate: 0.0,
            echo_cursor_rate: 0.0,
            terms_not_signed: false,
            access_denied: false,
            revoked: false,
            throttle_rate: 0.0,
            throttle_retry_after_secs: 30,
            assign_fail_rate: 0.0,
            duplicate_rate: 0.0,
            rotate_session_every: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultSpecError {
    #[error(
        "unknown fault `{0}`; known: 5xx, 429, retry-after, slow, reset, echo-cursor, \
         tc-not-signed, access-denied, revoked, throttle, throttle-retry, assign-fail, dup, \
         rotate-session, none"
    )]
    Unknown(String),
    #[error("fault `{0}` needs a value, e.g. `{0}=0.05`")]
    MissingValue(String),
    #[error("fault `{0}` takes no value; write just `{0}`")]
    UnexpectedValue(String),
    #[error(
        "`{value}` is not a rate for `{name}`: use a number from 0 to 1 (`0.05`) or a percentage (`5%`)"
    )]
    BadRate { name: String, value: String },
    #[error("`{value}` is not a whole number of seconds for `{name}`")]
    BadSeconds { name: String, value: String },
    #[error("`{value}` is not a whole number from 1 up for `{name}`")]
    BadCount { name: String, value: String },
    #[error("`{0}` is not a duration: use e.g. `200ms` or `2s`")]
    BadDuration(String),
}

impl Faults {
    /// Parses a SPEC (see the module docs) on top of the defaults.
    pub fn parse(spec: &str) -> Result<Faults, FaultSpecError> {
        let mut f = Faults::default();
        for SpecItem { name, value } in spec_items(spec) {
            let need = || need(name, value);
            let flag = || flag(name, value);
            match name {
                "5xx" => f.server_error_rate = rate(name, need()?)?,
                "429" => f.too_many_requests_rate = rate(name, need()?)?,
                "retry-after" => f.retry_after_secs = seconds(name, need()?)?,
                "slow" => f.slow = Some(slow(need()?)?),
                "reset" => f.reset_rate = rate(name, need()?)?,
                "echo-cursor" => f.echo_cursor_rate = value.map_or(Ok(1.0), |v| rate(name, v))?,
                "tc-not-signed" => f.terms_not_signed = flag()?,
                "access-denied" => f.access_denied = flag()?,
                "revoked" => f.revoked = flag()?,
                "throttle" => f.throttle_rate = rate(name, need()?)?,
                "throttle-retry" => f.throttle_retry_after_secs = seconds(name, need()?)?,
                "assign-fail" => f.assign_fail_rate = rate(name, need()?)?,
                "dup" => f.duplicate_rate = rate(name, need()?)?,
                "rotate-session" => {
                    f.rotate_session_every = Some(value.map_or(Ok(1), |v| count(name, v))?)
                }
                "none" => {
                    flag()?;
                    f = Faults::default();
                }
                other => return Err(FaultSpecError::Unknown(other.to_string())),
            }
        }
        Ok(f)
    }

    /// True when nothing is switched on.
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }
}

/// Prints the SPEC that [`Faults::parse`] reads back to the same value (`none` when off).
impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = Faults::default();
        let mut items: Vec<String> = Vec::new();
        let mut r = |name: &str, v: f64| {
            if v > 0.0 {
                items.push(format!("{name}={v}"));
            }
        };
        r("5xx", self.server_error_rate);
        r("429", self.too_many_requests_rate);
        r("reset", self.reset_rate);
        r("throttle", self.throttle_rate);
        r("assign-fail", self.assign_fail_rate);
        r("dup", self.duplicate_rate);
        r("echo-cursor", self.echo_cursor_rate);
        if self.retry_after_secs != d.retry_after_secs {
            items.push(format!("retry-after={}", self.retry_after_secs));
        }
        if self.throttle_retry_after_secs != d.throttle_retry_after_secs {
            items.push(format!("throttle-retry={}", self.throttle_retry_after_secs));
        }
        if let Some(s) = self.slow {
            items.push(format!("slow={}ms@{}", s.delay.as_millis(), s.rate));
        }
        match self.rotate_session_every {
            Some(1) => items.push("rotate-session".into()),
            Some(n) => items.push(format!("rotate-session={n}")),
            None => {}
        }
        for (on, name) in [
            (self.terms_not_signed, "tc-not-signed"),
            (self.access_denied, "access-denied"),
            (self.revoked, "revoked"),
        ] {
            if on {
                items.push(name.to_string());
            }
        }
        if items.is_empty() { f.write_str("none") } else { f.write_str(&items.join(",")) }
    }
}

/// One `name[=value]` item of a fault SPEC.
pub(crate) struct SpecItem<'a> {
    pub name: &'a str,
    pub value: Option<&'a str>,
}

/// The comma-separated items of a SPEC, whitespace trimmed, empty items skipped.
pub(crate) fn spec_items(spec: &str) -> impl Iterator<Item = SpecItem<'_>> {
    spec.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|item| {
        match item.split_once('=') {
            Some((n, v)) => SpecItem { name: n.trim(), value: Some(v.trim()) },
            None => SpecItem { name: item, value: None },
        }
    })
}

/// The value of an item that needs one.
pub(crate) fn need<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, FaultSpecError> {
    value.ok_or_else(|| FaultSpecError::MissingValue(name.to_string()))
}

/// An on/off item, which takes no value.
pub(crate) fn flag(name: &str, value: Option<&str>) -> Result<bool, FaultSpecError> {
    match value {
        None => Ok(true),
        Some(_) => Err(FaultSpecError::UnexpectedValue(name.to_string())),
    }
}

pub(crate) fn rate(name: &str, value: &str) -> Result<f64, FaultSpecError> {
    let bad = || FaultSpecError::BadRate { name: name.to_string(), value: value.to_string() };
    let v = match value.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => value.parse::<f64>().map_err(|_| bad())?,
    };
    if v.is_finite() && (0.0..=1.0).contains(&v) { Ok(v) } else { Err(bad()) }
}

pub(crate) fn seconds(name: &str, value: &str) -> Result<u32, FaultSpecError> {
    let v = value.strip_suffix('s').unwrap_or(value);
    v.parse::<u32>().map_err(|_| FaultSpecError::BadSeconds {
        name: name.to_string(),
        value: value.to_string(),
    })
}

/// A count of at least 1 (`rotate-session=3`).
pub(crate) fn count(name: &str, value: &str) -> Result<u32, FaultSpecError> {
    let bad = || FaultSpecError::BadCount { name: name.to_string(), value: value.to_string() };
    value.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(bad)
}

pub(crate) fn slow(value: &str) -> Result<Slow, FaultSpecError> {
    let (dur, r) = match value.split_once('@') {
        Some((d, r)) => (d.trim(), rate("slow", r.trim())?),
        None => (value, 1.0),
    };
    Ok(Slow { delay: duration(dur)?, rate: r })
}

fn duration(text: &str) -> Result<Duration, FaultSpecError> {
    let bad = || FaultSpecError::BadDuration(text.to_string());
    let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(bad());
    };
    let n: u64 = number.trim().parse().map_err(|_| bad())?;
    // An hour is far beyond any client timeout; larger values are a typo.
    if n * unit_ms > 3_600_000 {
        return Err(bad());
    }
    Ok(Duration::from_millis(n * unit_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let f = Faults::parse(
            "5xx=0.05,429=0.02,slow=200ms@0.1,reset=0.01,echo-cursor,tc-not-signed,revoked",
        )
        .unwrap();
        assert_eq!(f.server_error_rate, 0.05);
        assert_eq!(f.too_many_requests_rate, 0.02);
        assert_eq!(f.slow, Some(Slow { delay: Duration::from_millis(200), rate: 0.1 }));
        assert_eq!(f.reset_rate, 0.01);
        assert_eq!(f.echo_cursor_rate, 1.0);
        assert!(f.terms_not_signed && f.revoked && !f.access_denied);
        assert_eq!(Faults::parse("rotate-session").unwrap().rotate_session_every, Some(1));
        assert_eq!(Faults::parse("rotate-session=4").unwrap().rotate_session_every, Some(4));
    }

    #[test]
    fn empty_and_none_mean_no_faults() {
        assert!(Faults::parse("").unwrap().is_none());
        assert!(Faults::parse("5xx=0.5, none").unwrap().is_none());
        assert_eq!(Faults::default().to_string(), "none");
    }

    #[test]
    fn display_round_trips() {
        for spec in [
            "5xx=0.05,429=10%,retry-after=3,slow=2s,reset=0.01",
            "echo-cursor=0.5,throttle=1,throttle-retry=60,assign-fail=0.2,dup=0.3",
            "tc-not-signed,access-denied,revoked",
            "rotate-session",
            "rotate-session=3,dup=1",
        ] {
            let f = Faults::parse(spec).unwrap();
            assert_eq!(Faults::parse(&f.to_string()).unwrap(), f, "{spec} → {f}");
        }
    }

    #[test]
    fn rejects_unknown_faults_and_bad_values_with_clear_errors() {
        assert_eq!(Faults::parse("boom"), Err(FaultSpecError::Unknown("boom".into())));
        assert_eq!(Faults::parse("5xx"), Err(FaultSpecError::MissingValue("5xx".into())));
        assert_eq!(
            Faults::parse("revoked=1"),
            Err(FaultSpecError::UnexpectedValue("revoked".into()))
        );
        assert!(matches!(Faults::parse("5xx=2"), Err(FaultSpecError::BadRate { .. })));
        assert!(matches!(Faults::parse("429=lots"), Err(FaultSpecError::BadRate { .. })));
        assert!(matches!(Faults::parse("slow=fast"), Err(FaultSpecError::BadDuration(_))));
        assert!(matches!(Faults::parse("slow=200"), Err(FaultSpecError::BadDuration(_))));
        assert!(matches!(Faults::parse("retry-after=-1"), Err(FaultSpecError::BadSeconds { .. })));
        assert!(matches!(Faults::parse("rotate-session=0"), Err(FaultSpecError::BadCount { .. })));
        assert!(matches!(Faults::parse("rotate-session=x"), Err(FaultSpecError::BadCount { .. })));
        let msg = Faults::parse("5xx=2").unwrap_err().to_string();
        assert!(msg.contains("0 to 1"), "{msg}");
    }
}
