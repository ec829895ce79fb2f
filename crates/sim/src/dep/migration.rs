//! MDM migrations on the simulated Apple side: an admin moves devices enrolled at one MDM
//! server to another with a deadline, changes the deadline, or cancels (apple-2026.md §1.1).
//!
//! Owns the three changes and the portal's view of [`Migration`] records (one per serial,
//! defined next to the device and kept in [`World`] beside the servers, so a device record
//! stays small). Scheduling moves the device to the destination at once
//! with `mdm_migration_deadline` set, which is what the destination sees in its sync (a move
//! shows `modified` there, so `op_type` says nothing reliable; §1.3). Cancelling puts the
//! device back at its origin as it was there, profile included (§1.1 item 6). The Apple
//! Business API simulator serves the same records (`ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE`,
//! `UPDATE_MDM_MIGRATION_DEADLINE`, `CANCEL_MDM_MIGRATION`, §8.6). Pure: time comes in as `now`.

use crate::dep::changes::ChangeReport;
use crate::dep::device::{Migration, MigrationState, Op, SimDevice, When};
use crate::dep::world::{Location, ServerId, World};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// Shortest and longest deadline, in days from now. Apple's API refuses a deadline more than
/// 90 days out with 409 (§1.1 item 2); the portal's one-day minimum is the published range.
pub const MIN_DAYS: i64 = 1;
pub const MAX_DAYS: i64 = 90;

/// A migration as the portal lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MigrationView {
    pub serial_number: String,
    pub from_server_uuid: String,
    pub to_server_uuid: String,
    pub deadline: String,
    pub scheduled_at: String,
    pub changed_at: Option<String>,
    pub state: MigrationState,
}

/// Why a migration change was refused, in the words Apple's API uses for a 409.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MigrationError {
    #[error(
        "the deadline must be between {MIN_DAYS} and {MAX_DAYS} days from now (it is {days} days away); pick a date in that range"
    )]
    DeadlineOutOfRange { days: i64 },
    #[error("no MDM server with uuid `{0}`; list them with GET /portal/servers")]
    UnknownServer(String),
}

fn rfc3339(secs: i64) -> String {
    crate::dep::render::rfc3339(secs)
}

fn check_deadline(deadline: i64, now: i64) -> Result<(), MigrationError> {
    let away = deadline - now;
    if !(MIN_DAYS * 86_400..=MAX_DAYS * 86_400).contains(&away) {
        return Err(MigrationError::DeadlineOutOfRange { days: away.div_euclid(86_400) });
    }
    Ok(())
}

/// Per-serial outcome of a migration change: the serials changed, those the organisation does
/// not have, and those refused with the reason.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct MigrationReport {
    #[serde(flatten)]
    pub report: ChangeReport,
    pub refused: Vec<Refused>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Refused {
    pub serial_number: String,
    pub reason: String,
}

impl MigrationReport {
    fn refuse(&mut self, serial: &str, reason: impl Into<String>) {
        self.refused.push(Refused { serial_number: serial.to_string(), reason: reason.into() });
    }
}

impl World {
    /// Schedules the migration of devices enrolled at another MDM server to `to` with a
    /// deadline (Unix seconds). Devices in the unassigned pool, already at `to`, or already
    /// migrating are refused one by one; a deadline out of range refuses the whole request.
    pub fn schedule_migration(
        &mut self,
        serials: &[String],
        to: ServerId,
        deadline: i64,
        now: OffsetDateTime,
    ) -> Result<MigrationReport, MigrationError> {
        let at = now.unix_timestamp();
        check_deadline(deadline, at)?;
        if self.servers.get(to as usize).is_none() {
            return Err(MigrationError::UnknownServer(to.to_string()));
        }
        let by: Arc<str> = Arc::from(self.servers[to as usize].admin_id.as_str());
        let mut out = MigrationReport::default();
        for serial in serials {
            let Some(location) = self.locate(serial) else {
                out.report.unknown.push(serial.clone());
                continue;
            };
            if self.migrations.get(serial.as_str()).is_some_and(|m| m.is_open()) {
                out.refuse(
                    serial,
                    "the device already has a migration scheduled; change or cancel that one",
                );
                continue;
            }
            let from = match location {
                Location::Unassigned => {
                    out.refuse(serial, "the device is not assigned to an MDM server, so nothing manages it yet; assign it to the server instead of migrating it");
                    continue;
                }
                Location::Server(id) if id == to => {
                    out.refuse(serial, "the device is already assigned to this MDM server");
                    continue;
                }
                Location::Server(id) => id,
            };
            let Some(origin) = self.take(serial, Location::Server(from), at, true, false) else {
                continue;
            };
            let moved = SimDevice {
                assigned_date: at,
                assigned_by: Arc::clone(&by),
                mdm_migration_deadline: When::at(deadline),
                ..origin.without_profile()
            };
            // Apple "adds the device" to the destination's list: like any move, `modified`
            // under the quirk (nanodep#140 missed such devices by waiting for `added`).
            let op = if self.quirks.move_emits_modified { Op::Modified } else { Op::Added };
            self.place(Arc::new(moved), Some(to), op, at);
            self.migrations.insert(
                Arc::clone(&origin.serial),
                Migration {
                    from,
                    to,
                    deadline,
                    scheduled_at: at,
                    changed_at: None,
                    state: MigrationState::Scheduled,
                    origin,
                },
            );
            out.report.changed.push(serial.clone());
        }
        Ok(out)
    }

    /// Changes the deadline of scheduled migrations; the destination sees `modified` with the
    /// new deadline.
    pub fn change_migration(
        &mut self,
        serials: &[String],
        deadline: i64,
        now: OffsetDateTime,
    ) -> Result<MigrationReport, MigrationError> {
        let at = now.unix_timestamp();
        check_deadline(deadline, at)?;
        let mut out = MigrationReport::default();
        for serial in serials {
            let Some(to) = self.open_migration(serial, &mut out) else { continue };
            self.update_device(to, serial, at, |d| {
                Some(SimDevice { mdm_migration_deadline: When::at(deadline), ..d.clone() })
            });
            if let Some(m) = self.migrations.get_mut(serial.as_str()) {
                m.deadline = deadline;
                m.changed_at = Some(at);
                m.state = MigrationState::Changed;
            }
            out.report.changed.push(serial.clone());
        }
        Ok(out)
    }

    /// Cancels scheduled migrations: the device leaves the destination (`deleted`) and is back
    /// at its origin as it was there.
    pub fn cancel_migration(&mut self, serials: &[String], now: OffsetDateTime) -> MigrationReport {
        let at = now.unix_timestamp();
        let mut out = MigrationReport::default();
        for serial in serials {
            let Some(to) = self.open_migration(serial, &mut out) else { continue };
            if self.take(serial, Location::Server(to), at, true, false).is_none() {
                continue;
            }
            let Some(m) = self.migrations.get_mut(serial.as_str()) else { continue };
            m.state = MigrationState::Cancelled;
            m.changed_at = Some(at);
            let (from, origin) = (m.from, Arc::clone(&m.origin));
            self.place(origin, Some(from), Op::Modified, at);
            out.report.changed.push(serial.clone());
        }
        out
    }

    /// Marks migrations done, as when the device re-enrolled at the destination: the device
    /// stays there and its record loses `mdm_migration_deadline`, which the destination sees
    /// as `modified` (apple-2026.md §1.3: the field announces the next enrollment as a
    /// migration; that Apple drops it once the device migrated is **UNCERTAIN**, and a
    /// destination must cope with a deadline that disappears either way).
    pub fn complete_migration(
        &mut self,
        serials: &[String],
        now: OffsetDateTime,
    ) -> MigrationReport {
        let at = now.unix_timestamp();
        let mut out = MigrationReport::default();
        for serial in serials {
            let Some(to) = self.open_migration(serial, &mut out) else { continue };
            self.update_device(to, serial, at, |d| {
                Some(SimDevice { mdm_migration_deadline: When::NEVER, ..d.clone() })
            });
            if let Some(m) = self.migrations.get_mut(serial.as_str()) {
                m.state = MigrationState::Completed;
                m.changed_at = Some(at);
            }
            out.report.changed.push(serial.clone());
        }
        out
    }

    /// The destination of `serial`'s open migration if the device is still there; records
    /// why not otherwise.
    fn open_migration(&self, serial: &str, out: &mut MigrationReport) -> Option<ServerId> {
        let Some(loc) = self.locate(serial) else {
            out.report.unknown.push(serial.to_string());
            return None;
        };
        match self.migrations.get(serial) {
            Some(m) if m.is_open() && loc == Location::Server(m.to) => Some(m.to),
            _ => {
                out.refuse(serial, "the device has no scheduled migration; schedule one first");
                None
            }
        }
    }

    /// Every migration the portal knows, oldest first by serial.
    pub fn migrations(&self) -> Vec<MigrationView> {
        let uuid = |id: ServerId| self.server(id).map(|s| s.uuid.clone()).unwrap_or_default();
        self.migrations
            .iter()
            .map(|(serial, m)| MigrationView {
                serial_number: serial.to_string(),
                from_server_uuid: uuid(m.from),
                to_server_uuid: uuid(m.to),
                deadline: rfc3339(m.deadline),
                scheduled_at: rfc3339(m.scheduled_at),
                changed_at: m.changed_at.map(rfc3339),
                state: m.state,
            })
            .collect()
    }

    /// The migration of one serial, open or not.
    pub fn migration(&self, serial: &str) -> Option<&Migration> {
        self.migrations.get(serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dep::device::ProfileStatus;
    use crate::dep::world::Quirks;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
    const DAY: i64 = 86_400;

    fn world() -> (World, ServerId, ServerId, String) {
        let mut w = World::new(9, Quirks::default());
        let other = w.add_server("Other MDM", None, T0);
        let ours = w.add_server("adebox", None, T0);
        let serial = w.add_devices(Some(other), 1, &[], T0).unwrap().remove(0);
        w.update_device(other, &serial, 0, |d| {
            Some(SimDevice {
                profile_uuid: Some(Arc::from("THEIRS")),
                profile_status: ProfileStatus::Pushed,
                mdm_migration_deadline: When::NEVER,
                ..d.clone()
            })
        });
        // Both servers have handed out cursors, so their event logs are kept.
        w.fetch_page(other, None, 10, T0).unwrap();
        w.fetch_page(ours, None, 10, T0).unwrap();
        (w, other, ours, serial)
    }

    fn last_op(w: &World, id: ServerId) -> (Op, Arc<SimDevice>) {
        let e = w.servers[id as usize].events.last().expect("an event");
        (e.op, Arc::clone(&e.device))
    }

    #[test]
    fn scheduling_moves_the_device_with_its_deadline_and_no_profile() {
        let (mut w, other, ours, serial) = world();
        let deadline = T0.unix_timestamp() + 14 * DAY;
        let r = w.schedule_migration(std::slice::from_ref(&serial), ours, deadline, T0).unwrap();
        assert_eq!(r.report.changed, vec![serial.clone()]);
        let (op, dev) = last_op(&w, ours);
        assert_eq!(op, Op::Modified, "a move shows `modified`: op_type is no guide");
        assert_eq!(dev.mdm_migration_deadline.get(), Some(deadline));
        assert_eq!(dev.profile_status, ProfileStatus::Empty);
        assert_eq!(last_op(&w, other).0, Op::Deleted);
        assert_eq!(w.migrations()[0].state, MigrationState::Scheduled);
    }

    #[test]
    fn deadlines_outside_one_to_ninety_days_are_refused_and_nothing_moves() {
        let (mut w, other, ours, serial) = world();
        let s = std::slice::from_ref(&serial);
        for days in [0, -3, 91] {
            let deadline = T0.unix_timestamp() + days * DAY;
            let e = w.schedule_migration(s, ours, deadline, T0).unwrap_err();
            assert!(e.to_string().contains("between 1 and 90 days"), "{e}");
        }
        assert!(w.device_at(other, &serial).is_some());
        assert!(w.migrations().is_empty());
    }

    #[test]
    fn devices_not_managed_elsewhere_are_refused_one_by_one() {
        let (mut w, _, ours, serial) = world();
        let pool = w.add_devices(None, 1, &[], T0).unwrap();
        let at_ours = w.add_devices(Some(ours), 1, &[], T0).unwrap();
        let all =
            [pool.clone(), at_ours.clone(), vec![serial.clone(), "NOSUCHSERIAL1".into()]].concat();
        let r = w.schedule_migration(&all, ours, T0.unix_timestamp() + 5 * DAY, T0).unwrap();
        assert_eq!(r.report.changed, vec![serial.clone()]);
        assert_eq!(r.report.unknown, vec!["NOSUCHSERIAL1".to_string()]);
        assert_eq!(r.refused.len(), 2);
        assert!(r.refused[0].reason.contains("not assigned to an MDM server"));
        assert!(r.refused[1].reason.contains("already assigned to this MDM server"));
        let again = w.schedule_migration(&[serial], ours, T0.unix_timestamp() + DAY, T0);
        assert!(again.unwrap().refused[0].reason.contains("already has a migration"));
    }

    #[test]
    fn changing_the_deadline_shows_modified_with_the_new_one() {
        let (mut w, _, ours, serial) = world();
        let s = std::slice::from_ref(&serial);
        w.schedule_migration(s, ours, T0.unix_timestamp() + 30 * DAY, T0).unwrap();
        let sooner = T0.unix_timestamp() + 2 * DAY;
        assert!(w.change_migration(s, T0.unix_timestamp() + 95 * DAY, T0).is_err());
        let r = w.change_migration(s, sooner, T0).unwrap();
        assert_eq!(r.report.changed, s.to_vec());
        let (op, dev) = last_op(&w, ours);
        assert_eq!((op, dev.mdm_migration_deadline.get()), (Op::Modified, Some(sooner)));
        assert_eq!(w.migration(&serial).unwrap().state, MigrationState::Changed);
    }

    #[test]
    fn completing_keeps_the_device_and_drops_its_deadline() {
        let (mut w, _, ours, serial) = world();
        let s = std::slice::from_ref(&serial);
        w.schedule_migration(s, ours, T0.unix_timestamp() + 30 * DAY, T0).unwrap();
        let r = w.complete_migration(s, T0);
        assert_eq!(r.report.changed, s.to_vec());
        let (op, dev) = last_op(&w, ours);
        assert_eq!((op, dev.mdm_migration_deadline.get()), (Op::Modified, None));
        assert_eq!(w.migration(&serial).unwrap().state, MigrationState::Completed);
        assert!(w.complete_migration(s, T0).refused[0].reason.contains("no scheduled migration"));
        assert!(w.cancel_migration(s, T0).refused[0].reason.contains("no scheduled migration"));
    }

    #[test]
    fn cancelling_puts_the_device_back_at_its_origin_as_it_was() {
        let (mut w, other, ours, serial) = world();
        let s = std::slice::from_ref(&serial);
        w.schedule_migration(s, ours, T0.unix_timestamp() + 30 * DAY, T0).unwrap();
        let r = w.cancel_migration(s, T0);
        assert_eq!(r.report.changed, s.to_vec());
        assert_eq!(last_op(&w, ours).0, Op::Deleted);
        let back = w.device_at(other, &serial).unwrap();
        assert_eq!(back.profile_uuid.as_deref(), Some("THEIRS"));
        assert_eq!(back.mdm_migration_deadline, When::NEVER);
        assert!(w.cancel_migration(s, T0).refused[0].reason.contains("no scheduled migration"));
        assert!(w.change_migration(s, T0.unix_timestamp() + DAY, T0).unwrap().refused.len() == 1);
    }
}
