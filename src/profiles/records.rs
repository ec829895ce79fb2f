//! The profiles module's tables and stored records (versioned: `v`, grown with
//! `#[serde(default)]`).

use super::model::{AppleRefusal, DefinitionState, ProfileInput};
use crate::ids::{ProfileId, ProfileUuid, TokenId};
use crate::store::{self, StoreError, Table};
use redb::{ReadTransaction, ReadableTable, TableHandle};
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
    pub id: ProfileId,
    pub input: ProfileInput,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub revision: u32,
    /// Its definition at each token's Apple side.
    #[serde(default)]
    pub tokens: BTreeMap<TokenId, Definition>,
}

/// A profile's definition at one token.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Definition {
    /// The revision `profile_uuid` was defined for (older: a new define is due).
    pub revision: u32,
    pub profile_uuid: Option<ProfileUuid>,
    /// Apple's uuids of earlier revisions: devices that still have one get the new one.
    #[serde(default)]
    pub old_uuids: Vec<ProfileUuid>,
    /// Apple refused the current revision.
    pub error: Option<AppleRefusal>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub defined_at: Option<OffsetDateTime>,
    /// Attempts at the current revision, and when the next is allowed.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_try_at: Option<OffsetDateTime>,
    /// The variant with `await_device_configured: true` that devices with a migration
    /// deadline get when the profile does not await (`super::forced_await`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<Box<Definition>>,
}

impl Definition {
    /// Where `revision` stands at Apple: defined, refused, or a define due.
    pub fn state(&self, revision: u32) -> DefinitionState {
        if self.revision == revision && self.profile_uuid.is_some() {
            DefinitionState::Defined
        } else if self.revision == revision && self.error.is_some() {
            DefinitionState::Failed
        } else {
            DefinitionState::Pending
        }
    }
}

pub(super) fn default_key(token: &TokenId, family: Option<&str>) -> Vec<u8> {
    format!("{token}\0{}", family.unwrap_or("")).into_bytes()
}

pub(super) fn split_default_key(k: &[u8]) -> (TokenId, Option<String>) {
    let s = String::from_utf8_lossy(k);
    let (t, f) = s.split_once('\0').unwrap_or((&s, ""));
    (TokenId::from_stored(t.to_string()), (!f.is_empty()).then(|| f.to_string()))
}

/// Serial → [`super::schedule::Assignment`].
pub(super) const ASSIGNMENTS: Table = store::table("profiles.assignments");
/// The anchors Apple last received with the profiles (`super::anchors`).
pub(super) const ANCHORS: Table = store::table("profiles.anchors");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[PROFILES, DEFAULTS, ASSIGNMENTS, ANCHORS];

/// Every record of `table`.
pub(super) fn read_all<T: serde::de::DeserializeOwned>(
    rtx: &ReadTransaction,
    table: Table,
) -> Result<Vec<T>, StoreError> {
    let t = rtx.open_table(table)?;
    let name = t.name().to_string();
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(store::decode(&name, v.value())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_is_pending_until_apple_answers_for_the_current_revision() {
        let mut d = Definition::default();
        assert_eq!(d.state(1), DefinitionState::Pending);
        d.revision = 1;
        d.profile_uuid = Some(ProfileUuid::parse("A1").unwrap());
        assert_eq!(d.state(1), DefinitionState::Defined);
        assert_eq!(d.state(2), DefinitionState::Pending, "an edit makes a new define due");
        d.revision = 2;
        d.profile_uuid = None;
        d.error = Some(AppleRefusal { code: "FLAGS_INVALID".into(), message: "…".into() });
        assert_eq!(d.state(2), DefinitionState::Failed, "refused: not retried until edited");
        assert_eq!(d.state(3), DefinitionState::Pending);
    }

    #[test]
    fn default_keys_round_trip_with_and_without_family() {
        let t1 = TokenId::parse("t1").unwrap();
        assert_eq!(split_default_key(&default_key(&t1, None)), (t1.clone(), None));
        assert_eq!(
            split_default_key(&default_key(&t1, Some("Mac"))),
            (t1.clone(), Some("Mac".into()))
        );
    }
}
