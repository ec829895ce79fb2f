//! The per-serial assignment state machine: a pure function of (record, Apple's answer, now)
//! and the due check, so the retry rules are tested by stepping time (design rule 7).
//!
//! Rules (../shared/spec/dep-api.md §3.3; issue 6 item 4):
//! - `SUCCESS` → `assigned`.
//! - `NOT_ACCESSIBLE` / `FAILED` (and serials missing from Apple's answer, read as FAILED):
//!   the first time → `cooldown` for 1 h; again → `not_accessible` / `failed`, retried every
//!   24 h.
//! - `THROTTLED` → `throttled` until at least `retry_after_seconds` (24 h when absent).
//! - Apple unreachable or busy (5xx, timeouts) → stays `queued`, retried after 5 minutes (or
//!   Apple's `Retry-After` when longer): that is about Apple, not about the device.

use crate::ids::{ProfileId, ProfileUuid, Serial, TokenId};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub const FIRST_COOLDOWN: Duration = Duration::hours(1);
pub const LATER_COOLDOWN: Duration = Duration::hours(24);
pub const THROTTLE_DEFAULT: Duration = Duration::hours(24);
pub const UNREACHABLE_RETRY: Duration = Duration::minutes(5);

/// Where one serial's assignment stands. Stored and answered as the snake_case code it had
/// as a string (`not_accessible`, …), so records written before this type read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    /// Nothing to do: no profile wanted, or a removal Apple confirmed.
    Idle,
    /// Waiting to be sent to Apple (again, after Apple could not be reached).
    Queued,
    /// Being sent (no code path stores it today; records that carry it are sent again).
    Assigning,
    /// Apple assigned the profile.
    Assigned,
    /// Apple answered FAILED or NOT_ACCESSIBLE once: tried again after an hour.
    Cooldown,
    /// Apple answered THROTTLED: tried again after its `retry_after_seconds` or a day.
    Throttled,
    /// NOT_ACCESSIBLE again: tried again daily.
    NotAccessible,
    /// FAILED again: tried again daily.
    Failed,
}

impl AssignmentState {
    /// The stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            AssignmentState::Idle => "idle",
            AssignmentState::Queued => "queued",
            AssignmentState::Assigning => "assigning",
            AssignmentState::Assigned => "assigned",
            AssignmentState::Cooldown => "cooldown",
            AssignmentState::Throttled => "throttled",
            AssignmentState::NotAccessible => "not_accessible",
            AssignmentState::Failed => "failed",
        }
    }
}

/// One serial's assignment as stored (`profiles.assignments`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Assignment {
    pub serial: Serial,
    /// Empty in records stored before assignments named their token (read as they are).
    #[serde(default = "no_token")]
    pub token_id: TokenId,
    /// The profile wanted (`null`: remove the assignment).
    pub profile_id: Option<ProfileId>,
    /// The uuid Apple confirmed last.
    pub profile_uuid: Option<ProfileUuid>,
    pub state: AssignmentState,
    /// `SUCCESS`, `NOT_ACCESSIBLE`, `FAILED`, `THROTTLED`.
    pub last_result: Option<String>,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_retry_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub assigned_at: Option<OffsetDateTime>,
    pub message: String,
    /// The device carries a migration deadline: it must await final configuration, so when
    /// the profile does not, its await variant is assigned (`super::forced_await`). Absent
    /// when false, so records written before it existed keep their bytes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forced_await: bool,
}

fn no_token() -> TokenId {
    TokenId::from_stored(String::new())
}

/// What Apple answered for one serial (or the call as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Success,
    NotAccessible,
    Failed,
    Throttled {
        retry_after_seconds: Option<u64>,
    },
    /// Apple could not be reached or was busy; `retry_after` when it said.
    Unreachable {
        retry_after: Option<Duration>,
        message: String,
    },
}

impl Assignment {
    /// A fresh request for `serial` of `token_id`.
    pub fn queued(
        serial: &Serial,
        token_id: &TokenId,
        profile_id: Option<ProfileId>,
    ) -> Assignment {
        Assignment {
            serial: serial.clone(),
            token_id: token_id.clone(),
            profile_id,
            profile_uuid: None,
            state: AssignmentState::Queued,
            last_result: None,
            attempts: 0,
            next_retry_at: None,
            assigned_at: None,
            message: "waiting to be sent to Apple".into(),
            forced_await: false,
        }
    }

    /// Asks again (a new request, a new revision): keeps what Apple last confirmed.
    pub fn requeue(&mut self, profile_id: Option<ProfileId>) {
        self.profile_id = profile_id;
        self.state = AssignmentState::Queued;
        self.attempts = 0;
        self.next_retry_at = None;
        self.message = "waiting to be sent to Apple".into();
    }

    /// Whether a request should go to Apple now.
    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        use AssignmentState as S;
        matches!(
            self.state,
            S::Queued | S::Assigning | S::Cooldown | S::Throttled | S::NotAccessible | S::Failed
        ) && self.next_retry_at.is_none_or(|t| t <= now)
    }

    /// Applies Apple's answer for this serial; `uuid` is what was sent (none for a remove).
    pub fn after(&mut self, answer: &Answer, uuid: Option<&ProfileUuid>, now: OffsetDateTime) {
        let removing = self.profile_id.is_none();
        match answer {
            Answer::Success => {
                self.state =
                    if removing { AssignmentState::Idle } else { AssignmentState::Assigned };
                self.last_result = Some("SUCCESS".into());
                self.attempts = 0;
                self.next_retry_at = None;
                self.profile_uuid = uuid.cloned();
                self.assigned_at = if removing { None } else { Some(now) };
                self.message = if removing {
                    "the assignment was removed at Apple".into()
                } else {
                    "Apple assigned the profile; the device gets it at its next Setup Assistant"
                        .into()
                };
            }
            Answer::NotAccessible | Answer::Failed => {
                self.attempts += 1;
                let (code, later) = if *answer == Answer::Failed {
                    ("FAILED", AssignmentState::Failed)
                } else {
                    ("NOT_ACCESSIBLE", AssignmentState::NotAccessible)
                };
                self.last_result = Some(code.into());
                let wait = if self.attempts == 1 { FIRST_COOLDOWN } else { LATER_COOLDOWN };
                self.state = if self.attempts == 1 { AssignmentState::Cooldown } else { later };
                self.next_retry_at = Some(now + wait);
                self.message = if *answer == Answer::Failed {
                    format!(
                        "Apple could not change this device (FAILED); trying again in {} h",
                        wait.whole_hours()
                    )
                } else {
                    format!(
                        "Apple says this device is not assigned to this MDM server (NOT_ACCESSIBLE); check Apple Business Manager. Trying again in {} h",
                        wait.whole_hours()
                    )
                };
            }
            Answer::Throttled { retry_after_seconds } => {
                self.attempts += 1;
                self.last_result = Some("THROTTLED".into());
                self.state = AssignmentState::Throttled;
                let wait = retry_after_seconds
                    .map_or(THROTTLE_DEFAULT, |s| Duration::seconds(s.clamp(1, 7 * 86_400) as i64));
                self.next_retry_at = Some(now + wait);
                self.message = format!(
                    "Apple asked to wait (THROTTLED); trying again after {} s",
                    wait.whole_seconds()
                );
            }
            Answer::Unreachable { retry_after, message } => {
                self.state = AssignmentState::Queued;
                let wait = retry_after.map_or(UNREACHABLE_RETRY, |r| r.max(UNREACHABLE_RETRY));
                self.next_retry_at = Some(now + wait);
                self.message = format!("{message}; trying again in {} min", wait.whole_minutes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

    fn u1() -> ProfileUuid {
        ProfileUuid::parse("A1").unwrap()
    }

    fn rec() -> Assignment {
        Assignment::queued(
            &Serial::parse("C02X").unwrap(),
            &TokenId::parse("t1").unwrap(),
            Some(ProfileId::parse("p1").unwrap()),
        )
    }

    #[test]
    fn a_new_request_is_due_at_once() {
        assert!(rec().is_due(T0));
    }

    #[test]
    fn success_assigns_and_is_not_due_again() {
        let mut r = rec();
        r.after(&Answer::Success, Some(&u1()), T0);
        assert_eq!((r.state, r.profile_uuid.clone()), (AssignmentState::Assigned, Some(u1())));
        assert_eq!(r.assigned_at, Some(T0));
        assert!(!r.is_due(T0 + Duration::days(30)));
    }

    #[test]
    fn failures_cool_down_one_hour_then_a_day() {
        for (answer, later_state) in [
            (Answer::Failed, AssignmentState::Failed),
            (Answer::NotAccessible, AssignmentState::NotAccessible),
        ] {
            let mut r = rec();
            r.after(&answer, Some(&u1()), T0);
            assert_eq!(r.state, AssignmentState::Cooldown);
            assert!(!r.is_due(T0 + Duration::minutes(59)));
            let t1 = T0 + Duration::hours(1);
            assert!(r.is_due(t1));
            r.after(&answer, Some(&u1()), t1);
            assert_eq!(r.state, later_state);
            assert!(!r.is_due(t1 + Duration::hours(23)));
            assert!(r.is_due(t1 + Duration::hours(24)));
            r.after(&Answer::Success, Some(&u1()), t1 + Duration::hours(24));
            assert_eq!((r.state, r.attempts), (AssignmentState::Assigned, 0));
        }
    }

    #[test]
    fn throttled_waits_at_least_retry_after_or_a_day() {
        let mut r = rec();
        r.after(&Answer::Throttled { retry_after_seconds: Some(90) }, Some(&u1()), T0);
        assert_eq!(r.state, AssignmentState::Throttled);
        assert!(!r.is_due(T0 + Duration::seconds(89)));
        assert!(r.is_due(T0 + Duration::seconds(90)));
        let mut r = rec();
        r.after(&Answer::Throttled { retry_after_seconds: None }, Some(&u1()), T0);
        assert!(!r.is_due(T0 + Duration::hours(23)));
        assert!(r.is_due(T0 + Duration::hours(24)));
    }

    #[test]
    fn apple_unreachable_keeps_the_request_queued_for_later() {
        let mut r = rec();
        r.after(&Answer::Unreachable { retry_after: None, message: "down".into() }, None, T0);
        assert_eq!((r.state, r.attempts), (AssignmentState::Queued, 0));
        assert!(!r.is_due(T0 + Duration::minutes(4)));
        assert!(r.is_due(T0 + Duration::minutes(5)));
    }

    #[test]
    fn a_removal_ends_idle() {
        let mut r = Assignment::queued(
            &Serial::parse("C02X").unwrap(),
            &TokenId::parse("t1").unwrap(),
            None,
        );
        r.after(&Answer::Success, None, T0);
        assert_eq!((r.state, r.profile_uuid), (AssignmentState::Idle, None));
    }

    /// A record as an earlier adebox stored it, when the state was a string: it reads back
    /// and is written again byte for byte, for every state.
    #[test]
    fn stored_assignments_keep_their_bytes() {
        let old = r#"{"serial":"C02XK1ABCD12","token_id":"oCaG2Svw","profile_id":"k3Vx9QaB","profile_uuid":"4E2A2D4B2E8411EB9E0A0242AC130003","state":"STATE","last_result":"NOT_ACCESSIBLE","attempts":2,"next_retry_at":"2026-11-25T10:00:00Z","assigned_at":null,"message":"waiting"}"#;
        let states = [
            ("idle", AssignmentState::Idle),
            ("queued", AssignmentState::Queued),
            ("assigning", AssignmentState::Assigning),
            ("assigned", AssignmentState::Assigned),
            ("cooldown", AssignmentState::Cooldown),
            ("throttled", AssignmentState::Throttled),
            ("not_accessible", AssignmentState::NotAccessible),
            ("failed", AssignmentState::Failed),
        ];
        for (code, state) in states {
            let bytes = old.replace("STATE", code);
            let a: Assignment = crate::store::decode("profiles.assignments", bytes.as_bytes())
                .unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!((a.state, a.state.code()), (state, code));
            assert_eq!(a.token_id.as_str(), "oCaG2Svw");
            assert_eq!(a.profile_id.as_ref().map(ProfileId::as_str), Some("k3Vx9QaB"));
            assert_eq!(String::from_utf8(crate::store::encode(&a)).unwrap(), bytes, "{code}");
        }
        // Written before assignments named their token: still reads, as an empty token id.
        let older = old.replace(r#""token_id":"oCaG2Svw","#, "").replace("STATE", "queued");
        let a: Assignment = crate::store::decode("profiles.assignments", older.as_bytes()).unwrap();
        assert_eq!(a.token_id.as_str(), "");
    }
}
