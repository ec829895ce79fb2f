//! The profiles module's tables and stored records (versioned: `v`, grown with
//! `#[serde(default)]`).

use super::model::{AppleRefusal, ProfileInput};
use crate::store::{self, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Profile id → [`ProfileRecord`].
pub(super) const PROFILES: Table = store::table("profiles.by_id");
/// `token_id \0 family` (family empty for the token-wide default) → profile id.
pub(super) const DEFAULTS: Table = store::table("profiles.defaults");

fn v1() -> u32 {
    1
}

/// A profile as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ProfileRecord {
    #[serde(default = "v1")]
    pub v: u32,
    pub id: String,
    pub input: ProfileInput,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub revision: u32,
    /// Its definition at each token's Apple side.
    #[serde(default)]
    pub tokens: BTreeMap<String, Definition>,
}

/// A profile's definition at one token.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Definition {
    /// The revision `profile_uuid` was defined for (older: a new define is due).
    pub revision: u32,
    pub profile_uuid: Option<String>,
    /// Apple's uuids of earlier revisions: devices that still have one get the new one.
    #[serde(default)]
    pub old_uuids: Vec<String>,
    /// Apple refused the current revision.
    pub error: Option<AppleRefusal>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub defined_at: Option<OffsetDateTime>,
    /// Attempts at the current revision, and when the next is allowed.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_try_at: Option<OffsetDateTime>,
}

impl Definition {
    /// `defined` (current revision at Apple), `failed` (Apple refused it) or `pending`.
    pub fn state(&self, revision: u32) -> &'static str {
        if self.revision == revision && self.profile_uuid.is_some() {
            "defined"
        } else if self.revision == revision && self.error.is_some() {
            "failed"
        } else {
            "pending"
        }
    }
}

pub(super) fn default_key(token: &str, family: Option<&str>) -> Vec<u8> {
    format!("{token}\0{}", family.unwrap_or("")).into_bytes()
}

pub(super) fn split_default_key(k: &[u8]) -> (String, Option<String>) {
    let s = String::from_utf8_lossy(k);
    let (t, f) = s.split_once('\0').unwrap_or((&s, ""));
    (t.to_string(), (!f.is_empty()).then(|| f.to_string()))
}

/// Serial → [`super::schedule::Assignment`].
pub(super) const ASSIGNMENTS: Table = store::table("profiles.assignments");
