//! When to try again: pure functions of (attempts, times, now), tested by stepping time.
//! An event is retried with exponential backoff (10 s doubling, at most an hour apart) for
//! [`RETRY_WINDOW`] after it was created, then given up (logged, counted). A subscription
//! whose every attempt failed for [`PAUSE_AFTER`] is paused, with a banner, until resumed.

use time::{Duration, OffsetDateTime};

pub const RETRY_WINDOW: Duration = Duration::hours(24);
pub const PAUSE_AFTER: Duration = Duration::hours(24);
const FIRST_DELAY: Duration = Duration::seconds(10);
const MAX_DELAY: Duration = Duration::hours(1);

/// The wait after the `attempts`-th failed attempt (1-based).
pub fn backoff(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    let delay = FIRST_DELAY * 2i32.pow(doublings.min(16));
    delay.min(MAX_DELAY)
}

/// What follows a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub struct AfterFailure {
    /// When to try again; `None`: give up (the retry window is over).
    pub retry_at: Option<OffsetDateTime>,
    /// Pause the subscription (every attempt failed for a day).
    pub pause: bool,
}

pub fn after_failure(
    attempts: u32,
    created_at: OffsetDateTime,
    failing_since: OffsetDateTime,
    now: OffsetDateTime,
) -> AfterFailure {
    let next = now + backoff(attempts);
    let retry_at = (next <= created_at + RETRY_WINDOW).then_some(next);
    AfterFailure { retry_at, pause: now - failing_since >= PAUSE_AFTER }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(5), Duration::seconds(160));
        assert_eq!(backoff(9), Duration::seconds(2560));
        assert_eq!(backoff(10), Duration::hours(1));
        assert_eq!(backoff(u32::MAX), Duration::hours(1));
    }

    #[test]
    fn an_event_is_retried_for_a_day_then_given_up() {
        let t0 = datetime!(2026-12-07 00:00 UTC);
        let early = after_failure(1, t0, t0, t0 + Duration::seconds(1));
        assert_eq!(early.retry_at, Some(t0 + Duration::seconds(11)));
        assert!(!early.pause);
        let late = after_failure(30, t0, t0, t0 + Duration::hours(23) + Duration::minutes(30));
        assert_eq!(late.retry_at, None);
    }

    #[test]
    fn a_day_of_failures_pauses_the_subscription() {
        let t0 = datetime!(2026-12-07 00:00 UTC);
        let now = t0 + Duration::hours(24);
        assert!(after_failure(3, now - Duration::minutes(1), t0, now).pause);
        assert!(!after_failure(3, now, t0 + Duration::hours(1), now).pause);
    }
}
