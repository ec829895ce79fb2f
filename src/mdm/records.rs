//! The stored records of MDM: one enrollment per device (by UDID), its commands keyed by
//! device and sequence number, and the serial → UDID index the page uses.
//! Values are versioned JSON (`v`), separate from the views the API returns.

use crate::apple::mdm::{ChainedError, Command};
use crate::ids::{Serial, Udid};
use crate::store::{self, Sealed, SecretField, StoreError, Table};
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// UDID (upper case) → [`EnrollmentRec`].
pub const ENROLLMENTS: Table = store::table("mdm.enrollments");
/// Serial → UDID (upper case).
pub const BY_SERIAL: Table = store::table("mdm.udid_by_serial");
/// UDID (upper case) ‖ 0x00 ‖ sequence (u64 big-endian) → [`CommandRec`].
pub const COMMANDS: Table = store::table("mdm.commands");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[ENROLLMENTS, BY_SERIAL, COMMANDS, HELD, META];
/// Serial → [`HeldRec`], for each device a failed blocking setup step holds (`held`).
pub const HELD: Table = store::table("mdm.held");
/// `held_indexed` → `true` once [`HELD`] lists every held device (see `held`'s doc).
pub const META: Table = store::table("mdm.meta");
pub(super) const HELD_INDEXED: &[u8] = b"held_indexed";

/// The UnlockToken clears the device's passcode: sealed with the data key (`store::seal`),
/// bound to the enrollment's key (the upper-case UDID).
pub const UNLOCK_TOKEN: SecretField = SecretField::new("mdm.enrollments", "unlock_token");

/// A device's MDM enrollment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollmentRec {
    pub v: u8,
    pub udid: Udid,
    pub serial: Serial,
    /// SHA-256 (hex) of the identity the device authenticated with.
    pub cert_sha256: String,
    pub topic: String,
    /// APNs device token, hex.
    #[serde(default)]
    pub push_token: Option<String>,
    #[serde(default)]
    pub push_magic: Option<String>,
    /// The UnlockToken keybag, base64, sealed ([`UNLOCK_TOKEN`]; kept for ClearPasscode;
    /// never shown).
    #[serde(default)]
    pub unlock_token: Option<Sealed>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub os_version: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub authenticated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub token_updated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Setup Assistant is waiting for DeviceConfigured.
    #[serde(default)]
    pub awaiting_configuration: bool,
    /// After this, DeviceConfigured goes out even if the commands before it are not done.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub release_deadline: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub released_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub checked_out_at: Option<OffsetDateTime>,
    /// The next command's sequence number.
    #[serde(default)]
    pub next_seq: u64,
    /// The setup steps run while Setup Assistant waits (planned at the first TokenUpdate
    /// with `AwaitingConfiguration`; kept after the release for the device page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<crate::setup::SetupRun>,
}

/// Where a command stands, as [`CommandRec`] keeps it (the rest of adebox sees
/// [`super::CommandStatus`]). Not re-exported: nothing outside `mdm` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    /// Waiting to be delivered (or delivered, not yet answered).
    Queued,
    /// The device said NotNow; it is retried on a later poll.
    NotNow,
    Acknowledged,
    Error,
    CommandFormatError,
    /// Dropped without an answer (a new Authenticate, a CheckOut).
    Canceled,
}

impl CommandState {
    pub fn is_pending(self) -> bool {
        matches!(self, CommandState::Queued | CommandState::NotNow)
    }
}

/// A command and, once answered, its result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommandRec {
    pub v: u8,
    pub uuid: String,
    pub seq: u64,
    pub command: Command,
    /// 0 is delivered first.
    pub priority: u8,
    pub state: CommandState,
    /// Who queued it: `release` (the enrollment flow) or the admin's name.
    pub origin: String,
    /// DeviceConfigured of the release flow: held back while earlier commands are pending,
    /// until the enrollment's release deadline.
    #[serde(default)]
    pub hold_for_earlier: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub answered_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub not_now_count: u32,
    /// Result keys of the report (e.g. `QueryResponses`).
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub error_chain: Vec<ChainedError>,
    /// Why it was canceled.
    #[serde(default)]
    pub note: Option<String>,
}

pub fn udid_key(udid: &Udid) -> String {
    udid.key()
}

pub fn command_key(udid: &Udid, seq: u64) -> Vec<u8> {
    let mut k = udid_key(udid).into_bytes();
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn load_enrollment(
    wtx: &WriteTransaction,
    udid: &Udid,
) -> Result<Option<EnrollmentRec>, StoreError> {
    let t = wtx.open_table(ENROLLMENTS)?;
    store::get(&t, udid_key(udid).as_bytes())
}

/// The serial number of the device enrolled as `udid`, if any (push marks its timeline).
pub fn serial_of_udid_in(
    wtx: &WriteTransaction,
    udid: &Udid,
) -> Result<Option<Serial>, StoreError> {
    Ok(load_enrollment(wtx, udid)?.map(|e| e.serial))
}

pub fn save_enrollment(wtx: &WriteTransaction, rec: &EnrollmentRec) -> Result<(), StoreError> {
    let mut t = wtx.open_table(ENROLLMENTS)?;
    store::put(&mut t, udid_key(&rec.udid).as_bytes(), rec)?;
    let mut s = wtx.open_table(BY_SERIAL)?;
    store::put(&mut s, rec.serial.as_bytes(), &udid_key(&rec.udid))?;
    follow_held_in(wtx, rec)
}

/// Every command of `udid`, oldest first (bounded by the queue and history limits).
pub fn commands_of<T>(t: &T, udid: &Udid) -> Result<Vec<CommandRec>, StoreError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let mut start = udid_key(udid).into_bytes();
    start.push(0);
    let mut end = udid_key(udid).into_bytes();
    end.push(1);
    let mut out = Vec::new();
    for row in t.range(start.as_slice()..end.as_slice())? {
        let (_, v) = row?;
        out.push(store::decode("mdm.commands", v.value())?);
    }
    Ok(out)
}

pub fn save_command(
    t: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    udid: &Udid,
    rec: &CommandRec,
) -> Result<(), StoreError> {
    store::put(t, &command_key(udid, rec.seq), rec)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct HeldRec {
    pub v: u8,
    /// The blocking step's position in the run (0-based) and its title.
    pub step: usize,
    pub title: String,
    /// Why it failed, as the device said.
    #[serde(default)]
    pub why: Option<String>,
    /// When the index first saw it held (the enrollment's last check-in then).
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// What holds `e`, if a failed blocking step does (a released or checked-out device is held
/// by nothing).
pub(super) fn holding(e: &EnrollmentRec) -> Option<HeldRec> {
    if e.released_at.is_some() || e.checked_out_at.is_some() {
        return None;
    }
    let (step, s) = e.setup.as_ref()?.blocked()?;
    Some(HeldRec { v: 1, step, title: s.title.clone(), why: s.detail.clone(), since: e.last_seen })
}

/// Brings `mdm.held` in line with `e` as it is being saved. Writes only when the device
/// starts or stops being held (or another step holds it), so a held device's polls cost one
/// lookup.
fn follow_held_in(wtx: &WriteTransaction, e: &EnrollmentRec) -> Result<(), StoreError> {
    let mut t = wtx.open_table(HELD)?;
    let key = e.serial.as_bytes();
    let before: Option<HeldRec> = store::get(&t, key)?;
    match (holding(e), before) {
        (Some(now), Some(before)) if now.step == before.step && now.title == before.title => {}
        (Some(now), _) => store::put(&mut t, key, &now)?,
        (None, Some(_)) => {
            t.remove(key)?;
        }
        (None, None) => {}
    }
    Ok(())
}
