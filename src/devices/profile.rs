//! What the profile module needs of the inventory: a compact view of devices (token, family,
//! Apple's profile status) and writing the result of an assign or remove into a device's
//! record and timeline, inside the caller's transaction.
//!
//! Apple reports the same change in its next sync (`modified`, dep-api.md §3.2 item 8); writing
//! it at once makes the page show "Profile assigned" without waiting for that sync, and the
//! sync's later record is applied like any other.

use super::enrollment::update_with_event;
use super::records::{BY_SERIAL, Changes, DeviceRecord, TimelineEvent, TimelineKind, of_tokens};
use crate::apple::dep::ProfileStatus;
use crate::ids::{ProfileUuid, Serial, TokenId};
use crate::store::{self, StoreError};
use redb::{ReadTransaction, WriteTransaction};
use time::OffsetDateTime;

/// A device as profile assignment sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFacts {
    pub serial: Serial,
    pub token: TokenId,
    /// Apple's `device_family` (`iPhone`, `iPad`, `iPod`, `Mac`, `AppleTV`, `Vision`).
    pub family: Option<String>,
    /// Apple's `model` (e.g. "iPhone 15 Pro"), for the device name template.
    pub model: Option<String>,
    pub profile_uuid: Option<ProfileUuid>,
    pub profile_status: Option<ProfileStatus>,
    /// Apple no longer lists it for this server.
    pub removed: bool,
    /// Enrolled with this appliance (an edited profile reaches it only after an erase).
    pub enrolled: bool,
    /// Apple's record carries `mdm_migration_deadline`: its profile must await final
    /// configuration (apple-2026.md §1.4 D3).
    pub migration_deadline: bool,
}

impl DeviceFacts {
    fn of(r: &DeviceRecord) -> DeviceFacts {
        DeviceFacts {
            serial: r.serial.clone(),
            token: r.token.clone(),
            family: r.apple.device_family.clone(),
            model: r.apple.model.clone(),
            profile_uuid: r
                .apple
                .profile_uuid
                .clone()
                .filter(|u| !u.is_empty())
                .map(ProfileUuid::from_stored),
            profile_status: r.apple.profile_status.clone(),
            removed: r.removed.is_some(),
            enrolled: r.enrollment == Some(super::EnrollmentState::Enrolled),
            migration_deadline: r.apple.mdm_migration_deadline.is_some(),
        }
    }

    /// Without a profile at Apple: none ever, or removed.
    pub fn has_no_profile(&self) -> bool {
        no_profile_at_apple(
            self.profile_status.as_ref(),
            self.profile_uuid.as_ref().map(ProfileUuid::as_str),
        )
    }
}

/// Apple has no profile of ours on the device: none ever, or removed.
pub(super) fn no_profile_at_apple(status: Option<&ProfileStatus>, uuid: Option<&str>) -> bool {
    matches!(status, None | Some(ProfileStatus::Empty) | Some(ProfileStatus::Removed))
        || uuid.is_none_or(str::is_empty)
}

/// A device without a profile at Apple, as the default-profile scan needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unassigned {
    pub serial: Serial,
    /// Apple's `device_family`.
    pub family: Option<String>,
    /// Apple's record carries `mdm_migration_deadline`.
    pub migration_deadline: bool,
}

/// The facts of each of `serials` that the inventory knows, in that order.
pub fn facts_in(rtx: &ReadTransaction, serials: &[Serial]) -> Result<Vec<DeviceFacts>, StoreError> {
    let table = rtx.open_table(BY_SERIAL)?;
    let mut out = Vec::with_capacity(serials.len());
    for s in serials {
        if let Some(r) = store::get::<DeviceRecord, _>(&table, s.as_bytes())? {
            out.push(DeviceFacts::of(&r));
        }
    }
    Ok(out)
}

/// The facts of every device of each of `tokens`, removed ones included, grouped by token in
/// that order.
pub fn tokens_facts_in(
    rtx: &ReadTransaction,
    tokens: &[TokenId],
) -> Result<Vec<DeviceFacts>, StoreError> {
    let by_serial = rtx.open_table(BY_SERIAL)?;
    Ok(of_tokens(&by_serial, tokens)?.iter().map(DeviceFacts::of).collect())
}

/// A profile change Apple confirmed for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileChange {
    /// Assigned `profile_uuid` (Apple answered SUCCESS).
    Assigned { profile_uuid: ProfileUuid },
    /// The assignment was removed (Apple answered SUCCESS to a remove).
    Removed,
}

/// Writes `change` into `serial`'s record (profile uuid, status, assign time) with a timeline
/// event saying `message`. A serial the inventory does not know is left alone.
pub fn record_profile_change_in(
    wtx: &WriteTransaction,
    serial: &Serial,
    change: &ProfileChange,
    message: String,
    now: OffsetDateTime,
) -> Result<Changes, StoreError> {
    let mut results = ProfileResults::open(wtx)?;
    results.changed(serial, change, message, now)?;
    Ok(results.finish())
}

/// Adds a timeline event to `serial` without changing its record otherwise (an assignment
/// that failed, was throttled, or is waiting). Unknown serials are left alone.
pub fn note_in(
    wtx: &WriteTransaction,
    serial: &Serial,
    kind: TimelineKind,
    message: String,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut results = ProfileResults::open(wtx)?;
    results.note(serial, kind, message, now)
}

/// Apple's answers to a batch of assignments written into the inventory inside the caller's
/// transaction, the tables opened once for the whole batch (a batch is 1000 serials).
pub struct ProfileResults<'txn> {
    by_serial: store::WriteTable<'txn>,
    timeline: super::timeline::Timeline<'txn>,
    changes: Changes,
}

impl<'txn> ProfileResults<'txn> {
    pub fn open(wtx: &'txn WriteTransaction) -> Result<Self, StoreError> {
        Ok(ProfileResults {
            by_serial: wtx.open_table(BY_SERIAL)?,
            timeline: super::timeline::Timeline::open(wtx)?,
            changes: Changes::default(),
        })
    }

    /// [`record_profile_change_in`] for one serial of the batch.
    pub fn changed(
        &mut self,
        serial: &Serial,
        change: &ProfileChange,
        message: String,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let kind = match change {
            ProfileChange::Assigned { .. } => TimelineKind::ProfileAssigned,
            ProfileChange::Removed => TimelineKind::ProfileRemoved,
        };
        let event = TimelineEvent { at: now, kind, message };
        let updated =
            update_with_event(&mut self.by_serial, &mut self.timeline, serial, event, |r| {
                match change {
                    ProfileChange::Assigned { profile_uuid } => {
                        r.apple.profile_uuid = Some(profile_uuid.to_string());
                        r.apple.profile_status = Some(ProfileStatus::Assigned);
                        r.apple.profile_assign_time = Some(now);
                        r.apple.profile_push_time = None;
                    }
                    ProfileChange::Removed => {
                        r.apple.profile_status = Some(ProfileStatus::Removed);
                        r.apple.profile_push_time = None;
                    }
                }
            })?;
        self.changes.upserted.extend(updated);
        Ok(())
    }

    /// [`note_in`] for one serial of the batch.
    pub fn note(
        &mut self,
        serial: &Serial,
        kind: TimelineKind,
        message: String,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let Some(mut r): Option<DeviceRecord> = store::get(&self.by_serial, serial.as_bytes())?
        else {
            return Ok(());
        };
        let event = TimelineEvent { at: now, kind, message };
        super::timeline::push_event(&mut self.timeline, &mut r, event)?;
        // Only the event counter changes (not `updated_at`): nothing for the list index.
        store::put(&mut self.by_serial, serial.as_bytes(), &r)
    }

    /// The changed records, for the list index after the commit.
    pub fn finish(self) -> Changes {
        self.changes
    }
}
