//! One simulated device as Apple's side holds it, and the sync events about it.
//!
//! Exposes [`SimDevice`] (immutable: a change makes a new `Arc<SimDevice>`, so fetch snapshots
//! and event records keep the state they saw), [`ProfileStatus`], [`Migration`], [`Op`] and
//! [`Event`], and
//! [`generate`] for realistic new devices. Compact on purpose: 200,000 of them must fit in a
//! few tens of megabytes, so hardware identifiers and descriptions are derived from `hw` and
//! the catalogue when rendered. Pure.

use crate::dep::catalog::{self, Model};
use crate::rng::SimRng;
use serde::{Deserialize, Serialize};
use std::num::NonZeroI64;
use std::sync::Arc;

/// `profile_status` values (dep-api.md §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileStatus {
    Empty,
    Assigned,
    Pushed,
    Removed,
}

impl ProfileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileStatus::Empty => "empty",
            ProfileStatus::Assigned => "assigned",
            ProfileStatus::Pushed => "pushed",
            ProfileStatus::Removed => "removed",
        }
    }
}

/// An optional instant in Unix seconds, 8 bytes (a plain `Option<i64>` takes 16, and there
/// are 200,000 devices with several of them). The Unix epoch itself is never a DEP date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct When(Option<NonZeroI64>);

impl When {
    pub const NEVER: When = When(None);

    pub fn at(secs: i64) -> When {
        When(NonZeroI64::new(secs))
    }

    pub fn get(self) -> Option<i64> {
        self.0.map(NonZeroI64::get)
    }
}

/// A device record. Times are Unix seconds on the simulator clock.
#[derive(Clone, Debug, PartialEq)]
pub struct SimDevice {
    pub serial: Arc<str>,
    /// Index into [`catalog::MODELS`].
    pub model: u16,
    /// Seed of the derived colour, description and hardware identifiers.
    pub hw: u64,
    /// Whether the device carries an asset tag (its value is derived from `hw`).
    pub has_asset_tag: bool,
    pub assigned_date: i64,
    pub assigned_by: Arc<str>,
    pub profile_uuid: Option<Arc<str>>,
    pub profile_status: ProfileStatus,
    pub profile_assign_time: When,
    pub profile_push_time: When,
    pub mdm_migration_deadline: When,
    pub is_replacement: bool,
}

impl SimDevice {
    pub fn model(&self) -> &'static Model {
        catalog::model(self.model)
    }

    /// The same device with no enrollment profile, as after it arrives at a new MDM server
    /// (profiles belong to one server; dep-api.md §3.2 item 8 says a re-assignment can drop the
    /// profile).
    pub fn without_profile(&self) -> SimDevice {
        SimDevice {
            profile_uuid: None,
            profile_status: ProfileStatus::Empty,
            profile_assign_time: When::NEVER,
            profile_push_time: When::NEVER,
            ..self.clone()
        }
    }
}

/// Where a migration is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationState {
    Scheduled,
    /// The deadline was changed after scheduling.
    Changed,
    Cancelled,
    /// The device re-enrolled at the destination; Apple dropped the deadline from its record.
    Completed,
}

/// One device's MDM migration from server `from` to `to` (apple-2026.md §1.1; changes in
/// `migration.rs`).
#[derive(Clone, Debug)]
pub struct Migration {
    /// Origin and destination server ([`crate::dep::world::ServerId`]).
    pub from: u32,
    pub to: u32,
    /// Unix seconds.
    pub deadline: i64,
    pub scheduled_at: i64,
    pub changed_at: Option<i64>,
    pub state: MigrationState,
    /// The device as its origin held it, restored on cancel.
    pub origin: Arc<SimDevice>,
}

impl Migration {
    pub fn is_open(&self) -> bool {
        !matches!(self.state, MigrationState::Cancelled | MigrationState::Completed)
    }
}

/// Sync `op_type` (dep-api.md §3.2 item 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Modified,
    Deleted,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Added => "added",
            Op::Modified => "modified",
            Op::Deleted => "deleted",
        }
    }
}

/// One entry of a server's sync event log.
#[derive(Clone, Debug)]
pub struct Event {
    /// Global, strictly increasing across all servers.
    pub seq: u64,
    pub at: i64,
    pub op: Op,
    /// The device as it was right after the change.
    pub device: Arc<SimDevice>,
    /// Only meaningful on `deleted` (protocol 10).
    pub released_by_replacement: bool,
}

/// A new device with a realistic model, serial and hardware; `serial` overrides the generated
/// one. The caller guarantees uniqueness of the serial.
pub fn generate(
    rng: &mut SimRng,
    serial: Option<&str>,
    assigned_by: &Arc<str>,
    now: i64,
) -> SimDevice {
    let model = catalog::pick_model(rng);
    let serial: Arc<str> = match serial {
        Some(s) => Arc::from(s),
        None => Arc::from(catalog::serial(rng, catalog::model(model).serial_len)),
    };
    let hw = rng.next_u64();
    // A few devices carry an asset tag, a migration deadline or are replacements, so clients
    // see the optional fields without every record paying for them.
    let has_asset_tag = rng.chance(0.2);
    let mdm_migration_deadline =
        if rng.chance(0.02) { When::at(now + 30 * 86_400) } else { When::NEVER };
    let is_replacement = rng.chance(0.01);
    SimDevice {
        serial,
        model,
        hw,
        has_asset_tag,
        assigned_date: now,
        assigned_by: Arc::clone(assigned_by),
        profile_uuid: None,
        profile_status: ProfileStatus::Empty,
        profile_assign_time: When::NEVER,
        profile_push_time: When::NEVER,
        mdm_migration_deadline,
        is_replacement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_reproducible_from_the_seed() {
        let by: Arc<str> = Arc::from("admin@example.org");
        let a = generate(&mut SimRng::new(5), None, &by, 1_700_000_000);
        let b = generate(&mut SimRng::new(5), None, &by, 1_700_000_000);
        assert_eq!(a, b);
        assert_eq!(a.profile_status, ProfileStatus::Empty);
        assert_eq!(a.serial.len(), a.model().serial_len);
    }

    #[test]
    fn a_device_stays_small() {
        // 200,000 of them live in the simulator next to the daemon in the sync benchmark.
        assert!(std::mem::size_of::<SimDevice>() <= 96, "{}", std::mem::size_of::<SimDevice>());
        assert_eq!(When::at(5).get(), Some(5));
        assert_eq!(When::NEVER.get(), None);
    }

    #[test]
    fn an_explicit_serial_is_kept() {
        let by: Arc<str> = Arc::from("admin@example.org");
        let d = generate(&mut SimRng::new(5), Some("C02XK1ABJGH5"), &by, 0);
        assert_eq!(&*d.serial, "C02XK1ABJGH5");
    }

    #[test]
    fn without_profile_clears_every_profile_field() {
        let by: Arc<str> = Arc::from("a@b");
        let mut d = generate(&mut SimRng::new(1), None, &by, 0);
        d.profile_uuid = Some(Arc::from("ABC"));
        d.profile_status = ProfileStatus::Pushed;
        d.profile_assign_time = When::at(1);
        d.profile_push_time = When::at(2);
        let cleared = d.without_profile();
        assert_eq!(cleared.profile_uuid, None);
        assert_eq!(cleared.profile_status, ProfileStatus::Empty);
        assert_eq!(cleared.serial, d.serial);
    }
}
