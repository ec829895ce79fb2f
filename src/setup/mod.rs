//! Setup during "Awaiting final configuration" (issue 19 item 1): per enrollment profile, an
//! ordered list of steps delivered while the device waits in Setup Assistant, before
//! DeviceConfigured releases it — configuration profiles the admin uploaded, the device name,
//! `AccountConfiguration` on macOS, and other known commands.
//!
//! Owns the tables `setup.steps` (profile id → its list), `setup.profiles` (uploaded
//! configuration profiles, described) and `setup.profile_bytes` (their bytes). Exposes
//! [`Setup`] (the lists and the uploads, for the API) and [`Setup::plan`], which `mdm` calls
//! when a device starts waiting: the run ([`run::SetupRun`]) is a snapshot with every command
//! built, so editing a list never changes devices already past it. `mdm` advances the run with
//! the device's answers and owns the release rule's effects (queue, timeline).
//!
//! The enrolled user's names for `AccountConfiguration` come from the user-affinity sign-in
//! ([`crate::signin::enrolled_user_in`]): a user whose profile asks to pre-fill the Mac's
//! account gets the step even where the list does not name it.
//! Calls store only; `mdm` calls it. Must not use: http, daemon, actix types.

mod checked;
pub mod run;
pub mod steps;
pub mod upload;
#[cfg(test)]
mod tests;

pub use run::{Next, RunStep, SetupRun, StepState};
pub use steps::{OnError, Step, StepAction};

use crate::apple::mdm::Command;
use crate::clock::Clock;
use crate::ids::{ConfigProfileId, ProfileId, Udid};
use crate::store::{self, Store, StoreError, Table};
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Profile id → [`StepsRec`].
const STEPS: Table = store::table("setup.steps");
/// Configuration profile id → [`ProfileRec`].
const PROFILES: Table = store::table("setup.profiles");
/// Configuration profile id → the bytes as uploaded.
const PROFILE_BYTES: Table = store::table("setup.profile_bytes");
/// This module's tables.
pub const TABLES: &[Table] = &[STEPS, PROFILES, PROFILE_BYTES];

/// Most configuration profiles kept (each up to [`upload::MAX_PROFILE`]).
pub const MAX_PROFILES: u64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("the profile is {len} bytes, over the {max}-byte limit; remove payloads or split it")]
    TooLarge { len: usize, max: usize },
    #[error("no configuration profile has the id {0}")]
    UnknownProfile(ConfigProfileId),
    #[error(
        "the configuration profile is a step of the enrollment profiles {0}; remove it from \
         their steps first"
    )]
    InUse(String),
    #[error("{MAX_PROFILES} configuration profiles are stored already; delete unused ones first")]
    Full,
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(SetupError);

/// A profile's stored list.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StepsRec {
    v: u8,
    steps: Vec<Step>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    updated_by: String,
}

/// A profile's steps as the API shows them.
#[derive(Clone, Debug, Serialize)]
pub struct StepList {
    pub steps: Vec<Step>,
    /// False while the profile runs the default list (the device name).
    pub edited: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    pub updated_by: Option<String>,
}

/// An uploaded configuration profile, described.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileRec {
    pub v: u8,
    pub id: ConfigProfileId,
    pub name: String,
    pub identifier: String,
    pub payload_types: Vec<String>,
    pub signed_by: Option<String>,
    pub certificates: Vec<String>,
    pub size: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    pub uploaded_by: String,
}

/// The enrolled user's names, for `AccountConfiguration`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryAccount {
    pub short_name: String,
    pub full_name: String,
    /// The profile asked for the pre-filled account to be locked.
    pub lock: bool,
}

/// The user who signed in during Setup Assistant, when their profile asks to pre-fill the
/// Mac's first account with them.
fn primary_account_in(
    rtx: &redb::ReadTransaction,
    udid: &Udid,
) -> Result<Option<PrimaryAccount>, StoreError> {
    Ok(crate::signin::enrolled_user_in(rtx, udid)?.filter(|u| u.prefill_macos_account).map(|u| {
        PrimaryAccount {
            short_name: u.username,
            full_name: u.display_name,
            lock: u.lock_macos_account,
        }
    }))
}

/// The list to run: the profile's, plus the account step a pre-filled user needs when the
/// list has none (skipped, not blocking, when it fails: the user can still make the account).
fn with_account_step(mut steps: Vec<Step>, account: Option<&PrimaryAccount>) -> Vec<Step> {
    let has_step =
        steps.iter().any(|s| matches!(s.action, StepAction::AccountConfiguration { .. }));
    if let Some(a) = account.filter(|_| !has_step) {
        steps.push(Step {
            action: StepAction::AccountConfiguration {
                short_name: String::new(),
                full_name: String::new(),
                lock: a.lock,
            },
            on_error: OnError::Skip,
        });
    }
    steps
}

/// What [`Setup::plan`] knows about the device.
#[derive(Clone, Debug)]
pub struct Device {
    pub udid: Udid,
    /// The model identifier from Authenticate (`Mac14,3`), if it named one.
    pub product: Option<String>,
    /// The name the profile's template gives it, if it has one.
    pub name: Option<String>,
}

#[derive(Clone)]
pub struct Setup {
    store: Store,
    clock: Clock,
    /// Apple's schemas, when `[mdm] schemas_dir` is set: uploads and step commands are checked.
    schemas: crate::schemas::AppleSchemas,
}

impl Setup {
    pub fn new(store: Store, clock: Clock) -> Setup {
        Setup { store, clock, schemas: crate::schemas::AppleSchemas::off() }
    }

    /// Checks uploads and the steps' commands against `schemas`.
    pub fn with_schemas(mut self, schemas: crate::schemas::AppleSchemas) -> Setup {
        self.schemas = schemas;
        self
    }

    /// The steps of enrollment profile `profile`.
    pub async fn steps(&self, profile: &ProfileId) -> Result<StepList, SetupError> {
        let key = profile.as_bytes().to_vec();
        let rec: Option<StepsRec> =
            self.store.read(move |rtx| store::get(&rtx.open_table(STEPS)?, &key)).await?;
        Ok(list_of(rec))
    }

    /// Replaces the steps of `profile` (devices already waiting keep the list they started
    /// with).
    pub async fn set_steps(
        &self,
        profile: &ProfileId,
        steps: Vec<Step>,
        actor: &str,
    ) -> Result<StepList, SetupError> {
        let key = profile.as_bytes().to_vec();
        let rec = StepsRec { v: 1, steps, updated_at: self.clock.now(), updated_by: actor.into() };
        self.store
            .write(move |wtx| {
                {
                    let known = wtx.open_table(PROFILES)?;
                    steps::validate(&rec.steps, |id| {
                        known.get(id.as_bytes()).map(|v| v.is_some()).unwrap_or(false)
                    })?;
                }
                store::put(&mut wtx.open_table(STEPS)?, &key, &rec)?;
                Ok::<_, SetupError>(list_of(Some(rec)))
            })
            .await
    }

    /// Checks and keeps an uploaded configuration profile.
    pub async fn upload(&self, bytes: Vec<u8>, actor: &str) -> Result<ProfileRec, SetupError> {
        let checked = upload::check_with(&bytes, &self.schemas)?;
        let rec = ProfileRec {
            v: 1,
            id: ConfigProfileId::generate(),
            name: checked.name,
            identifier: checked.identifier,
            payload_types: checked.payload_types,
            signed_by: checked.signed_by,
            certificates: checked.certificates,
            size: bytes.len(),
            uploaded_at: self.clock.now(),
            uploaded_by: actor.to_string(),
        };
        self.store
            .write(move |wtx| {
                let mut t = wtx.open_table(PROFILES)?;
                if t.len()? >= MAX_PROFILES {
                    return Err(SetupError::Full);
                }
                store::put(&mut t, rec.id.as_bytes(), &rec)?;
                wtx.open_table(PROFILE_BYTES)?.insert(rec.id.as_bytes(), bytes.as_slice())?;
                Ok(rec)
            })
            .await
    }

    /// Every uploaded configuration profile, oldest first.
    pub async fn profiles(&self) -> Result<Vec<ProfileRec>, SetupError> {
        self.store
            .read(|rtx| {
                let t = rtx.open_table(PROFILES)?;
                let mut out: Vec<ProfileRec> = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    out.push(store::decode("setup.profiles", v.value())?);
                }
                out.sort_by_key(|p| p.uploaded_at);
                Ok::<_, SetupError>(out)
            })
            .await
    }

    /// Deletes an uploaded profile that no step list names.
    pub async fn delete_profile(&self, id: &ConfigProfileId) -> Result<(), SetupError> {
        let id = id.clone();
        self.store
            .write(move |wtx| {
                let users: Vec<String> = {
                    let lists = wtx.open_table(STEPS)?;
                    let mut users = Vec::new();
                    for row in lists.iter()? {
                        let (k, v) = row?;
                        let rec: StepsRec = store::decode("setup.steps", v.value())?;
                        if rec.steps.iter().any(|s| names(s, &id)) {
                            users.push(String::from_utf8_lossy(k.value()).into_owned());
                        }
                    }
                    users
                };
                if !users.is_empty() {
                    return Err(SetupError::InUse(users.join(", ")));
                }
                if wtx.open_table(PROFILES)?.remove(id.as_bytes())?.is_none() {
                    return Err(SetupError::UnknownProfile(id));
                }
                wtx.open_table(PROFILE_BYTES)?.remove(id.as_bytes())?;
                Ok(())
            })
            .await
    }

    /// The run of `profile`'s steps for `device` (the default list when the profile is
    /// `None` or never edited), every command built now.
    pub async fn plan(
        &self,
        profile: Option<&ProfileId>,
        device: Device,
    ) -> Result<SetupRun, SetupError> {
        let key = profile.map(|p| p.as_bytes().to_vec());
        let product = device.product.clone();
        let mut run = self
            .store
            .read(move |rtx| {
                let rec: Option<StepsRec> = match key {
                    Some(k) => store::get(&rtx.open_table(STEPS)?, &k)?,
                    None => None,
                };
                let (profiles, bytes) = (rtx.open_table(PROFILES)?, rtx.open_table(PROFILE_BYTES)?);
                let account = primary_account_in(rtx, &device.udid)?;
                let mut run = Vec::new();
                for s in with_account_step(list_of(rec).steps, account.as_ref()) {
                    let uploaded = |id: &ConfigProfileId| -> Result<_, SetupError> {
                        let rec: Option<ProfileRec> = store::get(&profiles, id.as_bytes())?;
                        let b = bytes.get(id.as_bytes())?.map(|v| v.value().to_vec());
                        Ok(rec.zip(b).map(|(r, b)| (r.name, b)))
                    };
                    run.push(plan_step(&s, &device, account.as_ref(), uploaded)?);
                }
                Ok::<_, SetupError>(SetupRun::new(run))
            })
            .await?;
        checked::refuse_off_schema(&mut run, product.as_deref(), &self.schemas);
        Ok(run)
    }
}

/// The run of the default list (the device name), for an MDM service without a [`Setup`].
pub fn default_plan(device: &Device) -> SetupRun {
    let steps = steps::default_steps();
    let run = steps.iter().filter_map(|s| plan_step(s, device, None, |_| Ok(None)).ok()).collect();
    SetupRun::new(run)
}

fn names(s: &Step, id: &ConfigProfileId) -> bool {
    matches!(&s.action, StepAction::InstallProfile { profile_id } if profile_id == id)
}

fn list_of(rec: Option<StepsRec>) -> StepList {
    match rec {
        Some(r) => StepList {
            steps: r.steps,
            edited: true,
            updated_at: Some(r.updated_at),
            updated_by: Some(r.updated_by),
        },
        None => StepList {
            steps: steps::default_steps(),
            edited: false,
            updated_at: None,
            updated_by: None,
        },
    }
}

/// One step of a run: its command for this device, or why it has none.
fn plan_step(
    s: &Step,
    device: &Device,
    account: Option<&PrimaryAccount>,
    uploaded: impl Fn(&ConfigProfileId) -> Result<Option<(String, Vec<u8>)>, SetupError>,
) -> Result<RunStep, SetupError> {
    use crate::apple::enroll_profile::Platform;
    let on = s.on_error;
    Ok(match &s.action {
        StepAction::InstallProfile { profile_id } => match uploaded(profile_id)? {
            Some((name, payload)) => {
                let command = Command::InstallProfile { name, payload };
                RunStep::send(command.words(), command, on)
            }
            None => RunStep::skipped(
                "Install a configuration profile".into(),
                format!("the configuration profile {profile_id} was deleted"),
                on,
            ),
        },
        StepAction::DeviceName => match &device.name {
            Some(name) => {
                let command = Command::DeviceName { name: name.clone() };
                RunStep::send(command.words(), command, on)
            }
            None => RunStep::skipped(
                "Set the device name".into(),
                "the enrollment profile has no device name template".into(),
                on,
            ),
        },
        StepAction::AccountConfiguration { short_name, full_name, lock } => {
            let title = "Pre-fill the Mac's account".to_string();
            let mac = device.product.as_deref().map(Platform::of_product) == Some(Platform::MacOs);
            let account = account.cloned().unwrap_or(PrimaryAccount {
                short_name: short_name.clone(),
                full_name: full_name.clone(),
                lock: false,
            });
            if !mac {
                RunStep::skipped(title, "AccountConfiguration is for Macs only".into(), on)
            } else if account.short_name.is_empty() && account.full_name.is_empty() {
                RunStep::skipped(
                    title,
                    "no enrolled user and no names in the step: nothing to pre-fill".into(),
                    on,
                )
            } else {
                let command = Command::AccountConfiguration {
                    short_name: account.short_name,
                    full_name: account.full_name,
                    lock: *lock || account.lock,
                };
                RunStep::send(command.words(), command, on)
            }
        }
        StepAction::Command { command } => match steps::step_command(command) {
            Ok((kind, command)) => {
                let command = Command::Raw { kind, command };
                RunStep::send(command.words(), command, on)
            }
            Err(why) => RunStep::skipped("Send a command".into(), why, on),
        },
    })
}
