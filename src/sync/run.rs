//! One sync run of one token: a full fetch or a delta sync, page by page, each page's
//! devices and the cursor after it committed in one transaction, so a crash at any point
//! neither loses nor repeats a page's effects (a resumed fetch continues from the last
//! committed cursor; re-applying a page is idempotent anyway).

use super::budget::RunKind;
use super::state::{self, InProgress, RunOutcome, RunRecord, SyncState};
use super::{Sync, SyncSettings};
use crate::apple::dep::{Device, FetchDeviceResponse};
use crate::depclient::{DepClient, DepError, RetryPolicy, retry};
use crate::devices::{self, PageMode, PageStats};
use crate::ids::TokenId;
use crate::store::StoreError;
use time::{Duration, OffsetDateTime};

/// What a fetch needs to know.
struct FetchPlan {
    kind: RunKind,
    started: OffsetDateTime,
    deadline: OffsetDateTime,
    page_limit: u32,
}

/// How a run ended, before it is recorded.
enum End {
    Done { warning: Option<String> },
    TimedOut,
    Failed(DepError),
    Store(StoreError),
}

impl From<StoreError> for End {
    fn from(e: StoreError) -> Self {
        End::Store(e)
    }
}

impl Sync {
    /// Runs `kind` for `token` with `client` until done, failed, or out of time; records the
    /// outcome and returns it.
    pub(super) async fn run(
        &self,
        token: &TokenId,
        client: &DepClient,
        kind: RunKind,
        manual: bool,
    ) -> RunRecord {
        let settings = self.settings().await.unwrap_or_default();
        let started = self.now();
        let deadline = settings.policy.deadline(started);
        let before: SyncState = match self.load(token).await {
            Ok(s) => s,
            Err(e) => {
                return self
                    .finish(token, kind, started, manual, 0, PageStats::default(), 0, End::Store(e))
                    .await;
            }
        };
        let expected =
            self.inner.devices.counts().await.ok().and_then(|c| c.by_token.get(token).copied());
        self.inner.progress.begin(token, kind, started, expected);
        let (pages, stats, swept, end) = match kind {
            RunKind::Delta => self.delta(token, client, &settings, deadline, started, before).await,
            RunKind::Full | RunKind::FullNewOnly => {
                let plan = FetchPlan { kind, started, deadline, page_limit: settings.page_limit };
                self.fetch(token, client, plan, before).await
            }
        };
        // The run shows as running until its end is recorded (or kept, when the store refuses).
        let record = self.finish(token, kind, started, manual, pages, stats, swept, end).await;
        self.inner.progress.end(token);
        record
    }

    async fn fetch(
        &self,
        token: &TokenId,
        client: &DepClient,
        plan: FetchPlan,
        before: SyncState,
    ) -> (u64, PageStats, u64, End) {
        let FetchPlan { kind, started, deadline, page_limit } = plan;
        // Resume a fetch of the same kind that a crash or the time limit interrupted.
        let mut run = match before.in_progress {
            Some(p) if p.kind == Some(kind) && p.fetch_cursor.is_some() => p,
            _ => InProgress {
                kind: Some(kind),
                run_id: crate::crypto::random_token::<8>(),
                started_at: Some(started),
                ..Default::default()
            },
        };
        // Claim the fetch: page commits of any older run still in flight (a cancelled run's
        // last write can land late) check this and are refused, so two runs never interleave.
        if let Err(e) = self.claim(token, &run).await {
            return (0, PageStats::default(), 0, End::Store(e));
        }
        let new_only = kind == RunKind::FullNewOnly;
        let mut restarted = false;
        let mut warning = None;
        loop {
            if self.now() >= deadline {
                return (run.pages, run.stats, 0, End::TimedOut);
            }
            let cursor = run.fetch_cursor.clone();
            let page = self
                .call(client, deadline, || client.fetch_devices(cursor.as_deref(), page_limit))
                .await;
            let mut page: FetchDeviceResponse = match page {
                Ok(p) => p,
                Err(DepError::CursorExhausted) => break,
                // A resumed fetch whose cursor Apple no longer accepts: start it over, once.
                Err(DepError::CursorExpired | DepError::CursorInvalid)
                    if cursor.is_some() && !restarted =>
                {
                    restarted = true;
                    run = InProgress {
                        kind: Some(kind),
                        run_id: crate::crypto::random_token::<8>(),
                        started_at: Some(started),
                        ..Default::default()
                    };
                    if let Err(e) = self.claim(token, &run).await {
                        return (0, PageStats::default(), 0, End::Store(e));
                    }
                    continue;
                }
                Err(e) => return (run.pages, run.stats, 0, End::Failed(e)),
            };
            let echoed = page.more_to_follow && cursor.as_deref() == Some(page.cursor.as_str());
            let mode = PageMode::Fetch { run_id: run.run_id.clone(), new_only };
            let devices = std::mem::take(&mut page.devices).into();
            if let Err(e) =
                self.commit_page(token, devices, &page.cursor, &mode, &mut run, None).await
            {
                return (run.pages, run.stats, 0, End::Store(e));
            }
            self.inner.progress.page(token, run.pages, &run.stats);
            if echoed {
                warning = Some(cursor_loop_warning());
                break;
            }
            if !page.more_to_follow {
                break;
            }
        }
        // The fetch is complete: an unrestricted one sweeps missing devices and hands its
        // cursor to delta syncs; a new-only one keeps the old cursor, so no modification
        // between the last delta and now is skipped.
        let token_s = token.clone();
        let now = self.now();
        let index = self.inner.devices.clone();
        let result = self
            .inner
            .store
            .write_then(
                move |wtx| {
                    let mut s = state::load_w(wtx, &token_s)?;
                    if s.in_progress.as_ref().map(|p| p.run_id.as_str())
                        != Some(run.run_id.as_str())
                    {
                        return Err(StoreError::Superseded);
                    }
                    let (swept, changes) = if kind == RunKind::Full {
                        s.cursor = run.fetch_cursor.clone();
                        s.cursor_at = Some(now);
                        devices::sweep_missing_in(wtx, &token_s, &run.run_id, now)?
                    } else {
                        (0, devices::Changes::default())
                    };
                    s.budget.completed(kind, run.started_at.unwrap_or(started));
                    s.in_progress = None;
                    state::save_in(wtx, &token_s, &s)?;
                    Ok::<_, StoreError>((run.pages, run.stats, swept, changes))
                },
                move |(_, _, _, changes)| index.apply_changes(std::mem::take(changes)),
            )
            .await;
        match result {
            Ok((pages, stats, swept, _)) => (pages, stats, swept, End::Done { warning }),
            Err(e) => (0, PageStats::default(), 0, End::Store(e)),
        }
    }

    async fn delta(
        &self,
        token: &TokenId,
        client: &DepClient,
        settings: &SyncSettings,
        deadline: OffsetDateTime,
        started: OffsetDateTime,
        before: SyncState,
    ) -> (u64, PageStats, u64, End) {
        let mut run = InProgress { kind: Some(RunKind::Delta), ..Default::default() };
        let Some(mut cursor) = before.cursor else {
            return (0, run.stats, 0, End::Failed(DepError::CursorRequired));
        };
        let mut warning = None;
        loop {
            if self.now() >= deadline {
                return (run.pages, run.stats, 0, End::TimedOut);
            }
            let c = cursor.clone();
            let mut page = match self
                .call(client, deadline, || client.sync_devices(&c, settings.page_limit))
                .await
            {
                Ok(p) => p,
                Err(DepError::CursorExhausted) => break,
                Err(e) => return (run.pages, run.stats, 0, End::Failed(e)),
            };
            let echoed = page.more_to_follow && page.cursor == cursor;
            let devices = std::mem::take(&mut page.devices).into();
            let next = Some(page.cursor.clone());
            if let Err(e) = self
                .commit_page(token, devices, &page.cursor, &PageMode::Sync, &mut run, next)
                .await
            {
                return (run.pages, run.stats, 0, End::Store(e));
            }
            self.inner.progress.page(token, run.pages, &run.stats);
            if echoed {
                warning = Some(cursor_loop_warning());
                break;
            }
            if !page.more_to_follow {
                break;
            }
            cursor = page.cursor;
        }
        let token_s = token.clone();
        let r = self
            .inner
            .store
            .write(move |wtx| {
                let mut s = state::load_w(wtx, &token_s)?;
                s.budget.completed(RunKind::Delta, started);
                state::save_in(wtx, &token_s, &s)
            })
            .await;
        match r {
            Ok(()) => (run.pages, run.stats, 0, End::Done { warning }),
            Err(e) => (run.pages, run.stats, 0, End::Store(e)),
        }
    }

    /// One page: its devices and the cursor after it, in one transaction. The devices are
    /// shared, not copied, with the change (which the store may keep a copy of to run again).
    async fn commit_page(
        &self,
        token: &TokenId,
        devices: std::sync::Arc<[Device]>,
        page_cursor: &str,
        mode: &PageMode,
        run: &mut InProgress,
        sync_cursor: Option<String>,
    ) -> Result<(), StoreError> {
        let token_s = token.clone();
        let mode = mode.clone();
        let now = self.now();
        let mut next = run.clone();
        next.pages += 1;
        if sync_cursor.is_none() {
            next.fetch_cursor = Some(page_cursor.to_string());
        }
        let index = self.inner.devices.clone();
        let (stats, next, _, serials) = self
            .inner
            .store
            .write_then(
                move |wtx| {
                    let mut s = state::load_w(wtx, &token_s)?;
                    if sync_cursor.is_none()
                        && s.in_progress.as_ref().map(|p| p.run_id.as_str())
                            != Some(next.run_id.as_str())
                    {
                        return Err(StoreError::Superseded);
                    }
                    let (stats, changes) =
                        devices::apply_page_in(wtx, &token_s, &devices, &mode, now)?;
                    next.stats.add(&stats);
                    match sync_cursor {
                        Some(c) => {
                            s.cursor = Some(c);
                            s.cursor_at = Some(now);
                        }
                        None => s.in_progress = Some(next.clone()),
                    }
                    state::save_in(wtx, &token_s, &s)?;
                    Ok::<_, StoreError>((stats, next, changes, Vec::new()))
                },
                move |(_, _, changes, serials)| {
                    *serials = changes.serials();
                    index.apply_changes(std::mem::take(changes))
                },
            )
            .await?;
        self.changed(token, serials);
        log::info!(
            token = token.as_str(), phase = if matches!(mode_kind(run), Some(RunKind::Delta)) { "sync" } else { "fetch" },
            page = next.pages, devices = stats.seen, added = stats.added, modified = stats.modified, removed = stats.removed;
            "DEP page applied"
        );
        *run = next;
        Ok(())
    }

    /// Records `run` as the token's fetch in progress.
    async fn claim(&self, token: &TokenId, run: &InProgress) -> Result<(), StoreError> {
        let token = token.clone();
        let run = run.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut s = state::load_w(wtx, &token)?;
                s.in_progress = Some(run);
                state::save_in(wtx, &token, &s)
            })
            .await
    }

    /// One DEP call with backoff on 5xx / 429 / timeouts, never waiting past the deadline.
    async fn call<T, F, Fut>(
        &self,
        _client: &DepClient,
        deadline: OffsetDateTime,
        op: F,
    ) -> Result<T, DepError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, DepError>>,
    {
        let left = deadline - self.now();
        let max_total = std::time::Duration::try_from(left.max(Duration::ZERO)).unwrap_or_default();
        let policy = RetryPolicy { max_total, ..self.inner.retry.clone() };
        retry(&policy, &self.inner.clock, op).await
    }

    /// Records the end of a run: budget, backoff, token problem, history.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        token: &TokenId,
        kind: RunKind,
        started: OffsetDateTime,
        manual: bool,
        pages: u64,
        stats: PageStats,
        swept: u64,
        end: End,
    ) -> RunRecord {
        let now = self.now();
        let (outcome, message, error_code, cursor_lost, problem) = match &end {
            End::Done { warning: None } => {
                (RunOutcome::Completed, summary(kind, &stats, swept), None, false, None)
            }
            End::Done { warning: Some(w) } => (
                RunOutcome::CompletedWithWarning,
                format!("{} {w}", summary(kind, &stats, swept)),
                None,
                false,
                None,
            ),
            End::TimedOut => (
                RunOutcome::TimedOut,
                format!(
                    "Stopped after its {} minutes; {} The next run continues where this one stopped.",
                    (now - started).whole_minutes().max(1),
                    summary(kind, &stats, 0)
                ),
                None,
                false,
                None,
            ),
            End::Failed(e) => {
                let lost = matches!(
                    e,
                    DepError::CursorExpired | DepError::CursorInvalid | DepError::CursorRequired
                );
                (
                    RunOutcome::Failed,
                    e.admin_message(),
                    e.code().map(|c| c.as_str().to_string()),
                    lost,
                    Some(e.clone()),
                )
            }
            End::Store(StoreError::Superseded) => (
                RunOutcome::Failed,
                "Stopped: a newer run of this token took over.".into(),
                None,
                false,
                None,
            ),
            End::Store(e) => (
                RunOutcome::Failed,
                format!("The inventory could not be written: {e}"),
                None,
                false,
                None,
            ),
        };
        let record = RunRecord {
            kind,
            started_at: started,
            ended_at: now,
            outcome,
            pages,
            stats,
            swept,
            message,
            error_code,
            manual,
        };
        self.inner.store.metrics().sync_run(
            token.as_str(),
            match kind {
                RunKind::Full => "full",
                RunKind::FullNewOnly => "full_new_only",
                RunKind::Delta => "delta",
            },
            match outcome {
                RunOutcome::Completed => "completed",
                RunOutcome::CompletedWithWarning => "completed_with_warning",
                RunOutcome::Failed => "failed",
                RunOutcome::TimedOut => "timed_out",
            },
            (now - started).try_into().unwrap_or_default(),
        );
        let token_s = token.clone();
        let rec = record.clone();
        let failed = matches!(outcome, RunOutcome::Failed);
        let saved = self
            .inner
            .store
            .write(move |wtx| {
                let mut s = state::load_w(wtx, &token_s)?;
                if failed {
                    s.budget.failed(kind, cursor_lost);
                    if cursor_lost {
                        s.cursor = None;
                        s.in_progress = None;
                    }
                    s.consecutive_failures += 1;
                    s.backoff_until = Some(now + failure_backoff(s.consecutive_failures));
                } else {
                    s.consecutive_failures = 0;
                    s.backoff_until = None;
                }
                state::push_history_in(wtx, &token_s, &mut s, rec)?;
                state::save_in(wtx, &token_s, &s)
            })
            .await;
        match saved {
            Ok(()) => self.inner.progress.saved(token),
            Err(e) => {
                // Typically the disk that failed the run: the page still shows how it ended.
                log::error!(token = token.as_str(); "could not record the end of a sync run: {e}");
                self.inner.progress.keep_unsaved(token, record.clone());
            }
        }
        let problem = match problem {
            Some(e) if is_token_problem(&e) => Some(crate::tokens::TokenProblem {
                code: e
                    .code()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_else(|| "authentication".into()),
                message: e.admin_message(),
                at: now,
                blocking: true,
            }),
            _ => None,
        };
        if failed && problem.is_none() {
            // A transient failure says nothing about the token itself.
        } else if let Err(e) = self.inner.tokens.set_problem(token, problem).await {
            log::warn!(token = token.as_str(); "could not record the token's state: {e}");
        }
        match outcome {
            RunOutcome::Failed => {
                log::warn!(token = token.as_str(); "sync run failed: {}", record.message)
            }
            _ => log::info!(token = token.as_str(); "sync run ended: {}", record.message),
        }
        record
    }
}

fn mode_kind(run: &InProgress) -> Option<RunKind> {
    run.kind
}

fn cursor_loop_warning() -> String {
    "Apple answered with the same cursor and \"more to follow\" again (a known Apple fault); this run stopped there instead of looping, and the next run will continue.".into()
}

fn summary(kind: RunKind, s: &PageStats, swept: u64) -> String {
    let what = match kind {
        RunKind::Full => "Full sync",
        RunKind::FullNewOnly => "Full sync (new devices only, inside the 7-day budget)",
        RunKind::Delta => "Sync",
    };
    let mut text = format!(
        "{what}: {} devices seen, {} added, {} modified, {} removed",
        grouped(s.seen),
        grouped(s.added),
        grouped(s.modified),
        grouped(s.removed)
    );
    if swept > 0 {
        text += &format!(", {} no longer assigned to this server", grouped(swept));
    }
    text + "."
}

/// A count with thousands separators ("20,000"): the admin page shows this message as is.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Waits between automatic runs after consecutive failures: 5, 15, 45 minutes…, at most 6 h.
pub(super) fn failure_backoff(failures: u32) -> Duration {
    let minutes = 5i64.saturating_mul(3i64.saturating_pow(failures.saturating_sub(1).min(10)));
    Duration::minutes(minutes.min(6 * 60))
}

/// Errors that mean the token itself is unusable until the admin acts.
fn is_token_problem(e: &DepError) -> bool {
    matches!(
        e,
        DepError::TokenExpired { .. }
            | DepError::AuthenticationFailed { .. }
            | DepError::TokenRejected { .. }
            | DepError::TermsNotSigned
            | DepError::AccessDenied
            | DepError::Unauthorized
    )
}

#[cfg(test)]
mod grouped_tests {
    #[test]
    fn counts_get_thousands_separators() {
        let cases = [(0, "0"), (999, "999"), (1_000, "1,000"), (20_000, "20,000")];
        for (n, want) in cases {
            assert_eq!(super::grouped(n), want);
        }
        assert_eq!(super::grouped(1_234_567), "1,234,567");
    }
}
