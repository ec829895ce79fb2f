//! Assignment requests: explicit assign / unassign by serial list (with a dry run that gives
//! each serial's outcome), defaults for synced devices without a profile, re-assignment after
//! an edit, and the per-serial view. Requests are queued in `profiles.assignments`; the worker
//! (`worker.rs`) sends them to Apple.

use super::records::{ASSIGNMENTS, DEFAULTS, ProfileRecord, default_key};
use super::schedule::{Assignment, AssignmentState};
use super::{MAX_DEVICES_PER_PROFILE, ProfileError, Profiles};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::devices::{DeviceFacts, Unassigned};
use crate::ids::{ProfileId, ProfileUuid, Serial, TokenId};
use crate::store::{self, StoreError};
use redb::{ReadTransaction, ReadableTable};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A default profile with what the platform guard needs: id, name, platforms.
type Candidate = Option<(ProfileId, String, Vec<String>)>;

/// At most this many serials in one request (the CSV upload included).
pub const MAX_SERIALS: usize = 200_000;

/// One serial's outcome in a (dry-run) request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SerialOutcome {
    pub serial: Listed,
    pub outcome: AssignmentOutcome,
    pub message: String,
}

/// An entry of a request: a serial, or the text that is not one, shown back as it was sent
/// (its outcome is `invalid`). Serialised as the plain text either way.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Listed {
    Serial(Serial),
    NotASerial(String),
}

impl Listed {
    pub fn as_str(&self) -> &str {
        match self {
            Listed::Serial(s) => s.as_str(),
            Listed::NotASerial(t) => t,
        }
    }
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request does with one serial; serialised as the snake_case code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentOutcome {
    /// Dry run: it would be sent to Apple.
    WillAssign,
    Queued,
    AlreadyAssigned,
    UnknownSerial,
    OtherToken,
    Removed,
    Duplicate,
    Invalid,
    /// The profile is not for the device's platform ([`super::platform::guard`]).
    WrongPlatform,
}

impl AssignmentOutcome {
    /// The code, also the key of the request summary.
    pub fn code(self) -> &'static str {
        match self {
            AssignmentOutcome::WillAssign => "will_assign",
            AssignmentOutcome::Queued => "queued",
            AssignmentOutcome::AlreadyAssigned => "already_assigned",
            AssignmentOutcome::UnknownSerial => "unknown_serial",
            AssignmentOutcome::OtherToken => "other_token",
            AssignmentOutcome::Removed => "removed",
            AssignmentOutcome::Duplicate => "duplicate",
            AssignmentOutcome::Invalid => "invalid",
            AssignmentOutcome::WrongPlatform => "wrong_platform",
        }
    }
}

/// The answer to an assignment request.
#[derive(Clone, Debug, Serialize)]
pub struct RequestReport {
    pub items: Vec<SerialOutcome>,
    pub summary: BTreeMap<String, u64>,
}

/// A serial as Apple writes them ([`Serial::parse`]), and 8–20 characters: a list an admin
/// sends to Apple is held to the lengths Apple uses, not only to what a serial may hold.
pub fn normalise_serial(s: &str) -> Option<Serial> {
    Serial::parse(s).ok().filter(|s| (8..=20).contains(&s.as_str().len()))
}

fn assignments_in(rtx: &ReadTransaction) -> Result<Vec<Assignment>, StoreError> {
    super::records::read_all(rtx, ASSIGNMENTS)
}

fn current_uuid(r: &ProfileRecord, token: &TokenId) -> Option<ProfileUuid> {
    r.tokens.get(token).filter(|d| d.revision == r.revision).and_then(|d| d.profile_uuid.clone())
}

impl Profiles {
    /// Assigns `profile_id` (or with `None` removes the assignment) to `serials`; `token`
    /// limits the request to one token's devices. A dry run only reports.
    pub async fn request(
        &self,
        actor: Actor,
        profile_id: Option<&ProfileId>,
        serials: Vec<String>,
        token: Option<&TokenId>,
        dry_run: bool,
        invalid_rows: Vec<SerialOutcome>,
    ) -> Result<RequestReport, ProfileError> {
        if serials.len() > MAX_SERIALS {
            return Err(ProfileError::Limit {
                message: format!(
                    "{} serials: at most {MAX_SERIALS} can be sent at once; split the list",
                    serials.len()
                ),
                limit: MAX_SERIALS as u64,
            });
        }
        let profile = match profile_id {
            Some(id) => {
                let id_s = id.clone();
                Some(
                    self.inner
                        .store
                        .read(move |rtx| super::crud::load_in(rtx, &id_s))
                        .await?
                        .ok_or_else(|| {
                            ProfileError::field(
                                "profile_id",
                                format!("profile {id} does not exist"),
                            )
                        })?,
                )
            }
            None => None,
        };
        let mut items = invalid_rows;
        let mut seen = HashSet::new();
        let mut wanted = Vec::new();
        for raw in serials {
            match normalise_serial(&raw) {
                None => items.push(SerialOutcome {
                    serial: Listed::NotASerial(raw.clone()),
                    outcome: AssignmentOutcome::Invalid,
                    message: "not a serial number (8–20 letters and digits)".into(),
                }),
                Some(s) if !seen.insert(s.clone()) => items.push(SerialOutcome {
                    serial: Listed::Serial(s),
                    outcome: AssignmentOutcome::Duplicate,
                    message: "listed more than once; sent once".into(),
                }),
                Some(s) => wanted.push(s),
            }
        }
        let facts: HashMap<Serial, DeviceFacts> = self
            .inner
            .devices
            .facts(wanted.clone())
            .await?
            .into_iter()
            .map(|f| (f.serial.clone(), f))
            .collect();
        let verb = if dry_run { AssignmentOutcome::WillAssign } else { AssignmentOutcome::Queued };
        let mut queue = Vec::new();
        for s in wanted {
            let outcome = |o: AssignmentOutcome, m: String| SerialOutcome {
                serial: Listed::Serial(s.clone()),
                outcome: o,
                message: m,
            };
            let Some(f) = facts.get(&s) else {
                items.push(outcome(
                    AssignmentOutcome::UnknownSerial,
                    "not in the inventory: sync first, or check the serial".into(),
                ));
                continue;
            };
            if token.is_some_and(|t| *t != f.token) {
                items.push(outcome(
                    AssignmentOutcome::OtherToken,
                    format!("belongs to another MDM server ({})", f.token),
                ));
                continue;
            }
            if f.removed {
                items.push(outcome(
                    AssignmentOutcome::Removed,
                    "Apple no longer lists this device for this appliance".into(),
                ));
                continue;
            }
            if let Some(p) = &profile
                && let Err(e) =
                    super::platform::guard(&p.input.name, &p.input.platforms, f.family.as_deref())
            {
                items.push(outcome(AssignmentOutcome::WrongPlatform, e.to_string()));
                continue;
            }
            let already = match &profile {
                Some(p) => current_uuid(p, &f.token)
                    .is_some_and(|u| f.profile_uuid.as_ref() == Some(&u) && !f.has_no_profile()),
                None => f.has_no_profile(),
            };
            if already {
                let m =
                    if profile.is_some() { "already has this profile" } else { "has no profile" };
                items.push(outcome(AssignmentOutcome::AlreadyAssigned, m.into()));
                continue;
            }
            let m = if profile.is_some() {
                "the profile will be assigned at Apple"
            } else {
                "the assignment will be removed at Apple"
            };
            items.push(outcome(verb, m.into()));
            queue.push((s.clone(), f.token.clone(), f.migration_deadline));
        }
        if let Some(p) = &profile {
            let current = self.profile_device_count(p).await?;
            if current + queue.len() as u64 > MAX_DEVICES_PER_PROFILE {
                return Err(ProfileError::Limit {
                    message: format!(
                        "a profile can be assigned to at most {MAX_DEVICES_PER_PROFILE} devices; this one has {current} and the request adds {}",
                        queue.len()
                    ),
                    limit: MAX_DEVICES_PER_PROFILE,
                });
            }
        }
        let mut summary = BTreeMap::new();
        for i in &items {
            *summary.entry(i.outcome.code().to_string()).or_insert(0u64) += 1;
        }
        if dry_run || queue.is_empty() {
            return Ok(RequestReport { items, summary });
        }
        let now = self.now();
        let pid = profile.map(|p| p.id);
        let n = queue.len();
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(ASSIGNMENTS)?;
                for (serial, token, deadline) in &queue {
                    let mut a = store::get::<Assignment, _>(&t, serial.as_bytes())?
                        .unwrap_or_else(|| Assignment::queued(serial, token, pid.clone()));
                    a.token_id = token.clone();
                    a.requeue(pid.clone());
                    a.forced_await = *deadline;
                    store::put(&mut t, serial.as_bytes(), &a)?;
                }
                let (action, what) = match &pid {
                    Some(p) => {
                        (Action::AssignmentRequest, format!("assign profile {p} to {n} device(s)"))
                    }
                    None => {
                        (Action::AssignmentRemove, format!("remove the profile of {n} device(s)"))
                    }
                };
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, action, Outcome::Success)
                        .target(pid.as_ref().map(ProfileId::to_string).unwrap_or_default())
                        .detail(what),
                )?;
                Ok::<_, ProfileError>(())
            })
            .await?;
        self.inner.changed.notify_one();
        Ok(RequestReport { items, summary })
    }

    async fn profile_device_count(&self, p: &ProfileRecord) -> Result<u64, ProfileError> {
        let id = p.id.clone();
        let n = self
            .inner
            .store
            .read(move |rtx| {
                Ok::<_, StoreError>(
                    assignments_in(rtx)?
                        .iter()
                        .filter(|a| a.profile_id.as_ref() == Some(&id))
                        .count() as u64,
                )
            })
            .await?;
        Ok(n)
    }

    /// The assignment state of one serial.
    pub async fn assignment(&self, serial: &Serial) -> Result<Option<Assignment>, ProfileError> {
        let s = serial.clone();
        Ok(self
            .inner
            .store
            .read(move |rtx| store::get(&rtx.open_table(ASSIGNMENTS)?, s.as_bytes()))
            .await?)
    }

    /// Per-serial states, filtered by state and token, newest serials first by name.
    pub async fn assignments(
        &self,
        state: Option<String>,
        token: Option<TokenId>,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Assignment>, u64), ProfileError> {
        let mut all = self.inner.store.read(assignments_in).await?;
        all.retain(|a| {
            state.as_ref().is_none_or(|s| a.state.code() == s)
                && token.as_ref().is_none_or(|t| &a.token_id == t)
        });
        let total = all.len() as u64;
        Ok((all.into_iter().skip(offset).take(limit).collect(), total))
    }

    /// The hook sync tells about the devices each page added or changed (design rule 2):
    /// those without a profile get their token's default, queued in the background, and
    /// those whose migration deadline went away stop being forced to await
    /// (`super::forced_await`).
    pub fn defaults_hook(&self) -> crate::sync::DevicesHook {
        let profiles = self.clone();
        Arc::new(move |token: &TokenId, serials: Vec<Serial>| {
            let (p, token) = (profiles.clone(), token.clone());
            tokio::spawn(async move {
                if let Err(e) = p.assign_defaults(&token, Some(serials.clone())).await {
                    log::error!(token = token.as_str(); "queueing default profiles failed: {e}");
                }
                if let Err(e) = p.deadlines_gone(&token, &serials).await {
                    log::error!(token = token.as_str(); "ending forced await failed: {e}");
                }
            });
        })
    }

    /// Queues the default profile for every device of `token` (of `serials`, or all) that
    /// has no profile at Apple (none, or `removed`) and no request under way; a device whose
    /// profile we assigned gets that profile again. Called by the
    /// daemon after each sync page and by the periodic scan.
    pub async fn assign_defaults(
        &self,
        token: &TokenId,
        serials: Option<Vec<Serial>>,
    ) -> Result<usize, ProfileError> {
        let candidates: Vec<Unassigned> = match serials {
            Some(s) => self
                .inner
                .devices
                .facts(s)
                .await?
                .into_iter()
                .filter(|f| f.token == *token && !f.removed && f.has_no_profile())
                .map(|f| Unassigned {
                    serial: f.serial,
                    family: f.family,
                    migration_deadline: f.migration_deadline,
                })
                .collect(),
            // The whole token: from the list index, without decoding every record.
            None => self.inner.devices.unassigned(token).await?,
        };
        let token_s = token.clone();
        let n = self
            .inner
            .store
            .write(move |wtx| {
                let defaults = wtx.open_table(DEFAULTS)?;
                // A default goes only to devices of its platforms: a per-family default that
                // does not fit falls back to the token-wide one, and one that does not fit either
                // leaves the device without a profile (platform::guard).
                let lookup = |family: Option<&str>| -> Result<Candidate, StoreError> {
                    let Some(pid) = defaults
                        .get(default_key(&token_s, family).as_slice())?
                        .map(|v| ProfileId::from_stored(String::from_utf8_lossy(v.value()).into()))
                    else {
                        return Ok(None);
                    };
                    Ok(super::crud::load_in_w(wtx, &pid)?
                        .map(|r| (pid, r.input.name, r.input.platforms)))
                };
                let token_wide = lookup(None)?;
                let mut per_family = HashMap::new();
                let mut t = wtx.open_table(ASSIGNMENTS)?;
                let mut n = 0;
                for f in &candidates {
                    let fits = |c: &Candidate| {
                        c.as_ref()
                            .filter(|(_, name, platforms)| {
                                super::platform::guard(name, platforms, f.family.as_deref()).is_ok()
                            })
                            .map(|(id, _, _)| id.clone())
                    };
                    let fam = match f.family.as_deref() {
                        Some("iPod") => Some("iPhone"),
                        other => other,
                    };
                    let default = match fam {
                        Some(fam) => {
                            if !per_family.contains_key(fam) {
                                per_family.insert(fam.to_string(), lookup(Some(fam))?);
                            }
                            fits(&per_family[fam]).or_else(|| fits(&token_wide))
                        }
                        None => fits(&token_wide),
                    };
                    let existing: Option<Assignment> = store::get(&t, f.serial.as_bytes())?;
                    // Apple shows our profile removed from a device we assigned it to: the
                    // device was re-assigned to this same server (`modified` with status
                    // `removed`, dep-api.md §3.2 item 8). Assign the same profile again, default
                    // or not, instead of believing the old answer.
                    if let Some(mut a) = existing.clone()
                        && a.state == AssignmentState::Assigned
                        && let Some(pid) = a.profile_id.clone()
                    {
                        log::info!(serial = f.serial.as_str(), token = token_s.as_str(); "Apple no longer shows the assigned profile; assigning it again");
                        a.requeue(Some(pid));
                        a.forced_await = f.migration_deadline;
                        store::put(&mut t, f.serial.as_bytes(), &a)?;
                        n += 1;
                        continue;
                    }
                    let Some(pid) = default else { continue };
                    let mut a = match existing {
                        // A request under way, or an explicit removal the admin asked for.
                        Some(a)
                            if a.state != AssignmentState::Assigned
                                && a.state != AssignmentState::Idle =>
                        {
                            continue;
                        }
                        Some(a) if a.state == AssignmentState::Idle && a.profile_id.is_none() => {
                            continue;
                        }
                        Some(mut a) => {
                            a.requeue(Some(pid));
                            a
                        }
                        None => Assignment::queued(&f.serial, &token_s, Some(pid)),
                    };
                    // A migration deadline: the device must await final configuration.
                    a.forced_await = f.migration_deadline;
                    store::put(&mut t, f.serial.as_bytes(), &a)?;
                    n += 1;
                }
                Ok::<_, ProfileError>(n)
            })
            .await?;
        if n > 0 {
            log::info!(token = token.as_str(), devices = n; "default profile queued");
            self.inner.changed.notify_one();
        }
        Ok(n)
    }

    /// After a new revision is defined at `token`: the devices that have an older revision
    /// get the new one.
    pub(super) async fn reassign_old(
        &self,
        profile_id: &ProfileId,
        token: &TokenId,
    ) -> Result<usize, ProfileError> {
        let id = profile_id.clone();
        let Some(r) = self.inner.store.read(move |rtx| super::crud::load_in(rtx, &id)).await?
        else {
            return Ok(0);
        };
        let old: HashSet<ProfileUuid> =
            r.tokens.get(token).map(|d| d.old_uuids.iter().cloned().collect()).unwrap_or_default();
        if old.is_empty() {
            return Ok(0);
        }
        let facts = self.inner.devices.token_facts(token).await?;
        let serials: Vec<(Serial, TokenId)> = facts
            .into_iter()
            .filter(|f| {
                !f.removed
                    && !f.has_no_profile()
                    && f.profile_uuid.as_ref().is_some_and(|u| old.contains(u))
                    // An edit that dropped the device's platform leaves it on the old revision,
                    // which the enrollment gate refuses with the reason.
                    && super::platform::guard(&r.input.name, &r.input.platforms, f.family.as_deref())
                        .is_ok()
            })
            .map(|f| (f.serial, f.token))
            .collect();
        let n = serials.len();
        if n == 0 {
            return Ok(0);
        }
        let pid = r.id.clone();
        self.inner
            .store
            .write(move |wtx| {
                let mut t = wtx.open_table(ASSIGNMENTS)?;
                for (serial, token) in &serials {
                    let mut a = store::get::<Assignment, _>(&t, serial.as_bytes())?
                        .unwrap_or_else(|| Assignment::queued(serial, token, Some(pid.clone())));
                    a.requeue(Some(pid.clone()));
                    store::put(&mut t, serial.as_bytes(), &a)?;
                }
                Ok::<_, ProfileError>(())
            })
            .await?;
        log::info!(token = token.as_str(), profile = profile_id.as_str(), devices = n; "new profile revision queued for the devices that had the old one");
        Ok(n)
    }
}
