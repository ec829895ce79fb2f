//! The organisation's devices as Apple Business lists them (apple-2026.md §8.5): every device
//! the organisation owns, also those assigned to another MDM server or to none, kept in the
//! store so the page can filter and export them without asking Apple at every visit.
//!
//! Owns two tables: `business.org_devices` (serial → [`OrgDevice`]) and `business.org_sync`
//! (the sync's state, and the organisation's MDM servers as the last run saw them). A run
//! ([`sync`]) streams Apple's pages into the store one transaction per page and never holds
//! the whole list; each row carries the run that last saw it, so devices gone from Apple's
//! list are removed only at the end of a complete run (a failed run keeps the previous list).
//! Runs are one at a time, every [`EVERY`] and on demand. Each device's AppleCare coverage
//! is read from Apple in the background on a budget ([`coverage`]) and shown beside it.

mod coverage;
mod query;
mod sync;
mod wire;

pub use coverage::{FillState, Pace};
pub use query::{CHUNK, Export, Listed, OrgFilter, ServerFilter, Where};
pub use sync::{CoverageFill, SyncState};

use super::applecare::AppleCare;
use super::connect::Connection;
use crate::clock::Clock;
use crate::ids::Serial;
use crate::store::{self, Store, StoreError, Table};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use time::Duration;

/// Serial → [`OrgDevice`].
const DEVICES: Table = store::table("business.org_devices");
/// [`STATE`] → the sync's state; [`SERVERS`] → the MDM servers the last run saw.
const SYNC: Table = store::table("business.org_sync");
const STATE: &[u8] = b"state";
const SERVERS: &[u8] = b"servers";
/// This module's tables, created when the store opens.
pub const TABLES: &[Table] = &[DEVICES, SYNC];
/// How often the list is synced: Apple publishes no rate (§8.8), and the list of 200,000
/// devices is some 400 requests, so four times a day keeps it fresh on a small budget.
pub const EVERY: Duration = Duration::hours(6);

/// What Apple Business says about one device of the organisation, as stored (the API shows
/// it through its own view). Apple's dates are kept as Apple wrote them; every attribute may
/// be absent (older API versions have no migration fields, list answers no release date), so
/// each is optional and shown empty when Apple did not send it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Facts {
    pub serial: Serial,
    pub model: Option<String>,
    pub product_family: Option<String>,
    pub product_type: Option<String>,
    /// `ASSIGNED` or `UNASSIGNED`.
    pub status: Option<String>,
    /// `APPLE`, `RESELLER`, `MANUALLY_ADDED`.
    pub purchase_source_type: Option<String>,
    pub purchase_source_id: Option<String>,
    pub order_number: Option<String>,
    pub order_date: Option<String>,
    pub added_at: Option<String>,
    pub migration_capable: Option<bool>,
    /// `REQUESTED`, `STARTED`, `SUCCESS`, `FAILED`.
    pub migration_status: Option<String>,
    pub migration_deadline: Option<String>,
}

/// A stored device: Apple's facts, the server it was last seen at, and the runs that saw it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgDevice {
    #[serde(flatten)]
    pub facts: Facts,
    /// The Apple Business MDM server it is assigned to (none: unassigned, or not yet seen in
    /// a server's list).
    #[serde(default)]
    pub server_id: Option<String>,
    /// The run that last saw the device in Apple's list.
    #[serde(default)]
    pub seen_run: u64,
    /// The run that last saw it in its server's list.
    #[serde(default)]
    pub server_run: u64,
}

/// An MDM server of the organisation as the last run saw it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KnownServer {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgDevicesError {
    #[error(transparent)]
    Account(#[from] super::BusinessError),
    #[error(transparent)]
    Apple(#[from] super::ClientError),
    #[error(transparent)]
    Tokens(#[from] crate::tokens::TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The service: the synced list, its sync runs and their state.
#[derive(Clone)]
pub struct OrgDevices {
    store: Store,
    clock: Clock,
    tokens: crate::tokens::Tokens,
    connection: Connection,
    running: Arc<AtomicBool>,
    applecare: AppleCare,
    pace: Pace,
    fill: Arc<Mutex<FillState>>,
}

impl OrgDevices {
    pub fn new(
        store: Store,
        clock: Clock,
        tokens: crate::tokens::Tokens,
        connection: Connection,
        applecare: AppleCare,
        pace: Pace,
    ) -> OrgDevices {
        OrgDevices {
            store,
            clock,
            tokens,
            connection,
            running: Arc::new(AtomicBool::new(false)),
            applecare,
            pace,
            fill: Arc::new(Mutex::new(FillState::default())),
        }
    }

    /// The MDM servers the last run saw.
    pub async fn servers(&self) -> Result<Vec<KnownServer>, OrgDevicesError> {
        Ok(self
            .store
            .read(|tx| {
                let t = tx.open_table(SYNC).map_err(StoreError::from)?;
                store::get::<Vec<KnownServer>, _>(&t, SERVERS)
            })
            .await?
            .unwrap_or_default())
    }
}
