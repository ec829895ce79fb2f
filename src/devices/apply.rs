//! Applying Apple's fetch and sync pages to the inventory, inside the sync runner's
//! transaction (so a page's devices and the cursor after it commit together).
//!
//! Semantics (../shared/spec/dep-api.md §3.2): records of one serial are resolved by the
//! latest `op_date` (older events are ignored, also across pages); a fetched record (no
//! `op_type`) means "present"; `modified` for a serial we do not know counts as `added`
//! (Apple sends it for devices moved from another MDM server); `deleted` marks the device
//! removed but keeps it, with when and why — unless it now belongs to another token, in
//! which case the `deleted` is the old server's half of a move; a device that appears under
//! another token is moved, never duplicated.

use super::records::{
    BY_SERIAL, Changes, DeviceRecord, Removal, RemovalReason, TIMELINE, TimelineEvent,
    TimelineKind, of_token_where, timeline_key,
};
use super::timeline::push_event;
use crate::apple::dep::{Device, OpType};
use crate::ids::{Serial, TokenId};
use crate::store::{self, StoreError};
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// How a page is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageMode {
    /// A page of a full fetch, tagged with the fetch's run id for the missing-device sweep.
    /// `new_only`: inside the 7-day budget, import unknown serials and touch nothing else.
    Fetch { run_id: String, new_only: bool },
    /// A page of a delta sync.
    Sync,
}

/// What a page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl PageStats {
    pub fn add(&mut self, o: &PageStats) {
        self.seen += o.seen;
        self.added += o.added;
        self.modified += o.modified;
        self.removed += o.removed;
        self.moved += o.moved;
        self.unchanged += o.unchanged;
        self.ignored += o.ignored;
    }
}

/// Applies one page of `token`'s fetch or sync.
pub fn apply_page_in(
    wtx: &WriteTransaction,
    token: &TokenId,
    devices: &[Device],
    mode: &PageMode,
    now: OffsetDateTime,
) -> Result<(PageStats, Changes), StoreError> {
    let mut stats = PageStats { seen: devices.len() as u64, ..Default::default() };
    let mut changes = Changes::default();
    // Apple lists events in chronological order and may repeat a serial: keep the latest.
    let mut latest: HashMap<Serial, &Device> = HashMap::with_capacity(devices.len());
    let mut order: Vec<Serial> = Vec::with_capacity(devices.len());
    for d in devices {
        // Upper-cased like every serial adebox reads, so an admin's list, a MachineInfo and
        // this record meet (Apple's are upper case already; this only guards the odd one).
        let Ok(serial) = Serial::parse(&d.serial_number) else {
            log::debug!(serial = d.serial_number.as_str(); "DEP device ignored: not a serial number");
            stats.ignored += 1;
            continue;
        };
        match latest.get(&serial) {
            Some(prev) if prev.op_date > d.op_date => stats.ignored += 1,
            Some(_) => {
                stats.ignored += 1;
                latest.insert(serial, d);
            }
            None => {
                order.push(serial.clone());
                latest.insert(serial, d);
            }
        }
    }
    let mut by_serial = wtx.open_table(BY_SERIAL)?;
    let mut timeline = super::timeline::Timeline::open(wtx)?;
    for serial in &order {
        let d = latest[serial];
        let existing: Option<DeviceRecord> = store::get(&by_serial, serial.as_bytes())?;
        if let (Some(e), Some(new)) = (&existing, d.op_date)
            && e.op_date.is_some_and(|old| new < old)
        {
            stats.ignored += 1;
            continue;
        }
        let mut events = Vec::new();
        let record = match (d.op_type.as_ref(), existing) {
            (Some(OpType::Deleted), None) => {
                stats.ignored += 1;
                continue;
            }
            (Some(OpType::Deleted), Some(mut r)) => {
                if r.token != *token || r.removed.is_some() {
                    // The old server's half of a move, or already removed.
                    stats.unchanged += 1;
                    continue;
                }
                let reason = if d.released_by_replacement == Some(true) {
                    RemovalReason::ReleasedByReplacement
                } else {
                    RemovalReason::DeletedByApple
                };
                events.push(event(
                    now,
                    TimelineKind::Removed,
                    format!("Removed: {}.", reason.words()),
                ));
                if let Some(words) = deadline_left_behind(r.apple.mdm_migration_deadline, d, now) {
                    events.push(event(now, TimelineKind::Modified, words));
                }
                r.removed = Some(Removal { at: now, reason });
                r.op_date = d.op_date.or(r.op_date);
                r.updated_at = now;
                stats.removed += 1;
                r
            }
            (_, None) => {
                stats.added += 1;
                if d.mdm_migration_deadline.is_some() {
                    events.push(event(
                        now,
                        TimelineKind::Modified,
                        deadline_words(d.mdm_migration_deadline, now),
                    ));
                }
                // The timeline synthesizes "added" from first_seen; the webhooks hear it here.
                let added = event(now, TimelineKind::Added, "Added by a sync with Apple.".into());
                timeline.publish(serial, &added)?;
                DeviceRecord {
                    serial: serial.clone(),
                    token: token.clone(),
                    apple: apple_fields(d, serial),
                    op_date: d.op_date,
                    first_seen: now,
                    updated_at: now,
                    seen_in_run: run_of(mode),
                    removed: None,
                    enrollment: None,
                    next_event: 0,
                    reached: None,
                }
            }
            (_, Some(mut r)) => {
                if let PageMode::Fetch { new_only: true, .. } = mode {
                    stats.unchanged += 1;
                    continue;
                }
                let mut changed = false;
                if r.token != *token {
                    events.push(event(
                        now,
                        TimelineKind::Moved,
                        format!("Moved from token {} to token {token}.", r.token),
                    ));
                    r.token = token.clone();
                    stats.moved += 1;
                    changed = true;
                }
                if r.removed.take().is_some() {
                    events.push(event(
                        now,
                        TimelineKind::Restored,
                        "Back in Apple's list of this MDM server's devices.".into(),
                    ));
                    changed = true;
                }
                let fresh = apple_fields(d, serial);
                if fresh != r.apple {
                    if let Some(what) = describe_change(&r.apple, &fresh, now) {
                        events.push(event(now, TimelineKind::Modified, what));
                    }
                    r.apple = fresh;
                    changed = true;
                }
                r.op_date = d.op_date.or(r.op_date);
                if let Some(run) = run_of(mode) {
                    r.seen_in_run = Some(run);
                }
                if changed {
                    r.updated_at = now;
                    stats.modified += 1;
                } else {
                    stats.unchanged += 1;
                }
                r
            }
        };
        let mut record = record;
        for e in events {
            push_event(&mut timeline, &mut record, e)?;
        }
        store::put(&mut by_serial, serial.as_bytes(), &record)?;
        changes.upserted.push(record);
    }
    Ok((stats, changes))
}

/// After the last page of an unrestricted full fetch: every active device of `token` that
/// the fetch did not list is marked removed. Returns how many.
pub fn sweep_missing_in(
    wtx: &WriteTransaction,
    token: &TokenId,
    run_id: &str,
    now: OffsetDateTime,
) -> Result<(u64, Changes), StoreError> {
    let mut changes = Changes::default();
    let mut by_serial = wtx.open_table(BY_SERIAL)?;
    let missing = of_token_where(&by_serial, token, |r| {
        r.removed.is_none() && r.seen_in_run.as_deref() != Some(run_id)
    })?;
    let mut timeline = super::timeline::Timeline::open(wtx)?;
    let mut removed = 0;
    for mut r in missing {
        let reason = RemovalReason::MissingFromFullSync;
        push_event(
            &mut timeline,
            &mut r,
            event(now, TimelineKind::Removed, format!("Removed: {}.", reason.words())),
        )?;
        r.removed = Some(Removal { at: now, reason });
        r.updated_at = now;
        store::put(&mut by_serial, r.serial.as_bytes(), &r)?;
        changes.upserted.push(r);
        removed += 1;
    }
    Ok((removed, changes))
}

/// Deletes devices removed before `cutoff`, with their timelines (retention). Returns how many.
pub fn purge_removed_in(
    wtx: &WriteTransaction,
    cutoff: OffsetDateTime,
) -> Result<(u64, Changes), StoreError> {
    let mut by_serial = wtx.open_table(BY_SERIAL)?;
    let mut doomed = Vec::new();
    for row in by_serial.iter()? {
        let (_, v) = row?;
        let r: DeviceRecord = store::decode("devices.by_serial", v.value())?;
        if r.removed.as_ref().is_some_and(|rm| rm.at < cutoff) {
            doomed.push(r.serial);
        }
    }
    let mut timeline = wtx.open_table(TIMELINE)?;
    for serial in &doomed {
        by_serial.remove(serial.as_bytes())?;
        let start = timeline_key(serial, 0);
        let end = timeline_key(serial, u64::MAX);
        let keys: Vec<Vec<u8>> = timeline
            .range(start.as_slice()..=end.as_slice())?
            .map(|row| row.map(|(k, _)| k.value().to_vec()))
            .collect::<Result<_, _>>()?;
        for k in keys {
            timeline.remove(k.as_slice())?;
        }
    }
    let n = doomed.len() as u64;
    Ok((n, Changes { upserted: vec![], removed: doomed }))
}

fn event(at: OffsetDateTime, kind: TimelineKind, message: String) -> TimelineEvent {
    TimelineEvent { at, kind, message }
}

fn run_of(mode: &PageMode) -> Option<String> {
    match mode {
        PageMode::Fetch { run_id, .. } => Some(run_id.clone()),
        PageMode::Sync => None,
    }
}

/// Apple's record without the fields that describe the event rather than the device, its
/// serial in the normalised form.
fn apple_fields(d: &Device, serial: &Serial) -> Device {
    let mut a = d.clone();
    a.serial_number = serial.to_string();
    a.op_type = None;
    a.op_date = None;
    a.response_status = None;
    a.released_by_replacement = None;
    a
}

/// The timeline's words for a migration deadline (apple-2026.md §1.3). A deadline is not proof
/// that the device migrates (a new device may carry one too, §1.6), so the words say only what
/// Apple set.
pub(crate) fn deadline_words(deadline: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    match deadline {
        Some(d) => format!(
            "Apple Business set a migration deadline: {}{}.",
            d.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| d.to_string()),
            // Apple applies a past deadline at once, without offering a delay (§1.1 item 7).
            if d <= now {
                " (already past: the device moves without offering a delay)"
            } else {
                ""
            }
        ),
        None => "Apple Business no longer shows a migration deadline.".into(),
    }
}

/// A deadline on a device Apple takes off this server is recorded, without effect (nothing
/// is assigned or counted for a removed device): the one the device carried here (a cancelled
/// migration), or a new one Apple's `deleted` record carries (a move away with a deadline;
/// whether Apple sends it to the server the device leaves is not documented, so it is taken
/// if there).
fn deadline_left_behind(
    had: Option<OffsetDateTime>,
    d: &Device,
    now: OffsetDateTime,
) -> Option<String> {
    const NO_EFFECT: &str =
        "the device is no longer assigned to this server, so adebox does nothing with it";
    match (d.mdm_migration_deadline, had) {
        (Some(away), had) if had != Some(away) => Some(format!(
            "{} It is for a move away from this server: {NO_EFFECT} (enrolled here, it stays so until it moves).",
            deadline_words(Some(away), now)
        )),
        (_, Some(_)) => Some(format!("Its migration deadline no longer applies: {NO_EFFECT}.")),
        (_, None) => None,
    }
}

fn describe_change(old: &Device, new: &Device, now: OffsetDateTime) -> Option<String> {
    if old.mdm_migration_deadline != new.mdm_migration_deadline {
        return Some(deadline_words(new.mdm_migration_deadline, now));
    }
    let status = |d: &Device| {
        d.profile_status.as_ref().map(|s| s.as_str().to_string()).unwrap_or_else(|| "empty".into())
    };
    if old.profile_status != new.profile_status || old.profile_uuid != new.profile_uuid {
        return Some(format!(
            "Apple's profile status changed from {} to {}{}.",
            status(old),
            status(new),
            new.profile_uuid.as_deref().map(|u| format!(" (profile {u})")).unwrap_or_default()
        ));
    }
    if old.device_assigned_date != new.device_assigned_date {
        return Some("Assigned to this MDM server again in Apple Business Manager.".into());
    }
    Some("Apple updated the device's details.".into())
}
