//! Changes an admin makes in Apple Business Manager, applied to the simulated world: add
//! devices, move them between MDM servers, release them from the organisation, disown, and
//! mark profiles pushed (what a device does during Setup Assistant).
//!
//! Each change logs the sync events Apple would show (dep-api.md §3.2 item 8), honouring the
//! switchable [`crate::dep::world::Quirks`]. Pure: time comes in as `now`.

use crate::dep::device::{self, Op, ProfileStatus, SimDevice, When};
use crate::dep::world::{Location, ServerId, World, WorldError};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;

/// Largest batch the portal adds in one request (keeps a request bounded).
pub const MAX_ADD: usize = 500_000;

/// What a portal change did, per serial.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ChangeReport {
    pub changed: Vec<String>,
    /// Serials the organisation does not have.
    pub unknown: Vec<String>,
}

impl World {
    /// Adds `count` generated devices plus the explicit `serials` to a server (or to the
    /// organisation's unassigned pool). Each arrival at a server is an `added` event.
    pub fn add_devices(
        &mut self,
        to: Option<ServerId>,
        count: usize,
        serials: &[String],
        now: OffsetDateTime,
    ) -> Result<Vec<String>, WorldError> {
        if count + serials.len() > MAX_ADD {
            return Err(WorldError::TooMany { asked: count + serials.len(), max: MAX_ADD });
        }
        if let Some(id) = to {
            self.servers
                .get(id as usize)
                .ok_or_else(|| WorldError::UnknownServer(id.to_string()))?;
        }
        let mut fresh = HashSet::new();
        for s in serials {
            if !is_serial(s) {
                return Err(WorldError::BadSerial(s.clone()));
            }
            if self.locate(s).is_some() || !fresh.insert(s.as_str()) {
                return Err(WorldError::DuplicateSerial(s.clone()));
            }
        }
        let by: Arc<str> = match to {
            Some(id) => Arc::from(self.servers[id as usize].admin_id.as_str()),
            None => Arc::from("abm-admin@example.org"),
        };
        let at = now.unix_timestamp();
        let mut added = Vec::with_capacity(count + serials.len());
        let explicit = serials.iter().map(|s| Some(s.as_str()));
        for serial in explicit.chain(std::iter::repeat_n(None, count)) {
            let mut dev = device::generate(&mut self.rng, serial, &by, at);
            while serial.is_none() && self.locate(&dev.serial).is_some() {
                dev = device::generate(&mut self.rng, None, &by, at);
            }
            added.push(dev.serial.to_string());
            self.place(Arc::new(dev), to, Op::Added, at);
        }
        Ok(added)
    }

    /// Moves devices to another server: `deleted` at the old one, and at the new one
    /// `modified` (Apple's quirk) or `added`. Devices from the unassigned pool just arrive
    /// (`added`). The profile does not travel; a move to the device's own server removes it.
    pub fn move_devices(
        &mut self,
        serials: &[String],
        to: ServerId,
        now: OffsetDateTime,
    ) -> Result<ChangeReport, WorldError> {
        if self.servers.get(to as usize).is_none() {
            return Err(WorldError::UnknownServer(to.to_string()));
        }
        let at = now.unix_timestamp();
        let by: Arc<str> = Arc::from(self.servers[to as usize].admin_id.as_str());
        let mut report = ChangeReport::default();
        for serial in serials {
            let Some(from) = self.locate(serial) else {
                report.unknown.push(serial.clone());
                continue;
            };
            if from == Location::Server(to) {
                // Re-assigning to the same server drops the profile: the server sees
                // `modified` with status `removed` (dep-api.md §3.2 item 8, a peer's bug).
                self.update_device(to, serial, at, |d| {
                    (d.profile_status != ProfileStatus::Empty)
                        .then(|| SimDevice { profile_status: ProfileStatus::Removed, ..d.clone() })
                });
                report.changed.push(serial.clone());
                continue;
            }
            let Some(dev) = self.take(serial, from, at, true, false) else { continue };
            let moved = SimDevice {
                assigned_date: at,
                assigned_by: Arc::clone(&by),
                ..dev.without_profile()
            };
            let op = match from {
                Location::Server(_) if self.quirks.move_emits_modified => Op::Modified,
                _ => Op::Added,
            };
            self.place(Arc::new(moved), Some(to), op, at);
            report.changed.push(serial.clone());
        }
        Ok(report)
    }

    /// Releases devices from the organisation (ABM "Release devices"): gone everywhere; the
    /// server sees `deleted` unless the quiet-release quirk is on.
    pub fn release_devices(
        &mut self,
        serials: &[String],
        by_replacement: bool,
        now: OffsetDateTime,
    ) -> ChangeReport {
        let emit = self.quirks.release_emits_deleted;
        self.remove_from_org(serials, None, emit, by_replacement, now)
    }

    /// `POST /devices/disown` for one server: devices it holds leave the organisation (always
    /// with a `deleted` event); others are reported unknown (`NOT_ACCESSIBLE`).
    pub fn disown(
        &mut self,
        server: ServerId,
        serials: &[String],
        now: OffsetDateTime,
    ) -> ChangeReport {
        self.remove_from_org(serials, Some(server), true, false, now)
    }

    fn remove_from_org(
        &mut self,
        serials: &[String],
        only: Option<ServerId>,
        emit: bool,
        by_replacement: bool,
        now: OffsetDateTime,
    ) -> ChangeReport {
        let at = now.unix_timestamp();
        let mut report = ChangeReport::default();
        for serial in serials {
            let loc = self.locate(serial);
            match (loc, only) {
                (Some(l), None) => {
                    self.take(serial, l, at, emit, by_replacement);
                    report.changed.push(serial.clone());
                }
                (Some(Location::Server(s)), Some(o)) if s == o => {
                    self.take(serial, Location::Server(s), at, emit, by_replacement);
                    report.changed.push(serial.clone());
                }
                _ => report.unknown.push(serial.clone()),
            }
        }
        report
    }

    /// Sets `profile_status: pushed` on devices that have a profile assigned, as when a device
    /// fetched its profile during Setup Assistant. Emits `modified`.
    pub fn mark_pushed(&mut self, serials: &[String], now: OffsetDateTime) -> ChangeReport {
        let at = now.unix_timestamp();
        let mut report = ChangeReport::default();
        for serial in serials {
            let updated = self.update_at_any_server(serial, at, |d| {
                (d.profile_uuid.is_some()).then(|| SimDevice {
                    profile_status: device::ProfileStatus::Pushed,
                    profile_push_time: When::at(at),
                    ..d.clone()
                })
            });
            if updated {
                report.changed.push(serial.clone())
            } else {
                report.unknown.push(serial.clone())
            }
        }
        report
    }

    fn update_at_any_server(
        &mut self,
        serial: &str,
        at: i64,
        f: impl FnOnce(&SimDevice) -> Option<SimDevice>,
    ) -> bool {
        match self.locate(serial) {
            Some(Location::Server(s)) => self.update_device(s, serial, at, f),
            _ => false,
        }
    }
}

/// Serials from the portal: 8–20 ASCII letters/digits (Apple's are 10–12; accept a margin).
fn is_serial(s: &str) -> bool {
    (8..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dep::device::ProfileStatus;
    use crate::dep::world::Quirks;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    /// A server whose client has started syncing, so its events are kept.
    fn watched(w: &mut World, name: &str) -> ServerId {
        let id = w.add_server(name, None, T0);
        w.fetch_page(id, None, 100, T0).unwrap();
        id
    }

    fn ops_since(w: &World, s: ServerId, seq: u64) -> Vec<(String, Op)> {
        w.servers[s as usize]
            .events
            .iter()
            .filter(|e| e.seq > seq)
            .map(|e| (e.device.serial.to_string(), e.op))
            .collect()
    }

    #[test]
    fn a_moved_device_is_deleted_at_the_old_server_and_modified_at_the_new() {
        let mut w = World::new(3, Quirks::default());
        let a = watched(&mut w, "A");
        let b = watched(&mut w, "B");
        let serial = w.add_devices(Some(a), 1, &[], T0).unwrap().remove(0);
        let seq = w.seq;
        let r = w.move_devices(&[serial.clone(), "NOPE0000".into()], b, T0).unwrap();
        assert_eq!(r.changed, vec![serial.clone()]);
        assert_eq!(r.unknown, vec!["NOPE0000".to_string()]);
        assert_eq!(ops_since(&w, a, seq), vec![(serial.clone(), Op::Deleted)]);
        assert_eq!(ops_since(&w, b, seq), vec![(serial.clone(), Op::Modified)]);
        assert!(w.device_at(a, &serial).is_none() && w.device_at(b, &serial).is_some());
    }

    #[test]
    fn without_the_quirk_a_moved_device_is_added() {
        let mut w = World::new(3, Quirks { move_emits_modified: false, ..Quirks::default() });
        let a = watched(&mut w, "A");
        let b = watched(&mut w, "B");
        let serial = w.add_devices(Some(a), 1, &[], T0).unwrap().remove(0);
        let seq = w.seq;
        w.move_devices(std::slice::from_ref(&serial), b, T0).unwrap();
        assert_eq!(ops_since(&w, b, seq), vec![(serial, Op::Added)]);
    }

    #[test]
    fn a_quiet_release_leaves_no_event() {
        let mut w = World::new(3, Quirks { release_emits_deleted: false, ..Quirks::default() });
        let a = watched(&mut w, "A");
        let serial = w.add_devices(Some(a), 1, &[], T0).unwrap().remove(0);
        let seq = w.seq;
        let r = w.release_devices(std::slice::from_ref(&serial), false, T0);
        assert_eq!(r.changed, vec![serial.clone()]);
        assert!(ops_since(&w, a, seq).is_empty());
        assert!(w.truth().servers[0].devices.is_empty());
    }

    #[test]
    fn explicit_serials_must_be_new_and_well_formed() {
        let mut w = World::new(3, Quirks::default());
        let a = watched(&mut w, "A");
        w.add_devices(Some(a), 0, &["C02XK1ABJGH5".into()], T0).unwrap();
        assert_eq!(
            w.add_devices(None, 0, &["C02XK1ABJGH5".into()], T0),
            Err(WorldError::DuplicateSerial("C02XK1ABJGH5".into()))
        );
        assert_eq!(
            w.add_devices(None, 0, &["AA".into()], T0),
            Err(WorldError::BadSerial("AA".into()))
        );
        assert!(matches!(
            w.add_devices(None, MAX_ADD + 1, &[], T0),
            Err(WorldError::TooMany { .. })
        ));
        w.add_devices(None, 0, &["UNASSIGNED01".into()], T0).unwrap();
        assert_eq!(w.truth().unassigned, vec!["UNASSIGNED01".to_string()]);
    }

    #[test]
    fn assign_remove_and_push_update_the_profile_fields_and_log_modified() {
        use crate::dep::profiles::{AssignFaults, DeviceResult};
        let mut w = World::new(3, Quirks::default());
        let a = watched(&mut w, "A");
        let serial = w.add_devices(Some(a), 1, &[], T0).unwrap().remove(0);
        let profile = crate::dep::requests::ProfileDefinition::default();
        let seq = w.seq;
        let (uuid, res) = w.define_profile(
            a,
            profile,
            std::slice::from_ref(&serial),
            AssignFaults::default(),
            T0,
        );
        assert_eq!(res, vec![(serial.clone(), DeviceResult::Success)]);
        let d = w.device_at(a, &serial).unwrap();
        assert_eq!(d.profile_uuid.as_deref(), Some(uuid.as_str()));
        assert_eq!(d.profile_status, ProfileStatus::Assigned);
        assert_eq!(d.profile_assign_time.get(), Some(T0.unix_timestamp()));
        w.mark_pushed(std::slice::from_ref(&serial), T0);
        assert_eq!(w.device_at(a, &serial).unwrap().profile_status, ProfileStatus::Pushed);
        let res = w.remove_profile(a, &[serial.clone(), "ELSEWHERE1".into()], 0.0, T0);
        assert_eq!(res[1].1, DeviceResult::NotAccessible);
        assert_eq!(w.device_at(a, &serial).unwrap().profile_status, ProfileStatus::Removed);
        assert_eq!(ops_since(&w, a, seq).len(), 3);
        assert!(ops_since(&w, a, seq).iter().all(|(_, op)| *op == Op::Modified));
        assert!(
            w.assign_profile(a, "0000", std::slice::from_ref(&serial), AssignFaults::default(), T0)
                .is_none()
        );
    }

    #[test]
    fn a_move_to_the_same_server_removes_its_profile_with_a_modified_event() {
        use crate::dep::profiles::AssignFaults;
        let mut w = World::new(3, Quirks::default());
        let a = watched(&mut w, "A");
        let serial = w.add_devices(Some(a), 1, &[], T0).unwrap().remove(0);
        let one = std::slice::from_ref(&serial);
        let seq = w.seq;
        w.move_devices(one, a, T0).unwrap();
        assert!(ops_since(&w, a, seq).is_empty(), "no profile, nothing to remove");
        let profile = crate::dep::requests::ProfileDefinition::default();
        let (uuid, _) = w.define_profile(a, profile, one, AssignFaults::default(), T0);
        let seq = w.seq;
        let r = w.move_devices(one, a, T0).unwrap();
        assert_eq!(r.changed, vec![serial.clone()]);
        assert_eq!(ops_since(&w, a, seq), vec![(serial.clone(), Op::Modified)]);
        let d = w.device_at(a, &serial).unwrap();
        assert_eq!(
            (d.profile_status, d.profile_uuid.as_deref()),
            (ProfileStatus::Removed, Some(uuid.as_str()))
        );
    }

    #[test]
    fn disown_only_touches_the_servers_own_devices() {
        let mut w = World::new(3, Quirks::default());
        let a = watched(&mut w, "A");
        let b = watched(&mut w, "B");
        let sa = w.add_devices(Some(a), 1, &[], T0).unwrap().remove(0);
        let sb = w.add_devices(Some(b), 1, &[], T0).unwrap().remove(0);
        let r = w.disown(a, &[sa.clone(), sb.clone()], T0);
        assert_eq!((r.changed, r.unknown), (vec![sa], vec![sb.clone()]));
        assert!(w.device_at(b, &sb).is_some());
    }
}
