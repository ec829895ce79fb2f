//! Views of the sync (`/api/v1/sync/…`): runs, progress, per-token status, and the sync
//! settings both ways.

use crate::sync::RunKind;
use serde::Deserialize;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Completed,
    /// Completed, but with something the admin should know (e.g. Apple's cursor loop).
    CompletedWithWarning,
    Failed,
    /// Stopped at the run's time limit.
    TimedOut,
}

impl From<&crate::sync::RunOutcome> for RunOutcome {
    fn from(r: &crate::sync::RunOutcome) -> RunOutcome {
        match r {
            crate::sync::RunOutcome::Completed => RunOutcome::Completed,
            crate::sync::RunOutcome::CompletedWithWarning => RunOutcome::CompletedWithWarning,
            crate::sync::RunOutcome::Failed => RunOutcome::Failed,
            crate::sync::RunOutcome::TimedOut => RunOutcome::TimedOut,
        }
    }
}

/// One finished run.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct RunRecord {
    #[schema(value_type = String)]
    pub kind: RunKind,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    pub outcome: RunOutcome,
    pub pages: u64,
    pub stats: PageStats,
    /// Devices marked removed because a full sync no longer listed them.
    pub swept: u64,
    /// Plain words: what happened and, after a failure, what to do.
    pub message: String,
    /// Apple's error code, after a failure.
    pub error_code: Option<String>,
    pub manual: bool,
}

impl From<&crate::sync::Run> for RunRecord {
    fn from(r: &crate::sync::Run) -> RunRecord {
        RunRecord {
            kind: r.kind,
            started_at: r.started_at,
            ended_at: r.ended_at,
            outcome: (&r.outcome).into(),
            pages: r.pages,
            stats: (&r.stats).into(),
            swept: r.swept,
            message: r.message.clone(),
            error_code: r.error_code.clone(),
            manual: r.manual,
        }
    }
}

/// A run in progress as the page shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Progress {
    #[schema(value_type = String)]
    pub kind: RunKind,
    /// `fetch` (every device) or `sync` (changes).
    pub phase: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub pages: u64,
    pub stats: PageStats,
    /// Devices this token had before the run: the size a full fetch is expected to reach.
    pub expected_devices: Option<u64>,
}

impl From<&crate::sync::Progress> for Progress {
    fn from(r: &crate::sync::Progress) -> Progress {
        Progress {
            kind: r.kind,
            phase: r.phase.clone(),
            started_at: r.started_at,
            pages: r.pages,
            stats: (&r.stats).into(),
            expected_devices: r.expected_devices,
        }
    }
}

/// The sync settings, in the units the page uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncSettings {
    /// Days between unrestricted full syncs (Apple's budget: 7).
    pub full_every_days: i64,
    /// Hours between automatic delta syncs (12).
    pub delta_every_hours: i64,
    /// Minutes between manual syncs of one token (15).
    pub manual_every_minutes: i64,
    /// Minutes one run may take (15).
    pub run_limit_minutes: i64,
    /// Devices per page asked of Apple (1–1000).
    pub page_limit: u32,
    /// Days removed devices are kept before they are deleted (45).
    pub retention_days: i64,
}

impl From<&crate::sync::SyncSettings> for SyncSettings {
    fn from(r: &crate::sync::SyncSettings) -> SyncSettings {
        SyncSettings {
            full_every_days: r.full_every_days,
            delta_every_hours: r.delta_every_hours,
            manual_every_minutes: r.manual_every_minutes,
            run_limit_minutes: r.run_limit_minutes,
            page_limit: r.page_limit,
            retention_days: r.retention_days,
        }
    }
}

impl From<SyncSettings> for crate::sync::SyncSettings {
    fn from(v: SyncSettings) -> crate::sync::SyncSettings {
        crate::sync::SyncSettings {
            full_every_days: v.full_every_days,
            delta_every_hours: v.delta_every_hours,
            manual_every_minutes: v.manual_every_minutes,
            run_limit_minutes: v.run_limit_minutes,
            page_limit: v.page_limit,
            retention_days: v.retention_days,
            policy: Default::default(),
        }
        .resolved()
    }
}

/// Where the sync of one token stands.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SyncStatus {
    pub token_id: String,
    /// The run in progress, if any.
    pub running: Option<Progress>,
    /// Estimated seconds left of the running full fetch.
    pub eta_s: Option<i64>,
    pub last_run: Option<RunRecord>,
    /// When the next automatic run starts (now or in the past: it is starting).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_run_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<String>)]
    pub next_run_kind: Option<RunKind>,
    /// When "Sync now" is allowed again; `null`: now.
    #[serde(with = "time::serde::rfc3339::option")]
    pub manual_allowed_at: Option<OffsetDateTime>,
    /// A manual request waiting to start.
    #[schema(value_type = Option<String>)]
    pub requested: Option<RunKind>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_full_at: Option<OffsetDateTime>,
    pub consecutive_failures: u32,
    /// Newest first (only in the per-token answer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<RunRecord>,
}

impl From<&crate::sync::SyncStatus> for SyncStatus {
    fn from(r: &crate::sync::SyncStatus) -> SyncStatus {
        SyncStatus {
            token_id: r.token_id.to_string(),
            running: r.running.as_ref().map(Into::into),
            eta_s: r.eta_s,
            last_run: r.last_run.as_ref().map(Into::into),
            next_run_at: r.next_run_at,
            next_run_kind: r.next_run_kind,
            manual_allowed_at: r.manual_allowed_at,
            requested: r.requested,
            last_full_at: r.last_full_at,
            consecutive_failures: r.consecutive_failures,
            history: r.history.iter().map(Into::into).collect(),
        }
    }
}

/// What a page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct PageStats {
    pub seen: u64,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub moved: u64,
    pub unchanged: u64,
    /// Records older than what we already applied, or without a serial.
    pub ignored: u64,
}

impl From<&crate::sync::RunStats> for PageStats {
    fn from(r: &crate::sync::RunStats) -> PageStats {
        let crate::sync::RunStats { seen, added, modified, removed, moved, unchanged, ignored } =
            *r;
        PageStats { seen, added, modified, removed, moved, unchanged, ignored }
    }
}

impl From<&crate::devices::PageStats> for PageStats {
    fn from(r: &crate::devices::PageStats) -> PageStats {
        PageStats {
            seen: r.seen,
            added: r.added,
            modified: r.modified,
            removed: r.removed,
            moved: r.moved,
            unchanged: r.unchanged,
            ignored: r.ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_settings_from_the_api_carry_the_budget_they_name() {
        let view: SyncSettings = serde_json::from_value(serde_json::json!({
            "full_every_days": 3, "delta_every_hours": 6, "manual_every_minutes": 20,
            "run_limit_minutes": 10, "page_limit": 500, "retention_days": 30,
        }))
        .unwrap();
        let s = crate::sync::SyncSettings::from(view.clone());
        assert_eq!(s.policy.full_every, time::Duration::days(3));
        assert_eq!(s.policy.delta_every, time::Duration::hours(6));
        assert_eq!(s.policy.manual_every, time::Duration::minutes(20));
        assert_eq!(s.policy.run_limit, time::Duration::minutes(10));
        assert_eq!(SyncSettings::from(&s), view, "and read back the same");
    }
}
