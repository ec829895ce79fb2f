//! Admin accounts: first-run setup, sign-in, passwords, adding and removing admins.

use super::records::{USERS, UserRecord, user_key as key};
use super::roles::Role;
use super::sessions::{Session, create_session_in};
use super::{Admin, AdminError, Checked, check_username, password};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::crypto::Secret;
use crate::ids::TokenId;
use crate::store::{self, Store, StoreError};
use redb::{ReadableTable, ReadableTableMetadata};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;
use time::OffsetDateTime;

/// An admin as the API lists it.
#[derive(Clone, Debug, Serialize)]
pub struct UserInfo {
    pub username: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    pub role: Role,
    /// The server token ids the admin is limited to; None when unscoped.
    pub scope: Option<BTreeSet<TokenId>>,
}

impl From<&UserRecord> for UserInfo {
    fn from(r: &UserRecord) -> Self {
        UserInfo {
            username: r.username.clone(),
            created_at: r.created_at,
            last_login_at: r.last_login_at,
            role: r.role,
            scope: r.scope.clone(),
        }
    }
}

pub(super) async fn count(store: &Store) -> Result<u64, StoreError> {
    store.read(|rtx| Ok(rtx.open_table(USERS)?.len()?)).await
}

impl Admin {
    /// Completes first-run setup: checks the one-time code, creates the first admin and signs
    /// them in.
    pub async fn setup(
        &self,
        code: &str,
        username: &str,
        new_password: Secret<String>,
        addr: Option<IpAddr>,
    ) -> Result<Session, AdminError> {
        let now = self.now();
        if !self.setup_required().await? {
            return Err(AdminError::SetupDone);
        }
        let expected = self
            .inner
            .setup_code
            .lock()
            .expect("setup code mutex is never held across a panic")
            .clone();
        let checked = self
            .inner
            .guard
            .check_cheap(addr, || expected.is_some_and(|e| codes_equal(e.expose(), code)))?;
        if checked != Checked::Matches {
            let entry = NewEntry::new(now, Actor::Anonymous, Action::AdminSetup, Outcome::Failure)
                .target(username.to_string())
                .from_addr(addr.map(|a| a.to_string()))
                .detail("wrong setup code");
            audit::record(&self.inner.store, entry).await?;
            return Err(AdminError::BadSetupCode);
        }
        check_username(username)?;
        password::check_policy(new_password.expose())
            .map_err(|message| AdminError::Validation { field: "password", message })?;
        let hash = self.hash(addr, new_password).await?;
        let username = username.to_string();
        let lifetime = self.inner.options.session_lifetime;
        let session = self
            .inner
            .store
            .write(move |wtx| {
                let mut users = wtx.open_table(USERS)?;
                if users.len()? > 0 {
                    return Err(AdminError::SetupDone); // lost a race with another setup
                }
                let record = UserRecord {
                    username: username.clone(),
                    password_hash: hash,
                    created_at: now,
                    last_login_at: Some(now),
                    role: Role::Owner,
                    scope: None,
                };
                store::put(&mut users, &key(&username), &record)?;
                let session = create_session_in(wtx, &username, now, lifetime, addr)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(
                        now,
                        Actor::Admin(username.clone()),
                        Action::AdminSetup,
                        Outcome::Success,
                    )
                    .target(username.clone())
                    .from_addr(addr.map(|a| a.to_string())),
                )?;
                Ok(session)
            })
            .await?;
        *self.inner.setup_code.lock().expect("setup code mutex is never held across a panic") =
            None;
        Ok(session)
    }

    /// Signs an admin in; throttled per client address.
    pub async fn login(
        &self,
        username: &str,
        password_text: Secret<String>,
        addr: Option<IpAddr>,
    ) -> Result<Session, AdminError> {
        let k = key(username);
        let record: Option<UserRecord> =
            self.inner.store.read(move |rtx| store::get(&rtx.open_table(USERS)?, &k)).await?;
        let stored_hash = record.as_ref().map(|r| r.password_hash.clone());
        let checked = self.inner.guard.check(addr, username, password_text, stored_hash).await?;
        // The clock is read after the check: it may have waited its turn.
        let now = self.now();
        let addr_text = addr.map(|a| a.to_string());
        let (Checked::Matches, Some(mut record)) = (checked, record) else {
            let lockout = match checked {
                Checked::Wrong { lockout } => lockout,
                Checked::Matches => None, // a decoy never matches; treated as wrong all the same
            };
            let mut entry =
                NewEntry::new(now, Actor::Anonymous, Action::AdminLogin, Outcome::Failure)
                    .target(username.to_string())
                    .from_addr(addr_text);
            entry = entry.detail(if lockout.is_some() {
                "wrong username or password; address locked out"
            } else {
                "wrong username or password"
            });
            audit::record(&self.inner.store, entry).await?;
            return Err(match lockout {
                Some(retry_after) => AdminError::LockedOut { retry_after },
                None => AdminError::BadCredentials,
            });
        };
        let lifetime = self.inner.options.session_lifetime;
        self.inner
            .store
            .write(move |wtx| {
                record.last_login_at = Some(now);
                let mut users = wtx.open_table(USERS)?;
                store::put(&mut users, &key(&record.username), &record)?;
                let session = create_session_in(wtx, &record.username, now, lifetime, addr)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(
                        now,
                        Actor::Admin(record.username.clone()),
                        Action::AdminLogin,
                        Outcome::Success,
                    )
                    .target(record.username.clone())
                    .from_addr(addr_text),
                )?;
                Ok(session)
            })
            .await
    }

    pub async fn list_users(&self) -> Result<Vec<UserInfo>, AdminError> {
        self.inner
            .store
            .read(|rtx| {
                let t = rtx.open_table(USERS)?;
                let mut out = Vec::new();
                for row in t.iter()? {
                    let (_, v) = row?;
                    let r: UserRecord = store::decode("admin.users", v.value())?;
                    out.push(UserInfo::from(&r));
                }
                Ok(out)
            })
            .await
    }

    /// Adds another admin with a role.
    pub async fn create_user(
        &self,
        actor: Actor,
        username: &str,
        new_password: Secret<String>,
        role: Role,
    ) -> Result<UserInfo, AdminError> {
        check_username(username)?;
        password::check_policy(new_password.expose())
            .map_err(|message| AdminError::Validation { field: "password", message })?;
        let hash = self.hash(None, new_password).await?;
        let now = self.now();
        let username = username.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut users = wtx.open_table(USERS)?;
                if users.get(key(&username).as_slice())?.is_some() {
                    return Err(AdminError::Conflict(format!(
                        "an admin named {username} already exists"
                    )));
                }
                let record = UserRecord {
                    username: username.clone(),
                    password_hash: hash,
                    created_at: now,
                    last_login_at: None,
                    role,
                    scope: None,
                };
                store::put(&mut users, &key(&username), &record)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::AdminUserCreate, Outcome::Success)
                        .target(username.clone())
                        .detail(format!("role {}", role.title())),
                )?;
                Ok(UserInfo::from(&record))
            })
            .await
    }

    /// Removes an admin and signs them out everywhere. Refuses to remove yourself or the
    /// last admin, so the appliance always has someone who can sign in.
    pub async fn delete_user(&self, actor: Actor, username: &str) -> Result<(), AdminError> {
        if let Actor::Admin(me) = &actor
            && me.eq_ignore_ascii_case(username)
        {
            return Err(AdminError::Conflict(
                "you cannot delete your own account; sign in as another admin to do it".into(),
            ));
        }
        let now = self.now();
        let username = username.to_string();
        self.inner
            .store
            .write(move |wtx| {
                let mut users = wtx.open_table(USERS)?;
                if users.get(key(&username).as_slice())?.is_none() {
                    return Err(AdminError::NotFound(format!("admin {username}")));
                }
                if users.len()? <= 1 {
                    return Err(AdminError::Conflict("the last admin cannot be deleted".into()));
                }
                super::members::keep_an_owner(&users, &username, None)?;
                users.remove(key(&username).as_slice())?;
                super::sessions::remove_sessions_of_in(wtx, &username, None)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, actor, Action::AdminUserDelete, Outcome::Success)
                        .target(username.clone()),
                )?;
                Ok(())
            })
            .await
    }

    /// Changes the signed-in admin's password after checking the current one; signs out
    /// every other session of that admin.
    pub async fn change_password(
        &self,
        username: &str,
        current: Secret<String>,
        new_password: Secret<String>,
        keep_session: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<(), AdminError> {
        password::check_policy(new_password.expose())
            .map_err(|message| AdminError::Validation { field: "new_password", message })?;
        let k = key(username);
        let record: Option<UserRecord> =
            self.inner.store.read(move |rtx| store::get(&rtx.open_table(USERS)?, &k)).await?;
        let Some(mut record) = record else {
            return Err(AdminError::NotFound(format!("admin {username}")));
        };
        let stored = record.password_hash.clone();
        if !self.inner.guard.verify_signed_in(addr, current, stored).await? {
            return Err(AdminError::Validation {
                field: "current_password",
                message: "the current password is wrong".into(),
            });
        }
        record.password_hash = self.hash(addr, new_password).await?;
        let now = self.now();
        let keep = keep_session.map(super::records::secret_hash);
        self.inner
            .store
            .write(move |wtx| {
                store::put(&mut wtx.open_table(USERS)?, &key(&record.username), &record)?;
                super::sessions::remove_sessions_of_in(wtx, &record.username, keep.as_deref())?;
                audit::record_in(
                    wtx,
                    NewEntry::new(
                        now,
                        Actor::Admin(record.username.clone()),
                        Action::AdminPasswordChange,
                        Outcome::Success,
                    )
                    .target(record.username.clone()),
                )?;
                Ok(())
            })
            .await
    }

    /// `adebox admin set-password USER [--role ROLE]`: sets (or creates) an admin's password
    /// from the command line, for recovery; signs that admin out everywhere. A new admin gets
    /// `role`, which may be left out only for the first admin (an Owner); an existing admin's
    /// role changes when one is given. Returns true if created.
    pub async fn set_password_cli(
        &self,
        username: &str,
        new_password: Secret<String>,
        role: Option<Role>,
    ) -> Result<bool, AdminError> {
        check_username(username)?;
        password::check_policy(new_password.expose())
            .map_err(|message| AdminError::Validation { field: "password", message })?;
        let hash = self.hash(None, new_password).await?;
        let now = self.now();
        let username = username.to_string();
        let created = self
            .inner
            .store
            .write(move |wtx| {
                let mut users = wtx.open_table(USERS)?;
                let existing: Option<UserRecord> = store::get(&users, &key(&username))?;
                let created = existing.is_none();
                let record = match existing {
                    Some(mut r) => {
                        if let Some(role) = role {
                            super::members::keep_an_owner(&users, &username, Some(role))?;
                            r.role = role;
                        }
                        r.password_hash = hash;
                        r
                    }
                    None => UserRecord {
                        username: username.clone(),
                        password_hash: hash,
                        created_at: now,
                        last_login_at: None,
                        role: match role {
                            Some(role) => role,
                            None if users.len()? == 0 => Role::Owner,
                            None => {
                                return Err(AdminError::Validation {
                                    field: "role",
                                    message: format!(
                                        "say which role the new admin {username} gets: --role owner, operator, help_desk or auditor"
                                    ),
                                });
                            }
                        },
                        scope: None,
                    },
                };
                store::put(&mut users, &key(&username), &record)?;
                super::sessions::remove_sessions_of_in(wtx, &record.username, None)?;
                audit::record_in(
                    wtx,
                    NewEntry::new(now, Actor::Cli, Action::AdminPasswordSetByCli, Outcome::Success)
                        .target(record.username.clone())
                        .detail(if created {
                            format!("admin created with role {}", record.role.title())
                        } else {
                            format!("password replaced; role {}", record.role.title())
                        }),
                )?;
                Ok::<_, AdminError>(created)
            })
            .await?;
        if created {
            *self.inner.setup_code.lock().expect("setup code mutex is never held across a panic") =
                None;
        }
        Ok(created)
    }

    /// A new password's hash, through the bounded gate like every argon2 run.
    pub(super) async fn hash(
        &self,
        addr: Option<IpAddr>,
        pw: Secret<String>,
    ) -> Result<String, AdminError> {
        Ok(self.inner.guard.hash(addr, pw).await?)
    }
}

/// Compares setup codes ignoring case, spaces and dashes, in constant time.
fn codes_equal(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    let norm = |s: &str| -> Vec<u8> {
        s.bytes().filter(|b| b.is_ascii_alphanumeric()).map(|b| b.to_ascii_uppercase()).collect()
    };
    let (a, b) = (norm(expected), norm(given));
    a.len() == b.len() && bool::from(a.ct_eq(&b))
}
