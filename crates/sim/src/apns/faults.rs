//! Faults the APNs simulator can inject, and its `--faults` SPEC (the DEP simulator's syntax).
//!
//! | item | effect |
//! | --- | --- |
//! | `5xx=RATE` | that share of pushes answers 500 `InternalServerError` or 503 `ServiceUnavailable` |
//! | `429=RATE` | that share answers 429 `TooManyRequests` with `Retry-After` |
//! | `retry-after=SECS` | the `Retry-After` of 429 answers (default 1) |
//! | `slow=DUR[@RATE]` | delay answers by `DUR` (`250ms`, `2s`); `@RATE` delays only that share |
//! | `reset=RATE` | that share resets the stream instead of answering |
//! | `fail-first=N` | the first N pushes answer 503 `ServiceUnavailable` (tests of retries) |
//! | `unregistered=RATE` | that share of pushes answers 410 `Unregistered` |
//! | `bad-certificate` | every push answers 403 `BadCertificate` |
//! | `none` | all off |
//!
//! Pure: no I/O. Decisions are drawn from the simulator's seeded RNG.

use crate::dep::faults::{
    FaultSpecError, Slow, SpecItem, flag, need, rate, seconds, slow, spec_items,
};
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    pub server_error_rate: f64,
    pub too_many_requests_rate: f64,
    pub retry_after_secs: u32,
    pub slow: Option<Slow>,
    pub reset_rate: f64,
    pub fail_first: u32,
    pub unregistered_rate: f64,
    pub bad_certificate: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            server_error_rate: 0.0,
            too_many_requests_rate: 0.0,
            retry_after_secs: 1,
            slow: None,
            reset_rate: 0.0,
            fail_first: 0,
            unregistered_rate: 0.0,
            bad_certificate: false,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ApnsFaultError {
    #[error(
        "unknown fault `{0}`; known: 5xx, 429, retry-after, slow, reset, fail-first, unregistered, bad-certificate, none"
    )]
    Unknown(String),
    #[error("{0}")]
    Spec(#[from] FaultSpecError),
}

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, ApnsFaultError> {
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
                "fail-first" => f.fail_first = seconds(name, need()?)?,
                "unregistered" => f.unregistered_rate = rate(name, need()?)?,
                "bad-certificate" => f.bad_certificate = flag()?,
                "none" => {
                    flag()?;
                    f = Faults::default();
                }
                other => return Err(ApnsFaultError::Unknown(other.to_string())),
            }
        }
        Ok(f)
    }
}

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
        r("unregistered", self.unregistered_rate);
        if self.retry_after_secs != d.retry_after_secs {
            items.push(format!("retry-after={}", self.retry_after_secs));
        }
        if let Some(s) = self.slow {
            items.push(format!("slow={}ms@{}", s.delay.as_millis(), s.rate));
        }
        if self.fail_first > 0 {
            items.push(format!("fail-first={}", self.fail_first));
        }
        if self.bad_certificate {
            items.push("bad-certificate".into());
        }
        if items.is_empty() { write!(f, "none") } else { write!(f, "{}", items.join(",")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back_the_same_spec() {
        let f = Faults::parse("5xx=0.1, 429=5%, fail-first=2, unregistered=0.5, bad-certificate")
            .unwrap();
        assert_eq!(f.server_error_rate, 0.1);
        assert_eq!(f.too_many_requests_rate, 0.05);
        assert_eq!(f.fail_first, 2);
        assert!(f.bad_certificate);
        assert_eq!(Faults::parse(&f.to_string()).unwrap(), f);
        assert_eq!(Faults::default().to_string(), "none");
        assert_eq!(Faults::parse("5xx=1,none").unwrap(), Faults::default());
    }

    #[test]
    fn refuses_unknown_faults_and_bad_values() {
        let e = Faults::parse("explode").unwrap_err();
        assert!(e.to_string().contains("unknown fault `explode`"), "{e}");
        assert!(Faults::parse("5xx=2").is_err());
        assert!(Faults::parse("bad-certificate=1").is_err());
        assert!(Faults::parse("fail-first").is_err());
    }
}
