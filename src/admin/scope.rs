//! An admin's scope: the Apple server tokens whose devices, profiles' states, sync and
//! assignments they see and act on (Intune's scope tags). **The one rule** of scoping:
//!
//! - an unscoped admin ([`Scope::All`], every admin made before scopes existed) sees
//!   everything;
//! - a scoped admin ([`Scope::Tokens`]) sees in lists only what belongs to those tokens, is
//!   refused (403, naming the token) an action on anything of another token, and is refused
//!   organisation-wide data and settings ([`org_wide`]): the audit log, the admins, the
//!   enrollment and push settings, adding server tokens;
//! - an API token's scope is never wider than its creator's, and narrows with it.
//!
//! The edge turns a [`Scope`] into the filters the services take (`http::scope`); nothing
//! here knows devices or HTTP.

use super::roles::Permission;
use crate::ids::TokenId;
use std::collections::BTreeSet;

/// Which server tokens a principal may see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every token and the organisation-wide data.
    #[default]
    All,
    /// Only these tokens (possibly none, e.g. after their only token was deleted).
    Tokens(BTreeSet<TokenId>),
}

impl Scope {
    /// From the stored form: None is unscoped.
    pub fn from_stored(tokens: Option<BTreeSet<TokenId>>) -> Scope {
        tokens.map_or(Scope::All, Scope::Tokens)
    }

    /// The stored form: None is unscoped.
    pub fn to_stored(&self) -> Option<BTreeSet<TokenId>> {
        match self {
            Scope::All => None,
            Scope::Tokens(t) => Some(t.clone()),
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    /// The tokens a scoped principal may see; None when unscoped.
    pub fn tokens(&self) -> Option<&BTreeSet<TokenId>> {
        match self {
            Scope::All => None,
            Scope::Tokens(t) => Some(t),
        }
    }

    /// Whether data of `token` (as stored, e.g. a device record's token) is visible.
    pub fn allows(&self, token: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Tokens(t) => t.iter().any(|id| id.as_str() == token),
        }
    }

    /// Refuses acting on `what` (e.g. "device C02X…") of `token`, outside the scope.
    pub fn require(&self, token: &str, what: &str) -> Result<(), OutOfScope> {
        if self.allows(token) {
            Ok(())
        } else {
            Err(OutOfScope::Token { what: what.to_string(), token: token.to_string() })
        }
    }

    /// Refuses organisation-wide `what` (e.g. "the enrollment settings") to scoped principals.
    pub fn require_all(&self, what: &str) -> Result<(), OutOfScope> {
        if self.is_all() { Ok(()) } else { Err(OutOfScope::OrgWide { what: what.to_string() }) }
    }

    /// True when `self` sees nothing that `other` does not: an API token's scope must be
    /// within its creator's.
    pub fn within(&self, other: &Scope) -> bool {
        match (self, other) {
            (_, Scope::All) => true,
            (Scope::All, Scope::Tokens(_)) => false,
            (Scope::Tokens(mine), Scope::Tokens(theirs)) => mine.is_subset(theirs),
        }
    }

    /// What both see: a token acts within what its admin may see now.
    pub fn narrowed_by(&self, other: &Scope) -> Scope {
        match (self, other) {
            (s, Scope::All) => s.clone(),
            (Scope::All, o) => o.clone(),
            (Scope::Tokens(a), Scope::Tokens(b)) => {
                Scope::Tokens(a.intersection(b).cloned().collect())
            }
        }
    }

    /// Keeps the items whose token (`token_of`) is in scope.
    pub fn retain<T>(&self, items: &mut Vec<T>, token_of: impl Fn(&T) -> &str) {
        if !self.is_all() {
            items.retain(|i| self.allows(token_of(i)));
        }
    }

    /// Whether a principal with this scope may use `permission` at all: organisation-wide
    /// permissions are refused to scoped principals whatever their role.
    pub fn permits(&self, permission: Permission) -> bool {
        self.is_all() || !org_wide(permission)
    }
}

/// Permissions over organisation-wide data: the whole audit log, the admins, the
/// appliance's settings, secrets, backups, metrics and the simulated Apple side. A scoped
/// admin has none of them, whatever their role. (Routes that need only `read` but show
/// organisation-wide data are listed by the route table, `http::api::permissions`.)
pub fn org_wide(permission: Permission) -> bool {
    matches!(
        permission,
        Permission::AuditRead
            | Permission::AdminsRead
            | Permission::AdminsManage
            | Permission::Settings
            | Permission::Secrets
            | Permission::Backups
            | Permission::Metrics
            | Permission::Sandbox
    )
}

/// A refusal because of the scope: what the 403 says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutOfScope {
    #[error(
        "{what} belongs to the server token {token}, which is outside your scope; ask an Owner to add it to your scope under Settings → Admins"
    )]
    Token { what: String, token: String },
    #[error(
        "{what} is organisation-wide, and your access is limited to some server tokens; ask an unscoped admin"
    )]
    OrgWide { what: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(ids: &[&str]) -> Scope {
        Scope::Tokens(ids.iter().map(|i| TokenId::parse(i).unwrap()).collect())
    }

    #[test]
    fn unscoped_sees_everything_and_scoped_only_its_tokens() {
        assert!(Scope::All.allows("anything"));
        let s = scope(&["a1", "b2"]);
        assert!(s.allows("a1") && s.allows("b2") && !s.allows("c3"));
        assert!(!scope(&[]).allows("a1"));
        let err = s.require("c3", "device C02X").unwrap_err().to_string();
        assert!(err.contains("device C02X") && err.contains("c3"), "{err}");
        assert!(s.require_all("the audit log").is_err());
        assert!(Scope::All.require_all("the audit log").is_ok());
    }

    #[test]
    fn within_and_narrowing() {
        let ab = scope(&["a1", "b2"]);
        let a = scope(&["a1"]);
        assert!(a.within(&ab) && ab.within(&Scope::All) && Scope::All.within(&Scope::All));
        assert!(!ab.within(&a) && !Scope::All.within(&ab));
        assert_eq!(Scope::All.narrowed_by(&a), a);
        assert_eq!(ab.narrowed_by(&a), a);
        assert_eq!(a.narrowed_by(&scope(&["b2"])), scope(&[]));
        assert_eq!(Scope::from_stored(ab.to_stored()), ab);
        assert_eq!(Scope::from_stored(None), Scope::All);
    }

    #[test]
    fn scoped_principals_hold_no_org_wide_permission() {
        let s = scope(&["a1"]);
        for p in Permission::ALL {
            assert_eq!(s.permits(p), !org_wide(p), "{p}");
            assert!(Scope::All.permits(p));
        }
        assert!(s.permits(Permission::DeviceSupport) && !s.permits(Permission::AuditRead));
    }

    #[test]
    fn retain_keeps_in_scope_items() {
        let mut items = vec!["a1", "c3", "b2"];
        scope(&["a1", "b2"]).retain(&mut items, |i| i);
        assert_eq!(items, ["a1", "b2"]);
    }
}
