//! What an admin configures: a profile's ordered steps ([`Step`]) and how each is checked.
//! A step names what to send ([`StepAction`]) and what a failure does ([`OnError`]).

use super::SetupError;
use crate::apple::mdm::request_types;
use crate::ids::ConfigProfileId;
use serde::{Deserialize, Serialize};

/// Most steps one profile runs before the release.
pub const MAX_STEPS: usize = 20;
/// Largest `Command` dictionary of a "command" step (the command API takes larger ones).
pub const MAX_STEP_COMMAND: usize = 64 * 1024;
/// Longest names an `AccountConfiguration` step pre-fills (macOS short names are ≤ 255
/// bytes; full names are free text, bounded here).
const MAX_ACCOUNT_NAME: usize = 255;

/// What a failed step does to the release.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The device stays in Setup Assistant; the device page says why and offers "retry" and
    /// "release anyway".
    #[default]
    Block,
    /// The failure is noted on the timeline and the next step goes out.
    Skip,
}

/// What one step sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepAction {
    /// `InstallProfile` with a configuration profile uploaded to `/setup/profiles`.
    InstallProfile { profile_id: ConfigProfileId },
    /// `Settings`/`DeviceName` with the profile's device name template.
    DeviceName,
    /// `AccountConfiguration` (macOS only): the enrolled user's names when known
    /// (user affinity's sign-in), else these; other systems skip the step.
    AccountConfiguration {
        #[serde(default)]
        short_name: String,
        #[serde(default)]
        full_name: String,
        #[serde(default)]
        lock: bool,
    },
    /// Any other known command that is not erase-like (`Settings`, `InstallApplication`…):
    /// `command` is its `Command` dictionary as an XML plist, `RequestType` included.
    Command { command: String },
}

/// One step of a profile's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub action: StepAction,
    #[serde(default)]
    pub on_error: OnError,
}

/// The list a profile runs when the admin never edited it: the device name, as before steps
/// existed (a profile without a template skips it with a timeline note).
pub fn default_steps() -> Vec<Step> {
    vec![Step { action: StepAction::DeviceName, on_error: OnError::Skip }]
}

fn invalid(index: usize, message: impl Into<String>) -> SetupError {
    SetupError::Invalid { field: format!("steps[{index}]"), message: message.into() }
}

/// Checks a list the admin sends; `known_profile` says whether an uploaded profile id exists.
pub fn validate(
    steps: &[Step],
    known_profile: impl Fn(&ConfigProfileId) -> bool,
) -> Result<(), SetupError> {
    if steps.len() > MAX_STEPS {
        return Err(SetupError::Invalid {
            field: "steps".into(),
            message: format!("at most {MAX_STEPS} steps run before the release; remove some"),
        });
    }
    for (i, s) in steps.iter().enumerate() {
        match &s.action {
            StepAction::InstallProfile { profile_id } if !known_profile(profile_id) => {
                return Err(invalid(
                    i,
                    format!("no uploaded configuration profile has the id {profile_id:?}"),
                ));
            }
            StepAction::AccountConfiguration { short_name, full_name, .. } => {
                for (what, v) in [("short name", short_name), ("full name", full_name)] {
                    if v.len() > MAX_ACCOUNT_NAME || v.chars().any(char::is_control) {
                        return Err(invalid(
                            i,
                            format!(
                                "the account's {what} must be at most {MAX_ACCOUNT_NAME} bytes \
                                 without control characters"
                            ),
                        ));
                    }
                }
                if !short_name.is_empty() && !is_short_name(short_name) {
                    return Err(invalid(
                        i,
                        "a macOS short name is lower-case letters, digits, '.', '_' and '-', \
                         starting with a letter",
                    ));
                }
            }
            StepAction::Command { command } => {
                step_command(command).map_err(|m| invalid(i, m))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_short_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

/// A "command" step's plist read: its RequestType and the dictionary's XML bytes.
pub fn step_command(text: &str) -> Result<(String, Vec<u8>), String> {
    if text.len() > MAX_STEP_COMMAND {
        return Err(format!(
            "the command is {} bytes, over the {MAX_STEP_COMMAND}-byte limit of a step",
            text.len()
        ));
    }
    let v = plist::Value::from_reader(std::io::Cursor::new(text.as_bytes()))
        .map_err(|e| format!("the command is not a property list: {e}"))?;
    let d = v.as_dictionary().ok_or("the command must be a <dict> with a RequestType")?;
    let rt = d
        .get("RequestType")
        .and_then(|r| r.as_string())
        .ok_or("the command lacks its RequestType (a string)")?
        .to_string();
    match request_types::classify(&rt) {
        request_types::Class::Unknown => {
            Err(format!("{rt:?} is not an MDM request type adebox knows; a step cannot send it"))
        }
        request_types::Class::EraseLike => Err(format!(
            "{rt} is erase-like; it cannot run while the device waits in Setup Assistant"
        )),
        request_types::Class::Known if SETUP_OWNED.contains(&rt.as_str()) => {
            Err(format!("{rt} has its own step kind (or is the release itself); use that instead"))
        }
        request_types::Class::Known => {
            let mut out = Vec::new();
            v.to_writer_xml(&mut out).map_err(|e| e.to_string())?;
            Ok((rt, out))
        }
    }
}

/// Request types the setup flow sends itself.
const SETUP_OWNED: &[&str] = &["DeviceConfigured", "InstallProfile", "AccountConfiguration"];
