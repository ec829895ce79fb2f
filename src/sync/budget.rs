//! Apple's traffic budget as a pure policy: given a token's sync state and the time, what
//! may run now and what must wait, and until when.
//!
//! The budget is the one Intune enforces "to follow Apple's terms for acceptable enrollment
//! program traffic" (../shared/spec/dep-api.md §3.4, what-admins-need.md §2): a full sync
//! (fetch of every device) at most once every 7 days, an automatic delta sync every 12
//! hours, a manual sync at most once every 15 minutes per token, and 15 minutes per run.
//! A full sync asked for within 7 days of the last one still runs, but only imports serials
//! not yet known (Intune's rule); it neither updates known devices nor marks missing ones
//! removed. Some situations force a real full fetch whatever the budget says: a token that
//! never synced, and a lost cursor (Apple answered EXPIRED_CURSOR or INVALID_CURSOR, or a
//! delta failed), because no delta is possible without one.
//!
//! No I/O and no clock reads: every function takes `now`, and the tests step time.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The tunable numbers (Settings page); defaults are Intune's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetPolicy {
    /// Minimum time between two unrestricted full syncs.
    pub full_every: Duration,
    /// Time between automatic delta syncs.
    pub delta_every: Duration,
    /// Minimum time between two manual sync requests of one token.
    pub manual_every: Duration,
    /// Longest a single run may take before it is stopped.
    pub run_limit: Duration,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            full_every: Duration::days(7),
            delta_every: Duration::hours(12),
            manual_every: Duration::minutes(15),
            run_limit: Duration::minutes(15),
        }
    }
}

/// What the budget needs to know about one token (kept by the sync runner).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetState {
    /// Start of the last full sync that completed (unrestricted or not).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_full: Option<OffsetDateTime>,
    /// Start of the last unrestricted full sync that completed.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_unrestricted_full: Option<OffsetDateTime>,
    /// Start of the last run of any kind that completed.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_run: Option<OffsetDateTime>,
    /// When the admin (page or API) last asked for a sync of this token.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_manual_request: Option<OffsetDateTime>,
    /// A delta sync is possible (we hold a cursor from a completed full fetch).
    pub has_cursor: bool,
    /// The cursor was lost or a delta failed: the next run must be a real full fetch.
    pub needs_full: bool,
}

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Fetch every device; mark devices missing from it as removed.
    Full,
    /// Fetch every device but only import serials not yet known (inside the 7-day budget).
    FullNewOnly,
    /// Changes since the cursor.
    Delta,
}

/// The budget's answer for automatic scheduling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    RunNow(RunKind),
    WaitUntil(OffsetDateTime),
}

/// What the admin asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualKind {
    /// "Sync now": a delta when possible.
    Sync,
    /// "Full resync": every device.
    Full,
}

/// A manual request the budget refuses, and when it will be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooSoon {
    pub next_allowed_at: OffsetDateTime,
}

impl BudgetPolicy {
    /// The next automatic run of a token.
    pub fn next_automatic(&self, s: &BudgetState, now: OffsetDateTime) -> Next {
        if s.needs_full || !s.has_cursor {
            return Next::RunNow(RunKind::Full);
        }
        let full_due = s.last_unrestricted_full.map_or(now, |t| t + self.full_every);
        let delta_due = s.last_run.map_or(now, |t| t + self.delta_every);
        if full_due <= now {
            Next::RunNow(RunKind::Full)
        } else if delta_due <= now {
            Next::RunNow(RunKind::Delta)
        } else {
            Next::WaitUntil(full_due.min(delta_due))
        }
    }

    /// Whether a manual request is allowed now, and what it runs. A token that never synced
    /// is not held to the manual budget: its first sync is not a manual one.
    pub fn manual(
        &self,
        s: &BudgetState,
        kind: ManualKind,
        now: OffsetDateTime,
    ) -> Result<RunKind, TooSoon> {
        let first_sync = s.last_run.is_none();
        if !first_sync && let Some(asked) = s.last_manual_request {
            let allowed = asked + self.manual_every;
            if now < allowed {
                return Err(TooSoon { next_allowed_at: allowed });
            }
        }
        Ok(match kind {
            _ if s.needs_full || !s.has_cursor => RunKind::Full,
            ManualKind::Sync => RunKind::Delta,
            ManualKind::Full => match s.last_unrestricted_full {
                Some(t) if now < t + self.full_every => RunKind::FullNewOnly,
                _ => RunKind::Full,
            },
        })
    }

    /// When the next manual request will be allowed (`None`: now).
    pub fn manual_allowed_at(
        &self,
        s: &BudgetState,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        self.manual(s, ManualKind::Sync, now).err().map(|e| e.next_allowed_at)
    }

    /// The deadline of a run started at `started`.
    pub fn deadline(&self, started: OffsetDateTime) -> OffsetDateTime {
        started + self.run_limit
    }
}

impl BudgetState {
    /// Records that the admin asked for a sync (counted against the manual budget).
    pub fn manual_requested(&mut self, now: OffsetDateTime) {
        self.last_manual_request = Some(now);
    }

    /// Records a completed run that started at `started`.
    pub fn completed(&mut self, kind: RunKind, started: OffsetDateTime) {
        self.last_run = Some(started);
        match kind {
            RunKind::Full => {
                self.last_full = Some(started);
                self.last_unrestricted_full = Some(started);
                self.has_cursor = true;
                self.needs_full = false;
            }
            RunKind::FullNewOnly => {
                self.last_full = Some(started);
                self.has_cursor = true;
                self.needs_full = false;
            }
            RunKind::Delta => {}
        }
    }

    /// Records a failed run. A failed delta, or a lost cursor, makes the next run full.
    pub fn failed(&mut self, kind: RunKind, cursor_lost: bool) {
        if kind == RunKind::Delta || cursor_lost {
            self.needs_full = true;
        }
        if cursor_lost {
            self.has_cursor = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-24 08:00 UTC);

    fn p() -> BudgetPolicy {
        BudgetPolicy::default()
    }

    #[test]
    fn a_new_token_fetches_everything_at_once() {
        let s = BudgetState::default();
        assert_eq!(p().next_automatic(&s, T0), Next::RunNow(RunKind::Full));
        // Its first sync is not held to the manual budget, even right after a request.
        let mut s = s;
        s.manual_requested(T0);
        assert_eq!(p().manual(&s, ManualKind::Sync, T0 + Duration::minutes(1)), Ok(RunKind::Full));
    }

    #[test]
    fn deltas_run_every_twelve_hours_and_a_full_sync_weekly() {
        let mut s = BudgetState::default();
        s.completed(RunKind::Full, T0);
        assert_eq!(
            p().next_automatic(&s, T0 + Duration::hours(1)),
            Next::WaitUntil(T0 + Duration::hours(12))
        );
        let mut now = T0 + Duration::hours(12);
        assert_eq!(p().next_automatic(&s, now), Next::RunNow(RunKind::Delta));
        // Step through a week of deltas: the 14th run is the weekly full sync.
        for _ in 0..13 {
            s.completed(RunKind::Delta, now);
            now += Duration::hours(12);
        }
        assert_eq!(now, T0 + Duration::days(7));
        assert_eq!(p().next_automatic(&s, now), Next::RunNow(RunKind::Full));
        s.completed(RunKind::Full, now);
        assert_eq!(
            p().next_automatic(&s, now + Duration::hours(11)),
            Next::WaitUntil(now + Duration::hours(12))
        );
    }

    #[test]
    fn manual_sync_at_most_every_fifteen_minutes() {
        let mut s = BudgetState::default();
        s.completed(RunKind::Full, T0);
        let now = T0 + Duration::hours(1);
        assert_eq!(p().manual(&s, ManualKind::Sync, now), Ok(RunKind::Delta));
        s.manual_requested(now);
        let later = now + Duration::minutes(14);
        assert_eq!(
            p().manual(&s, ManualKind::Sync, later),
            Err(TooSoon { next_allowed_at: now + Duration::minutes(15) })
        );
        assert_eq!(p().manual_allowed_at(&s, later), Some(now + Duration::minutes(15)));
        assert_eq!(
            p().manual(&s, ManualKind::Sync, now + Duration::minutes(15)),
            Ok(RunKind::Delta)
        );
        // Automatic runs do not use up the manual budget.
        let mut auto = BudgetState::default();
        auto.completed(RunKind::Full, T0);
        auto.completed(RunKind::Delta, T0 + Duration::hours(12));
        assert_eq!(
            p().manual(&auto, ManualKind::Sync, T0 + Duration::hours(12) + Duration::minutes(1)),
            Ok(RunKind::Delta)
        );
    }

    #[test]
    fn a_full_resync_inside_seven_days_only_imports_new_serials() {
        let mut s = BudgetState::default();
        s.completed(RunKind::Full, T0);
        assert_eq!(
            p().manual(&s, ManualKind::Full, T0 + Duration::days(2)),
            Ok(RunKind::FullNewOnly)
        );
        s.completed(RunKind::FullNewOnly, T0 + Duration::days(2));
        // A restricted fetch does not reset the weekly full sync.
        assert_eq!(p().next_automatic(&s, T0 + Duration::days(7)), Next::RunNow(RunKind::Full));
        assert_eq!(p().manual(&s, ManualKind::Full, T0 + Duration::days(7)), Ok(RunKind::Full));
    }

    #[test]
    fn a_failed_delta_or_a_lost_cursor_makes_the_next_run_full() {
        let mut s = BudgetState::default();
        s.completed(RunKind::Full, T0);
        s.failed(RunKind::Delta, false);
        assert_eq!(p().next_automatic(&s, T0 + Duration::hours(1)), Next::RunNow(RunKind::Full));
        assert_eq!(p().manual(&s, ManualKind::Sync, T0 + Duration::hours(1)), Ok(RunKind::Full));
        s.completed(RunKind::Full, T0 + Duration::hours(1));
        s.failed(RunKind::Full, true);
        assert!(!s.has_cursor);
        assert_eq!(p().next_automatic(&s, T0 + Duration::hours(2)), Next::RunNow(RunKind::Full));
        // A failed full fetch with the cursor intact changes nothing.
        let mut s2 = BudgetState::default();
        s2.completed(RunKind::Full, T0);
        s2.failed(RunKind::Full, false);
        assert_eq!(
            p().next_automatic(&s2, T0 + Duration::hours(1)),
            Next::WaitUntil(T0 + Duration::hours(12))
        );
    }

    #[test]
    fn every_run_gets_fifteen_minutes() {
        assert_eq!(p().deadline(T0), T0 + Duration::minutes(15));
    }
}
