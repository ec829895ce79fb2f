//! Asynchronous device activities of the simulated Apple Business API (apple-2026.md §8.7):
//! assign, unassign, schedule / change / cancel an MDM migration, release.
//!
//! Owns [`Activities`]: each activity is accepted at once (`IN_PROGRESS`/`SUBMITTED`), shows
//! `PROCESSING` halfway through its delay and is applied to the shared DEP world when the
//! delay has passed, so its effect shows in the next DEP sync. Per-serial results go into
//! a CSV log. Apple does not document that log's columns (§8.7 UNCERTAIN): the simulator's
//! `serialNumber,status,message` is our guess, and clients must read it leniently. Pure: time
//! comes in as Unix seconds.

use crate::dep::migration::MigrationReport;
use crate::dep::world::{ServerId, World};
use crate::rng::SimRng;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The activity types (`activityType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Assign,
    Unassign,
    AssignWithDeadline,
    UpdateDeadline,
    CancelMigration,
    Release,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "ASSIGN_DEVICES" => Kind::Assign,
            "UNASSIGN_DEVICES" => Kind::Unassign,
            "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" => Kind::AssignWithDeadline,
            "UPDATE_MDM_MIGRATION_DEADLINE" => Kind::UpdateDeadline,
            "CANCEL_MDM_MIGRATION" => Kind::CancelMigration,
            "RELEASE_DEVICES" => Kind::Release,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Assign => "ASSIGN_DEVICES",
            Kind::Unassign => "UNASSIGN_DEVICES",
            Kind::AssignWithDeadline => "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE",
            Kind::UpdateDeadline => "UPDATE_MDM_MIGRATION_DEADLINE",
            Kind::CancelMigration => "CANCEL_MDM_MIGRATION",
            Kind::Release => "RELEASE_DEVICES",
        }
    }

    /// Whether the activity names a server (`relationships.mdmServer`).
    pub fn needs_server(self) -> bool {
        matches!(self, Kind::Assign | Kind::Unassign | Kind::AssignWithDeadline)
    }

    /// Whether the activity carries `mdmMigrationDeadlineDateTime`.
    pub fn needs_deadline(self) -> bool {
        matches!(self, Kind::AssignWithDeadline | Kind::UpdateDeadline)
    }
}

/// One serial's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct SerialResult {
    pub serial: String,
    pub ok: bool,
    pub message: String,
}

/// One activity.
#[derive(Clone, Debug)]
pub struct Activity {
    pub id: String,
    pub kind: Kind,
    pub server: Option<ServerId>,
    pub serials: Vec<String>,
    pub deadline: Option<i64>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub results: Vec<SerialResult>,
}

/// `status` and `subStatus` of an activity at a moment.
pub fn status(a: &Activity, delay: i64, now: i64) -> (&'static str, &'static str) {
    match a.completed_at {
        Some(_) if a.results.iter().all(|r| r.ok) => ("COMPLETED", "COMPLETED_WITH_SUCCESS"),
        // Partial failures still end COMPLETED (§8.7, seen live).
        Some(_) => ("COMPLETED", "COMPLETED_WITH_ERROR"),
        None if now >= a.created_at + delay / 2 => ("IN_PROGRESS", "PROCESSING"),
        None => ("IN_PROGRESS", "SUBMITTED"),
    }
}

/// The per-serial CSV log (our guess at its format, see the module comment).
pub fn csv(a: &Activity) -> String {
    let mut out = String::from("serialNumber,status,message\n");
    for r in &a.results {
        let message = r.message.replace('"', "\"\"");
        let status = if r.ok { "SUCCESS" } else { "FAILED" };
        out.push_str(&format!("{},{status},\"{message}\"\n", r.serial));
    }
    out
}

/// Every activity, and how long one takes.
#[derive(Debug)]
pub struct Activities {
    list: BTreeMap<String, Activity>,
    pub delay_secs: i64,
    rng: SimRng,
}

impl Activities {
    pub fn new(seed: u64, delay_secs: i64) -> Activities {
        Activities { list: BTreeMap::new(), delay_secs, rng: SimRng::new(seed) }
    }

    /// Accepts an activity; it is applied by a later [`Activities::settle`].
    pub fn submit(
        &mut self,
        kind: Kind,
        server: Option<ServerId>,
        serials: Vec<String>,
        deadline: Option<i64>,
        now: i64,
    ) -> Activity {
        let h = self.rng.hex_upper(16).to_lowercase();
        let id = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
        let a = Activity {
            id: id.clone(),
            kind,
            server,
            serials,
            deadline,
            created_at: now,
            completed_at: None,
            results: Vec::new(),
        };
        self.list.insert(id, a.clone());
        a
    }

    pub fn get(&self, id: &str) -> Option<&Activity> {
        self.list.get(id)
    }

    /// Applies every activity whose delay has passed to the world.
    pub fn settle(&mut self, world: &mut World, now: OffsetDateTime) {
        let secs = now.unix_timestamp();
        for a in self.list.values_mut() {
            if a.completed_at.is_none() && secs >= a.created_at + self.delay_secs {
                a.results = apply(world, a, now);
                a.completed_at = Some(secs);
            }
        }
    }
}

fn ok(serial: &str) -> SerialResult {
    SerialResult { serial: serial.to_string(), ok: true, message: String::new() }
}

fn failed(serial: &str, message: impl Into<String>) -> SerialResult {
    SerialResult { serial: serial.to_string(), ok: false, message: message.into() }
}

fn apply(world: &mut World, a: &Activity, now: OffsetDateTime) -> Vec<SerialResult> {
    let server = a.server.unwrap_or(0);
    match a.kind {
        Kind::Assign => {
            let mut out = Vec::new();
            let mut movable = Vec::new();
            for s in &a.serials {
                match world.org_device(s) {
                    None => out.push(failed(s, "The device is not in the organization.")),
                    // Re-assigning to the same server is an error in the log (§8.7, seen live).
                    Some((_, Some(at))) if at == server => {
                        out.push(failed(s, "The device is already assigned to this server."))
                    }
                    Some(_) => movable.push(s.clone()),
                }
            }
            match world.move_devices(&movable, server, now) {
                Ok(r) => out.extend(r.changed.iter().map(|s| ok(s))),
                Err(e) => out.extend(movable.iter().map(|s| failed(s, e.to_string()))),
            }
            out
        }
        Kind::Unassign => {
            let r = world.unassign_devices(&a.serials, server, now);
            let mut out: Vec<_> = r.changed.iter().map(|s| ok(s)).collect();
            out.extend(
                r.unknown.iter().map(|s| failed(s, "The device is not assigned to this server.")),
            );
            out
        }
        Kind::AssignWithDeadline => {
            let r = world.schedule_migration(&a.serials, server, a.deadline.unwrap_or(0), now);
            migration_results(&a.serials, r)
        }
        Kind::UpdateDeadline => {
            let r = world.change_migration(&a.serials, a.deadline.unwrap_or(0), now);
            migration_results(&a.serials, r)
        }
        Kind::CancelMigration => {
            migration_results(&a.serials, Ok(world.cancel_migration(&a.serials, now)))
        }
        Kind::Release => {
            let r = world.release_devices(&a.serials, false, now);
            let mut out: Vec<_> = r.changed.iter().map(|s| ok(s)).collect();
            out.extend(
                r.unknown.iter().map(|s| failed(s, "The device is not in the organization.")),
            );
            out
        }
    }
}

fn migration_results(
    serials: &[String],
    r: Result<MigrationReport, crate::dep::migration::MigrationError>,
) -> Vec<SerialResult> {
    match r {
        Err(e) => serials.iter().map(|s| failed(s, e.to_string())).collect(),
        Ok(r) => {
            let mut out: Vec<_> = r.report.changed.iter().map(|s| ok(s)).collect();
            out.extend(
                r.report
                    .unknown
                    .iter()
                    .map(|s| failed(s, "The device is not in the organization.")),
            );
            out.extend(r.refused.iter().map(|x| failed(&x.serial_number, x.reason.clone())));
            out
        }
    }
}
