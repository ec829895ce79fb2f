//! What the profile module needs of the inventory: a compact view of devices (token, family,
//! Apple's profile status) and writing the result of an assign or remove into a device's
//! record and timeline, inside the caller's transaction.
//!
//! Apple reports the same change in its next sync (`modified`, dep-api.md §3.2 item 8); writing
//! it at once makes the page show "Profile assigned" without waiting for that sync, and the
//! sync's later record is applied like any other.

use super::index::Changes;
use super::records::{BY_SERIAL, BY_TOKEN, DeviceRecord, TIMELINE, TimelineEvent, token_prefix};
use crate::apple::dep::ProfileStatus;
use crate::store::{self, StoreError};
use redb::{ReadTransaction, WriteTransaction};
use time::OffsetDateTime;

/// A device as profile assignment sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFacts {
    pub serial: String,
    pub token: String,
    /// Apple's `device_family` (`iPhone`, `iPad`, `iPod`, `Mac`, `AppleTV`, `Vision`).
    pub family: Option<String>,
    /// Apple's `model` (e.g. "iPhone 15 Pro"), for the device name template.
    pub model: Option<String>,
    pub profile_uuid: Option<String>,
    pub profile_status: Option<ProfileStatus>,
    /// Apple no longer lists it for this server.
    pub removed: bool,
    /// Enrolled with this appliance (an edited profile reaches it only after an erase).
    pub enrolled: bool,
}

impl DeviceFacts {
    fn of(r: &DeviceRecord) -> DeviceFacts {
        DeviceFacts {
            serial: r.serial.clone(),
            token: r.token.clone(),
            family: r.apple.device_family.clone(),
            model: r.apple.model.clone(),
            profile_uuid: r.apple.profile_uuid.clone().filter(|u| !u.is_empty()),
            profile_status: r.apple.profile_status.clone(),
            removed: r.removed.is_some(),
            enrolled: r.enrollment.as_deref() == Some(super::ENROLLED),
        }
    }

    /// Without a profile at Apple: none ever, or removed.
    pub fn has_no_profile(&self) -> bool {
        matches!(
            self.profile_status,
            None | Some(ProfileStatus::Empty) | Some(ProfileStatus::Removed)
        ) || self.profile_uuid.is_none()
    }
}

/// The facts of each of `serials` that the inventory knows, in that order.
pub fn facts_in(rtx: &ReadTransaction, serials: &[String]) -> Result<Vec<DeviceFacts>, StoreError> {
    let table = match rtx.open_table(BY_SERIAL) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![]),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::with_capacity(serials.len());
    for s in serials {
        if let Some(r) = store::get::<DeviceRecord, _>(&table, s.as_bytes())? {
            out.push(DeviceFacts::of(&r));
        }
    }
    Ok(out)
}

/// The facts of every device of `token`, removed ones included.
pub fn token_facts_in(rtx: &ReadTransaction, token: &str) -> Result<Vec<DeviceFacts>, StoreError> {
    let (by_token, by_serial) = match (rtx.open_table(BY_TOKEN), rtx.open_table(BY_SERIAL)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(redb::TableError::TableDoesNotExist(_)), _)
        | (_, Err(redb::TableError::TableDoesNotExist(_))) => return Ok(vec![]),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let (start, end) = token_prefix(token);
    let mut out = Vec::new();
    for row in by_token.range(start.as_slice()..end.as_slice())? {
        let (k, _) = row?;
        let serial = &k.value()[token.len() + 1..];
        if let Some(r) = store::get::<DeviceRecord, _>(&by_serial, serial)? {
            out.push(DeviceFacts::of(&r));
        }
    }
    Ok(out)
}

/// A profile change Apple confirmed for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileChange {
    /// Assigned `profile_uuid` (Apple answered SUCCESS).
    Assigned { profile_uuid: String },
    /// The assignment was removed (Apple answered SUCCESS to a remove).
    Removed,
}

/// Writes `change` into `serial`'s record (profile uuid, status, assign time) with a timeline
/// event saying `message`. A serial the inventory does not know is left alone.
pub fn record_profile_change_in(
    wtx: &WriteTransaction,
    serial: &str,
    change: &ProfileChange,
    message: String,
    now: OffsetDateTime,
) -> Result<Changes, StoreError> {
    let kind = match change {
        ProfileChange::Assigned { .. } => "profile_assigned",
        ProfileChange::Removed => "profile_removed",
    };
    super::enrollment::update_with_event_in(wtx, serial, kind, message, now, |r| match change {
        ProfileChange::Assigned { profile_uuid } => {
            r.apple.profile_uuid = Some(profile_uuid.clone());
            r.apple.profile_status = Some(ProfileStatus::Assigned);
            r.apple.profile_assign_time = Some(now);
            r.apple.profile_push_time = None;
        }
        ProfileChange::Removed => {
            r.apple.profile_status = Some(ProfileStatus::Removed);
            r.apple.profile_push_time = None;
        }
    })
}

/// Adds a timeline event to `serial` without changing its record otherwise (an assignment
/// that failed, was throttled, or is waiting). Unknown serials are left alone.
pub fn note_in(
    wtx: &WriteTransaction,
    serial: &str,
    kind: &str,
    message: String,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut by_serial = wtx.open_table(BY_SERIAL)?;
    let Some(mut r): Option<DeviceRecord> = store::get(&by_serial, serial.as_bytes())? else {
        return Ok(());
    };
    let mut timeline = wtx.open_table(TIMELINE)?;
    super::apply::push_event(
        &mut timeline,
        &mut r,
        TimelineEvent { at: now, kind: kind.into(), message },
    )?;
    // Only the event counter changed: the list index has nothing to update.
    store::put(&mut by_serial, serial.as_bytes(), &r)?;
    Ok(())
}
