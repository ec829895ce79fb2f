//! The user each device was enrolled for: owns `signin.enrolled_users` (UDID →
//! [`EnrolledUserRecord`]). Written when the sign-in page serves the profile; read by the
//! device views and by the macOS account step of the setup-during-await mechanism.

use crate::ids::{Serial, Udid};
use crate::store::{self, StoreError, Table};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(super) const ENROLLED_USERS: Table = store::table("signin.enrolled_users");

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
    store::put(&mut t, udid.as_str().as_bytes(), record)
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
