//! The clock every time-dependent decision reads.
//!
//! Owns nothing persistent. Domain code never calls `OffsetDateTime::now_utc()` directly
//! (clippy `disallowed-methods` enforces it); it takes a [`Clock`] so schedulers and expiry
//! rules can be unit-tested by stepping a [`Clock::manual`] clock.

use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Wall-clock source: the system clock in production, a settable one in tests.
#[derive(Clone, Debug)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock that stands still at `start` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(start: OffsetDateTime) -> Self {
        Clock { manual: Some(Arc::new(Mutex::new(start))) }
    }

    /// The current time, truncated to whole microseconds so it round-trips through storage.
    pub fn now(&self) -> OffsetDateTime {
        let now = match &self.manual {
            Some(t) => *t.lock().expect("clock mutex is never held across a panic"),
            #[allow(clippy::disallowed_methods)] // the one place the system clock is read
            None => OffsetDateTime::now_utc(),
        };
        now.replace_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
    }

    /// Moves a manual clock forward; a no-op on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.manual {
            let mut guard = t.lock().expect("clock mutex is never held across a panic");
            *guard += by;
        }
    }

    /// Sets a manual clock; a no-op on the system clock.
    pub fn set(&self, to: OffsetDateTime) {
        if let Some(t) = &self.manual {
            *t.lock().expect("clock mutex is never held across a panic") = to;
        }
    }

    /// True for a test clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(datetime!(2026-01-01 00:00 UTC));
        assert_eq!(clock.now(), datetime!(2026-01-01 00:00 UTC));
        clock.advance(Duration::minutes(15));
        assert_eq!(clock.now(), datetime!(2026-01-01 00:15 UTC));
        clock.set(datetime!(2027-01-01 00:00 UTC));
        assert_eq!(clock.now(), datetime!(2027-01-01 00:00 UTC));
    }
}
