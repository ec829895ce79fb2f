//! Profiles as the admin manages them: validate, create, list, get, update (a new revision),
//! delete with preconditions, edit impact, and defaults per token and family.

use super::model::{
    self, DefaultRef, DefinitionState, FieldIssue, ProfileInput, ProfileView, TokenProfileState,
};
use super::records::{
    DEFAULTS, Definition, PROFILES, ProfileRecord, default_key, split_default_key,
};
use super::{MAX_PROFILES_PER_TOKEN, ProfileError, Profiles, apple_json, validate};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::devices::DeviceFacts;
use crate::ids::{ProfileId, ProfileUuid, TokenId};
use crate::store::{self, StoreError};
use crate::tokens::Blocker;
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What an edit would do (`GET /profiles/{id}/edit-impact`).
#[derive(Clone, Debug, Serialize)]
pub struct EditImpact {
    /// Devices that have this profile and get the new revision.
    pub devices_to_reassign: u64,
    /// Of those, devices already set up: they keep the old settings until erased.
    pub enrolled: u64,
}

/// One default as the API lists it.
#[derive(Clone, Debug, Serialize)]
pub struct DefaultEntry {
    pub token_id: TokenId,
    pub family: Option<String>,
    pub profile_id: ProfileId,
}

pub(super) fn load_in(
    rtx: &ReadTransaction,
    id: &ProfileId,
) -> Result<Option<ProfileRecord>, StoreError> {
    store::get(&rtx.open_table(PROFILES)?, id.as_bytes())
}

pub(super) fn all_in(rtx: &ReadTransaction) -> Result<Vec<ProfileRecord>, StoreError> {
    super::records::read_all(rtx, PROFILES)
}

pub(super) fn defaults_in(rtx: &ReadTransaction) -> Result<Vec<DefaultEntry>, StoreError> {
    defaults_of(&rtx.open_table(DEFAULTS)?)
}

fn defaults_of(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
) -> Result<Vec<DefaultEntry>, StoreError> {
    let mut out = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let (token_id, family) = split_default_key(k.value());
        out.push(DefaultEntry {
            token_id,
            family,
            profile_id: ProfileId::from_stored(String::from_utf8_lossy(v.value()).into_owned()),
        });
    }
    Ok(out)
}

fn refuse_invalid(input: ProfileInput) -> Result<(ProfileInput, Vec<FieldIssue>), ProfileError> {
    let input = validate::normalise(input);
    let report = validate::check(&input);
    if !report.errors.is_empty() {
        return Err(ProfileError::Invalid(report.errors));
    }
    Ok((input, report.warnings))
}

/// The uuids Apple gave any revision of `r`, at any token.
fn uuids(r: &ProfileRecord) -> Vec<&ProfileUuid> {
    r.tokens.values().flat_map(|d| d.profile_uuid.iter().chain(d.old_uuids.iter())).collect()
}

fn has_profile(f: &DeviceFacts) -> bool {
    !f.removed && !f.has_no_profile()
}

impl Profiles {
    /// Checks a profile body without saving it: its warnings, or every error.
    pub fn validate(&self, body: serde_json::Value) -> Result<Vec<FieldIssue>, ProfileError> {
        let input = model::parse(body).map_err(ProfileError::Invalid)?;
        Ok(refuse_invalid(input)?.1)
    }

    /// Every device with a profile, by Apple's profile uuid.
    async fn device_facts(&self) -> Result<Vec<DeviceFacts>, ProfileError> {
        let tokens = self.inner.tokens.list().await?.into_iter().map(|t| t.id).collect();
        Ok(self.inner.devices.tokens_facts(tokens).await?)
    }

    fn view(
        &self,
        r: ProfileRecord,
        token_ids: &[TokenId],
        counts: &HashMap<ProfileUuid, u64>,
        defaults: &[DefaultEntry],
    ) -> ProfileView {
        let tokens = token_ids
            .iter()
            .map(|t| {
                let d = r.tokens.get(t).cloned().unwrap_or_default();
                let state = d.state(r.revision);
                TokenProfileState {
                    token_id: t.clone(),
                    profile_uuid: (d.revision == r.revision).then_some(d.profile_uuid).flatten(),
                    state,
                    error: if state == DefinitionState::Failed { d.error } else { None },
                    defined_at: (state == DefinitionState::Defined)
                        .then_some(d.defined_at)
                        .flatten(),
                }
            })
            .collect();
        let devices = uuids(&r).iter().map(|u| counts.get(*u).copied().unwrap_or(0)).sum();
        let defaults = defaults
            .iter()
            .filter(|d| d.profile_id == r.id)
            .map(|d| DefaultRef { token_id: d.token_id.clone(), family: d.family.clone() })
            .collect();
        ProfileView {
            id: r.id,
            input: r.input,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revision: r.revision,
            tokens,
            devices,
            defaults,
            apple_json: None,
        }
    }

    async fn views(&self, only: Option<ProfileId>) -> Result<Vec<ProfileView>, ProfileError> {
        let (records, defaults) = self
            .inner
            .store
            .read(move |rtx| {
                let records = match &only {
                    Some(id) => load_in(rtx, id)?.into_iter().collect(),
                    None => all_in(rtx)?,
                };
                Ok::<_, StoreError>((records, defaults_in(rtx)?))
            })
            .await?;
        let token_ids: Vec<TokenId> =
            self.inner.tokens.list().await?.into_iter().map(|t| t.id).collect();
        let mut counts = HashMap::new();
        for f in self.device_facts().await? {
            if has_profile(&f)
                && let Some(u) = f.profile_uuid
            {
                *counts.entry(u).or_insert(0u64) += 1;
            }
        }
        let mut views: Vec<ProfileView> =
            records.into_iter().map(|r| self.view(r, &token_ids, &counts, &defaults)).collect();
        views.sort_by_key(|a| a.input.name.to_lowercase());
        Ok(views)
    }

    pub async fn list(&self) -> Result<Vec<ProfileView>, ProfileError> {
        self.views(None).await
    }

    /// One profile, with the JSON sent to Apple.
    pub async fn get(&self, id: &ProfileId) -> Result<ProfileView, ProfileError> {
        let mut v = self
            .views(Some(id.clone()))
            .await?
            .pop()
            .ok_or_else(|| ProfileError::NotFound(format!("profile {id}")))?;
        let apple = apple_json::apple_profile(&v.input, &self.inner.endpoints);
        v.apple_json = Some(serde_json::to_value(apple).expect("the Apple profile serializes"));
        Ok(v)
    }

    /// The Apple define body of a stored profile (the definition worker).
    pub fn apple_profile(&self, input: &ProfileInput) -> crate::apple::dep::Profile {
        apple_json::apple_profile(input, &self.inner.endpoints)
    }

    pub async fn create(
        &self,
        actor: Actor,
        body: serde_json::Value,
    ) -> Result<ProfileView, ProfileError> {
        let input = model::parse(body).map_err(ProfileError::Invalid)?;
        let (input, _) = refuse_invalid(input)?;
        let now = self.now();
        let id = ProfileId::generate();
        let record = ProfileRecord {
            v: 1,
            id: id.clone(),
            input,
            created_at: now,
            updated_at: now,
            revision: 1,
            tokens: BTreeMap::new(),
        };
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(PROFILES)?;
                if t.len()? >= MAX_PROFILES_PER_TOKEN {
                    return Err(ProfileError::Limit {
                        message: format!("adebox keeps at most {MAX_PROFILES_PER_TOKEN} profiles (Apple's limit per MDM server); delete one you no longer use"),
                        limit: MAX_PROFILES_PER_TOKEN,
                    });
                }
                let name = record.input.name.clone();
                store::put(&mut t, record.id.as_bytes(), &record)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::ProfileCreate, Outcome::Success)
                        .target(record.id.to_string())
                        .detail(format!("created profile \"{name}\"")),
                )?;
                Ok(())
            })
            .await?;
        self.inner.changed.notify_one();
        self.get(&id).await
    }

    /// Saves an edit as a new revision; every token defines it anew and the devices that had
    /// an earlier revision get the new one.
    pub async fn update(
        &self,
        actor: Actor,
        id: &ProfileId,
        body: serde_json::Value,
    ) -> Result<ProfileView, ProfileError> {
        let input = model::parse(body).map_err(ProfileError::Invalid)?;
        let (input, _) = refuse_invalid(input)?;
        let now = self.now();
        let id_s = id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(PROFILES)?;
                let Some(mut r): Option<ProfileRecord> = store::get(&t, id_s.as_bytes())? else {
                    return Err(ProfileError::NotFound(format!("profile {id_s}")));
                };
                if r.input == input {
                    return Ok(()); // nothing changed: no new revision at Apple
                }
                r.input = input;
                r.revision += 1;
                r.updated_at = now;
                store::put(&mut t, id_s.as_bytes(), &r)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::ProfileUpdate, Outcome::Success)
                        .target(id_s.to_string())
                        .detail(format!(
                            "profile \"{}\" is now revision {}",
                            r.input.name, r.revision
                        )),
                )?;
                Ok(())
            })
            .await?;
        self.inner.changed.notify_one();
        self.get(id).await
    }

    pub async fn edit_impact(&self, id: &ProfileId) -> Result<EditImpact, ProfileError> {
        let id_s = id.clone();
        let r = self
            .inner
            .store
            .read(move |rtx| load_in(rtx, &id_s))
            .await?
            .ok_or_else(|| ProfileError::NotFound(format!("profile {id}")))?;
        let uuids = uuids(&r);
        let mut impact = EditImpact { devices_to_reassign: 0, enrolled: 0 };
        for f in self.device_facts().await? {
            if has_profile(&f) && f.profile_uuid.as_ref().is_some_and(|u| uuids.contains(&u)) {
                impact.devices_to_reassign += 1;
                impact.enrolled += u64::from(f.enrolled);
            }
        }
        Ok(impact)
    }

    /// Deletes a profile no default and no device uses.
    pub async fn delete(&self, actor: Actor, id: &ProfileId) -> Result<(), ProfileError> {
        let impact = self.edit_impact(id).await?;
        let id_s = id.clone();
        let now = self.now();
        self.inner
            .store
            .write(move |wtx| {
                let Some(r) = load_in_w(wtx, &id_s)? else {
                    return Err(ProfileError::NotFound(format!("profile {id_s}")));
                };
                let mut blockers = Vec::new();
                let defaults: Vec<_> = defaults_w(wtx)?.into_iter().filter(|d| d.profile_id == id_s).collect();
                if !defaults.is_empty() {
                    let n = defaults.len() as u64;
                    blockers.push(Blocker {
                        kind: "default_profile".into(),
                        count: n,
                        message: format!("it is the default of {n} MDM server{}/device famil{}; choose another default first", if n == 1 { "" } else { "s" }, if n == 1 { "y" } else { "ies" }),
                    });
                }
                if impact.devices_to_reassign > 0 {
                    let n = impact.devices_to_reassign;
                    blockers.push(Blocker {
                        kind: "devices".into(),
                        count: n,
                        message: format!("{n} device{} assigned this profile; assign them another profile or remove the assignment first", if n == 1 { " is" } else { "s are" }),
                    });
                }
                if !blockers.is_empty() {
                    return Err(ProfileError::InUse(blockers));
                }
                wtx.open_table(PROFILES)?.remove(id_s.as_bytes())?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::ProfileDelete, Outcome::Success)
                        .target(id_s.to_string())
                        .detail(format!("deleted profile \"{}\"", r.input.name)),
                )?;
                Ok(())
            })
            .await
    }

    pub async fn defaults(&self) -> Result<Vec<DefaultEntry>, ProfileError> {
        Ok(self.inner.store.read(defaults_in).await?)
    }

    /// Sets (or with `profile_id: None` clears) the default of a token, or of one device
    /// family of it.
    pub async fn set_default(
        &self,
        actor: Actor,
        token_id: &TokenId,
        family: Option<String>,
        profile_id: Option<ProfileId>,
    ) -> Result<Vec<DefaultEntry>, ProfileError> {
        self.inner.tokens.get(token_id).await?;
        let family = family.filter(|f| !f.is_empty());
        if let Some(f) = &family
            && !model::FAMILIES.contains(&f.as_str())
        {
            return Err(ProfileError::field(
                "family",
                format!("\"{f}\" is not a device family; use iPhone, iPad, Mac, AppleTV or Vision"),
            ));
        }
        let now = self.now();
        let token = token_id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let key = default_key(&token, family.as_deref());
                let detail = match &profile_id {
                    Some(pid) => {
                        let Some(r) = load_in_w(wtx, pid)? else {
                            return Err(ProfileError::field(
                                "profile_id",
                                format!("profile {pid} does not exist"),
                            ));
                        };
                        if let Err(e) = super::platform::guard(
                            &r.input.name,
                            &r.input.platforms,
                            family.as_deref(),
                        ) {
                            return Err(ProfileError::field("profile_id", e.for_default()));
                        }
                        wtx.open_table(DEFAULTS)?.insert(key.as_slice(), pid.as_bytes())?;
                        format!(
                            "default of {token}{} is now \"{}\"",
                            family.as_deref().map(|f| format!(" ({f})")).unwrap_or_default(),
                            r.input.name
                        )
                    }
                    None => {
                        wtx.open_table(DEFAULTS)?.remove(key.as_slice())?;
                        format!(
                            "default of {token}{} cleared",
                            family.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
                        )
                    }
                };
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::ProfileDefaultSet, Outcome::Success)
                        .target(token.to_string())
                        .detail(detail),
                )?;
                Ok::<_, ProfileError>(())
            })
            .await?;
        // Devices already in the inventory get the new default now, not at the next scan.
        self.inner.scan_due.store(true, std::sync::atomic::Ordering::SeqCst);
        self.inner.changed.notify_one();
        self.defaults().await
    }

    /// Stored profile ids with their definitions (the definition worker).
    pub(super) async fn records(&self) -> Result<Vec<ProfileRecord>, ProfileError> {
        Ok(self.inner.store.read(all_in).await?)
    }

    /// Banners for the page: profiles Apple refuses (level, code, message, link).
    pub async fn banners(&self) -> Result<Vec<(String, String, String, String)>, ProfileError> {
        let mut out = Vec::new();
        for r in self.records().await? {
            for d in r.tokens.values() {
                if d.state(r.revision) != DefinitionState::Failed {
                    continue;
                }
                let (code, why) = d
                    .error
                    .as_ref()
                    .map_or(("error", ""), |e| (e.code.as_str(), e.message.as_str()));
                out.push((
                    "warning".into(),
                    "profile_refused".into(),
                    format!("Apple refused the profile \"{}\" ({code}: {why}). Edit the profile to fix it; syncing and other profiles go on.", r.input.name),
                    format!("/admin/profiles/{}", r.id),
                ));
                break;
            }
        }
        Ok(out)
    }

    /// Forgets every definition at Apple (the sandbox's simulated Apple side starts empty at
    /// each start): each profile is defined again and devices with the old uuids follow.
    pub async fn redefine_all(&self) -> Result<(), ProfileError> {
        self.inner.store.write(super::anchors::redefine_all_in).await?;
        self.inner.changed.notify_one();
        Ok(())
    }

    /// Devices holding any of these profiles at Apple: what redefining them all re-assigns.
    pub async fn all_profiles_impact(&self) -> Result<EditImpact, ProfileError> {
        let records: Vec<ProfileRecord> =
            self.inner.store.read(|rtx| super::records::read_all(rtx, PROFILES)).await?;
        let uuids: Vec<&ProfileUuid> = records.iter().flat_map(uuids).collect();
        let mut impact = EditImpact { devices_to_reassign: 0, enrolled: 0 };
        for f in self.device_facts().await? {
            if has_profile(&f) && f.profile_uuid.as_ref().is_some_and(|u| uuids.contains(&u)) {
                impact.devices_to_reassign += 1;
                impact.enrolled += u64::from(f.enrolled);
            }
        }
        Ok(impact)
    }

    /// Stores the outcome of defining `revision` of `id` at `token`.
    pub(super) async fn save_definition(
        &self,
        id: &ProfileId,
        token: &TokenId,
        revision: u32,
        update: impl FnOnce(&mut Definition) + Clone + Send + 'static,
    ) -> Result<(), ProfileError> {
        let (id, token) = (id.clone(), token.clone());
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(PROFILES)?;
                let Some(mut r): Option<ProfileRecord> = store::get(&t, id.as_bytes())? else {
                    return Ok(()); // deleted meanwhile
                };
                if r.revision != revision {
                    return Ok(()); // edited meanwhile: the next round defines the new one
                }
                update(r.tokens.entry(token).or_default());
                store::put(&mut t, id.as_bytes(), &r)?;
                Ok::<_, ProfileError>(())
            })
            .await
    }
}

pub(super) fn load_in_w(
    wtx: &WriteTransaction,
    id: &ProfileId,
) -> Result<Option<ProfileRecord>, StoreError> {
    let t = wtx.open_table(PROFILES)?;
    store::get(&t, id.as_bytes())
}

fn defaults_w(wtx: &WriteTransaction) -> Result<Vec<DefaultEntry>, StoreError> {
    defaults_of(&wtx.open_table(DEFAULTS)?)
}

/// How many defaults name `token` (the token delete guard: a token that is some profile's
/// default target must have its defaults cleared first).
pub fn token_defaults_in(wtx: &WriteTransaction, token: &TokenId) -> Result<u64, StoreError> {
    Ok(defaults_w(wtx)?.iter().filter(|d| d.token_id == *token).count() as u64)
}
