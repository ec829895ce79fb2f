//! The simulated Apple side saved to a file, so a sandbox restarted on its data directory
//! finds Apple as it left it: the MDM servers and their tokens (a token downloaded or
//! rehearsed in an earlier run is still accepted), the devices and where they are, the
//! profiles defined and assigned at Apple, the migrations, the sync event log and cursor key
//! (cursors handed out stay valid), and the random generator's position (identifiers drawn
//! after a restart never repeat earlier ones).
//!
//! Owns the file format ([`WorldFile`], versioned, read strictly with the simulator's own
//! types) and [`StateFile`]: load at start, save after each change (temporary file, fsync,
//! rename, fsync of the directory: a crash leaves the old or the new file, never a torn
//! one). A file that cannot be read is an error naming it and the fix, never a silent reset.
//! Fetch snapshots are not kept: a fetch cursor of an earlier run is then expired, as Apple
//! expires cursors.

use crate::crypto::Secret;
use crate::dep::cursor::CursorCodec;
use crate::dep::device::{Event, Migration, MigrationState, Op, ProfileStatus, SimDevice, When};
use crate::dep::org::{Org, TokenSecrets};
use crate::dep::requests::ProfileDefinition;
use crate::dep::world::{Quirks, Server, World};
use crate::rng::SimRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;

/// The format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Why the saved simulated Apple side could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "cannot read the simulated Apple side from {path}: {reason}; restore the file from a backup, or delete it to start the simulated Apple side afresh (adebox's own data stays; tokens it holds are then refused until added again)"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "{path} holds the simulated Apple side in format {found}, newer than this adebox reads ({FORMAT}); run the newer adebox on this data directory, or delete the file to start the simulated Apple side afresh"
    )]
    Newer { path: String, found: u32 },
    #[error(
        "cannot {doing} {path}: {source}; check the data directory's permissions and free space"
    )]
    Io { doing: &'static str, path: String, source: std::io::Error },
}

/// Where the simulated Apple side is kept.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved world, `None` when there is no file yet.
    pub fn load(&self, quirks: Quirks) -> Result<Option<World>, StateError> {
        let shown = self.path.display().to_string();
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Io { doing: "read", path: shown, source }),
        };
        let corrupt = |reason: String| StateError::Corrupt { path: shown.clone(), reason };
        // The version first, on its own: a newer file is told apart from a damaged one.
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if version.format > FORMAT {
            return Err(StateError::Newer { path: shown, found: version.format });
        }
        let file: WorldFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        file.into_world(quirks).map(Some).map_err(corrupt)
    }

    /// Writes `world` durably: the file then holds it, or (after a crash) what it held before.
    pub fn save(&self, world: &World) -> Result<(), StateError> {
        let shown = || self.path.display().to_string();
        let io = |doing| move |source| StateError::Io { doing, path: shown(), source };
        let bytes = serde_json::to_vec(&WorldFile::from_world(world))
            .map_err(|e| io("serialise")(std::io::Error::other(e)))?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // 0600 (tempfile's default): the file holds the tokens' secrets, like sandbox.json.
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io("write"))?;
        tmp.write_all(&bytes).map_err(io("write"))?;
        tmp.as_file().sync_all().map_err(io("write"))?;
        tmp.persist(&self.path).map_err(|e| io("replace")(e.error))?;
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io("sync the directory of"))
    }
}

/// The whole file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldFile {
    format: u32,
    rng: u64,
    cursor_key: String,
    seq: u64,
    next_snapshot: u64,
    default_org: Org,
    servers: Vec<ServerFile>,
    unassigned: Vec<DeviceFile>,
    migrations: Vec<MigrationFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    uuid: String,
    name: String,
    org: Org,
    admin_id: String,
    token: TokenFile,
    retired_tokens: Vec<String>,
    devices: Vec<DeviceFile>,
    events: Vec<EventFile>,
    cursor_issued: bool,
    pruned_through: u64,
    profiles: BTreeMap<String, ProfileDefinition>,
    ade_profile: Option<(String, i64)>,
    locked: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    consumer_key: String,
    consumer_secret: String,
    access_token: String,
    access_secret: String,
    #[serde(with = "time::serde::rfc3339")]
    expiry: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFile {
    serial: String,
    model: u16,
    hw: u64,
    has_asset_tag: bool,
    assigned_date: i64,
    assigned_by: String,
    profile_uuid: Option<String>,
    profile_status: ProfileStatus,
    profile_assign_time: Option<i64>,
    profile_push_time: Option<i64>,
    mdm_migration_deadline: Option<i64>,
    is_replacement: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    seq: u64,
    at: i64,
    op: Op,
    device: DeviceFile,
    released_by_replacement: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MigrationFile {
    serial: String,
    from: u32,
    to: u32,
    deadline: i64,
    scheduled_at: i64,
    changed_at: Option<i64>,
    state: MigrationState,
    origin: DeviceFile,
}

impl DeviceFile {
    fn from_device(d: &SimDevice) -> Self {
        DeviceFile {
            serial: d.serial.to_string(),
            model: d.model,
            hw: d.hw,
            has_asset_tag: d.has_asset_tag,
            assigned_date: d.assigned_date,
            assigned_by: d.assigned_by.to_string(),
            profile_uuid: d.profile_uuid.as_deref().map(str::to_string),
            profile_status: d.profile_status,
            profile_assign_time: d.profile_assign_time.get(),
            profile_push_time: d.profile_push_time.get(),
            mdm_migration_deadline: d.mdm_migration_deadline.get(),
            is_replacement: d.is_replacement,
        }
    }

    fn into_device(self) -> Result<Arc<SimDevice>, String> {
        if usize::from(self.model) >= crate::dep::catalog::MODELS.len() {
            return Err(format!(
                "device {} has an unknown model index {}",
                self.serial, self.model
            ));
        }
        let when = |t: Option<i64>| t.map_or(When::NEVER, When::at);
        Ok(Arc::new(SimDevice {
            serial: Arc::from(self.serial),
            model: self.model,
            hw: self.hw,
            has_asset_tag: self.has_asset_tag,
            assigned_date: self.assigned_date,
            assigned_by: Arc::from(self.assigned_by),
            profile_uuid: self.profile_uuid.map(Arc::from),
            profile_status: self.profile_status,
            profile_assign_time: when(self.profile_assign_time),
            profile_push_time: when(self.profile_push_time),
            mdm_migration_deadline: when(self.mdm_migration_deadline),
            is_replacement: self.is_replacement,
        }))
    }
}

fn devices_map(list: Vec<DeviceFile>) -> Result<BTreeMap<Arc<str>, Arc<SimDevice>>, String> {
    list.into_iter().map(|d| d.into_device().map(|d| (Arc::clone(&d.serial), d))).collect()
}

impl WorldFile {
    fn from_world(w: &World) -> Self {
        let device = |d: &Arc<SimDevice>| DeviceFile::from_device(d);
        let servers = w
            .servers
            .iter()
            .map(|s| ServerFile {
                uuid: s.uuid.clone(),
                name: s.name.clone(),
                org: (*s.org).clone(),
                admin_id: s.admin_id.clone(),
                token: TokenFile {
                    consumer_key: s.token.consumer_key.clone(),
                    consumer_secret: s.token.consumer_secret.expose().clone(),
                    access_token: s.token.access_token.expose().clone(),
                    access_secret: s.token.access_secret.expose().clone(),
                    expiry: s.token.expiry,
                },
                retired_tokens: s.retired_tokens.iter().cloned().collect(),
                devices: s.devices.values().map(device).collect(),
                events: s
                    .events
                    .iter()
                    .map(|e| EventFile {
                        seq: e.seq,
                        at: e.at,
                        op: e.op,
                        device: device(&e.device),
                        released_by_replacement: e.released_by_replacement,
                    })
                    .collect(),
                cursor_issued: s.cursor_issued,
                pruned_through: s.pruned_through,
                profiles: s.profiles.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                ade_profile: s.ade_profile.clone(),
                locked: s.locked.iter().map(|l| l.to_string()).collect(),
            })
            .collect();
        WorldFile {
            format: FORMAT,
            rng: w.rng.state(),
            cursor_key: hex::encode(w.codec.key()),
            seq: w.seq,
            next_snapshot: w.next_snapshot,
            default_org: (*w.default_org).clone(),
            servers,
            unassigned: w.unassigned.values().map(device).collect(),
            migrations: w
                .migrations
                .iter()
                .map(|(serial, m)| MigrationFile {
                    serial: serial.to_string(),
                    from: m.from,
                    to: m.to,
                    deadline: m.deadline,
                    scheduled_at: m.scheduled_at,
                    changed_at: m.changed_at,
                    state: m.state,
                    origin: device(&m.origin),
                })
                .collect(),
        }
    }

    fn into_world(self, quirks: Quirks) -> Result<World, String> {
        let key: [u8; 32] = hex::decode(&self.cursor_key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or("`cursor_key` is not 64 hex digits")?;
        let count = self.servers.len();
        let mut servers = Vec::with_capacity(count);
        for s in self.servers {
            let events = s
                .events
                .into_iter()
                .map(|e| {
                    Ok(Event {
                        seq: e.seq,
                        at: e.at,
                        op: e.op,
                        device: e.device.into_device()?,
                        released_by_replacement: e.released_by_replacement,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            servers.push(Server {
                uuid: s.uuid,
                name: s.name,
                org: Arc::new(s.org),
                admin_id: s.admin_id,
                token: TokenSecrets {
                    consumer_key: s.token.consumer_key,
                    consumer_secret: Secret::new(s.token.consumer_secret),
                    access_token: Secret::new(s.token.access_token),
                    access_secret: Secret::new(s.token.access_secret),
                    expiry: s.token.expiry,
                },
                retired_tokens: s.retired_tokens.into_iter().collect(),
                devices: devices_map(s.devices)?,
                snapshot: None,
                events,
                cursor_issued: s.cursor_issued,
                pruned_through: s.pruned_through,
                profiles: s.profiles.into_iter().collect::<HashMap<_, _>>(),
                ade_profile: s.ade_profile,
                locked: s.locked.into_iter().map(Arc::from).collect(),
            });
        }
        let mut migrations = BTreeMap::new();
        for m in self.migrations {
            if m.from as usize >= count || m.to as usize >= count {
                return Err(format!(
                    "the migration of {} names a server that is not there",
                    m.serial
                ));
            }
            let migration = Migration {
                from: m.from,
                to: m.to,
                deadline: m.deadline,
                scheduled_at: m.scheduled_at,
                changed_at: m.changed_at,
                state: m.state,
                origin: m.origin.into_device()?,
            };
            migrations.insert(Arc::from(m.serial), migration);
        }
        Ok(World {
            servers,
            unassigned: devices_map(self.unassigned)?,
            seq: self.seq,
            snapshots: BTreeMap::new(),
            next_snapshot: self.next_snapshot,
            codec: CursorCodec::new(key),
            rng: SimRng::new(self.rng),
            quirks,
            default_org: Arc::new(self.default_org),
            migrations,
        })
    }
}

#[cfg(test)]
mod tests;
