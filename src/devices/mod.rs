//! The device inventory: every device Apple assigned to this appliance's MDM servers, with
//! every field Apple gives, where it stands, and a timeline of what happened to it.
//!
//! Owns the tables `devices.by_serial`, `devices.by_token` and `devices.timeline`. The sync
//! runner applies Apple's pages with [`apply_page_in`] inside its own transaction (devices
//! and cursor commit together); the API reads through [`Devices`]. Removed devices are kept
//! (with when and why) until retention deletes them.

mod apply;
mod lifecycle;
mod query;
mod records;

pub use apply::{
    PageMode, PageStats, TIMELINE_LIMIT, apply_page_in, purge_removed_in, sweep_missing_in,
};
pub use lifecycle::Lifecycle;
pub use query::{DeviceCounts, DeviceDetail, DeviceFilter, DeviceSummary, SortKey};
pub use records::{Removal, RemovalReason, TimelineEvent};

use crate::store::{Store, StoreError};
use redb::WriteTransaction;

/// Removed devices are deleted this many days after removal unless Settings says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 45;

#[derive(Clone, Debug)]
pub struct Devices {
    store: Store,
}

impl Devices {
    pub fn new(store: Store) -> Devices {
        Devices { store }
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
        self.store
            .read(move |rtx| query::list_in(rtx, &filter, sort, descending, limit, offset))
            .await
    }

    pub async fn get(&self, serial: &str) -> Result<Option<DeviceDetail>, StoreError> {
        let serial = serial.trim().to_string();
        self.store.read(move |rtx| query::get_in(rtx, &serial)).await
    }

    /// Devices per lifecycle state, and active devices per token.
    pub async fn counts(&self) -> Result<DeviceCounts, StoreError> {
        self.store.read(query::counts_in).await
    }

    /// Deletes devices removed more than `days` ago.
    pub async fn purge_removed(
        &self,
        now: time::OffsetDateTime,
        days: i64,
    ) -> Result<u64, StoreError> {
        let cutoff = now - time::Duration::days(days);
        self.store.write(move |wtx| purge_removed_in(wtx, cutoff)).await
    }
}

/// Active devices of a token, inside a write transaction (the token delete guard).
pub fn count_for_token_in(wtx: &WriteTransaction, token: &str) -> Result<u64, StoreError> {
    let by_token = wtx.open_table(records::BY_TOKEN)?;
    let by_serial = wtx.open_table(records::BY_SERIAL)?;
    query::count_for_token_in(&by_token, &by_serial, token)
}

#[cfg(test)]
mod tests;
