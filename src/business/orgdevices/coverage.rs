//! AppleCare coverage for the whole list, filled in the background on a budget.
//!
//! Apple has no bulk endpoint for coverage (apple-2026.md §8.5, asbmutil#13): one request per
//! device. Asking for 200,000 devices at once would be a read storm Apple answers with 429s,
//! so this task asks for one device at a time, at most one every [`Pace::spacing`] (1,800 an
//! hour by default: 200,000 devices in about 4.6 days), first the devices never asked, then
//! those asked more than [`Pace::refresh_after`] ago, in serial order from where it stopped.
//! Until Apple was asked a device's coverage is `unknown`, and the list says so. It pauses
//! while the list itself syncs and after Apple refuses (429 after the client's tries, an
//! outage), keeping the error for the page; a device's own page still asks at once. The
//! answers are kept by [`crate::business::applecare`], in its table, the same answers the
//! device page shows.

use super::{DEVICES, OrgDevices, OrgDevicesError};
use crate::business::applecare::{AppleCareError, Kept};
use crate::ids::Serial;
use crate::store::StoreError;
use redb::ReadableTable;
use std::sync::atomic::Ordering;
use std::time::Duration;
use time::OffsetDateTime;

/// Rows one look for the next device to ask may pass over (a short read transaction).
const SCAN: usize = 5000;

/// How fast the coverage is filled (tests and the sandbox quicken it).
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// The wait between two requests: the budget.
    pub spacing: Duration,
    /// A device's coverage is asked again after this.
    pub refresh_after: time::Duration,
    /// The pause after Apple refused, or after a pass found nothing to ask.
    pub pause: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            spacing: Duration::from_secs(2),
            refresh_after: time::Duration::days(30),
            pause: Duration::from_secs(600),
        }
    }
}

impl Pace {
    /// Requests an hour at most.
    pub fn per_hour(&self) -> u64 {
        (3600.0 / self.spacing.as_secs_f64().max(0.001)) as u64
    }
}

/// The filling as the page shows it.
#[derive(Clone, Debug, Default)]
pub struct FillState {
    /// Where the next look starts (after this serial).
    cursor: Option<Serial>,
    /// Devices asked since adebox started.
    pub read: u64,
    /// Apple's last refusal, until a request succeeds again.
    pub last_error: Option<String>,
}

/// What a look for the next device found.
enum Next {
    Ask(Serial),
    /// Looked at [`SCAN`] rows up to this one, none due.
    Passed(Serial),
    /// Reached the end of the list.
    End,
}

impl OrgDevices {
    /// The next device after `after` whose coverage is due.
    async fn next_due(
        &self,
        after: Option<Serial>,
        now: OffsetDateTime,
    ) -> Result<Next, OrgDevicesError> {
        let refresh = self.pace.refresh_after;
        Ok(self
            .store
            .read(move |tx| {
                let t = tx.open_table(DEVICES)?;
                let kept = Kept::open_in(tx)?;
                let range = match &after {
                    Some(k) => t.range::<&[u8]>((
                        std::ops::Bound::Excluded(k.as_bytes()),
                        std::ops::Bound::Unbounded,
                    ))?,
                    None => t.range::<&[u8]>(..)?,
                };
                let mut last = None;
                for item in range.take(SCAN) {
                    let (k, _) = item?;
                    let serial = Serial::from_stored(String::from_utf8_lossy(k.value()).into());
                    let due = match kept.get(k.value())? {
                        None => true,
                        Some(c) => now - c.fetched_at >= refresh,
                    };
                    if due {
                        return Ok(Next::Ask(serial));
                    }
                    last = Some(serial);
                }
                Ok::<_, StoreError>(match last {
                    Some(s) => Next::Passed(s),
                    None => Next::End,
                })
            })
            .await?)
    }

    /// Devices of the list whose coverage Apple was not asked yet.
    pub(super) fn unknown_in(tx: &redb::ReadTransaction) -> Result<u64, StoreError> {
        let t = tx.open_table(DEVICES)?;
        let kept = Kept::open_in(tx)?;
        // Both tables are keyed by serial: one pass over each, no look-up per device.
        let mut known = kept.serials()?;
        let mut next = known.next().transpose()?;
        let mut unknown = 0;
        for item in t.iter()? {
            let (k, _) = item?;
            let key = k.value();
            while next.as_deref().is_some_and(|s| s < key) {
                next = known.next().transpose()?;
            }
            if next.as_deref() != Some(key) {
                unknown += 1;
            }
        }
        Ok(unknown)
    }

    /// The filling as it stands.
    pub fn fill_state(&self) -> FillState {
        self.fill.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn with_fill<T>(&self, f: impl FnOnce(&mut FillState) -> T) -> T {
        f(&mut self.fill.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The background task: one device's coverage per [`Pace::spacing`] while some is due.
    pub async fn fill_coverage(self) {
        let mut wrapped = false;
        loop {
            tokio::time::sleep(self.pace.spacing).await;
            if self.running.load(Ordering::SeqCst)
                || !self.connection.configured().await.unwrap_or(false)
            {
                continue;
            }
            let after = self.with_fill(|f| f.cursor.clone());
            let from_start = after.is_none();
            let serial = match self.next_due(after, self.clock.now()).await {
                Ok(Next::Ask(s)) => s,
                Ok(Next::Passed(s)) => {
                    self.with_fill(|f| f.cursor = Some(s));
                    continue;
                }
                Ok(Next::End) => {
                    self.with_fill(|f| f.cursor = None);
                    // A whole pass from the start found nothing due: rest.
                    if from_start || wrapped {
                        wrapped = false;
                        tokio::time::sleep(self.pace.pause).await;
                    } else {
                        wrapped = true;
                    }
                    continue;
                }
                Err(e) => {
                    log::warn!("AppleCare coverage: cannot read the organisation's devices: {e}");
                    tokio::time::sleep(self.pace.pause).await;
                    continue;
                }
            };
            wrapped = false;
            let asked = match self.connection.client().await {
                Ok(client) => self.applecare.coverage(&client, &serial, true).await,
                Err(e) => Err(AppleCareError::Account(e)),
            };
            match asked {
                Ok(_) => self.with_fill(|f| {
                    f.read += 1;
                    f.last_error = None;
                    f.cursor = Some(serial);
                }),
                // Gone from the organisation since the list's sync: the next sync removes it.
                Err(AppleCareError::NotInOrganisation(_)) => {
                    self.with_fill(|f| f.cursor = Some(serial))
                }
                Err(e) => {
                    log::warn!(serial = serial.as_str(); "AppleCare coverage not read: {e}");
                    // The same device is asked again after the pause.
                    self.with_fill(|f| f.last_error = Some(e.to_string()));
                    tokio::time::sleep(self.pace.pause).await;
                }
            }
        }
    }
}
