//! Admin management by Owners: changing an admin's role and scope, and the rule that the
//! appliance always keeps an unscoped Owner (someone who can manage admins, secrets and
//! backups, and see everything).

use super::records::{USERS, UserRecord, user_key as key};
use super::roles::Role;
use super::scope::Scope;
use super::{Admin, AdminError};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::store;
use redb::ReadableTable;

/// A role change is audited as `admin.role_change`, the old and new role in the detail.
const ROLE_CHANGE: Action = Action::AdminRoleChange;
/// A scope change is audited as `admin.scope_change`, the old and new scope in the detail.
const SCOPE_CHANGE: Action = Action::AdminScopeChange;

/// Refuses a change that would leave no unscoped Owner (someone who can manage admins and
/// see everything): removing `username` (`new_role` None) or giving them `new_role`, when
/// they are the only one.
pub(super) fn keep_an_owner<T>(
    users: &T,
    username: &str,
    new_role: Option<Role>,
) -> Result<(), AdminError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    keep_an_unscoped_owner(users, username, |r| new_role == Some(Role::Owner) && r.scope.is_none())
}

/// Refuses a change after which `username` is no longer an unscoped Owner (`stays` says,
/// from their record, whether they remain one) when no other unscoped Owner exists.
fn keep_an_unscoped_owner<T>(
    users: &T,
    username: &str,
    stays: impl Fn(&UserRecord) -> bool,
) -> Result<(), AdminError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let mut others = 0;
    let mut is_one = false;
    for row in users.iter()? {
        let (_, v) = row?;
        let r: UserRecord = store::decode("admin.users", v.value())?;
        if r.role == Role::Owner && r.scope.is_none() {
            if r.username.eq_ignore_ascii_case(username) {
                is_one = !stays(&r);
            } else {
                others += 1;
            }
        }
    }
    if is_one && others == 0 {
        return Err(AdminError::Conflict(format!(
            "{username} is the only Owner with no scope; make another admin an unscoped Owner first, so someone can still manage admins and see everything"
        )));
    }
    Ok(())
}

/// The admins table as a change sees it.
type Users<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

impl Admin {
    /// Gives an admin another role; audited. Their sessions stay, and the new role applies
    /// from their next request. Their API tokens with a role the new one does not cover stop
    /// working (see `principal_for_token`).
    pub async fn set_role(
        &self,
        actor: Actor,
        username: &str,
        role: Role,
    ) -> Result<super::UserInfo, AdminError> {
        self.change_admin(actor, username, ROLE_CHANGE, move |users, record| {
            if record.role == role {
                return Ok(None);
            }
            keep_an_owner(users, &record.username, Some(role))?;
            let before = std::mem::replace(&mut record.role, role);
            Ok(Some(format!("role changed from {} to {}", before.title(), role.title())))
        })
        .await
    }

    /// Limits an admin to some server tokens ([`Scope::Tokens`]) or lifts the limit
    /// ([`Scope::All`]); audited. Applies from their next request, to their API tokens too.
    /// Which token ids exist is the caller's to check (tokens come after admin).
    pub async fn set_scope(
        &self,
        actor: Actor,
        username: &str,
        scope: Scope,
    ) -> Result<super::UserInfo, AdminError> {
        self.change_admin(actor, username, SCOPE_CHANGE, move |users, record| {
            let stored = scope.to_stored();
            if record.scope == stored {
                return Ok(None);
            }
            keep_an_unscoped_owner(users, &record.username, |r| {
                r.role == Role::Owner && stored.is_none()
            })?;
            let before = Scope::from_stored(std::mem::replace(&mut record.scope, stored));
            Ok(Some(format!("scope changed from {} to {}", describe(&before), describe(&scope))))
        })
        .await
    }

    /// Changes one admin's record and writes its audit entry in one transaction: `change`
    /// edits the record and answers the audit detail, or None when nothing changes.
    async fn change_admin(
        &self,
        actor: Actor,
        username: &str,
        action: Action,
        change: impl for<'t> FnOnce(&Users<'t>, &mut UserRecord) -> Result<Option<String>, AdminError>
        + Send
        + Clone
        + 'static,
    ) -> Result<super::UserInfo, AdminError> {
        let now = self.now();
        let username = username.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut users = wtx.open_table(USERS)?;
                let Some(mut record): Option<UserRecord> = store::get(&users, &key(&username))?
                else {
                    return Err(AdminError::NotFound(format!("admin {username}")));
                };
                let Some(detail) = change(&users, &mut record)? else {
                    return Ok(super::UserInfo::from(&record));
                };
                store::put(&mut users, &key(&username), &record)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, action, Outcome::Success)
                        .target(record.username.clone())
                        .detail(detail),
                )?;
                Ok(super::UserInfo::from(&record))
            })
            .await
    }

    /// An admin's current role, None when no such admin exists.
    pub async fn role_of(&self, username: &str) -> Result<Option<Role>, AdminError> {
        Ok(self.access_of(username).await?.map(|(role, _)| role))
    }

    /// An admin's current role and scope, None when no such admin exists.
    pub async fn access_of(&self, username: &str) -> Result<Option<(Role, Scope)>, AdminError> {
        let k = key(username);
        let record: Option<UserRecord> =
            self.inner.store.read(move |rtx| store::get(&rtx.open_table(USERS)?, &k)).await?;
        Ok(record.map(|r| (r.role, Scope::from_stored(r.scope))))
    }
}

/// A scope in the audit detail: the token ids, or "all server tokens".
pub(super) fn describe(scope: &Scope) -> String {
    match scope.tokens() {
        None => "all server tokens".into(),
        Some(t) if t.is_empty() => "no server token".into(),
        Some(t) => {
            let ids: Vec<&str> = t.iter().map(|i| i.as_str()).collect();
            format!("server tokens {}", ids.join(", "))
        }
    }
}
