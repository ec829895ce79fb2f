//! Sync settings (edited on the Settings page) and the status the page and API show.

use super::budget::{BudgetPolicy, Next, RunKind};
use super::progress::{Progress, estimate_seconds_left};
use super::state::{self, RunRecord};
use super::{Sync, SyncError};
use crate::devices::PageStats;
use crate::ids::TokenId;
use crate::store::{self, StoreError};
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The sync settings, in the units the page uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(skip)]
    pub policy: BudgetPolicy,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings::from_parts(
            BudgetPolicy::default(),
            1000,
            crate::devices::DEFAULT_RETENTION_DAYS,
        )
    }
}

impl SyncSettings {
    fn from_parts(policy: BudgetPolicy, page_limit: u32, retention_days: i64) -> Self {
        SyncSettings {
            full_every_days: policy.full_every.whole_days(),
            delta_every_hours: policy.delta_every.whole_hours(),
            manual_every_minutes: policy.manual_every.whole_minutes(),
            run_limit_minutes: policy.run_limit.whole_minutes(),
            page_limit,
            retention_days,
            policy,
        }
    }

    /// Fills `policy` from the numbers (after deserializing).
    pub fn resolved(mut self) -> Self {
        self.policy = BudgetPolicy {
            full_every: Duration::days(self.full_every_days),
            delta_every: Duration::hours(self.delta_every_hours),
            manual_every: Duration::minutes(self.manual_every_minutes),
            run_limit: Duration::minutes(self.run_limit_minutes),
        };
        self
    }

    /// Keeps the numbers inside what Apple's budget and the appliance can live with.
    pub fn validate(&self) -> Result<(), SyncError> {
        let check = |field: &'static str, v: i64, lo: i64, hi: i64, unit: &str| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(SyncError::Validation { field, message: format!("use {lo} to {hi} {unit}") })
            }
        };
        check("full_every_days", self.full_every_days, 1, 30, "days")?;
        check("delta_every_hours", self.delta_every_hours, 1, 48, "hours")?;
        check("manual_every_minutes", self.manual_every_minutes, 5, 120, "minutes")?;
        check("run_limit_minutes", self.run_limit_minutes, 5, 60, "minutes")?;
        check("page_limit", self.page_limit as i64, 1, 1000, "devices (Apple's maximum is 1000)")?;
        check("retention_days", self.retention_days, 1, 3650, "days")
    }

    pub fn describe(&self) -> String {
        format!(
            "full every {} d, delta every {} h, manual every {} min, run limit {} min, page {} devices, removed devices kept {} d",
            self.full_every_days,
            self.delta_every_hours,
            self.manual_every_minutes,
            self.run_limit_minutes,
            self.page_limit,
            self.retention_days
        )
    }
}

pub(super) fn settings_in(rtx: &ReadTransaction) -> Result<SyncSettings, StoreError> {
    let stored: Option<SyncSettings> = store::get(&rtx.open_table(state::SETTINGS)?, b"settings")?;
    Ok(stored.map(SyncSettings::resolved).unwrap_or_default())
}

/// Where the sync of one token stands.
#[derive(Clone, Debug, Serialize)]
pub struct SyncStatus {
    pub token_id: TokenId,
    /// The run in progress, if any.
    pub running: Option<Progress>,
    /// Estimated seconds left of the running full fetch.
    pub eta_s: Option<i64>,
    pub last_run: Option<Run>,
    /// When the next automatic run starts (now or in the past: it is starting).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_run_at: Option<OffsetDateTime>,
    pub next_run_kind: Option<RunKind>,
    /// When "Sync now" is allowed again; `null`: now.
    #[serde(with = "time::serde::rfc3339::option")]
    pub manual_allowed_at: Option<OffsetDateTime>,
    /// A manual request waiting to start.
    pub requested: Option<RunKind>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_full_at: Option<OffsetDateTime>,
    pub consecutive_failures: u32,
    /// Newest first (only in the per-token answer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Run>,
}

/// One finished run of a token's sync.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    pub kind: RunKind,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    pub outcome: super::RunOutcome,
    pub pages: u64,
    pub stats: RunStats,
    /// Devices marked removed because a full sync no longer listed them.
    pub swept: u64,
    /// Plain words: what happened and, after a failure, what to do.
    pub message: String,
    /// Apple's error code, after a failure.
    pub error_code: Option<String>,
    pub manual: bool,
}

/// What a run did to the inventory, counted in device records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunStats {
    pub seen: u64,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub moved: u64,
    pub unchanged: u64,
    /// Records older than what was already applied, or without a serial.
    pub ignored: u64,
}

impl From<PageStats> for RunStats {
    fn from(s: PageStats) -> RunStats {
        let PageStats { seen, added, modified, removed, moved, unchanged, ignored } = s;
        RunStats { seen, added, modified, removed, moved, unchanged, ignored }
    }
}

impl From<&RunRecord> for Run {
    // Destructured, so a field added to the record does not compile until it is shown or
    // deliberately left out here.
    fn from(r: &RunRecord) -> Run {
        let r = r.clone();
        let RunRecord {
            kind,
            started_at,
            ended_at,
            outcome,
            pages,
            stats,
            swept,
            message,
            error_code,
            manual,
        } = r;
        Run {
            kind,
            started_at,
            ended_at,
            outcome,
            pages,
            stats: stats.into(),
            swept,
            message,
            error_code,
            manual,
        }
    }
}

impl Sync {
    /// The status of one token's sync; with its recent runs when `with_history`.
    pub async fn status(
        &self,
        token: &TokenId,
        with_history: bool,
    ) -> Result<SyncStatus, SyncError> {
        self.inner.tokens.get(token).await?;
        let settings = self.settings().await?;
        let token_s = token.clone();
        let (s, history) = self
            .inner
            .store
            .read(move |rtx| {
                let s = state::load_in(rtx, &token_s)?;
                let h = if with_history { state::history_in(rtx, &token_s)? } else { vec![] };
                Ok::<_, StoreError>((s, h))
            })
            .await?;
        let now = self.now();
        let (next_run_at, next_run_kind) = match settings.policy.next_automatic(&s.budget, now) {
            Next::RunNow(k) => (Some(s.backoff_until.filter(|b| *b > now).unwrap_or(now)), Some(k)),
            Next::WaitUntil(t) => {
                (Some(t), settings.policy.next_automatic(&s.budget, t).run_kind())
            }
        };
        let running = self.inner.progress.get(token);
        Ok(SyncStatus {
            token_id: token.clone(),
            eta_s: running.as_ref().and_then(|p| estimate_seconds_left(p, now)),
            running,
            last_run: self
                .inner
                .progress
                .last_run(token, s.last_run.clone())
                .as_ref()
                .map(Run::from),
            next_run_at,
            next_run_kind,
            manual_allowed_at: settings.policy.manual_allowed_at(&s.budget, now),
            requested: s.requested,
            last_full_at: s.budget.last_unrestricted_full,
            consecutive_failures: s.consecutive_failures,
            history: history.iter().map(Run::from).collect(),
        })
    }

    /// The status of every token's sync.
    pub async fn statuses(&self) -> Result<Vec<SyncStatus>, SyncError> {
        let mut out = Vec::new();
        for t in self.inner.tokens.list().await? {
            out.push(self.status(&t.id, false).await?);
        }
        Ok(out)
    }
}

impl Next {
    fn run_kind(self) -> Option<RunKind> {
        match self {
            Next::RunNow(k) => Some(k),
            Next::WaitUntil(_) => None,
        }
    }
}
