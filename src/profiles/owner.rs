//! Which of this appliance's profiles Apple knows by a given uuid at a token: the enrollment
//! gate's "is the device's profile ours" question. Every revision counts — a device may still
//! hold the uuid of an earlier revision while the new one is being assigned, and its Setup
//! Assistant then posts to our profile URL all the same.

use super::Profiles;
use super::crud::all_in;
use super::records::ProfileRecord;
use crate::ids::{ProfileId, ProfileUuid, TokenId};
use crate::store::StoreError;
use std::collections::{BTreeMap, HashMap};

/// The appliance profile behind an Apple profile uuid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinedProfile {
    pub profile_id: ProfileId,
    /// The profile's optional minimum OS per platform.
    pub minimum_os: Option<BTreeMap<String, String>>,
    /// The version to send a device to when it must update (per platform).
    pub pinned_os: Option<BTreeMap<String, String>>,
    /// The name given to devices when they finish enrolling (`{{SERIAL}}` … placeholders).
    pub device_name_template: Option<String>,
    /// The profile's name and platforms, for the platform guard at the enrollment gate.
    pub name: String,
    pub platforms: Vec<String>,
    /// `with_affinity`, `none` or `shared_device`.
    pub user_affinity: String,
    /// How its users sign in (with user affinity).
    pub sign_in: super::SignInChoice,
    /// Shown on the sign-in page: the department, the support contacts and the language.
    pub department: Option<String>,
    pub support_phone_number: Option<String>,
    pub support_email_address: Option<String>,
    pub language: Option<String>,
}

/// The profile `records` defined at `token` as `uuid` (any revision; [`ProfileUuid`] compares
/// without regard to case, as Apple prints them upper-case but does not promise it).
fn defined_as(
    records: &[ProfileRecord],
    token: &TokenId,
    uuid: &ProfileUuid,
) -> Option<DefinedProfile> {
    records.iter().find_map(|r| {
        let d = r.tokens.get(token)?;
        known_uuids(d).any(|u| u == uuid).then(|| DefinedProfile {
            profile_id: r.id.clone(),
            minimum_os: r.input.minimum_os.clone(),
            pinned_os: r.input.pinned_os.clone(),
            device_name_template: r.input.device_name_template.clone(),
            name: r.input.name.clone(),
            platforms: r.input.platforms.clone(),
            user_affinity: r.input.user_affinity.clone(),
            sign_in: r.input.sign_in.clone(),
            department: r.input.department.clone(),
            support_phone_number: r.input.support_phone_number.clone(),
            support_email_address: r.input.support_email_address.clone(),
            language: r.input.language.clone(),
        })
    })
}

/// Every uuid a definition had at Apple: the current one, earlier revisions, and those of its
/// await variant (`super::forced_await`), which is the same profile to a device.
fn known_uuids(d: &super::records::Definition) -> impl Iterator<Item = &ProfileUuid> {
    let variant = d.awaiting.iter().flat_map(|v| v.profile_uuid.iter().chain(&v.old_uuids));
    d.profile_uuid.iter().chain(&d.old_uuids).chain(variant)
}

/// This appliance's profiles by every Apple uuid they were defined as (any token, any
/// revision), so the pages show a device's profile by its name and filter by it.
#[derive(Clone, Debug, Default)]
pub struct ProfileNames {
    by_uuid: HashMap<String, (ProfileId, String)>,
    uuids: HashMap<ProfileId, Vec<ProfileUuid>>,
}

impl ProfileNames {
    fn of(records: &[ProfileRecord]) -> ProfileNames {
        let mut names = ProfileNames::default();
        for r in records {
            let all = r.tokens.values().flat_map(known_uuids);
            for u in all {
                let key = u.as_str().to_ascii_uppercase();
                names.by_uuid.insert(key.clone(), (r.id.clone(), r.input.name.clone()));
                names.uuids.entry(r.id.clone()).or_default().push(u.clone());
            }
        }
        names
    }

    /// The profile (id, name) Apple knows as `uuid` (any case).
    pub fn of_uuid(&self, uuid: &str) -> Option<(&ProfileId, &str)> {
        self.by_uuid.get(&uuid.trim().to_ascii_uppercase()).map(|(id, n)| (id, n.as_str()))
    }

    /// Every Apple uuid of the profile `id` (none before its first definition).
    pub fn uuids_of(&self, id: &ProfileId) -> Vec<ProfileUuid> {
        self.uuids.get(id).cloned().unwrap_or_default()
    }
}

impl Profiles {
    /// The names of the profiles by their Apple uuids.
    pub async fn names(&self) -> Result<ProfileNames, StoreError> {
        let records = self.inner.store.read(all_in).await?;
        Ok(ProfileNames::of(&records))
    }

    /// The appliance profile that `token` defined at Apple as `uuid`, in any revision.
    pub async fn defined_as(
        &self,
        token: &TokenId,
        uuid: &ProfileUuid,
    ) -> Result<Option<DefinedProfile>, StoreError> {
        let (token, uuid) = (token.clone(), uuid.clone());
        let records = self.inner.store.read(all_in).await?;
        Ok(defined_as(&records, &token, &uuid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::records::Definition;

    fn record(id: &str, token: &str, current: &str, old: &[&str]) -> ProfileRecord {
        let input: crate::profiles::model::ProfileInput =
            crate::profiles::model::parse(serde_json::json!({"name": id, "platforms": ["iOS"]}))
                .unwrap();
        let def = Definition {
            revision: 2,
            profile_uuid: Some(ProfileUuid::from_stored(current.into())),
            old_uuids: old.iter().map(|s| ProfileUuid::from_stored(s.to_string())).collect(),
            ..Default::default()
        };
        ProfileRecord {
            v: 1,
            id: ProfileId::parse(id).unwrap(),
            input,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            revision: 2,
            tokens: [(TokenId::parse(token).unwrap(), def)].into(),
        }
    }

    #[test]
    fn finds_the_profile_by_any_revision_at_that_token_only() {
        let records = [record("p1", "t1", "AAAA-2", &["AAAA-1"]), record("p2", "t1", "BBBB", &[])];
        assert_eq!(
            defined_as(
                &records,
                &TokenId::parse("t1").unwrap(),
                &ProfileUuid::parse("AAAA-2").unwrap()
            )
            .unwrap()
            .profile_id,
            "p1"
        );
        assert_eq!(
            defined_as(
                &records,
                &TokenId::parse("t1").unwrap(),
                &ProfileUuid::parse("aaaa-1").unwrap()
            )
            .unwrap()
            .profile_id,
            "p1",
            "old revision"
        );
        assert_eq!(
            defined_as(
                &records,
                &TokenId::parse("t1").unwrap(),
                &ProfileUuid::parse("BBBB").unwrap()
            )
            .unwrap()
            .profile_id,
            "p2"
        );
        assert_eq!(
            defined_as(
                &records,
                &TokenId::parse("t2").unwrap(),
                &ProfileUuid::parse("AAAA-2").unwrap()
            ),
            None,
            "another token's devices"
        );
        assert_eq!(
            defined_as(
                &records,
                &TokenId::parse("t1").unwrap(),
                &ProfileUuid::parse("CCCC").unwrap()
            ),
            None,
            "a profile we never defined"
        );
    }
}
