//! The route table: what every `/api/v1` route needs, route by route. With the role table
//! (`admin::Permission::roles`) it is the whole permission model; `docs/roles.md` is
//! generated from both (a test keeps it identical).
//!
//! The [`Authenticated`](crate::http::extract::Authenticated) extractor looks the matched
//! route up here and refuses with 403 what the caller's role lacks; a route missing from
//! this table is refused for everyone (fail closed), and the role matrix test
//! (`tests/it/roles.rs`) fails for any route of the OpenAPI document that is not listed.
//! **A new route adds one row here** and takes `Authenticated`.

use crate::admin::{Permission, Role};

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (setup, sign-in, the API description).
    Public,
    /// Any signed-in admin or API token, whatever the role (the caller's own session).
    SignedIn,
    /// A role holding this permission.
    Needs(Permission),
}

impl Access {
    /// Whether a caller with `role` gets past this.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Needs(p) => role.holds(p),
        }
    }
}

/// One route: method, path below `/api/v1` as registered, and what it needs.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> Route {
    Route { method, path, access }
}

use Access::{Needs, Public, SignedIn};
use Permission::*;

/// Every `/api/v1` route.
pub const ROUTES: &[Route] = &[
    // admin: setup, sign-in, one's own session
    r("GET", "/admin/setup", Public),
    r("POST", "/admin/setup", Public),
    r("POST", "/admin/login", Public),
    r("GET", "/openapi.json", Public),
    r("GET", "/admin/session", SignedIn),
    r("POST", "/admin/logout", SignedIn),
    r("POST", "/admin/password", SignedIn),
    r("GET", "/me", SignedIn),
    // admins and API tokens
    r("GET", "/admin/users", Needs(AdminsRead)),
    r("POST", "/admin/users", Needs(AdminsManage)),
    r("DELETE", "/admin/users/{username}", Needs(AdminsManage)),
    r("PUT", "/admin/users/{username}/role", Needs(AdminsManage)),
    r("PUT", "/admin/users/{username}/scope", Needs(AdminsManage)),
    // Lists everyone's tokens for AdminsRead, one's own otherwise.
    r("GET", "/admin/api-tokens", Needs(Read)),
    r("POST", "/admin/api-tokens", Needs(ApiTokensOwn)),
    // One's own token; someone else's needs AdminsManage (checked by the admin module).
    r("DELETE", "/admin/api-tokens/{id}", Needs(ApiTokensOwn)),
    // status, audit
    r("GET", "/status", Needs(Read)),
    r("GET", "/audit", Needs(AuditRead)),
    r("GET", "/audit/verify", Needs(AuditRead)),
    r("GET", "/audit/export", Needs(AuditRead)),
    // settings
    r("GET", "/settings/tls", Needs(Read)),
    // The appliance CA is public: devices and browsers fetch it to trust the appliance.
    r("GET", "/settings/tls/ca.pem", Public),
    r("GET", "/settings/tls/ca.der", Public),
    r("POST", "/settings/tls/custom", Needs(Settings)),
    r("DELETE", "/settings/tls/custom", Needs(Settings)),
    r("POST", "/settings/tls/acme/renew", Needs(Settings)),
    r("GET", "/settings/tls/switch-impact", Needs(Read)),
    r("POST", "/settings/tls/held/confirm", Needs(Settings)),
    r("GET", "/settings/backup", Needs(Read)),
    r("PUT", "/settings/backup", Needs(Backups)),
    r("DELETE", "/settings/backup", Needs(Backups)),
    r("POST", "/settings/backup/run", Needs(Backups)),
    r("GET", "/settings/sync", Needs(Read)),
    r("PUT", "/settings/sync", Needs(Sync)),
    // Apple server tokens
    r("GET", "/tokens", Needs(Read)),
    r("GET", "/tokens/{id}", Needs(Read)),
    r("POST", "/tokens", Needs(ServerTokens)),
    r("POST", "/tokens/{id}/renew", Needs(ServerTokens)),
    r("DELETE", "/tokens/{id}", Needs(ServerTokens)),
    r("GET", "/tokens/{id}/public-key.pem", Needs(Read)),
    r("POST", "/tokens/keys", Needs(ServerTokens)),
    r("GET", "/tokens/keys", Needs(Read)),
    r("GET", "/tokens/keys/{id}/public-key.pem", Needs(Read)),
    r("DELETE", "/tokens/keys/{id}", Needs(ServerTokens)),
    // sync
    r("GET", "/sync", Needs(Read)),
    r("GET", "/sync/{token_id}", Needs(Read)),
    r("POST", "/sync/{token_id}", Needs(Sync)),
    // devices
    r("GET", "/devices", Needs(Read)),
    r("GET", "/devices/export.csv", Needs(Read)),
    r("GET", "/devices/counts", Needs(Read)),
    r("GET", "/devices/{serial}", Needs(Read)),
    r("GET", "/devices/{serial}/certificates", Needs(Read)),
    // profiles and assignment
    r("GET", "/profiles/skip-keys", Needs(Read)),
    r("GET", "/profiles", Needs(Read)),
    r("GET", "/profiles/defaults", Needs(Read)),
    r("PUT", "/profiles/defaults", Needs(Profiles)),
    r("GET", "/profiles/{id}", Needs(Read)),
    r("POST", "/profiles", Needs(Profiles)),
    r("POST", "/profiles/validate", Needs(Profiles)),
    r("PUT", "/profiles/{id}", Needs(Profiles)),
    r("GET", "/profiles/{id}/edit-impact", Needs(Read)),
    r("DELETE", "/profiles/{id}", Needs(Profiles)),
    r("GET", "/assignments", Needs(Read)),
    r("POST", "/assignments", Needs(Assign)),
    r("POST", "/assignments/csv", Needs(Assign)),
    r("DELETE", "/assignments", Needs(Assign)),
    // enrollment
    r("GET", "/enrollment/funnel", Needs(Read)),
    r("GET", "/enrollment/refusals", Needs(Read)),
    r("GET", "/enrollment/settings", Needs(Read)),
    // audit-only mode lets devices the gate refuses enroll: an Owner's decision.
    r("PUT", "/enrollment/settings", Needs(Settings)),
    // push certificate (its key is the appliance's)
    r("GET", "/push", Needs(Read)),
    r("POST", "/push/request", Needs(Settings)),
    r("GET", "/push/request.csr", Needs(Settings)),
    r("POST", "/push/request/vendor-signed", Needs(Settings)),
    r("POST", "/push/certificate", Needs(Settings)),
    r("GET", "/push/devices/{udid}", Needs(Read)),
    // MDM: a device's state and the device page's actions
    r("GET", "/devices/{serial}/mdm", Needs(Read)),
    r("POST", "/devices/{serial}/mdm/refresh", Needs(DeviceSupport)),
    r("POST", "/devices/{serial}/mdm/rename", Needs(DeviceSupport)),
    r("POST", "/devices/{serial}/mdm/release", Needs(DeviceSupport)),
    r("POST", "/devices/{serial}/mdm/erase", Needs(DeviceErase)),
    r("POST", "/devices/{serial}/mdm/return-to-service", Needs(DeviceErase)),
    r("POST", "/devices/{serial}/mdm/setup/retry", Needs(DeviceSupport)),
    r("POST", "/devices/{serial}/mdm/setup/release-anyway", Needs(DeviceSupport)),
    // The command API: erase-like and unknown request types also need DeviceErase, checked
    // per command by `mdm::permission_for`.
    r("PUT", "/mdm/enqueue/{ids}", Needs(DeviceCommands)),
    r("GET", "/mdm/push/{ids}", Needs(DeviceCommands)),
    // setup steps run while Setup Assistant waits, and their configuration profiles
    r("GET", "/profiles/{id}/setup-steps", Needs(Read)),
    r("PUT", "/profiles/{id}/setup-steps", Needs(Profiles)),
    r("GET", "/setup/profiles", Needs(Read)),
    r("POST", "/setup/profiles", Needs(Profiles)),
    r("DELETE", "/setup/profiles/{id}", Needs(Profiles)),
    // sandbox mode's simulated Apple side
    r("GET", "/sandbox", Needs(Read)),
    r("POST", "/sandbox/abm/servers", Needs(Sandbox)),
    r("POST", "/sandbox/abm/servers/{uuid}/token", Needs(Sandbox)),
    r("POST", "/sandbox/devices", Needs(Sandbox)),
    r("POST", "/sandbox/devices/move", Needs(Sandbox)),
    r("POST", "/sandbox/devices/migrate", Needs(Sandbox)),
    r("POST", "/sandbox/devices/release", Needs(Sandbox)),
    r("POST", "/sandbox/enroll", Needs(Sandbox)),
    r("GET", "/sandbox/enroll", Needs(Read)),
    // integrations: webhook subscriptions hold secrets (Owner only)
    r("GET", "/integrations/topics", Needs(Read)),
    r("GET", "/integrations/webhooks", Needs(Secrets)),
    r("POST", "/integrations/webhooks", Needs(Secrets)),
    r("GET", "/integrations/webhooks/{id}", Needs(Secrets)),
    r("PUT", "/integrations/webhooks/{id}", Needs(Secrets)),
    r("DELETE", "/integrations/webhooks/{id}", Needs(Secrets)),
    r("POST", "/integrations/webhooks/{id}/resume", Needs(Secrets)),
    r("POST", "/integrations/webhooks/{id}/test", Needs(Secrets)),
    r("GET", "/integrations/webhooks/{id}/deliveries", Needs(Secrets)),
    r("POST", "/integrations/webhooks/{id}/deliveries/{seq}/redeliver", Needs(Secrets)),
    // alerts: the SMTP settings hold a password (Owner only)
    r("GET", "/alerts", Needs(Secrets)),
    r("GET", "/alerts/settings", Needs(Secrets)),
    r("PUT", "/alerts/settings", Needs(Secrets)),
    r("DELETE", "/alerts/settings/smtp", Needs(Secrets)),
    r("POST", "/alerts/test", Needs(Secrets)),
    // user sign-in directories (user affinity)
    r("GET", "/signin/users", Needs(Read)),
    r("POST", "/signin/users", Needs(Secrets)),
    r("DELETE", "/signin/users/{username}", Needs(Secrets)),
    r("GET", "/signin/oidc", Needs(Read)),
    r("PUT", "/signin/oidc", Needs(Secrets)),
    r("DELETE", "/signin/oidc", Needs(Secrets)),
    r("POST", "/signin/oidc/test", Needs(Secrets)),
    r("GET", "/signin/ldap", Needs(Read)),
    r("PUT", "/signin/ldap", Needs(Secrets)),
    r("DELETE", "/signin/ldap", Needs(Secrets)),
    r("POST", "/signin/ldap/test", Needs(Secrets)),
    // actions at Apple Business: release leaves the organisation for good (Owner only)
    r("POST", "/business/actions", Needs(OrgAssign)),
    r("POST", "/business/actions/release", Needs(OrgRelease)),
    r("POST", "/business/actions/csv", Needs(OrgAssign)),
    r("POST", "/business/actions/release/csv", Needs(OrgRelease)),
    r("GET", "/business/actions", Needs(Read)),
    r("GET", "/business/actions/{request_id}", Needs(Read)),
    r("GET", "/business/applecare/{serial}", Needs(Read)),
    // Apple Business API: the account holds a private key (Owner only)
    // Shows no secret: whether an account is set up, its ids.
    r("GET", "/business/account", Needs(Read)),
    r("PUT", "/business/account", Needs(Secrets)),
    r("DELETE", "/business/account", Needs(Secrets)),
    r("GET", "/business/servers", Needs(Read)),
    r("PUT", "/business/servers/{token_id}", Needs(ServerTokens)),
    r("GET", "/business/where/{serial}", Needs(Read)),
    // the organisation's devices, synced from Apple Business
    r("GET", "/business/devices", Needs(Read)),
    r("GET", "/business/devices/export.csv", Needs(Read)),
    r("GET", "/business/devices/sync", Needs(Read)),
    r("POST", "/business/devices/sync", Needs(Sync)),
];

/// Routes a role's permission opens but that show or change organisation-wide data, with
/// what they are: refused to an admin limited to some server tokens (`admin::Scope`), as are
/// the organisation-wide permissions (`admin::org_wide`). The rest of the scope rule (lists
/// narrowed, actions on another token's objects refused) is `http::scope`'s.
pub const ORG_WIDE: &[(&str, &str, &str)] = &[
    ("POST", "/tokens", "adding a server token"),
    ("GET", "/settings/tls", "the appliance's TLS certificate"),
    ("GET", "/settings/tls/switch-impact", "the devices a certificate switch re-assigns"),
    ("GET", "/settings/backup", "the backup schedule"),
    ("GET", "/settings/sync", "the sync settings"),
    ("PUT", "/settings/sync", "the sync settings"),
    ("GET", "/enrollment/funnel", "the enrollment funnel"),
    ("GET", "/enrollment/refusals", "the enrollment refusals"),
    ("GET", "/enrollment/settings", "the enrollment settings"),
    ("GET", "/push", "the push certificate"),
    // A UDID does not say which token's device it is: look the device up by serial instead.
    ("GET", "/push/devices/{udid}", "push state by UDID"),
    ("GET", "/sandbox", "the simulated Apple side"),
    ("GET", "/sandbox/enroll", "the simulated Apple side"),
    ("GET", "/signin/users", "the accounts users sign in with"),
    ("GET", "/signin/oidc", "the OpenID Connect provider users sign in with"),
    ("GET", "/signin/ldap", "the LDAP directory users sign in with"),
    ("PUT", "/signin/ldap", "the LDAP directory users sign in with"),
    ("DELETE", "/signin/ldap", "the LDAP directory users sign in with"),
    ("POST", "/signin/ldap/test", "the LDAP directory users sign in with"),
    ("POST", "/setup/profiles", "the configuration profiles setup steps install"),
    ("DELETE", "/setup/profiles/{id}", "the configuration profiles setup steps install"),
    // Moving a device between MDM servers at Apple touches servers outside any one scope.
    ("POST", "/business/actions", "actions at Apple Business"),
    ("POST", "/business/actions/release", "actions at Apple Business"),
    ("POST", "/business/actions/csv", "actions at Apple Business"),
    ("POST", "/business/actions/release/csv", "actions at Apple Business"),
    ("GET", "/business/actions", "actions at Apple Business"),
    ("GET", "/business/actions/{request_id}", "actions at Apple Business"),
    ("GET", "/business/account", "the Apple Business API account"),
    ("PUT", "/business/account", "the Apple Business API account"),
    ("DELETE", "/business/account", "the Apple Business API account"),
    ("GET", "/business/servers", "the organisation's MDM servers"),
    ("PUT", "/business/servers/{token_id}", "the organisation's MDM servers"),
    // Any serial of the organisation, ours or not.
    ("GET", "/business/where/{serial}", "where a serial is in the organisation"),
    // Every device of the organisation, whichever server (if any) it is at.
    ("GET", "/business/devices", "the organisation's devices"),
    ("GET", "/business/devices/export.csv", "the organisation's devices"),
    ("GET", "/business/devices/sync", "the organisation's devices"),
    ("POST", "/business/devices/sync", "the organisation's devices"),
];

/// What is organisation-wide about `route`, if anything: the route's own entry in
/// [`ORG_WIDE`], or the permission it needs.
pub fn org_wide(route: &Route) -> Option<&'static str> {
    let listed = ORG_WIDE.iter().find(|(m, p, _)| *m == route.method && *p == route.path);
    match (listed, route.access) {
        (Some((_, _, what)), _) => Some(what),
        (None, Access::Needs(p)) if crate::admin::org_wide(p) => Some(p.summary()),
        _ => None,
    }
}

/// The prefix every path above is registered under.
pub const PREFIX: &str = "/api/v1";

/// What a request needs, from its method and the full route pattern actix matched
/// (`/api/v1/devices/{serial}`). HEAD is answered like GET.
pub fn lookup(method: &str, pattern: &str) -> Option<Access> {
    lookup_route(method, pattern).map(|r| r.access)
}

/// The row of a request, from its method and the full route pattern actix matched.
pub fn lookup_route(method: &str, pattern: &str) -> Option<&'static Route> {
    let method = if method == "HEAD" { "GET" } else { method };
    let path = pattern.strip_prefix(PREFIX)?;
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// The tables of `docs/roles.md`: roles × permissions, then every route.
pub fn markdown() -> String {
    let mut out = String::new();
    let head = Role::ALL.map(Role::title).join(" | ");
    let mark = |ok: bool| if ok { "yes" } else { "—" };
    out.push_str(&format!("| permission | what it allows | {head} |\n"));
    out.push_str(&format!("| --- | --- |{}\n", " :-: |".repeat(Role::ALL.len())));
    for p in Permission::ALL {
        let cells = Role::ALL.map(|role| mark(role.holds(p))).join(" | ");
        out.push_str(&format!("| `{}` | {} | {cells} |\n", p.code(), p.summary()));
    }
    out.push('\n');
    out.push_str(&format!("| route | needs | {head} |\n"));
    out.push_str(&format!("| --- | --- |{}\n", " :-: |".repeat(Role::ALL.len())));
    for route in ROUTES {
        let needs = match route.access {
            Access::Public => "public (no sign-in)".to_string(),
            Access::SignedIn => "signed in".to_string(),
            Access::Needs(p) => format!("`{}`", p.code()),
        };
        let cells = Role::ALL.map(|role| mark(route.access.allows(role))).join(" | ");
        out.push_str(&format!(
            "| `{} {PREFIX}{}` | {needs} | {cells} |\n",
            route.method, route.path
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {} listed twice", r.method, r.path);
        }
    }

    #[test]
    fn lookup_needs_the_prefix_and_treats_head_as_get() {
        assert_eq!(lookup("HEAD", "/api/v1/status"), Some(Access::Needs(Permission::Read)));
        assert_eq!(lookup("GET", "/status"), None);
        assert_eq!(lookup("PATCH", "/api/v1/status"), None);
    }

    /// The docs show exactly the tables in the code. To refresh them, copy the text this
    /// test prints between the markers in `docs/roles.md`.
    #[test]
    fn docs_show_the_tables_of_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/roles.md");
        let doc = std::fs::read_to_string(&path).expect("docs/roles.md exists");
        let begin = "<!-- BEGIN generated: http::api::permissions::markdown -->\n";
        let end = "<!-- END generated -->";
        let (_, rest) = doc.split_once(begin).expect("docs/roles.md has the begin marker");
        let (shown, _) = rest.split_once(end).expect("docs/roles.md has the end marker");
        let expected = markdown();
        assert!(
            shown == expected,
            "docs/roles.md is out of date; put this between the markers:\n{expected}"
        );
    }
}
