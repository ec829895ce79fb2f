//! Local sign-in accounts: users kept in the store for the enrollment sign-in page, separate
//! from the admins (`admin`), with argon2id password hashes made and checked through the
//! daemon's one bounded password gate. Owns `directory.local_users` (lower-cased username →
//! [`LocalUserRecord`]).

use super::{Account, DirectoryError};
use crate::store::{self, Table};
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(super) const LOCAL_USERS: Table = store::table("directory.local_users");

/// At most this many local accounts (the page lists them all; a site with more uses LDAP).
pub const MAX_LOCAL_USERS: u64 = 10_000;

fn v1() -> u32 {
    1
}

/// A local account as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct LocalUserRecord {
    #[serde(default = "v1")]
    pub v: u32,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl LocalUserRecord {
    pub fn account(&self) -> Account {
        Account {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            groups: self.groups.clone(),
        }
    }
}

/// A local account as the API lists it (never its hash).
#[derive(Clone, Debug, Serialize)]
pub struct LocalUserInfo {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&LocalUserRecord> for LocalUserInfo {
    fn from(r: &LocalUserRecord) -> Self {
        LocalUserInfo {
            username: r.username.clone(),
            display_name: r.display_name.clone(),
            email: r.email.clone(),
            groups: r.groups.clone(),
            created_at: r.created_at,
        }
    }
}

pub(super) fn key(username: &str) -> Vec<u8> {
    username.to_lowercase().into_bytes()
}

/// The admins' username rule (what a directory's short name and a macOS account name both
/// accept).
pub fn check_username(username: &str) -> Result<(), DirectoryError> {
    crate::admin::username_rule(username)
        .map_err(|message| DirectoryError::Validation { field: "username", message })
}

/// The display name, e-mail and groups of a new account, checked and trimmed.
pub(super) fn check_profile(
    display_name: &str,
    email: Option<&str>,
    groups: &[String],
) -> Result<(String, Option<String>, Vec<String>), DirectoryError> {
    let display_name = display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 128 {
        return Err(DirectoryError::Validation {
            field: "display_name",
            message: "give the person's full name, 1 to 128 characters".into(),
        });
    }
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email
        && (e.len() > 254 || !e.contains('@') || e.chars().any(char::is_whitespace))
    {
        return Err(DirectoryError::Validation {
            field: "email",
            message: format!("\"{e}\" is not an e-mail address; leave it empty or use name@domain"),
        });
    }
    let mut clean: Vec<String> =
        groups.iter().map(|g| g.trim().to_string()).filter(|g| !g.is_empty()).collect();
    clean.sort();
    clean.dedup();
    if clean.len() > 50 || clean.iter().any(|g| g.len() > 256) {
        return Err(DirectoryError::Validation {
            field: "groups",
            message: "list at most 50 groups, each at most 256 characters".into(),
        });
    }
    Ok((display_name, email.map(str::to_string), clean))
}

pub(super) fn get_in(
    rtx: &ReadTransaction,
    username: &str,
) -> Result<Option<LocalUserRecord>, DirectoryError> {
    let t = rtx.open_table(LOCAL_USERS)?;
    Ok(store::get(&t, &key(username))?)
}

pub(super) fn list_in(rtx: &ReadTransaction) -> Result<Vec<LocalUserRecord>, DirectoryError> {
    let t = rtx.open_table(LOCAL_USERS)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(store::decode("directory.local_users", v.value())?);
    }
    Ok(out)
}

/// Adds `record`; an existing username is a conflict.
pub(super) fn insert_in(
    wtx: &WriteTransaction,
    record: &LocalUserRecord,
) -> Result<(), DirectoryError> {
    let mut t = wtx.open_table(LOCAL_USERS)?;
    if t.get(key(&record.username).as_slice())?.is_some() {
        return Err(DirectoryError::Conflict(format!(
            "a local account \"{}\" exists already; remove it first or choose another name",
            record.username
        )));
    }
    if t.len()? >= MAX_LOCAL_USERS {
        return Err(DirectoryError::Conflict(format!(
            "the local directory holds its limit of {MAX_LOCAL_USERS} accounts; use LDAP for more"
        )));
    }
    store::put(&mut t, &key(&record.username), record)?;
    Ok(())
}

/// Removes `username`; whether it existed.
pub(super) fn remove_in(wtx: &WriteTransaction, username: &str) -> Result<bool, DirectoryError> {
    let mut t = wtx.open_table(LOCAL_USERS)?;
    Ok(t.remove(key(username).as_slice())?.is_some())
}

pub(super) fn count_in(rtx: &ReadTransaction) -> Result<u64, DirectoryError> {
    Ok(rtx.open_table(LOCAL_USERS)?.len()?)
}
