//! Reading the inventory: the filtered, sorted, paginated list, one device with its
//! timeline, counts.

use super::lifecycle::Lifecycle;
use super::records::{
    BY_SERIAL, DeviceRecord, Removal, RemovalReason, TIMELINE, TimelineEvent, TimelineKind,
    each_of_token, timeline_key,
};
use crate::apple::dep::Device;
use crate::ids::{ProfileUuid, Serial, TokenId};
use crate::store::{self, StoreError};
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Filters of the device list; empty fields match everything. Text filters ignore case.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeviceFilter {
    /// Exact serial number.
    pub serial: Option<Serial>,
    /// Serial numbers starting with this.
    pub serial_prefix: Option<String>,
    /// Model contains this (`iPad`, `iPhone 14`).
    pub model: Option<String>,
    /// Device family (`iPhone`, `iPad`, `Mac`, `AppleTV`, `Vision`).
    pub family: Option<String>,
    /// Operating system (`iOS`, `iPadOS`, `OSX`, `tvOS`, `visionOS`).
    pub os: Option<String>,
    pub token: Option<TokenId>,
    /// Only devices of these tokens (an admin's scope, `admin::Scope`); None: any token.
    /// Set by the edge from the caller, never read from a request.
    #[serde(skip)]
    pub within_tokens: Option<Vec<TokenId>>,
    /// Only these serial numbers: what the edge found by asking a later module, such as the
    /// devices enrolled for a user. Set by the edge, never read from a request.
    #[serde(skip)]
    pub serials_in: Option<std::collections::HashSet<Serial>>,
    /// Apple's profile UUID.
    pub profile: Option<ProfileUuid>,
    /// Any of these Apple profile UUIDs (one appliance profile's, across tokens and revisions).
    #[serde(default)]
    pub profile_any: Option<Vec<ProfileUuid>>,
    pub lifecycle: Option<Lifecycle>,
    /// Also list devices Apple removed (always when `lifecycle` is `removed`).
    pub include_removed: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Serial,
    Model,
    Family,
    Os,
    Token,
    Profile,
    Lifecycle,
    AssignedAt,
    FirstSeen,
    UpdatedAt,
}

/// One row of the device list.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceSummary {
    pub serial: Serial,
    pub token: TokenId,
    pub model: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub family: Option<String>,
    pub os: Option<String>,
    pub profile_uuid: Option<ProfileUuid>,
    /// Apple's profile status: `empty`, `assigned`, `pushed`, `removed`.
    pub profile_status: Option<String>,
    pub lifecycle: Lifecycle,
    /// The lifecycle in plain words.
    pub lifecycle_words: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub assigned_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub removed: Option<DeviceRemoval>,
    /// Apple Business set a migration deadline (apple-2026.md §1.3); not proof of a migration.
    #[serde(with = "time::serde::rfc3339::option")]
    pub mdm_migration_deadline: Option<OffsetDateTime>,
}

impl DeviceSummary {
    pub(super) fn of(r: &DeviceRecord) -> DeviceSummary {
        let lifecycle = Lifecycle::of(r);
        DeviceSummary {
            serial: r.serial.clone(),
            token: r.token.clone(),
            model: r.apple.model.clone(),
            description: r.apple.description.clone(),
            color: r.apple.color.clone(),
            family: r.apple.device_family.clone(),
            os: r.apple.os.clone(),
            profile_uuid: r.apple.profile_uuid.clone().map(ProfileUuid::from_stored),
            profile_status: r.apple.profile_status.as_ref().map(|s| s.as_str().to_string()),
            lifecycle,
            lifecycle_words: lifecycle.words().to_string(),
            assigned_at: r.apple.device_assigned_date,
            first_seen: r.first_seen,
            updated_at: r.updated_at,
            removed: r.removed.as_ref().map(DeviceRemoval::from),
            mdm_migration_deadline: r.apple.mdm_migration_deadline,
        }
    }
}

/// One device with everything Apple said and what happened to it.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub summary: DeviceSummary,
    /// Apple's record, every field it gave (protocol 10).
    pub apple: Device,
    /// Newest first.
    pub timeline: Vec<TimelineEntry>,
}

/// An event on a device's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: TimelineKind,
    /// Plain words.
    pub message: String,
}

impl From<TimelineEvent> for TimelineEntry {
    fn from(e: TimelineEvent) -> TimelineEntry {
        TimelineEntry { at: e.at, kind: e.kind, message: e.message }
    }
}

/// When and why a device left the inventory's active set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceRemoval {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: RemovalCause,
}

impl From<&Removal> for DeviceRemoval {
    fn from(r: &Removal) -> DeviceRemoval {
        DeviceRemoval { at: r.at, reason: RemovalCause::from(&r.reason) }
    }
}

impl From<&RemovalReason> for RemovalCause {
    fn from(r: &RemovalReason) -> RemovalCause {
        match r {
            RemovalReason::DeletedByApple => RemovalCause::DeletedByApple,
            RemovalReason::ReleasedByReplacement => RemovalCause::ReleasedByReplacement,
            RemovalReason::MissingFromFullSync => RemovalCause::MissingFromFullSync,
        }
    }
}

impl RemovalCause {
    pub fn words(&self) -> &'static str {
        match self {
            RemovalCause::DeletedByApple => "Apple reported it as removed from this MDM server",
            RemovalCause::ReleasedByReplacement => "Apple released it because it was replaced",
            RemovalCause::MissingFromFullSync => {
                "it was no longer in Apple's full list of this MDM server's devices"
            }
        }
    }
}

/// Why a device left the inventory's active set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalCause {
    /// Apple sent a `deleted` record (released, or moved to another MDM server).
    DeletedByApple,
    /// Released because it was replaced (AppleCare replacement; v10 `released_by_replacement`).
    ReleasedByReplacement,
    /// Absent from a full fetch (Apple sends no event for devices released in ABM).
    MissingFromFullSync,
}

/// The list rows of `serials`, in that order (the index decided which and in what order).
pub(super) fn summaries_in(
    rtx: &ReadTransaction,
    serials: &[String],
) -> Result<Vec<DeviceSummary>, StoreError> {
    let table = rtx.open_table(BY_SERIAL)?;
    let mut out = Vec::with_capacity(serials.len());
    for s in serials {
        if let Some(r) = store::get::<DeviceRecord, _>(&table, s.as_bytes())? {
            out.push(DeviceSummary::of(&r));
        }
    }
    Ok(out)
}

pub(super) fn get_in(
    rtx: &ReadTransaction,
    serial: &Serial,
) -> Result<Option<DeviceDetail>, StoreError> {
    let table = rtx.open_table(BY_SERIAL)?;
    let Some(r): Option<DeviceRecord> = store::get(&table, serial.as_bytes())? else {
        return Ok(None);
    };
    let mut timeline = Vec::new();
    let (start, end) = (timeline_key(serial, 0), timeline_key(serial, u64::MAX));
    for row in rtx.open_table(TIMELINE)?.range(start.as_slice()..=end.as_slice())? {
        let (_, v) = row?;
        timeline.push(store::decode::<TimelineEvent>("devices.timeline", v.value())?.into());
    }
    timeline.insert(
        0,
        TimelineEntry {
            at: r.first_seen,
            kind: TimelineKind::Added,
            message: match (&r.apple.device_assigned_by, r.apple.device_assigned_date) {
                (Some(by), Some(at)) => format!(
                    "First synced from Apple (assigned to this MDM server by {by} on {}).",
                    at.date()
                ),
                _ => "First synced from Apple.".into(),
            },
        },
    );
    timeline.reverse(); // newest first
    Ok(Some(DeviceDetail { summary: DeviceSummary::of(&r), apple: r.apple.clone(), timeline }))
}

/// Active (not removed) devices of a token.
pub(super) fn count_for_token_in(
    by_serial: &(impl ReadableTable<&'static [u8], &'static [u8]> + redb::TableHandle),
    token: &TokenId,
) -> Result<u64, StoreError> {
    let mut active = 0;
    each_of_token(by_serial, token, |r| active += u64::from(r.removed.is_none()))?;
    Ok(active)
}

/// Device counts for the dashboard and the token list.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeviceCounts {
    /// Devices per lifecycle state, removed ones included.
    pub by_lifecycle: BTreeMap<Lifecycle, u64>,
    /// Active (not removed) devices per token.
    pub by_token: BTreeMap<TokenId, u64>,
    /// The enrollment funnel (the one the dashboard and the Enrollment page show).
    pub funnel: super::funnel::Funnel,
    /// Active devices whose Apple record carries a migration deadline (apple-2026.md §1.3).
    pub migration_deadlines: u64,
    /// The soonest of those deadlines and its device (a past one first: it is the most
    /// urgent).
    pub next_deadline: Option<NextDeadline>,
}

/// The soonest migration deadline and the device that carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextDeadline {
    pub serial: Serial,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
