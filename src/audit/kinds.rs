//! The closed vocabularies of an audit entry: who acted, what was done (with its stable dotted
//! code) and the outcome.

use serde::{Deserialize, Serialize};

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Admin(String),
    ApiToken(String),
    System,
    Cli,
    /// Someone not signed in (a failed login names the attempted user in `target`).
    Anonymous,
    /// A directory user who signed in on the enrollment sign-in page.
    DirectoryUser(String),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Admin(u) => u.clone(),
            Actor::ApiToken(name) => format!("api-token:{name}"),
            Actor::System => "system".into(),
            Actor::Cli => "cli".into(),
            Actor::Anonymous => "anonymous".into(),
            Actor::DirectoryUser(u) => format!("user:{u}"),
        }
    }
}

/// What was done: every audited action, with its stable dotted code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    AdminSetup,
    AdminLogin,
    AdminLogout,
    AdminPasswordChange,
    AdminPasswordSetByCli,
    AdminUserCreate,
    AdminUserDelete,
    AdminRoleChange,
    AdminScopeChange,
    AdminUnlock,
    ApiTokenCreate,
    ApiTokenRevoke,
    TlsCustomInstall,
    TlsCustomRemove,
    TlsRenew,
    BackupCreate,
    TokenKeyCreate,
    TokenKeyDiscard,
    TokenAdd,
    TokenRenew,
    TokenDelete,
    SyncRequest,
    SyncSettingsChange,
    ProfileCreate,
    ProfileUpdate,
    ProfileDelete,
    ProfileDefaultSet,
    AssignmentRequest,
    AssignmentRemove,
    EnrollmentSettingsChange,
    PushRequestCreate,
    PushCertUpload,
    PushCertRenew,
    MdmCommand,
    MdmErase,
    AuditChainStart,
    AuditPrune,
    WebhookCreate,
    WebhookChange,
    WebhookDelete,
    DirectoryUserCreate,
    DirectoryUserDelete,
    DirectorySettingsChange,
    SignInEnroll,
    AlertSettingsChange,
    AlertTest,
    AlertSmtpRemove,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::AdminSetup,
        Action::AdminLogin,
        Action::AdminLogout,
        Action::AdminPasswordChange,
        Action::AdminPasswordSetByCli,
        Action::AdminUserCreate,
        Action::AdminUserDelete,
        Action::AdminRoleChange,
        Action::AdminScopeChange,
        Action::AdminUnlock,
        Action::ApiTokenCreate,
        Action::ApiTokenRevoke,
        Action::TlsCustomInstall,
        Action::TlsCustomRemove,
        Action::TlsRenew,
        Action::BackupCreate,
        Action::TokenKeyCreate,
        Action::TokenKeyDiscard,
        Action::TokenAdd,
        Action::TokenRenew,
        Action::TokenDelete,
        Action::SyncRequest,
        Action::SyncSettingsChange,
        Action::ProfileCreate,
        Action::ProfileUpdate,
        Action::ProfileDelete,
        Action::ProfileDefaultSet,
        Action::AssignmentRequest,
        Action::AssignmentRemove,
        Action::EnrollmentSettingsChange,
        Action::PushRequestCreate,
        Action::PushCertUpload,
        Action::PushCertRenew,
        Action::MdmCommand,
        Action::MdmErase,
        Action::AuditChainStart,
        Action::AuditPrune,
        Action::WebhookCreate,
        Action::WebhookChange,
        Action::WebhookDelete,
        Action::DirectoryUserCreate,
        Action::DirectoryUserDelete,
        Action::DirectorySettingsChange,
        Action::SignInEnroll,
        Action::AlertSettingsChange,
        Action::AlertTest,
        Action::AlertSmtpRemove,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::AdminSetup => "admin.setup",
            Action::AdminLogin => "admin.login",
            Action::AdminLogout => "admin.logout",
            Action::AdminPasswordChange => "admin.password_change",
            Action::AdminPasswordSetByCli => "admin.password_set_cli",
            Action::AdminUserCreate => "admin.user_create",
            Action::AdminUserDelete => "admin.user_delete",
            Action::AdminRoleChange => "admin.role_change",
            Action::AdminScopeChange => "admin.scope_change",
            Action::AdminUnlock => "admin.unlock",
            Action::ApiTokenCreate => "admin.api_token_create",
            Action::ApiTokenRevoke => "admin.api_token_revoke",
            Action::TlsCustomInstall => "tls.custom_install",
            Action::TlsCustomRemove => "tls.custom_remove",
            Action::TlsRenew => "tls.renew",
            Action::BackupCreate => "store.backup",
            Action::TokenKeyCreate => "token.key_create",
            Action::TokenKeyDiscard => "token.key_discard",
            Action::TokenAdd => "token.add",
            Action::TokenRenew => "token.renew",
            Action::TokenDelete => "token.delete",
            Action::SyncRequest => "sync.request",
            Action::SyncSettingsChange => "sync.settings_change",
            Action::ProfileCreate => "profile.create",
            Action::ProfileUpdate => "profile.update",
            Action::ProfileDelete => "profile.delete",
            Action::ProfileDefaultSet => "profile.default_set",
            Action::AssignmentRequest => "assignment.request",
            Action::AssignmentRemove => "assignment.remove",
            Action::EnrollmentSettingsChange => "enrollment.settings_change",
            Action::PushRequestCreate => "push.request_create",
            Action::PushCertUpload => "push.certificate_upload",
            Action::PushCertRenew => "push.certificate_renew",
            Action::MdmCommand => "mdm.command",
            Action::MdmErase => "mdm.erase",
            Action::AuditChainStart => "audit.chain_start",
            Action::AuditPrune => "audit.prune",
            Action::WebhookCreate => "webhook.create",
            Action::WebhookChange => "webhook.change",
            Action::WebhookDelete => "webhook.delete",
            Action::DirectoryUserCreate => "directory.user_create",
            Action::DirectoryUserDelete => "directory.user_delete",
            Action::DirectorySettingsChange => "directory.settings_change",
            Action::SignInEnroll => "signin.enroll",
            Action::AlertSettingsChange => "alerts.settings_change",
            Action::AlertTest => "alerts.test",
            Action::AlertSmtpRemove => "alerts.smtp_remove",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}
