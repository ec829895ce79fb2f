//! The simulated Apple side: organisations, MDM servers with their tokens, the devices each
//! server holds, and the per-server sync event log.
//!
//! Owns [`World`] (the running simulator keeps it behind one mutex; every method is short and
//! never blocks) and the portal-level changes: add servers and devices, renew tokens, move,
//! release and disown devices, mark profiles pushed. Migrations are in `migration.rs`. Paging (fetch snapshots, sync) is in
//! `paging.rs`, profiles in `profiles.rs`; both extend `World`. Pure: time comes in as `now`.

use crate::dep::cursor::CursorCodec;
use crate::dep::device::{Event, Op, SimDevice};
use crate::dep::org::{self, Org, TokenSecrets};
use crate::rng::SimRng;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use time::OffsetDateTime;

/// Index of an MDM server in the world (stable for the simulator's life).
pub type ServerId = u32;

/// How the simulated Apple behaves where it has known quirks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// A device moved in from another MDM server shows `modified`, not `added`, at its new
    /// server (dep-api.md §3.2 item 8). On by default, like Apple.
    pub move_emits_modified: bool,
    /// A device released from the organisation shows `deleted` at its server. Off models
    /// Apple's habit of saying nothing, so only a full fetch notices.
    pub release_emits_deleted: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Quirks { move_emits_modified: true, release_emits_deleted: true }
    }
}

/// One MDM server ("one per server token").
#[derive(Debug)]
pub struct Server {
    pub uuid: String,
    pub name: String,
    pub org: Arc<Org>,
    pub admin_id: String,
    pub token: TokenSecrets,
    /// Access tokens this server had before a renewal: they now get `token_rejected`.
    pub retired_tokens: HashSet<String>,
    pub(super) devices: BTreeMap<Arc<str>, Arc<SimDevice>>,
    /// The fetch snapshot of the current `devices`; dropped on every change, so it is reused
    /// only while it is still true.
    pub(super) snapshot: Option<Arc<Snapshot>>,
    pub(super) events: Vec<Event>,
    /// Whether a fetch or sync cursor was ever handed out for this server.
    pub(super) cursor_issued: bool,
    /// Events up to this sequence number were pruned; older cursors are expired.
    pub(super) pruned_through: u64,
    pub(super) profiles: HashMap<String, crate::dep::requests::ProfileDefinition>,
    /// Account-driven enrollment service discovery URL and when it was set.
    pub(super) ade_profile: Option<(String, i64)>,
    /// Serials this server activation-locked.
    pub(super) locked: HashSet<Arc<str>>,
}

impl Server {
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }
}

/// Where a serial is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Location {
    Server(ServerId),
    Unassigned,
}

/// The whole simulated Apple side.
#[derive(Debug)]
pub struct World {
    pub(super) servers: Vec<Server>,
    pub(super) unassigned: BTreeMap<Arc<str>, Arc<SimDevice>>,
    pub(super) seq: u64,
    pub(super) snapshots: BTreeMap<u64, Arc<Snapshot>>,
    pub(super) next_snapshot: u64,
    pub(super) codec: CursorCodec,
    pub(super) rng: SimRng,
    pub quirks: Quirks,
    pub(super) default_org: Arc<Org>,
    /// MDM migrations by serial (`migration.rs`), open and cancelled.
    pub(super) migrations: BTreeMap<Arc<str>, crate::dep::device::Migration>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorldError {
    #[error("no MDM server with uuid `{0}`; list them with GET /portal/servers")]
    UnknownServer(String),
    #[error("serial `{0}` already exists in the organisation; pick another or move it instead")]
    DuplicateSerial(String),
    #[error("`{0}` is not a usable serial number: use 8 to 20 letters and digits")]
    BadSerial(String),
    #[error("asked for {asked} devices at once; the portal adds at most {max} per request")]
    TooMany { asked: usize, max: usize },
}

impl World {
    pub fn new(seed: u64, quirks: Quirks) -> World {
        let mut rng = SimRng::new(seed);
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_be_bytes());
        }
        let default_org = Arc::new(org::generate("Adebox Simulated Org", &mut rng));
        World {
            servers: Vec::new(),
            unassigned: BTreeMap::new(),
            seq: 0,
            snapshots: BTreeMap::new(),
            next_snapshot: 1,
            codec: CursorCodec::new(key),
            rng,
            quirks,
            default_org,
            migrations: BTreeMap::new(),
        }
    }

    /// Creates an MDM server with a fresh token; `org_name` makes (or reuses) that
    /// organisation, `None` uses the default one.
    pub fn add_server(
        &mut self,
        name: &str,
        org_name: Option<&str>,
        now: OffsetDateTime,
    ) -> ServerId {
        let org = match org_name {
            None => Arc::clone(&self.default_org),
            Some(n) => match self.servers.iter().find(|s| s.org.name == n) {
                Some(s) => Arc::clone(&s.org),
                None => Arc::new(org::generate(n, &mut self.rng)),
            },
        };
        let token = org::new_token(&mut self.rng, now, None);
        let domain = org.email.split('@').nth(1).unwrap_or("example.org").to_string();
        self.servers.push(Server {
            uuid: self.rng.hex_upper(16),
            name: name.to_string(),
            org,
            admin_id: format!("abm-admin@{domain}"),
            token,
            retired_tokens: HashSet::new(),
            devices: BTreeMap::new(),
            snapshot: None,
            events: Vec::new(),
            cursor_issued: false,
            pruned_through: 0,
            profiles: HashMap::new(),
            ade_profile: None,
            locked: HashSet::new(),
        });
        (self.servers.len() - 1) as ServerId
    }

    /// Issues a new token for a server; the old access token is then rejected, as when an
    /// admin downloads a new token in ABM (dep-api.md §1.6). The consumer key stays.
    pub fn renew_token(&mut self, id: ServerId, now: OffsetDateTime) -> Option<&TokenSecrets> {
        let token = self.next_token(id, now)?;
        self.install_token(id, token)
    }

    /// New secrets for a server's token, not yet in force (the portal first makes the `.p7m`,
    /// so a failure leaves the old token working).
    pub fn next_token(&mut self, id: ServerId, now: OffsetDateTime) -> Option<TokenSecrets> {
        let consumer_key = self.servers.get(id as usize)?.token.consumer_key.clone();
        Some(org::new_token(&mut self.rng, now, Some(consumer_key)))
    }

    /// Puts `token` in force; the previous access token is retired.
    pub fn install_token(&mut self, id: ServerId, token: TokenSecrets) -> Option<&TokenSecrets> {
        let server = self.servers.get_mut(id as usize)?;
        let old = std::mem::replace(&mut server.token, token);
        server.retired_tokens.insert(old.access_token.expose().clone());
        Some(&server.token)
    }

    /// Undoes [`World::add_server`] for the newest server while nothing refers to it yet
    /// (its token could not be delivered). False when that is no longer possible.
    pub fn discard_new_server(&mut self, id: ServerId) -> bool {
        let last = self.servers.len().checked_sub(1) == Some(id as usize);
        let untouched = self
            .servers
            .get(id as usize)
            .is_some_and(|s| s.devices.is_empty() && s.events.is_empty() && s.profiles.is_empty());
        if last && untouched {
            self.servers.pop();
        }
        last && untouched
    }

    pub fn server(&self, id: ServerId) -> Option<&Server> {
        self.servers.get(id as usize)
    }

    pub fn servers(&self) -> impl Iterator<Item = (ServerId, &Server)> {
        self.servers.iter().enumerate().map(|(i, s)| (i as ServerId, s))
    }

    pub fn server_by_uuid(&self, uuid: &str) -> Result<ServerId, WorldError> {
        self.servers
            .iter()
            .position(|s| s.uuid.eq_ignore_ascii_case(uuid))
            .map(|i| i as ServerId)
            .ok_or_else(|| WorldError::UnknownServer(uuid.to_string()))
    }

    /// The server whose consumer key this is.
    pub fn server_by_consumer_key(&self, key: &str) -> Option<ServerId> {
        self.servers.iter().position(|s| s.token.consumer_key == key).map(|i| i as ServerId)
    }
    /// Replaces a device held by `server` with `f(device)` and logs `modified`; false if the
    /// server does not hold it or `f` declines.
    pub(super) fn update_device(
        &mut self,
        server: ServerId,
        serial: &str,
        at: i64,
        f: impl FnOnce(&SimDevice) -> Option<SimDevice>,
    ) -> bool {
        let Some(srv) = self.servers.get_mut(server as usize) else { return false };
        let Some(old) = srv.devices.get(serial) else { return false };
        let Some(new) = f(old) else { return false };
        let new = Arc::new(new);
        srv.devices.insert(Arc::clone(&new.serial), Arc::clone(&new));
        srv.snapshot = None;
        self.log(server, Op::Modified, new, at, false);
        true
    }

    /// Where a serial is. A scan over the servers (there are few) instead of an index: at
    /// 200,000 devices an index would cost more memory than any lookup costs time.
    pub(super) fn locate(&self, serial: &str) -> Option<Location> {
        if self.unassigned.contains_key(serial) {
            return Some(Location::Unassigned);
        }
        self.servers
            .iter()
            .position(|s| s.devices.contains_key(serial))
            .map(|i| Location::Server(i as ServerId))
    }

    /// The device a server holds, if it holds it.
    pub fn device_at(&self, server: ServerId, serial: &str) -> Option<Arc<SimDevice>> {
        self.servers.get(server as usize)?.devices.get(serial).cloned()
    }

    pub(super) fn place(&mut self, dev: Arc<SimDevice>, to: Option<ServerId>, op: Op, at: i64) {
        let serial = Arc::clone(&dev.serial);
        match to {
            Some(id) => {
                let srv = &mut self.servers[id as usize];
                srv.devices.insert(serial, Arc::clone(&dev));
                srv.snapshot = None;
                self.log(id, op, dev, at, false);
            }
            None => {
                self.unassigned.insert(serial, dev);
            }
        }
    }

    pub(super) fn take(
        &mut self,
        serial: &str,
        from: Location,
        at: i64,
        emit: bool,
        by_replacement: bool,
    ) -> Option<Arc<SimDevice>> {
        match from {
            Location::Unassigned => self.unassigned.remove(serial),
            Location::Server(id) => {
                let srv = self.servers.get_mut(id as usize)?;
                let dev = srv.devices.remove(serial)?;
                srv.snapshot = None;
                if emit {
                    self.log(id, Op::Deleted, Arc::clone(&dev), at, by_replacement);
                }
                Some(dev)
            }
        }
    }

    /// Appends to a server's event log and prunes entries no valid cursor can still need.
    pub(super) fn log(
        &mut self,
        server: ServerId,
        op: Op,
        device: Arc<SimDevice>,
        at: i64,
        released_by_replacement: bool,
    ) {
        self.seq += 1;
        let seq = self.seq;
        let srv = &mut self.servers[server as usize];
        // Until the server hands out its first cursor, no sync can ever ask for what happens
        // now (every later cursor starts at or after this point), so nothing is kept: a
        // 200,000-device start-up does not fill the log.
        if !srv.cursor_issued {
            return;
        }
        srv.events.push(Event { seq, at, op, device, released_by_replacement });
        if srv.events.len().is_multiple_of(4096) {
            // Cursors live 7 days (dep-api.md §3.2 item 3); keep a day of margin.
            let horizon = at - 8 * 86_400;
            let keep_from = srv.events.partition_point(|e| e.at < horizon);
            if keep_from > 0 {
                srv.pruned_through = srv.events[keep_from - 1].seq;
                srv.events.drain(..keep_from);
            }
        }
    }

    /// Which serial is where, with which profile: what tests compare inventories against.
    pub fn truth(&self) -> Truth {
        let servers = self
            .servers
            .iter()
            .map(|s| TruthServer {
                server_uuid: s.uuid.clone(),
                server_name: s.name.clone(),
                devices: s
                    .devices
                    .values()
                    .map(|d| TruthDevice {
                        serial_number: d.serial.to_string(),
                        model: d.model().name,
                        profile_uuid: d.profile_uuid.as_deref().map(str::to_string),
                        profile_status: d.profile_status.as_str(),
                        configuration_web_url: d
                            .profile_uuid
                            .as_deref()
                            .and_then(|u| s.profiles.get(u))
                            .and_then(|p| p.configuration_web_url.clone()),
                        await_device_configured: d
                            .profile_uuid
                            .as_deref()
                            .and_then(|u| s.profiles.get(u))
                            .and_then(|p| p.await_device_configured),
                    })
                    .collect(),
            })
            .collect();
        Truth { servers, unassigned: self.unassigned.keys().map(|k| k.to_string()).collect() }
    }
}

/// The simulator's ground truth (portal `GET /portal/truth`).
#[derive(Clone, Debug, Serialize)]
pub struct Truth {
    pub servers: Vec<TruthServer>,
    pub unassigned: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TruthServer {
    pub server_uuid: String,
    pub server_name: String,
    pub devices: Vec<TruthDevice>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TruthDevice {
    pub serial_number: String,
    pub model: &'static str,
    pub profile_uuid: Option<String>,
    pub profile_status: &'static str,
    /// The web sign-in page of the device's profile: what Setup Assistant opens before it
    /// asks for the profile (a profile with user affinity, dep-api.md §4).
    pub configuration_web_url: Option<String>,
    /// Whether the device's profile makes Setup Assistant await final configuration.
    pub await_device_configured: Option<bool>,
}

/// A server's device list frozen at the start of a fetch.
#[derive(Debug)]
pub struct Snapshot {
    pub id: u64,
    pub server: ServerId,
    pub devices: Vec<Arc<SimDevice>>,
    /// Event-log position when taken: a sync after this fetch starts here.
    pub seq: u64,
    pub taken_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    #[test]
    fn renewing_retires_the_old_access_token_and_keeps_the_consumer_key() {
        let mut w = World::new(3, Quirks::default());
        let a = w.add_server("A", None, T0);
        let old = w.server(a).unwrap().token.clone();
        let new = w.renew_token(a, T0).unwrap().clone();
        assert_eq!(old.consumer_key, new.consumer_key);
        assert_ne!(old.access_token, new.access_token);
        assert!(w.server(a).unwrap().retired_tokens.contains(old.access_token.expose()));
        assert_eq!(w.server_by_consumer_key(&old.consumer_key), Some(a));
    }

    #[test]
    fn events_are_kept_only_once_the_server_handed_out_a_cursor() {
        let mut w = World::new(3, Quirks::default());
        let a = w.add_server("A", None, T0);
        w.add_devices(Some(a), 50, &[], T0).unwrap();
        assert!(w.servers[0].events.is_empty(), "no client could ever sync these");
        w.fetch_page(a, None, 10, T0).unwrap();
        w.add_devices(Some(a), 2, &[], T0).unwrap();
        assert_eq!(w.servers[0].events.len(), 2);
    }

    #[test]
    fn tokens_look_like_apples() {
        let mut w = World::new(3, Quirks::default());
        let a = w.add_server("A", None, T0);
        let t = &w.server(a).unwrap().token;
        assert!(t.consumer_key.starts_with("CK_") && t.consumer_key.len() == 99);
        assert!(t.consumer_secret.expose().starts_with("CS_"));
        assert!(t.access_token.expose().starts_with("AT_O"));
        assert!(t.access_secret.expose().starts_with("AS_"));
        assert_eq!(t.expiry, datetime!(2027-03-01 12:00 UTC));
        assert_eq!(w.server(a).unwrap().uuid.len(), 32);
    }
}
