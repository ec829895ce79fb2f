//! Enrollment progress written by the MDM stage: a device's `enrollment` state (which decides
//! the lifecycle "Enrolled" / "Checked out") and timeline notes, inside the caller's
//! transaction so MDM's own tables and the inventory commit together.

use super::records::{BY_SERIAL, Changes, DeviceRecord, TimelineEvent, TimelineKind};
use crate::ids::Serial;
use crate::store::{self, StoreError};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A device's enrollment state as the MDM stage writes it into the inventory record. Stored
/// as the snake_case word (`enrolled`, …), the same words stored before this type existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Authenticated with MDM, not yet released.
    Enrolling,
    /// Released from "Awaiting final configuration" (or never held there): lifecycle "Enrolled".
    Enrolled,
    /// The device checked out of MDM: lifecycle "Checked out".
    CheckedOut,
    /// An erase was acknowledged: the device runs Setup Assistant and enrolls again.
    Erased,
}

impl EnrollmentState {
    pub const ALL: [EnrollmentState; 4] = [
        EnrollmentState::Enrolling,
        EnrollmentState::Enrolled,
        EnrollmentState::CheckedOut,
        EnrollmentState::Erased,
    ];
}

/// Sets `serial`'s enrollment state to `state` and adds a timeline event `kind` saying
/// `message`. Unknown serials are left alone (empty changes).
pub fn set_enrollment_in(
    wtx: &WriteTransaction,
    serial: &Serial,
    state: EnrollmentState,
    kind: TimelineKind,
    message: String,
    now: OffsetDateTime,
) -> Result<Changes, StoreError> {
    update_with_event_in(wtx, serial, kind, message, now, |r| {
        r.enrollment = Some(state);
    })
}

/// Changes `serial`'s record with `change` and adds a timeline event, in one go; unknown
/// serials are left alone. The changed record goes to the list index through the result.
pub(super) fn update_with_event_in(
    wtx: &WriteTransaction,
    serial: &Serial,
    kind: TimelineKind,
    message: String,
    now: OffsetDateTime,
    change: impl FnOnce(&mut DeviceRecord),
) -> Result<Changes, StoreError> {
    let mut by_serial = wtx.open_table(BY_SERIAL)?;
    let mut timeline = super::timeline::Timeline::open(wtx)?;
    let event = TimelineEvent { at: now, kind, message };
    let updated = update_with_event(&mut by_serial, &mut timeline, serial, event, change)?;
    Ok(Changes { upserted: updated.into_iter().collect(), removed: vec![] })
}

/// [`update_with_event_in`] with the tables already open (batches open them once); the
/// changed record, or `None` for an unknown serial.
pub(super) fn update_with_event(
    by_serial: &mut store::WriteTable<'_>,
    timeline: &mut super::timeline::Timeline<'_>,
    serial: &Serial,
    event: TimelineEvent,
    change: impl FnOnce(&mut DeviceRecord),
) -> Result<Option<DeviceRecord>, StoreError> {
    let Some(mut r): Option<DeviceRecord> = store::get(&*by_serial, serial.as_bytes())? else {
        return Ok(None);
    };
    change(&mut r);
    r.updated_at = event.at;
    super::timeline::push_event(timeline, &mut r, event)?;
    store::put(by_serial, serial.as_bytes(), &r)?;
    Ok(Some(r))
}
