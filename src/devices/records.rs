//! The inventory's tables and stored records.

use crate::apple::dep::{Device, ProfileStatus};
use crate::ids::{Serial, TokenId};
use crate::store::{self, StoreError, Table};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Serial → [`DeviceRecord`]. A token's devices are found by the record's own `token` in a
/// scan of this table ([`each_of_token`]), not through an index: the sweep after a full fetch, the
/// profile scan and the token delete guard are rare next to the sync's writes, and an index
/// cost each new device a second B-tree insert on the store's one writer (the larger part of a
/// first sync's store work after the record itself). The list index in memory keeps the
/// per-token counts the pages show.
pub(super) const BY_SERIAL: Table = store::table("devices.by_serial");
/// `serial \0 sequence (u64 BE)` → [`TimelineEvent`]: what happened to a device after it
/// first appeared (its arrival is the record's `first_seen`, not a row, so a 200,000-device
/// first sync writes one row per device, not two).
pub(super) const TIMELINE: Table = store::table("devices.timeline");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
/// Schema 3 also had `devices.by_token` (`token \0 serial` → empty); schema 4 drops it
/// (`store::migrate`).
pub const TABLES: &[Table] = &[BY_SERIAL, TIMELINE];

/// Every device record of each of `tokens`, removed ones included: grouped by token in the
/// order of `tokens`, in serial order within each, from one scan of `by_serial`.
pub(super) fn of_tokens(
    by_serial: &(impl ReadableTable<&'static [u8], &'static [u8]> + redb::TableHandle),
    tokens: &[TokenId],
) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut groups: Vec<Vec<DeviceRecord>> = tokens.iter().map(|_| Vec::new()).collect();
    for row in by_serial.iter()? {
        let (_, v) = row?;
        let r: DeviceRecord = store::decode(by_serial.name(), v.value())?;
        if let Some(i) = tokens.iter().position(|t| *t == r.token) {
            groups[i].push(r);
        }
    }
    Ok(groups.into_iter().flatten().collect())
}

/// The device records of `token` that `keep` accepts, in serial order. Only those are held
/// in memory: the sweep after a full fetch of 200,000 devices keeps the few missing ones,
/// not every record of the token.
pub(super) fn of_token_where(
    by_serial: &(impl ReadableTable<&'static [u8], &'static [u8]> + redb::TableHandle),
    token: &TokenId,
    keep: impl Fn(&DeviceRecord) -> bool,
) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut kept = Vec::new();
    each_of_token(by_serial, token, |r| {
        if keep(&r) {
            kept.push(r);
        }
    })?;
    Ok(kept)
}

/// Calls `f` with each device record of `token`, one at a time, in serial order.
pub(super) fn each_of_token(
    by_serial: &(impl ReadableTable<&'static [u8], &'static [u8]> + redb::TableHandle),
    token: &TokenId,
    mut f: impl FnMut(DeviceRecord),
) -> Result<(), StoreError> {
    for row in by_serial.iter()? {
        let (_, v) = row?;
        let r: DeviceRecord = store::decode(by_serial.name(), v.value())?;
        if r.token == *token {
            f(r);
        }
    }
    Ok(())
}

pub(super) fn timeline_key(serial: &Serial, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(serial.as_str().len() + 9);
    k.extend_from_slice(serial.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Why a device left the inventory's active set, as [`DeviceRecord`] keeps it (the rest of
/// adebox sees [`super::RemovalCause`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RemovalReason {
    /// Apple sent a `deleted` record (released, or moved to another MDM server).
    DeletedByApple,
    /// Released because it was replaced (AppleCare replacement; v10 `released_by_replacement`).
    ReleasedByReplacement,
    /// Absent from a full fetch (Apple sends no event for devices released in ABM).
    MissingFromFullSync,
}

impl RemovalReason {
    pub fn words(&self) -> &'static str {
        super::RemovalCause::from(self).words()
    }
}

/// When and why a device was removed, as [`DeviceRecord`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Removal {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: RemovalReason,
}

/// One device as the inventory keeps it: every field Apple gave, plus our bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct DeviceRecord {
    pub serial: Serial,
    pub token: TokenId,
    /// Apple's record, without the sync-only fields (op_type, op_date, response_status).
    pub apple: Device,
    /// `op_date` of the newest event applied: older events are ignored (dedupe by serial +
    /// latest op_date, dep-api.md §3.2 item 4).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub op_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The full sync that last listed this device (for the missing-device sweep).
    #[serde(default)]
    pub seen_in_run: Option<String>,
    #[serde(default)]
    pub removed: Option<Removal>,
    /// Enrollment progress written by later stages (contacted, enrolled, released…).
    #[serde(default)]
    pub enrollment: Option<super::EnrollmentState>,
    #[serde(default)]
    pub next_event: u64,
    /// The furthest enrollment stage a timeline event proved (contacted, attested…); the
    /// funnel's memory of events the bounded timeline may have dropped. Left out while
    /// unset, so records written before it existed read and write back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<Stage>,
}

impl DeviceRecord {
    pub fn profile_status(&self) -> Option<&ProfileStatus> {
        self.apple.profile_status.as_ref()
    }
}

/// An event on a device's timeline as `devices.timeline` keeps it (the rest of adebox sees
/// [`super::TimelineEntry`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct TimelineEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Stable code: `modified`, `moved`, `removed`, `restored`, …
    pub kind: TimelineKind,
    /// Plain words.
    pub message: String,
}

/// What a timeline event says happened. Serialised as the snake_case code the API and the
/// store have always carried (`mdm_released`, `enrollment_refused`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The device's arrival (synthesized from `first_seen`, never stored).
    Added,
    Modified,
    /// Apple moved it to this token's MDM server.
    Moved,
    /// Listed again after it was removed.
    Restored,
    Removed,
    ProfileAssigned,
    ProfileRemoved,
    /// An assignment failed, was throttled or waits.
    ProfileNotAssigned,
    MdmAuthenticated,
    MdmAwaitingConfiguration,
    MdmEnrolled,
    MdmReleased,
    MdmReleaseTimeout,
    MdmRenamed,
    MdmErased,
    MdmCheckedOut,
    MdmCommandQueued,
    MdmCommandFailed,
    /// A setup step's result while Setup Assistant waits (issue 19 item 1).
    MdmSetupStep,
    PushUnreachable,
    EnrollmentContacted,
    EnrollmentRefused,
    EnrollmentAudited,
    EnrollmentOsUpdateRequired,
    EnrollmentProfileServed,
    EnrollmentCertificateIssued,
    /// A user signed in on the enrollment sign-in page (user affinity).
    UserSignedIn,
}

impl TimelineKind {
    pub const ALL: [TimelineKind; 27] = [
        TimelineKind::Added,
        TimelineKind::Modified,
        TimelineKind::Moved,
        TimelineKind::Restored,
        TimelineKind::Removed,
        TimelineKind::ProfileAssigned,
        TimelineKind::ProfileRemoved,
        TimelineKind::ProfileNotAssigned,
        TimelineKind::MdmAuthenticated,
        TimelineKind::MdmAwaitingConfiguration,
        TimelineKind::MdmEnrolled,
        TimelineKind::MdmReleased,
        TimelineKind::MdmReleaseTimeout,
        TimelineKind::MdmRenamed,
        TimelineKind::MdmErased,
        TimelineKind::MdmCheckedOut,
        TimelineKind::MdmCommandQueued,
        TimelineKind::MdmCommandFailed,
        TimelineKind::MdmSetupStep,
        TimelineKind::PushUnreachable,
        TimelineKind::EnrollmentContacted,
        TimelineKind::EnrollmentRefused,
        TimelineKind::EnrollmentAudited,
        TimelineKind::EnrollmentOsUpdateRequired,
        TimelineKind::EnrollmentProfileServed,
        TimelineKind::EnrollmentCertificateIssued,
        TimelineKind::UserSignedIn,
    ];
}

/// A device keeps at most this many timeline events; older ones are dropped.
pub const TIMELINE_LIMIT: u64 = 200;

/// Records a write changed; hand them to [`super::Devices::apply_changes`] after the commit
/// (in `Store::write_then`'s `after`).
#[must_use = "hand the changes to Devices::apply_changes after the commit, or the list goes stale"]
#[derive(Debug, Default)]
pub struct Changes {
    pub(super) upserted: Vec<DeviceRecord>,
    pub(super) removed: Vec<Serial>,
}

impl Changes {
    /// Serials the write added or changed (not those it deleted).
    pub fn serials(&self) -> Vec<Serial> {
        self.upserted.iter().map(|r| r.serial.clone()).collect()
    }

    pub fn merge(&mut self, other: Changes) {
        self.upserted.extend(other.upserted);
        self.removed.extend(other.removed);
    }
}

/// A step of the enrollment funnel, in the order a device goes through them (stored in
/// [`DeviceRecord::reached`]; the funnel itself is computed in `funnel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// In Apple's list for one of this appliance's MDM servers.
    InApple,
    /// Apple has one of our profiles assigned to it.
    Assigned,
    /// The device downloaded the profile from Apple.
    Pushed,
    /// It posted its MachineInfo to the enrollment URL.
    Contacted,
    /// It got its attested (ACME) or SCEP identity.
    Attested,
    /// It authenticated with MDM.
    Enrolled,
    /// Released from "Awaiting final configuration" (or never held there).
    Released,
}
