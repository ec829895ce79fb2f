//! Views of enrollment profiles, defaults, assignment reports and per-serial assignment
//! states (`/api/v1/profiles/…`, `/api/v1/assignments`).

use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;

// The profile views only serialize; their `default` and `deny_unknown_fields` attributes are
// there for the schema, which documents what create, validate and update accept (the domain
// reads those bodies itself, `profiles::validate`).

/// Shared iPad settings, kept for delivery after enrollment (not part of Apple's profile).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedIpadSettings {
    pub max_cached_users: Option<i64>,
    pub passcode_lock_grace_s: Option<i64>,
    pub inactivity_logout_s: Option<i64>,
    #[serde(default)]
    pub temporary_session_only: bool,
    pub temporary_session_inactivity_s: Option<i64>,
}

impl From<&crate::profiles::SharedIpadSettings> for SharedIpadSettings {
    fn from(r: &crate::profiles::SharedIpadSettings) -> SharedIpadSettings {
        SharedIpadSettings {
            max_cached_users: r.max_cached_users,
            passcode_lock_grace_s: r.passcode_lock_grace_s,
            inactivity_logout_s: r.inactivity_logout_s,
            temporary_session_only: r.temporary_session_only,
            temporary_session_inactivity_s: r.temporary_session_inactivity_s,
        }
    }
}

/// What the admin edits: the body of create, validate and update.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct ProfileInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub user_affinity: String,
    #[serde(default)]
    pub supervised: bool,
    #[serde(default)]
    pub locked_enrollment: bool,
    #[serde(default)]
    pub shared_ipad: bool,
    #[serde(default)]
    pub shared_ipad_settings: SharedIpadSettings,
    #[serde(default)]
    pub sync_with_computers: String,
    /// PEM certificates of hosts allowed to pair (Apple Configurator).
    #[serde(default)]
    pub supervising_host_certs: Vec<String>,
    #[serde(default)]
    pub await_device_configured: bool,
    /// Return to Service keeps managed apps (iOS/visionOS 26+; Apple key `is_return_to_service`).
    pub return_to_service: bool,
    /// Restored backups do not bring back this profile (iOS/visionOS 26+).
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
    /// The version a device that must update is sent to, per platform.
    #[serde(default)]
    pub pinned_os: Option<BTreeMap<String, String>>,
    /// How users sign in on the web page (used only with user affinity).
    #[serde(default)]
    pub sign_in: SignInChoice,
}

/// How users of a profile with user affinity sign in, and what their Mac does with the account.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, ToSchema)]
pub struct SignInChoice {
    /// `local`, `ldap` or `oidc`.
    pub source: String,
    /// Groups whose members may enroll; empty: every account of the directory.
    pub allowed_groups: Vec<String>,
    /// macOS: pre-fill the first local account with the user's short and full name.
    pub prefill_macos_account: bool,
    /// macOS: the pre-filled account cannot be edited.
    pub lock_macos_account: bool,
}

impl From<&crate::profiles::SignInChoice> for SignInChoice {
    fn from(r: &crate::profiles::SignInChoice) -> SignInChoice {
        SignInChoice {
            source: r.source.clone(),
            allowed_groups: r.allowed_groups.clone(),
            prefill_macos_account: r.prefill_macos_account,
            lock_macos_account: r.lock_macos_account,
        }
    }
}

impl From<&crate::profiles::ProfileInput> for ProfileInput {
    fn from(r: &crate::profiles::ProfileInput) -> ProfileInput {
        ProfileInput {
            name: r.name.clone(),
            description: r.description.clone(),
            platforms: r.platforms.clone(),
            user_affinity: r.user_affinity.clone(),
            supervised: r.supervised,
            locked_enrollment: r.locked_enrollment,
            shared_ipad: r.shared_ipad,
            shared_ipad_settings: (&r.shared_ipad_settings).into(),
            sync_with_computers: r.sync_with_computers.clone(),
            supervising_host_certs: r.supervising_host_certs.clone(),
            await_device_configured: r.await_device_configured,
            return_to_service: r.return_to_service,
            do_not_use_profile_from_backup: r.do_not_use_profile_from_backup,
            device_name_template: r.device_name_template.clone(),
            cellular_data_plan_url: r.cellular_data_plan_url.clone(),
            department: r.department.clone(),
            support_phone_number: r.support_phone_number.clone(),
            support_email_address: r.support_email_address.clone(),
            language: r.language.clone(),
            region: r.region.clone(),
            hidden_screens: r.hidden_screens.clone(),
            minimum_os: r.minimum_os.clone(),
            pinned_os: r.pinned_os.clone(),
            sign_in: (&r.sign_in).into(),
        }
    }
}

/// One field's problem.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct FieldIssue {
    /// Dotted path (`shared_ipad_settings.max_cached_users`, `hidden_screens`).
    pub field: String,
    pub message: String,
}

impl From<&crate::profiles::FieldIssue> for FieldIssue {
    fn from(r: &crate::profiles::FieldIssue) -> FieldIssue {
        FieldIssue { field: r.field.clone(), message: r.message.clone() }
    }
}

/// A profile's state at one token's Apple side.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct TokenProfileState {
    pub token_id: String,
    /// Apple's uuid for the current revision.
    pub profile_uuid: Option<String>,
    /// `defined`, `pending` or `failed`.
    pub state: String,
    pub error: Option<AppleRefusal>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub defined_at: Option<OffsetDateTime>,
}

impl From<&crate::profiles::TokenProfileState> for TokenProfileState {
    fn from(r: &crate::profiles::TokenProfileState) -> TokenProfileState {
        TokenProfileState {
            token_id: r.token_id.to_string(),
            profile_uuid: r.profile_uuid.as_ref().map(ToString::to_string),
            state: r.state.as_str().to_string(),
            error: r.error.as_ref().map(Into::into),
            defined_at: r.defined_at,
        }
    }
}

/// Apple's code and what it means, in plain words.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct AppleRefusal {
    pub code: String,
    pub message: String,
}

impl From<&crate::profiles::AppleRefusal> for AppleRefusal {
    fn from(r: &crate::profiles::AppleRefusal) -> AppleRefusal {
        AppleRefusal { code: r.code.clone(), message: r.message.clone() }
    }
}

/// A default: the profile every synced device of a token (and family) gets.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct DefaultRef {
    pub token_id: String,
    pub family: Option<String>,
}

impl From<&crate::profiles::DefaultRef> for DefaultRef {
    fn from(r: &crate::profiles::DefaultRef) -> DefaultRef {
        DefaultRef { token_id: r.token_id.to_string(), family: r.family.clone() }
    }
}

/// A profile as the API answers it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub id: String,
    #[serde(flatten)]
    pub input: ProfileInput,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
    pub revision: u32,
    pub tokens: Vec<TokenProfileState>,
    pub devices: u64,
    pub defaults: Vec<DefaultRef>,
    /// Exactly what is sent to Apple (first token), on the detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub apple_json: Option<serde_json::Value>,
}

impl From<&crate::profiles::ProfileView> for ProfileView {
    fn from(r: &crate::profiles::ProfileView) -> ProfileView {
        ProfileView {
            id: r.id.to_string(),
            input: (&r.input).into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            revision: r.revision,
            tokens: r.tokens.iter().map(Into::into).collect(),
            devices: r.devices,
            defaults: r.defaults.iter().map(Into::into).collect(),
            apple_json: r.apple_json.clone(),
        }
    }
}

/// One serial's outcome in a (dry-run) request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct SerialOutcome {
    pub serial: String,
    /// `will_assign` (dry run) / `queued`, `already_assigned`, `unknown_serial`,
    /// `other_token`, `removed`, `duplicate`, `invalid`, `wrong_platform` (the profile is not
    /// for the device's platform; the message says which and the fix).
    #[schema(value_type = String)]
    pub outcome: crate::profiles::assign::AssignmentOutcome,
    pub message: String,
}

impl From<&crate::profiles::SerialOutcome> for SerialOutcome {
    fn from(r: &crate::profiles::SerialOutcome) -> SerialOutcome {
        SerialOutcome {
            serial: r.serial.to_string(),
            outcome: r.outcome,
            message: r.message.clone(),
        }
    }
}

/// The answer to an assignment request.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestReport {
    pub items: Vec<SerialOutcome>,
    pub summary: BTreeMap<String, u64>,
}

impl From<&crate::profiles::RequestReport> for RequestReport {
    fn from(r: &crate::profiles::RequestReport) -> RequestReport {
        RequestReport {
            items: r.items.iter().map(Into::into).collect(),
            summary: r.summary.clone(),
        }
    }
}

/// What an edit would do (`GET /profiles/{id}/edit-impact`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EditImpact {
    /// Devices that have this profile and get the new revision.
    pub devices_to_reassign: u64,
    /// Of those, devices already set up: they keep the old settings until erased.
    pub enrolled: u64,
}

impl From<&crate::profiles::EditImpact> for EditImpact {
    fn from(r: &crate::profiles::EditImpact) -> EditImpact {
        EditImpact { devices_to_reassign: r.devices_to_reassign, enrolled: r.enrolled }
    }
}

/// One default as the API lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DefaultEntry {
    pub token_id: String,
    pub family: Option<String>,
    pub profile_id: String,
}

impl From<&crate::profiles::DefaultEntry> for DefaultEntry {
    fn from(r: &crate::profiles::DefaultEntry) -> DefaultEntry {
        DefaultEntry {
            token_id: r.token_id.to_string(),
            family: r.family.clone(),
            profile_id: r.profile_id.to_string(),
        }
    }
}

/// One serial's assignment as stored (`profiles.assignments`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct Assignment {
    #[schema(value_type = String)]
    pub serial: crate::ids::Serial,
    #[serde(default)]
    pub token_id: String,
    /// The profile wanted (`null`: remove the assignment).
    pub profile_id: Option<String>,
    /// The uuid Apple confirmed last.
    pub profile_uuid: Option<String>,
    /// `idle`, `queued`, `assigning`, `assigned`, `cooldown`, `throttled`, `not_accessible`,
    /// `failed`.
    pub state: String,
    /// `SUCCESS`, `NOT_ACCESSIBLE`, `FAILED`, `THROTTLED`.
    pub last_result: Option<String>,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub next_retry_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub assigned_at: Option<OffsetDateTime>,
    pub message: String,
    /// Apple set a migration deadline for the device, so it must await final configuration:
    /// when the profile does not, adebox assigns a variant of it that does.
    pub forced_await: bool,
}

impl From<&crate::profiles::Assignment> for Assignment {
    fn from(r: &crate::profiles::Assignment) -> Assignment {
        Assignment {
            serial: r.serial.clone(),
            token_id: r.token_id.to_string(),
            profile_id: r.profile_id.as_ref().map(ToString::to_string),
            profile_uuid: r.profile_uuid.as_ref().map(ToString::to_string),
            state: r.state.code().to_string(),
            last_result: r.last_result.clone(),
            attempts: r.attempts,
            next_retry_at: r.next_retry_at,
            assigned_at: r.assigned_at,
            message: r.message.clone(),
            forced_await: r.forced_await,
        }
    }
}
