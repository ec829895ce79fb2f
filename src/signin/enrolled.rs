//! The user each device was enrolled for: owns `signin.enrolled_users` (UDID →
//! [`EnrolledUserRecord`]) and its two indexes, kept in the same write as the record:
//! `signin.user_index` (each name of the user, lowercased, then `\0` and the serial → empty),
//! which the device list's `user` filter reads by prefix instead of every user, and
//! `signin.user_by_serial` (serial → UDID) for one device's user. Written when the sign-in
//! page serves the profile; read by the device views and by the macOS account step of the
//! setup-during-await mechanism. The store's schema 2 → 3 migration
//! (`store::migrate::index_schema_2_enrolled_users`) fills both indexes for users enrolled
//! before they existed, with the same key shapes and terms ([`index_terms`]).

use crate::ids::{Serial, Udid};
use crate::store::{self, StoreError, Table};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(super) const ENROLLED_USERS: Table = store::table("signin.enrolled_users");
pub(super) const USER_INDEX: Table = store::table("signin.user_index");
pub(super) const USER_BY_SERIAL: Table = store::table("signin.user_by_serial");

/// At most this many devices answer one `user` filter (a filter is for finding a few users'
/// devices; a broader one asks for a longer prefix).
pub const MAX_USER_MATCHES: usize = 10_000;

fn v1() -> u32 {
    1
}

/// The user a device was enrolled for, as stored.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnrolledUserRecord {
    #[serde(default = "v1")]
    pub v: u32,
    pub serial: Serial,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// `local`, `ldap` or `oidc`.
    pub source: String,
    /// The profile's macOS account switches, as they were when the user signed in.
    #[serde(default)]
    pub prefill_macos_account: bool,
    #[serde(default)]
    pub lock_macos_account: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
}

pub(crate) fn put_in(
    wtx: &WriteTransaction,
    udid: &Udid,
    record: &EnrolledUserRecord,
) -> Result<(), StoreError> {
    let mut t = wtx.open_table(ENROLLED_USERS)?;
    let old: Option<EnrolledUserRecord> = store::get(&t, udid.as_str().as_bytes())?;
    store::put(&mut t, udid.as_str().as_bytes(), record)?;
    let mut index = wtx.open_table(USER_INDEX)?;
    if let Some(old) = old {
        for key in index_keys(&old.username, &old.display_name, old.email.as_deref(), &old.serial) {
            index.remove(key.as_slice())?;
        }
        wtx.open_table(USER_BY_SERIAL)?.remove(old.serial.as_str().as_bytes())?;
    }
    for key in
        index_keys(&record.username, &record.display_name, record.email.as_deref(), &record.serial)
    {
        index.insert(key.as_slice(), b"".as_slice())?;
    }
    let mut by_serial = wtx.open_table(USER_BY_SERIAL)?;
    by_serial.insert(record.serial.as_str().as_bytes(), udid.as_str().as_bytes())?;
    Ok(())
}

/// The names a user is found by, lowercased: the username, the e-mail, the display name
/// whole and each of its words — the terms the schema 3 migration indexed existing users by.
pub fn index_terms(username: &str, display_name: &str, email: Option<&str>) -> Vec<String> {
    crate::store::schema_3_user_terms(username, display_name, email)
}

fn index_keys(
    username: &str,
    display_name: &str,
    email: Option<&str>,
    serial: &Serial,
) -> Vec<Vec<u8>> {
    index_terms(username, display_name, email)
        .into_iter()
        .map(|t| [t.as_bytes(), b"\0", serial.as_str().as_bytes()].concat())
        .collect()
}

/// The serials of the devices whose user has a name starting with `prefix` (ignoring case),
/// at most [`MAX_USER_MATCHES`]: a range read of the index, not a scan of the users.
pub fn serials_matching_in(
    rtx: &ReadTransaction,
    prefix: &str,
) -> Result<std::collections::BTreeSet<Serial>, StoreError> {
    let want = prefix.trim().to_lowercase().replace('\0', "");
    let t = rtx.open_table(USER_INDEX)?;
    let mut out = std::collections::BTreeSet::new();
    for row in t.range(want.as_bytes()..)? {
        let (k, _) = row?;
        let key = k.value();
        if !key.starts_with(want.as_bytes()) || out.len() >= MAX_USER_MATCHES {
            break;
        }
        if let Some(at) = key.iter().rposition(|b| *b == 0) {
            out.insert(Serial::from_stored(String::from_utf8_lossy(&key[at + 1..]).into_owned()));
        }
    }
    Ok(out)
}

/// The user the device `serial` was enrolled for, through the serial index.
pub fn of_serial_in(
    rtx: &ReadTransaction,
    serial: &Serial,
) -> Result<Option<EnrolledUserRecord>, StoreError> {
    let by_serial = rtx.open_table(USER_BY_SERIAL)?;
    let Some(udid) = by_serial.get(serial.as_str().as_bytes())? else { return Ok(None) };
    let t = rtx.open_table(ENROLLED_USERS)?;
    store::get(&t, udid.value())
}

/// The user `udid` was enrolled for, if it signed one in.
pub fn get_in(
    rtx: &ReadTransaction,
    udid: &Udid,
) -> Result<Option<EnrolledUserRecord>, StoreError> {
    let t = rtx.open_table(ENROLLED_USERS)?;
    store::get(&t, udid.as_str().as_bytes())
}

/// Every device's user, by serial (the device list and its CSV).
pub fn by_serial_in(
    rtx: &ReadTransaction,
) -> Result<std::collections::HashMap<Serial, EnrolledUserRecord>, StoreError> {
    let t = rtx.open_table(ENROLLED_USERS)?;
    let mut out = std::collections::HashMap::new();
    for row in t.iter()? {
        let (_, v) = row?;
        let r: EnrolledUserRecord = store::decode("signin.enrolled_users", v.value())?;
        out.insert(r.serial.clone(), r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
