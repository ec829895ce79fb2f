//! Retrying DEP calls: exponential backoff with full jitter that honours `Retry-After`, bounded
//! in attempts and in total time. The sync runner wraps its calls in [`retry`].
//!
//! [`decide`] is the pure rule (unit-tested); [`retry`] is the thin async loop that reads time
//! from the [`Clock`] and sleeps through tokio. Only [`DepError::is_retryable`] errors are
//! retried; everything else (cursor codes, auth, validation) returns at once.

use super::DepError;
use crate::clock::Clock;
use std::future::Future;
use std::time::Duration;

/// Bounds of one retried operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Give up rather than start a wait that would end after this much time since the start.
    pub max_total: Duration,
    /// Backoff ceiling for the first retry; doubles per failure.
    pub base_delay: Duration,
    /// Largest backoff ceiling (a `Retry-After` may ask for more, up to `max_total`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            max_total: Duration::from_secs(10 * 60),
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(120),
        }
    }
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

/// Full-jitter backoff: a uniform wait in `[0, min(max_delay, base·2^(failures-1))]`, where
/// `unit` ∈ [0, 1] is the random draw; never shorter than `retry_after`.
pub fn backoff_delay(
    policy: &RetryPolicy,
    failures: u32,
    retry_after: Option<Duration>,
    unit: f64,
) -> Duration {
    let exponent = failures.saturating_sub(1).min(30);
    let ceiling = policy.base_delay.saturating_mul(1u32 << exponent).min(policy.max_delay);
    let jittered = ceiling.mul_f64(unit.clamp(0.0, 1.0));
    jittered.max(retry_after.unwrap_or(Duration::ZERO))
}

/// The pure retry rule after failure number `failures` (1-based), `elapsed` since the start.
pub fn decide(
    policy: &RetryPolicy,
    failures: u32,
    elapsed: Duration,
    err: &DepError,
    unit: f64,
) -> Decision {
    if !err.is_retryable() || failures >= policy.max_attempts {
        return Decision::GiveUp;
    }
    let delay = backoff_delay(policy, failures, err.retry_after(), unit);
    if elapsed.saturating_add(delay) > policy.max_total {
        return Decision::GiveUp;
    }
    Decision::RetryAfter(delay)
}

/// Runs `op` until it succeeds, fails with a non-retryable error, or the policy's bounds are
/// reached; returns the last error then.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, clock: &Clock, mut op: F) -> Result<T, DepError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DepError>>,
{
    let start = clock.now();
    let mut failures = 0;
    loop {
        let err = match op().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        failures += 1;
        let elapsed = Duration::try_from(clock.now() - start).unwrap_or(Duration::ZERO);
        match decide(policy, failures, elapsed, &err, random_unit()) {
            Decision::GiveUp => return Err(err),
            Decision::RetryAfter(delay) => {
                log::debug!(failures = failures, delay_ms = delay.as_millis() as u64; "DEP call failed, retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// A uniform draw in [0, 1] from the OS random source.
pub fn random_unit() -> f64 {
    let bits = u64::from_le_bytes(crate::crypto::random_bytes::<8>());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use time::macros::datetime;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            max_total: Duration::from_secs(60),
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
        }
    }

    fn busy(retry_after: Option<u64>) -> DepError {
        DepError::Retryable { status: 503, retry_after: retry_after.map(Duration::from_secs) }
    }

    #[test]
    fn backoff_doubles_to_the_ceiling_with_full_jitter() {
        let p = policy();
        let ceilings: Vec<_> = (1..=6).map(|f| backoff_delay(&p, f, None, 1.0).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 8, 8]);
        assert_eq!(backoff_delay(&p, 3, None, 0.0), Duration::ZERO);
        assert_eq!(backoff_delay(&p, 3, None, 0.5), Duration::from_secs(2));
        assert_eq!(backoff_delay(&p, 100, None, 1.0), Duration::from_secs(8), "no overflow");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = policy();
        assert_eq!(
            backoff_delay(&p, 1, Some(Duration::from_secs(30)), 0.3),
            Duration::from_secs(30)
        );
        assert_eq!(
            decide(&p, 1, Duration::ZERO, &busy(Some(30)), 0.0),
            Decision::RetryAfter(Duration::from_secs(30))
        );
    }

    #[test]
    fn gives_up_on_non_retryable_errors_at_once() {
        let p = policy();
        for e in [DepError::CursorExpired, DepError::TermsNotSigned, DepError::Unauthorized] {
            assert_eq!(decide(&p, 1, Duration::ZERO, &e, 0.5), Decision::GiveUp);
        }
    }

    #[test]
    fn gives_up_after_max_attempts_or_total_time() {
        let p = policy();
        assert!(matches!(
            decide(&p, 3, Duration::ZERO, &DepError::Timeout, 0.5),
            Decision::RetryAfter(_)
        ));
        assert_eq!(decide(&p, 4, Duration::ZERO, &DepError::Timeout, 0.5), Decision::GiveUp);
        assert_eq!(decide(&p, 1, Duration::from_secs(50), &busy(Some(20)), 0.0), Decision::GiveUp);
        assert!(matches!(
            decide(&p, 1, Duration::from_secs(50), &busy(Some(5)), 0.0),
            Decision::RetryAfter(_)
        ));
    }

    #[tokio::test]
    async fn retry_loop_stops_on_success_and_on_bounds() {
        let clock = Clock::manual(datetime!(2026-01-01 00:00 UTC));
        let fast = RetryPolicy {
            max_attempts: 3,
            max_total: Duration::from_secs(5),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        let calls = AtomicU32::new(0);
        let ok = retry(&fast, &clock, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(DepError::Timeout) } else { Ok(7) }
        })
        .await;
        assert_eq!(ok.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let err = retry(&fast, &clock, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(DepError::Timeout)
        })
        .await;
        assert!(matches!(err, Err(DepError::Timeout)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let err = retry(&fast, &clock, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(DepError::CursorInvalid)
        })
        .await;
        assert!(matches!(err, Err(DepError::CursorInvalid)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn random_unit_stays_in_range() {
        for _ in 0..100 {
            let u = random_unit();
            assert!((0.0..=1.0).contains(&u));
        }
    }
}
