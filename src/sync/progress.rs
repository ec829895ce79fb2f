//! Live progress of running syncs, in memory (the page polls it; nothing to keep across a
//! restart: an interrupted run's committed pages are in the store), and the end of a run the
//! store could not record (a full disk), so the page still says how the run ended.

use super::budget::RunKind;
use super::state::RunRecord;
use crate::devices::PageStats;
use crate::ids::TokenId;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// A run in progress as the page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
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

#[derive(Default)]
pub(super) struct ProgressBoard {
    runs: Mutex<HashMap<TokenId, Progress>>,
    /// The last run's end, per token, while the store refuses to record it.
    unsaved: Mutex<HashMap<TokenId, RunRecord>>,
}

impl ProgressBoard {
    pub fn begin(
        &self,
        token: &TokenId,
        kind: RunKind,
        started_at: OffsetDateTime,
        expected: Option<u64>,
    ) {
        let phase = if kind == RunKind::Delta { "sync" } else { "fetch" }.to_string();
        let p = Progress {
            kind,
            phase,
            started_at,
            pages: 0,
            stats: PageStats::default(),
            expected_devices: expected,
        };
        self.runs
            .lock()
            .expect("progress mutex is never held across a panic")
            .insert(token.clone(), p);
    }

    pub fn page(&self, token: &TokenId, pages: u64, stats: &PageStats) {
        if let Some(p) =
            self.runs.lock().expect("progress mutex is never held across a panic").get_mut(token)
        {
            p.pages = pages;
            p.stats = *stats;
        }
    }

    pub fn end(&self, token: &TokenId) {
        self.runs.lock().expect("progress mutex is never held across a panic").remove(token);
    }

    pub fn get(&self, token: &TokenId) -> Option<Progress> {
        self.runs.lock().expect("progress mutex is never held across a panic").get(token).cloned()
    }

    /// The store could not record how this run ended: keep it until a later end is recorded.
    pub fn keep_unsaved(&self, token: &TokenId, record: RunRecord) {
        let mut unsaved = self.unsaved.lock().expect("progress mutex is never held across a panic");
        unsaved.insert(token.clone(), record);
    }

    /// A run's end reached the store: nothing to keep in memory any more.
    pub fn saved(&self, token: &TokenId) {
        self.unsaved.lock().expect("progress mutex is never held across a panic").remove(token);
    }

    /// The later of `stored` and the end the store could not record.
    pub fn last_run(&self, token: &TokenId, stored: Option<RunRecord>) -> Option<RunRecord> {
        let unsaved = self.unsaved.lock().expect("progress mutex is never held across a panic");
        match (unsaved.get(token), stored) {
            (Some(u), Some(s)) if s.ended_at >= u.ended_at => Some(s),
            (Some(u), _) => Some(u.clone()),
            (None, s) => s,
        }
    }
}

/// Seconds left, from the pace so far towards the expected device count (full fetches).
pub fn estimate_seconds_left(p: &Progress, now: OffsetDateTime) -> Option<i64> {
    let expected = p.expected_devices?;
    let seen = p.stats.seen;
    let elapsed = (now - p.started_at).as_seconds_f64();
    if seen == 0 || elapsed <= 0.0 || p.phase != "fetch" {
        return None;
    }
    let rate = seen as f64 / elapsed;
    Some(((expected.saturating_sub(seen)) as f64 / rate).ceil() as i64)
}
