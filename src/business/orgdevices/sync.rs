//! One sync of the organisation's devices, and the task that runs it every [`EVERY`].
//!
//! A run numbers itself (`run`), saves the MDM servers, then streams `GET /v1/orgDevices`
//! (1,000 a page, `links.next` followed verbatim) into the store, one transaction per page,
//! each row marked with the run. The list does not say which server a device is at (only
//! `ASSIGNED`, §8.5), and asking per device would be 200,000 requests: each server's
//! `relationships/devices` linkages are paged instead, setting the server on the rows they
//! name. Only when all of that succeeded does the sweep remove rows this run did not see and
//! clear servers no longer listing a device; a failed run leaves the previous list as it
//! was, its error and counts shown. A 429 is waited through by the client (`Retry-After`,
//! else backoff); the run counts the waits so the admin sees the budget being spent.

use super::wire::Attributes;
use super::{
    DEVICES, EVERY, KnownServer, OrgDevice, OrgDevices, OrgDevicesError, SERVERS, STATE, SYNC,
};
use crate::business::client::{BusinessClient, counting_waits};
use crate::business::wire::ListPage;
use crate::ids::Serial;
use crate::store::{self, StoreError};
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

/// Rows looked at by one sweep transaction: short transactions, so other writes go between.
const SWEEP_CHUNK: usize = 2000;
/// How often the task looks whether a run is due.
const TICK: std::time::Duration = std::time::Duration::from_secs(60);
/// A failed run is tried again after this, not after the whole [`EVERY`].
const RETRY_FAILED: Duration = Duration::hours(1);

/// The sync's stored state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SyncRecord {
    run: u64,
    /// `running`, `complete` or `failed`.
    state: String,
    #[serde(with = "time::serde::rfc3339::option")]
    started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
    pages: u64,
    devices: u64,
    rate_limited: u64,
    removed: u64,
    last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_complete_at: Option<OffsetDateTime>,
}

/// The sync as the admin sees it.
#[derive(Clone, Debug)]
pub struct SyncState {
    /// `never`, `running`, `complete`, `failed`, or `interrupted` (adebox stopped during it).
    pub state: String,
    pub run: u64,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    /// Pages fetched from Apple by this run (devices and server lists).
    pub pages: u64,
    /// Devices read by this run.
    pub devices: u64,
    /// `429 Too Many Requests` answers this run waited through.
    pub rate_limited: u64,
    /// Devices removed at the end (gone from Apple's list).
    pub removed: u64,
    pub last_error: Option<String>,
    pub last_complete_at: Option<OffsetDateTime>,
    /// When the next scheduled run starts (none without an API account).
    pub next_run_at: Option<OffsetDateTime>,
    /// The budget: hours between scheduled runs.
    pub every_hours: i64,
    /// Devices in the list now.
    pub total: u64,
    /// Whether an API account is set up.
    pub configured: bool,
    /// How far the AppleCare coverage is read.
    pub applecare: CoverageFill,
}

/// How far the list's AppleCare coverage is read, and on what budget.
#[derive(Clone, Debug)]
pub struct CoverageFill {
    /// Devices whose coverage Apple was not asked yet.
    pub unknown: u64,
    /// Devices asked since adebox started.
    pub read: u64,
    /// Requests an hour at most.
    pub per_hour: u64,
    /// A device is asked again after this many days.
    pub refresh_days: i64,
    /// Apple's last refusal, until a reading succeeds again.
    pub last_error: Option<String>,
}

/// Resets the running flag when a run ends, whichever way.
struct Running(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl OrgDevices {
    async fn record(&self) -> Result<SyncRecord, OrgDevicesError> {
        Ok(self
            .store
            .read(|tx| {
                let t = tx.open_table(SYNC).map_err(StoreError::from)?;
                store::get::<SyncRecord, _>(&t, STATE)
            })
            .await?
            .unwrap_or_default())
    }

    async fn save(&self, r: SyncRecord) -> Result<(), OrgDevicesError> {
        self.store
            .write(move |tx| {
                let mut t = tx.open_table(SYNC).map_err(StoreError::from)?;
                store::put(&mut t, STATE, &r)?;
                Ok::<_, OrgDevicesError>(())
            })
            .await
    }

    fn next_run(r: &SyncRecord) -> Option<OffsetDateTime> {
        let after = if r.state == "complete" { EVERY } else { RETRY_FAILED };
        Some(r.started_at? + after)
    }

    /// The sync's state, pages, waits, last error and next run.
    pub async fn view(&self) -> Result<SyncState, OrgDevicesError> {
        let r = self.record().await?;
        let running = self.running.load(Ordering::SeqCst);
        let state = match r.state.as_str() {
            _ if running => "running",
            "" => "never",
            "running" => "interrupted",
            s => s,
        };
        let configured = self.connection.configured().await?;
        let (total, unknown) = self
            .store
            .read(|tx| {
                let t = tx.open_table(DEVICES).map_err(StoreError::from)?;
                Ok::<_, StoreError>((t.len()?, Self::unknown_in(tx)?))
            })
            .await?;
        let fill = self.fill_state();
        let next_run_at = match (configured, running) {
            (false, _) => None,
            (true, true) => Self::next_run(&SyncRecord { state: "complete".into(), ..r.clone() }),
            (true, false) => Some(Self::next_run(&r).unwrap_or_else(|| self.clock.now())),
        };
        Ok(SyncState {
            state: state.into(),
            run: r.run,
            started_at: r.started_at,
            finished_at: r.finished_at,
            pages: r.pages,
            devices: r.devices,
            rate_limited: r.rate_limited,
            removed: r.removed,
            last_error: r.last_error,
            last_complete_at: r.last_complete_at,
            next_run_at,
            every_hours: EVERY.whole_hours(),
            total,
            configured,
            applecare: CoverageFill {
                unknown,
                read: fill.read,
                per_hour: self.pace.per_hour(),
                refresh_days: self.pace.refresh_after.whole_days(),
                last_error: fill.last_error,
            },
        })
    }

    /// Starts a run in the background unless one is going on; false when one was.
    pub fn start(&self) -> bool {
        let Some(guard) = self.begin() else { return false };
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.run_guarded(guard).await {
                log::warn!("organisation devices sync failed: {e}");
            }
        });
        true
    }

    fn begin(&self) -> Option<Running> {
        self.running
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .ok()
            .map(|_| Running(self.running.clone()))
    }

    /// Runs a sync now and waits for it; `Ok(false)` when one was already going on.
    pub async fn run_now(&self) -> Result<bool, OrgDevicesError> {
        let Some(guard) = self.begin() else { return Ok(false) };
        self.run_guarded(guard).await.map(|_| true)
    }

    /// The background task: a run whenever one is due and an account is set up.
    pub async fn run(self) {
        loop {
            tokio::time::sleep(TICK).await;
            let due = match (self.connection.configured().await, self.record().await) {
                (Ok(true), Ok(r)) => Self::next_run(&r).is_none_or(|at| at <= self.clock.now()),
                _ => false,
            };
            if due {
                self.start();
            }
        }
    }

    async fn run_guarded(&self, _guard: Running) -> Result<(), OrgDevicesError> {
        let before = self.record().await?;
        let run = before.run + 1;
        let mut r = SyncRecord {
            run,
            state: "running".into(),
            started_at: Some(self.clock.now()),
            last_complete_at: before.last_complete_at,
            ..SyncRecord::default()
        };
        self.save(r.clone()).await?;
        let outcome = match self.connection.client().await {
            Ok(client) => {
                // The run's own waits: the client is shared with actions and where-is.
                let waits = Arc::new(AtomicU64::new(0));
                let fetched = counting_waits(waits.clone(), self.fetch(&client, &mut r, &waits));
                let fetched = fetched.await;
                // Counted here too: a run that gives up on 429s saves no page to count them.
                r.rate_limited = waits.load(Ordering::Relaxed);
                fetched
            }
            Err(e) => Err(e.into()),
        };
        r.finished_at = Some(self.clock.now());
        match &outcome {
            Ok(()) => {
                r.state = "complete".into();
                r.last_complete_at = r.finished_at;
            }
            Err(e) => {
                r.state = "failed".into();
                r.last_error = Some(e.to_string());
            }
        }
        self.save(r).await?;
        outcome
    }

    /// Fetches the servers and every device, then sweeps; `r` keeps the counts as it goes.
    async fn fetch(
        &self,
        client: &BusinessClient,
        r: &mut SyncRecord,
        waits: &AtomicU64,
    ) -> Result<(), OrgDevicesError> {
        let counted = |r: &mut SyncRecord| r.rate_limited = waits.load(Ordering::Relaxed);
        let servers: Vec<KnownServer> = client
            .mdm_servers()
            .await?
            .into_iter()
            .map(|(id, a)| KnownServer { id, name: a.server_name })
            .collect();
        r.pages += 1;
        let saved = servers.clone();
        self.store
            .write(move |tx| {
                let mut t = tx.open_table(SYNC).map_err(StoreError::from)?;
                store::put(&mut t, SERVERS, &saved)?;
                Ok::<_, OrgDevicesError>(())
            })
            .await?;
        let run = r.run;
        let mut next = Some(format!("{}/v1/orgDevices?limit=1000", client.api_base()));
        while let Some(url) = next {
            let page: ListPage<Attributes> = client.call(reqwest::Method::GET, &url, None).await?;
            next = page.links.next;
            r.pages += 1;
            r.devices += page.data.len() as u64;
            counted(r);
            let rows: Vec<(String, Attributes)> =
                page.data.into_iter().map(|d| (d.id, d.attributes)).collect();
            self.write_page(rows, r.clone()).await?;
        }
        for server in &servers {
            let id = percent_encoding::utf8_percent_encode(
                &server.id,
                percent_encoding::NON_ALPHANUMERIC,
            );
            let mut next = Some(format!(
                "{}/v1/mdmServers/{id}/relationships/devices?limit=1000",
                client.api_base()
            ));
            while let Some(url) = next {
                let page: ListPage<()> = client.call(reqwest::Method::GET, &url, None).await?;
                next = page.links.next;
                r.pages += 1;
                counted(r);
                // Apple's linkage id is the serial (§8.4); one that is not a serial has no row.
                let serials: Vec<Serial> =
                    page.data.into_iter().filter_map(|d| Serial::parse(&d.id).ok()).collect();
                self.write_servers(server.id.clone(), serials, run, r.clone()).await?;
            }
        }
        r.removed = self.sweep(run).await?;
        Ok(())
    }

    /// One page of devices, with the run's counts.
    async fn write_page(
        &self,
        rows: Vec<(String, Attributes)>,
        progress: SyncRecord,
    ) -> Result<(), OrgDevicesError> {
        // Turned into rows before the transaction: the closure may be replayed, so it owns them.
        let rows: Vec<OrgDevice> =
            rows.into_iter().filter_map(|(id, a)| a.into_row(id, progress.run)).collect();
        self.store
            .write(move |tx| {
                let mut t = tx.open_table(DEVICES).map_err(StoreError::from)?;
                for mut row in rows {
                    if let Some(old) = store::get::<OrgDevice, _>(&t, row.facts.serial.as_bytes())?
                    {
                        (row.server_id, row.server_run) = (old.server_id, old.server_run);
                    }
                    store::put(&mut t, row.facts.serial.as_bytes(), &row)?;
                }
                let mut s = tx.open_table(SYNC).map_err(StoreError::from)?;
                store::put(&mut s, STATE, &progress)?;
                Ok::<_, OrgDevicesError>(())
            })
            .await
    }

    /// A page of one server's serials: the server is set on the rows it names.
    async fn write_servers(
        &self,
        server: String,
        serials: Vec<Serial>,
        run: u64,
        progress: SyncRecord,
    ) -> Result<(), OrgDevicesError> {
        self.store
            .write(move |tx| {
                let mut t = tx.open_table(DEVICES).map_err(StoreError::from)?;
                for serial in serials {
                    // A device the list did not show (it arrived meanwhile) waits for the next run.
                    let Some(mut row) = store::get::<OrgDevice, _>(&t, serial.as_bytes())? else {
                        continue;
                    };
                    row.server_id = Some(server.clone());
                    row.server_run = run;
                    store::put(&mut t, serial.as_bytes(), &row)?;
                }
                let mut s = tx.open_table(SYNC).map_err(StoreError::from)?;
                store::put(&mut s, STATE, &progress)?;
                Ok::<_, OrgDevicesError>(())
            })
            .await
    }

    /// After a complete run: removes rows the run did not see, clears servers no server
    /// listed. In chunks; a crash midway leaves rows the next complete run sweeps.
    async fn sweep(&self, run: u64) -> Result<u64, OrgDevicesError> {
        let mut after: Option<Vec<u8>> = None;
        let mut removed = 0;
        loop {
            let from = after.clone();
            let (gone, last) = self
                .store
                .write(move |tx| {
                    let mut t = tx.open_table(DEVICES).map_err(StoreError::from)?;
                    let mut stale = Vec::new();
                    let mut unserved = Vec::new();
                    let mut last = None;
                    {
                        let range = match &from {
                            Some(k) => t.range::<&[u8]>((
                                std::ops::Bound::Excluded(k.as_slice()),
                                std::ops::Bound::Unbounded,
                            )),
                            None => t.range::<&[u8]>(..),
                        }
                        .map_err(StoreError::from)?;
                        for item in range.take(SWEEP_CHUNK) {
                            let (k, v) = item.map_err(StoreError::from)?;
                            let key = k.value().to_vec();
                            let row: OrgDevice = store::decode(DEVICES_NAME, v.value())?;
                            if row.seen_run != run {
                                stale.push(key.clone());
                            } else if row.server_run != run && row.server_id.is_some() {
                                unserved.push((key.clone(), row));
                            }
                            last = Some(key);
                        }
                    }
                    for k in &stale {
                        t.remove(k.as_slice()).map_err(StoreError::from)?;
                    }
                    for (k, mut row) in unserved {
                        row.server_id = None;
                        store::put(&mut t, &k, &row)?;
                    }
                    Ok::<_, OrgDevicesError>((stale.len() as u64, last))
                })
                .await?;
            removed += gone;
            match last {
                Some(k) => after = Some(k),
                None => return Ok(removed),
            }
        }
    }
}

pub(super) const DEVICES_NAME: &str = "business.org_devices";
