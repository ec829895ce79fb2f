//! Admin roles and the permissions they hold: **the one table** of who may do what.
//!
//! Every API route names one [`Permission`] (the route table in `http::api::permissions`);
//! [`Permission::roles`] below says which [`Role`]s hold it. The matrix in `docs/roles.md` is
//! generated from these two tables and a test keeps it identical, so code and documentation
//! cannot disagree. Some permissions guard features that have no route yet (lock, Return to
//! Service, release from the organisation, secrets, backups, metrics): they are here so that
//! the route that adds them only has to name one.

use serde::{Deserialize, Serialize};

/// What an admin (and every API token they create) may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including admins, secrets and destructive device actions.
    Owner,
    /// Day-to-day work: server tokens, sync, profiles, assignment, device actions and
    /// commands other than erase-like ones.
    Operator,
    /// Read, and a device's refresh, rename and release.
    HelpDesk,
    /// Read-only, including the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Operator, Role::HelpDesk, Role::Auditor];

    /// The stable code used in the API, the store and the CLI.
    pub fn code(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Operator => "operator",
            Role::HelpDesk => "help_desk",
            Role::Auditor => "auditor",
        }
    }

    /// The name people read.
    pub fn title(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Operator => "Operator",
            Role::HelpDesk => "Help desk",
            Role::Auditor => "Auditor",
        }
    }

    /// Parses a role code; the error names the accepted ones.
    pub fn parse(text: &str) -> Result<Role, String> {
        let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::ALL.into_iter().find(|r| r.code() == t).ok_or_else(|| {
            format!("unknown role `{text}`; use one of {}", Role::ALL.map(Role::code).join(", "))
        })
    }

    pub fn holds(self, p: Permission) -> bool {
        p.roles().contains(&self)
    }

    /// Every permission this role holds.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.holds(*p)).collect()
    }

    /// True when `self` can do nothing `other` cannot: a token or a new admin may get a
    /// role only if it is covered by its creator's role. Decided by the table, not by an
    /// order, because Auditor and Operator each hold something the other does not.
    pub fn within(self, other: Role) -> bool {
        Permission::ALL.into_iter().all(|p| !self.holds(p) || other.holds(p))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

/// One thing a route (or an action of the page) needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the inventory, server tokens, sync, profiles, assignments, enrollment and
    /// certificate state (never a secret).
    Read,
    /// Read the whole audit log.
    AuditRead,
    /// See the admins and the API tokens.
    AdminsRead,
    /// Add and remove admins, change their roles and scopes, revoke anyone's API token.
    AdminsManage,
    /// Create API tokens (role and scope no wider than one's own) and revoke one's own.
    ApiTokensOwn,
    /// Apple server tokens: key pairs, upload, renewal, deletion.
    ServerTokens,
    /// Sync now and the sync settings.
    Sync,
    /// Enrollment profiles and the default profiles.
    Profiles,
    /// Assign and unassign profiles.
    Assign,
    /// A device's refresh, rename and release from "Awaiting final configuration".
    DeviceSupport,
    /// MDM commands other than erase-like ones.
    DeviceCommands,
    /// Erase, lock, Return to Service and any MDM request type adebox does not know.
    DeviceErase,
    /// Assign, unassign and migrate devices between MDM servers at Apple Business.
    OrgAssign,
    /// Release devices from the organisation at Apple.
    OrgRelease,
    /// Appliance settings that hold keys or open the gate: the TLS certificate, the push
    /// certificate, the enrollment settings.
    Settings,
    /// Secrets: directories, SMTP, webhooks, the Apple Business key.
    Secrets,
    /// Backups and restores.
    Backups,
    /// Metrics access.
    Metrics,
    /// Drive the simulated Apple side (sandbox mode only).
    Sandbox,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::Read,
        Permission::AuditRead,
        Permission::AdminsRead,
        Permission::AdminsManage,
        Permission::ApiTokensOwn,
        Permission::ServerTokens,
        Permission::Sync,
        Permission::Profiles,
        Permission::Assign,
        Permission::DeviceSupport,
        Permission::DeviceCommands,
        Permission::DeviceErase,
        Permission::OrgAssign,
        Permission::OrgRelease,
        Permission::Settings,
        Permission::Secrets,
        Permission::Backups,
        Permission::Metrics,
        Permission::Sandbox,
    ];

    /// The table: which roles hold this permission.
    pub const fn roles(self) -> &'static [Role] {
        use Role::{Auditor, HelpDesk, Operator, Owner};
        match self {
            Permission::Read => &[Owner, Operator, HelpDesk, Auditor],
            Permission::AuditRead => &[Owner, Auditor],
            Permission::AdminsRead => &[Owner, Auditor],
            Permission::AdminsManage => &[Owner],
            Permission::ApiTokensOwn => &[Owner, Operator],
            Permission::ServerTokens => &[Owner, Operator],
            Permission::Sync => &[Owner, Operator],
            Permission::Profiles => &[Owner, Operator],
            Permission::Assign => &[Owner, Operator],
            Permission::DeviceSupport => &[Owner, Operator, HelpDesk],
            Permission::DeviceCommands => &[Owner, Operator],
            Permission::DeviceErase => &[Owner],
            Permission::OrgAssign => &[Owner, Operator],
            Permission::OrgRelease => &[Owner],
            Permission::Settings => &[Owner],
            Permission::Secrets => &[Owner],
            Permission::Backups => &[Owner],
            Permission::Metrics => &[Owner],
            Permission::Sandbox => &[Owner, Operator],
        }
    }

    /// The stable code the API and the page use.
    pub fn code(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::AuditRead => "audit_read",
            Permission::AdminsRead => "admins_read",
            Permission::AdminsManage => "admins_manage",
            Permission::ApiTokensOwn => "api_tokens_own",
            Permission::ServerTokens => "server_tokens",
            Permission::Sync => "sync",
            Permission::Profiles => "profiles",
            Permission::Assign => "assign",
            Permission::DeviceSupport => "device_support",
            Permission::DeviceCommands => "device_commands",
            Permission::DeviceErase => "device_erase",
            Permission::OrgAssign => "org_assign",
            Permission::OrgRelease => "org_release",
            Permission::Settings => "settings",
            Permission::Secrets => "secrets",
            Permission::Backups => "backups",
            Permission::Metrics => "metrics",
            Permission::Sandbox => "sandbox",
        }
    }

    /// What it allows, in the words of the docs table.
    pub fn summary(self) -> &'static str {
        match self {
            Permission::Read => {
                "see devices, server tokens, sync, profiles, assignments, enrollment, certificates (no secrets)"
            }
            Permission::AuditRead => "read the whole audit log",
            Permission::AdminsRead => "see the admins and the API tokens",
            Permission::AdminsManage => {
                "add and remove admins, change roles, revoke anyone's API token"
            }
            Permission::ApiTokensOwn => {
                "create API tokens no wider than one's own role, revoke one's own"
            }
            Permission::ServerTokens => "Apple server tokens: key pairs, upload, renew, delete",
            Permission::Sync => "sync now, sync settings",
            Permission::Profiles => "create, edit and delete profiles, set defaults",
            Permission::Assign => "assign and unassign profiles",
            Permission::DeviceSupport => "refresh, rename and release a device",
            Permission::DeviceCommands => "MDM commands other than erase-like ones",
            Permission::DeviceErase => "erase, lock, Return to Service, unknown MDM request types",
            Permission::OrgAssign => {
                "assign, unassign and migrate devices between MDM servers at Apple Business"
            }
            Permission::OrgRelease => "release devices from the organisation",
            Permission::Settings => "TLS certificate, push certificate, enrollment settings",
            Permission::Secrets => "directories, SMTP, webhooks, Apple Business key",
            Permission::Backups => "backups and restores",
            Permission::Metrics => "metrics",
            Permission::Sandbox => "drive the simulated Apple side (sandbox mode)",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A permission the caller's role lacks: what the 403 says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing {
    pub permission: Permission,
    pub role: Role,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let holders: Vec<&str> = self.permission.roles().iter().map(|r| r.title()).collect();
        write!(
            f,
            "this needs the permission `{}` ({}), which the {} role does not have; it is held by: {}. Ask an Owner",
            self.permission,
            self.permission.summary(),
            self.role.title(),
            holders.join(", ")
        )
    }
}

/// Checks that `role` holds `permission`.
pub fn require(role: Role, permission: Permission) -> Result<(), Missing> {
    if role.holds(permission) { Ok(()) } else { Err(Missing { permission, role }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_listed_once_and_owner_holds_all() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            assert!(seen.insert(p), "{p} listed twice");
            assert!(Role::Owner.holds(p), "an Owner holds everything, not {p}");
            assert!(!p.roles().is_empty());
        }
    }

    #[test]
    fn owner_only_things_are_owner_only() {
        for p in [
            Permission::DeviceErase,
            Permission::OrgRelease,
            Permission::Secrets,
            Permission::Backups,
            Permission::Metrics,
            Permission::AdminsManage,
        ] {
            assert_eq!(p.roles(), &[Role::Owner], "{p}");
        }
    }

    #[test]
    fn auditor_changes_nothing_and_help_desk_only_supports_devices() {
        let auditor = Role::Auditor.permissions();
        assert_eq!(auditor, [Permission::Read, Permission::AuditRead, Permission::AdminsRead]);
        let help = Role::HelpDesk.permissions();
        assert_eq!(help, [Permission::Read, Permission::DeviceSupport]);
    }

    #[test]
    fn within_follows_the_table() {
        for r in Role::ALL {
            assert!(r.within(Role::Owner));
            assert!(r.within(r));
        }
        assert!(Role::HelpDesk.within(Role::Operator));
        assert!(!Role::Auditor.within(Role::Operator));
        assert!(!Role::Operator.within(Role::Auditor));
        assert!(!Role::Owner.within(Role::Operator));
    }

    #[test]
    fn roles_parse_from_codes_and_titles() {
        assert_eq!(Role::parse("Help desk"), Ok(Role::HelpDesk));
        assert_eq!(Role::parse("help-desk"), Ok(Role::HelpDesk));
        assert_eq!(Role::parse("OWNER"), Ok(Role::Owner));
        let err = Role::parse("root").unwrap_err();
        assert!(err.contains("owner, operator, help_desk, auditor"), "{err}");
    }

    #[test]
    fn a_refusal_names_what_is_missing() {
        let m = require(Role::HelpDesk, Permission::DeviceErase).unwrap_err();
        let text = m.to_string();
        assert!(text.contains("device_erase") && text.contains("Help desk"), "{text}");
        assert!(require(Role::Owner, Permission::DeviceErase).is_ok());
    }
}
