//! The device inventory: every device Apple assigned to this appliance's MDM servers, with
//! every field Apple gives, where it stands, and a timeline of what happened to it.
//!
//! Owns the tables `devices.by_serial` and `devices.timeline`; MDM writes
//! enrollment progress with [`set_enrollment_in`] in its own transaction. The sync
//! runner applies Apple's pages with [`apply_page_in`] inside its own transaction (devices
//! and cursor commit together); the API reads through [`Devices`]. Removed devices are kept
//! (with when and why) until retention deletes them.

mod apply;
mod enrollment;
pub mod funnel;
mod index;
mod lifecycle;
mod profile;
mod query;
mod records;
mod timeline;

pub use apply::{PageMode, PageStats, apply_page_in, purge_removed_in, sweep_missing_in};
pub use enrollment::{EnrollmentState, set_enrollment_in};
pub use lifecycle::Lifecycle;
pub use profile::{
    DeviceFacts, ProfileChange, ProfileResults, Unassigned, facts_in, note_in,
    record_profile_change_in, tokens_facts_in,
};
pub use query::{
    DeviceCounts, DeviceDetail, DeviceFilter, DeviceRemoval, DeviceSummary, NextDeadline,
    RemovalCause, SortKey, TimelineEntry,
};
pub use records::TABLES;
pub use records::{Changes, TIMELINE_LIMIT, TimelineKind};
pub use timeline::topic_of;

use crate::ids::{Serial, TokenId};
use crate::store::{Store, StoreError};
use redb::{ReadableTable, WriteTransaction};
use std::sync::{Arc, RwLock};

/// Removed devices are deleted this many days after removal unless Settings says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 45;

#[derive(Clone)]
pub struct Devices {
    store: Store,
    index: Arc<RwLock<IndexState>>,
    /// Held by whoever builds the index.
    building: Arc<std::sync::Mutex<()>>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices").finish_non_exhaustive()
    }
}

/// The in-memory index and the changes that arrive while it is being built.
#[derive(Default)]
struct IndexState {
    data: Option<index::IndexData>,
    building: bool,
    pending: Vec<Changes>,
}

impl Devices {
    pub fn new(store: Store) -> Devices {
        Devices {
            store,
            index: Arc::new(RwLock::new(IndexState::default())),
            building: Arc::new(std::sync::Mutex::new(())),
        }
    }

    /// Hands a committed write's changes to the list index. Call it from the `after` of
    /// [`Store::write_then`], so a dropped future cannot skip it.
    pub fn apply_changes(&self, changes: Changes) {
        let mut state = self.index.write().expect("index lock is never held across a panic");
        let building = state.building;
        match state.data.as_mut() {
            Some(data) => data.apply(&changes),
            // Being built: applied once the build is in (in commit order; upserts are idempotent).
            None if building => state.pending.push(changes),
            // Not built yet: the build will read the store, which already has these.
            None => {}
        }
    }

    /// Builds the index if it is not built (the daemon calls this after start so the first
    /// page view does not wait for it). The whole build runs in one blocking task, so a caller
    /// that gives up waiting (a timeout, shutdown) never leaves it half done.
    pub async fn warm(&self) -> Result<(), StoreError> {
        if self.index.read().expect("index lock is never held across a panic").data.is_some() {
            return Ok(());
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.warm_blocking())
            .await
            .map_err(|_| StoreError::TaskFailed)?
    }

    fn warm_blocking(&self) -> Result<(), StoreError> {
        // One builder at a time; a second caller waits here and then finds the index built.
        let _builder = self.building.lock().expect("build lock is never held across a panic");
        {
            let mut state = self.index.write().expect("index lock is never held across a panic");
            if state.data.is_some() {
                return Ok(());
            }
            // Changes committed from now on queue up; the store snapshot below comes after.
            state.building = true;
        }
        let built = self.store.read_blocking(|rtx| {
            let t = rtx.open_table(records::BY_SERIAL)?;
            let mut rows = Vec::new();
            for row in t.iter()? {
                let (_, v) = row?;
                rows.push(crate::store::decode::<records::DeviceRecord>(
                    "devices.by_serial",
                    v.value(),
                )?);
            }
            Ok::<_, StoreError>(index::IndexData::build(rows.into_iter()))
        });
        let mut state = self.index.write().expect("index lock is never held across a panic");
        state.building = false;
        let pending = std::mem::take(&mut state.pending);
        let mut data = built?;
        for c in pending {
            data.apply(&c);
        }
        log::debug!(devices = data.len(); "device index built");
        state.data = Some(data);
        Ok(())
    }

    async fn with_index<R: Send + 'static>(
        &self,
        f: impl FnOnce(&index::IndexData) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        self.warm().await?;
        let idx = self.index.clone();
        tokio::task::spawn_blocking(move || {
            let state = idx.read().expect("index lock is never held across a panic");
            f(state.data.as_ref().expect("built above; never unset"))
        })
        .await
        .map_err(|_| StoreError::TaskFailed)
    }

    /// One page of the filtered, sorted list and the number of matches.
    pub async fn list(
        &self,
        filter: DeviceFilter,
        sort: SortKey,
        descending: bool,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<DeviceSummary>, u64), StoreError> {
        let (serials, total) =
            self.with_index(move |d| d.query(&filter, sort, descending, limit, offset)).await?;
        let items = self.store.read(move |rtx| query::summaries_in(rtx, &serials)).await?;
        Ok((items, total))
    }

    pub async fn get(&self, serial: &Serial) -> Result<Option<DeviceDetail>, StoreError> {
        let serial = serial.clone();
        self.store.read(move |rtx| query::get_in(rtx, &serial)).await
    }

    /// The facts of the known ones of `serials` (profile assignment).
    pub async fn facts(&self, serials: Vec<Serial>) -> Result<Vec<DeviceFacts>, StoreError> {
        self.store.read(move |rtx| facts_in(rtx, &serials)).await
    }

    /// Active devices of `token` without a profile at Apple (the default-profile scan), from
    /// the list index: no record is decoded, which matters at 200,000 devices.
    pub async fn unassigned(&self, token: &TokenId) -> Result<Vec<Unassigned>, StoreError> {
        let token = token.clone();
        self.with_index(move |d| d.unassigned(&token)).await
    }

    /// The facts of every device of `token`, removed ones included.
    pub async fn token_facts(&self, token: &TokenId) -> Result<Vec<DeviceFacts>, StoreError> {
        let token = token.clone();
        self.store.read(move |rtx| tokens_facts_in(rtx, &[token])).await
    }

    /// The facts of every device of each of `tokens`, removed ones included, grouped by token
    /// in that order: one scan of the records however many tokens.
    pub async fn tokens_facts(&self, tokens: Vec<TokenId>) -> Result<Vec<DeviceFacts>, StoreError> {
        self.store.read(move |rtx| tokens_facts_in(rtx, &tokens)).await
    }

    /// Devices per lifecycle state, and active devices per token.
    pub async fn counts(&self) -> Result<DeviceCounts, StoreError> {
        self.with_index(|d| d.counts()).await
    }

    /// Deletes devices removed more than `days` ago.
    pub async fn purge_removed(
        &self,
        now: time::OffsetDateTime,
        days: i64,
    ) -> Result<u64, StoreError> {
        let cutoff = now - time::Duration::days(days);
        let index = self.clone();
        let (n, _) = self
            .store
            .write_then(
                move |wtx| purge_removed_in(wtx, cutoff),
                move |(_, changes)| index.apply_changes(std::mem::take(changes)),
            )
            .await?;
        Ok(n)
    }
}

/// Active devices of a token, inside a write transaction (the token delete guard).
pub fn count_for_token_in(wtx: &WriteTransaction, token: &TokenId) -> Result<u64, StoreError> {
    query::count_for_token_in(&wtx.open_table(records::BY_SERIAL)?, token)
}

#[cfg(test)]
mod tests;
