//! The profile as the API and the page see it (docs/profiles.md): what the
//! admin edits ([`ProfileInput`]) and what the server adds ([`ProfileView`]).
//!
//! Choices are plain strings here and checked by `validate`, so a value the form would never
//! send (`"user_affinity": "maybe"`) is refused on its field rather than as a parse error.

use crate::ids::{ProfileId, ProfileUuid, TokenId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Fields the server fills; a body may carry them back (the page sends what it got) and they
/// are ignored.
pub const SERVER_FIELDS: &[&str] =
    &["id", "created_at", "updated_at", "revision", "tokens", "devices", "defaults", "apple_json"];

/// Every field an admin sets.
pub const INPUT_FIELDS: &[&str] = &[
    "name",
    "description",
    "platforms",
    "user_affinity",
    "supervised",
    "locked_enrollment",
    "shared_ipad",
    "shared_ipad_settings",
    "sync_with_computers",
    "supervising_host_certs",
    "await_device_configured",
    "return_to_service",
    "do_not_use_profile_from_backup",
    "device_name_template",
    "cellular_data_plan_url",
    "department",
    "support_phone_number",
    "support_email_address",
    "language",
    "region",
    "hidden_screens",
    "minimum_os",
    "pinned_os",
    "sign_in",
];

pub const USER_AFFINITY: &[&str] = &["none", "with_affinity", "shared_device"];
pub const SYNC_WITH_COMPUTERS: &[&str] = &["allow_all", "deny_all", "allow_certificates"];
pub const PASSCODE_GRACE: &[i64] = &[0, 60, 300, 900, 3600, 14400];
/// Device families a default can be limited to (Apple's `device_family`).
pub const FAMILIES: &[&str] = &["iPhone", "iPad", "Mac", "AppleTV", "Vision"];

fn yes() -> bool {
    true
}
fn none_affinity() -> String {
    "none".into()
}
fn allow_all() -> String {
    "allow_all".into()
}

/// Shared iPad settings, kept for delivery after enrollment (not part of Apple's profile).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SharedIpadSettings {
    pub max_cached_users: Option<i64>,
    pub passcode_lock_grace_s: Option<i64>,
    pub inactivity_logout_s: Option<i64>,
    #[serde(default)]
    pub temporary_session_only: bool,
    pub temporary_session_inactivity_s: Option<i64>,
}

/// Directory kinds a profile with user affinity can sign its users in with.
pub const SIGN_IN_SOURCES: &[&str] = &["local", "ldap", "oidc"];

fn local_source() -> String {
    "local".into()
}

/// How users of a profile with user affinity sign in on the web page (`signin`), and what
/// their Mac does with the account afterwards.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SignInChoice {
    /// Which directory checks the password: `local`, `ldap` or `oidc`.
    #[serde(default = "local_source")]
    pub source: String,
    /// Groups whose members may enroll; empty: every account of the directory.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// macOS: pre-fill the first local account with the user's short and full name.
    #[serde(default)]
    pub prefill_macos_account: bool,
    /// macOS: the pre-filled account cannot be edited in Setup Assistant.
    #[serde(default)]
    pub lock_macos_account: bool,
}

impl Default for SignInChoice {
    fn default() -> Self {
        SignInChoice {
            source: local_source(),
            allowed_groups: Vec::new(),
            prefill_macos_account: false,
            lock_macos_account: false,
        }
    }
}

/// What the admin edits: the body of create, validate and update.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProfileInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default = "none_affinity")]
    pub user_affinity: String,
    #[serde(default)]
    pub supervised: bool,
    #[serde(default)]
    pub locked_enrollment: bool,
    #[serde(default)]
    pub shared_ipad: bool,
    #[serde(default)]
    pub shared_ipad_settings: SharedIpadSettings,
    #[serde(default = "allow_all")]
    pub sync_with_computers: String,
    /// PEM certificates of hosts allowed to pair (Apple Configurator).
    #[serde(default)]
    pub supervising_host_certs: Vec<String>,
    #[serde(default = "yes")]
    pub await_device_configured: bool,
    /// `is_return_to_service` (iOS/visionOS 26+, apple-2026.md §2.3): Return to Service keeps
    /// the managed apps; the device then awaits final configuration whatever the profile says,
    /// and Apple Business cannot migrate it to another MDM.
    #[serde(default)]
    pub return_to_service: bool,
    /// `do_not_use_profile_from_backup` (iOS/visionOS 26+, §4.1): a restored backup does not
    /// bring back the enrollment profile it holds (26.4+: nor any configuration profile).
    #[serde(default)]
    pub do_not_use_profile_from_backup: bool,
    #[serde(default)]
    pub device_name_template: Option<String>,
    #[serde(default)]
    pub cellular_data_plan_url: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub support_phone_number: Option<String>,
    #[serde(default)]
    pub support_email_address: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub hidden_screens: Vec<String>,
    #[serde(default)]
    pub minimum_os: Option<BTreeMap<String, String>>,
    /// The version a device asked to update before enrolling goes to, per platform (at least
    /// the minimum); a Mac on 26.1+ about to make a mandatory update gets it too
    /// (apple-2026.md §5.2 "Pinning a version").
    #[serde(default)]
    pub pinned_os: Option<BTreeMap<String, String>>,
    /// Used only with user affinity.
    #[serde(default)]
    pub sign_in: SignInChoice,
}

impl Default for ProfileInput {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

/// One field's problem.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldIssue {
    /// Dotted path (`shared_ipad_settings.max_cached_users`, `hidden_screens`).
    pub field: String,
    pub message: String,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldIssue {
        FieldIssue { field: field.into(), message: message.into() }
    }
}

/// Reads a profile body: unknown keys and wrongly typed values are refused per field; the
/// fields the server fills are ignored.
pub fn parse(body: serde_json::Value) -> Result<ProfileInput, Vec<FieldIssue>> {
    let serde_json::Value::Object(mut map) = body else {
        return Err(vec![FieldIssue::new("", "the profile must be a JSON object")]);
    };
    let mut issues = Vec::new();
    map.retain(|k, _| !SERVER_FIELDS.contains(&k.as_str()));
    for k in map.keys() {
        if !INPUT_FIELDS.contains(&k.as_str()) {
            issues.push(FieldIssue::new(
                k.clone(),
                format!("\"{k}\" is not a profile field; adebox fills Apple's own keys itself"),
            ));
        }
    }
    // Nulls mean "not set": the defaults apply.
    map.retain(|_, v| !v.is_null());
    for (k, v) in &map {
        if !INPUT_FIELDS.contains(&k.as_str()) {
            continue;
        }
        let mut one = serde_json::Map::new();
        one.insert(k.clone(), v.clone());
        if let Err(e) = serde_json::from_value::<ProfileInput>(serde_json::Value::Object(one)) {
            let msg = e.to_string();
            let msg = msg.split(" at line").next().unwrap_or(&msg).to_string();
            issues.push(FieldIssue::new(k.clone(), format!("{k}: {msg}")));
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| vec![FieldIssue::new("", format!("the profile could not be read: {e}"))])
}

/// Where a profile's current revision stands at one token's Apple side; serialised as the
/// lower-case word (`defined`, `pending`, `failed`), as the API has always shown it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DefinitionState {
    /// Apple has the current revision and gave it a uuid.
    Defined,
    /// A define of the current revision is due (never sent, retried or edited since).
    Pending,
    /// Apple refused the current revision: not retried until the profile is edited.
    Failed,
}

impl DefinitionState {
    /// The word the API and the page show.
    pub fn as_str(self) -> &'static str {
        match self {
            DefinitionState::Defined => "defined",
            DefinitionState::Pending => "pending",
            DefinitionState::Failed => "failed",
        }
    }
}

/// A profile's state at one token's Apple side.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenProfileState {
    pub token_id: TokenId,
    /// Apple's uuid for the current revision.
    pub profile_uuid: Option<ProfileUuid>,
    pub state: DefinitionState,
    pub error: Option<AppleRefusal>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub defined_at: Option<OffsetDateTime>,
}

/// Apple's code and what it means, in plain words.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AppleRefusal {
    pub code: String,
    pub message: String,
}

/// A default: the profile every synced device of a token (and family) gets.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DefaultRef {
    pub token_id: TokenId,
    pub family: Option<String>,
}

/// A profile as the API answers it.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileView {
    pub id: ProfileId,
    #[serde(flatten)]
    pub input: ProfileInput,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub revision: u32,
    pub tokens: Vec<TokenProfileState>,
    pub devices: u64,
    pub defaults: Vec<DefaultRef>,
    /// Exactly what is sent to Apple (first token), on the detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apple_json: Option<serde_json::Value>,
}
