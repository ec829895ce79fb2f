//! Admin management by Owners: changing an admin's role, and the rule that the appliance
//! always keeps an Owner (someone who can manage admins, secrets and backups).

use super::records::{USERS, UserRecord, user_key as key};
use super::roles::Role;
use super::{Admin, AdminError};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::store;
use redb::ReadableTable;

/// A role change is audited as `admin.role_change`, the old and new role in the detail.
const ROLE_CHANGE: Action = Action::AdminRoleChange;

/// Refuses a change that would leave no Owner: removing `username` (`new_role` None) or
/// giving them `new_role`, when they are the only Owner.
pub(super) fn keep_an_owner<T>(
    users: &T,
    username: &str,
    new_role: Option<Role>,
) -> Result<(), AdminError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    if new_role == Some(Role::Owner) {
        return Ok(());
    }
    let mut owners = 0;
    let mut is_owner = false;
    for row in users.iter()? {
        let (_, v) = row?;
        let r: UserRecord = store::decode("admin.users", v.value())?;
        if r.role == Role::Owner {
            owners += 1;
            is_owner |= r.username.eq_ignore_ascii_case(username);
        }
    }
    if is_owner && owners <= 1 {
        return Err(AdminError::Conflict(format!(
            "{username} is the only Owner; make another admin an Owner first, so someone can still manage admins"
        )));
    }
    Ok(())
}

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
                if record.role == role {
                    return Ok(super::UserInfo::from(&record));
                }
                keep_an_owner(&users, &username, Some(role))?;
                let before = record.role;
                record.role = role;
                store::put(&mut users, &key(&username), &record)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, ROLE_CHANGE, Outcome::Success)
                        .target(record.username.clone())
                        .detail(format!(
                            "role changed from {} to {}",
                            before.title(),
                            role.title()
                        )),
                )?;
                Ok(super::UserInfo::from(&record))
            })
            .await
    }

    /// An admin's current role, None when no such admin exists.
    pub async fn role_of(&self, username: &str) -> Result<Option<Role>, AdminError> {
        let k = key(username);
        let record: Option<UserRecord> =
            self.inner.store.read(move |rtx| store::get(&rtx.open_table(USERS)?, &k)).await?;
        Ok(record.map(|r| r.role))
    }
}
