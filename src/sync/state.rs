//! The sync module's tables: per-token state (budget, cursor, the run in progress) and the
//! history of recent runs.

use super::budget::{BudgetState, RunKind};
use crate::devices::PageStats;
use crate::ids::TokenId;
use crate::store::{self, StoreError, Table};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Token id → [`SyncState`].
pub(super) const STATE: Table = store::table("sync.state");
/// `token \0 sequence (u64 BE)` → [`RunRecord`], the last [`HISTORY_LIMIT`] runs per token.
pub(super) const HISTORY: Table = store::table("sync.history");
/// `"settings"` → [`super::SyncSettings`].
pub(super) const SETTINGS: Table = store::table("sync.settings");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[STATE, HISTORY, SETTINGS];

pub const HISTORY_LIMIT: u64 = 30;

/// A run that started and has not finished: enough to resume it after a crash.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InProgress {
    pub kind: Option<RunKind>,
    pub run_id: String,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub started_at: Option<OffsetDateTime>,
    /// The cursor after the last committed page of a fetch (None before the first page).
    pub fetch_cursor: Option<String>,
    pub pages: u64,
    pub stats: PageStats,
}

/// Everything the sync of one token remembers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SyncState {
    pub budget: BudgetState,
    /// The delta-sync cursor (from the last completed unrestricted fetch, advanced by syncs).
    pub cursor: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub cursor_at: Option<OffsetDateTime>,
    pub in_progress: Option<InProgress>,
    /// A manual request waiting for the worker.
    pub requested: Option<RunKind>,
    /// After failures, no automatic run before this.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub backoff_until: Option<OffsetDateTime>,
    pub consecutive_failures: u32,
    pub last_run: Option<RunRecord>,
    pub next_history: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Completed,
    /// Completed, but with something the admin should know (e.g. Apple's cursor loop).
    CompletedWithWarning,
    Failed,
    /// Stopped at the run's time limit.
    TimedOut,
}

/// One finished run as `sync.state` and `sync.history` keep it; the rest of adebox sees
/// [`super::Run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
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

pub(super) fn load_in(rtx: &ReadTransaction, token: &TokenId) -> Result<SyncState, StoreError> {
    Ok(store::get(&rtx.open_table(STATE)?, token.as_bytes())?.unwrap_or_default())
}

pub(super) fn load_w(wtx: &WriteTransaction, token: &TokenId) -> Result<SyncState, StoreError> {
    Ok(store::get(&wtx.open_table(STATE)?, token.as_bytes())?.unwrap_or_default())
}

pub(super) fn save_in(
    wtx: &WriteTransaction,
    token: &TokenId,
    state: &SyncState,
) -> Result<(), StoreError> {
    store::put(&mut wtx.open_table(STATE)?, token.as_bytes(), state)
}

pub(super) fn history_key(token: &TokenId, seq: u64) -> Vec<u8> {
    let mut k = token.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Appends a run to the token's history (bounded) and records it as the last run.
pub(super) fn push_history_in(
    wtx: &WriteTransaction,
    token: &TokenId,
    state: &mut SyncState,
    run: RunRecord,
) -> Result<(), StoreError> {
    let mut t = wtx.open_table(HISTORY)?;
    let seq = state.next_history;
    store::put(&mut t, &history_key(token, seq), &run)?;
    if seq >= HISTORY_LIMIT {
        t.remove(history_key(token, seq - HISTORY_LIMIT).as_slice())?;
    }
    state.next_history += 1;
    state.last_run = Some(run);
    Ok(())
}

/// The token's recent runs, newest first.
pub(super) fn history_in(
    rtx: &ReadTransaction,
    token: &TokenId,
) -> Result<Vec<RunRecord>, StoreError> {
    let t = rtx.open_table(HISTORY)?;
    let start = history_key(token, 0);
    let end = history_key(token, u64::MAX);
    let mut runs = Vec::new();
    for row in t.range(start.as_slice()..=end.as_slice())? {
        let (_, v) = row?;
        runs.push(store::decode("sync.history", v.value())?);
    }
    runs.reverse();
    Ok(runs)
}

/// Forgets a deleted token's sync state and history.
pub(super) fn forget_in(wtx: &WriteTransaction, token: &TokenId) -> Result<(), StoreError> {
    wtx.open_table(STATE)?.remove(token.as_bytes())?;
    let mut t = wtx.open_table(HISTORY)?;
    let start = history_key(token, 0);
    let end = history_key(token, u64::MAX);
    let keys: Vec<Vec<u8>> = t
        .range(start.as_slice()..=end.as_slice())?
        .map(|r| r.map(|(k, _)| k.value().to_vec()))
        .collect::<Result<_, _>>()?;
    for k in keys {
        t.remove(k.as_slice())?;
    }
    Ok(())
}
