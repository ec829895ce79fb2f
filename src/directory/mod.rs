//! The directories users sign in with on the enrollment sign-in page (`signin`): local
//! accounts kept in the store ([`local`]), an LDAP / Active Directory server ([`ldap`]) and an
//! OpenID Connect provider ([`oidc`]). Each answers one question: who is this user (username,
//! display name, e-mail, groups) when their password (or their provider) vouches for them.
//!
//! Owns `directory.local_users`, `directory.ldap` and `directory.oidc`. Password checks go through the daemon's one
//! [`SignInGuard`] (`admin`): its lockout rule is counted before the check, for the address,
//! the device and the account named by the caller, and its hashing is bounded for everyone.
//! Calls admin (the guard) and audit; never names actix types.

pub mod ldap;
pub mod local;
pub mod oidc;

pub use local::{LocalUserInfo, MAX_LOCAL_USERS, check_username};

use crate::admin::{CheckRefused, Checked, SignInGuard};
use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::clock::Clock;
use crate::crypto::Secret;
use crate::store::{Store, StoreError};
use std::net::IpAddr;
use std::sync::Arc;
use time::Duration;

/// This module's tables, all created when the store opens.
pub const TABLES: &[crate::store::Table] = &[local::LOCAL_USERS, ldap::LDAP, oidc::OIDC];

/// A user a directory vouched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

impl Account {
    /// Whether the account may enroll under a profile allowing `allowed` groups (none: all).
    /// Group names compare without regard to case, as directories usually do.
    pub fn in_any_group(&self, allowed: &[String]) -> bool {
        allowed.is_empty()
            || allowed.iter().any(|a| self.groups.iter().any(|g| g.eq_ignore_ascii_case(a)))
    }
}

/// Which directory checks a password (a profile's `sign_in.source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Local,
    /// The appliance's LDAP / Active Directory server ([`ldap`]).
    Ldap,
    /// OpenID Connect: the user signs in at the provider, not with a password here.
    Oidc,
}

impl Source {
    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "local" => Some(Source::Local),
            "ldap" => Some(Source::Ldap),
            "oidc" => Some(Source::Oidc),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Ldap => "ldap",
            Source::Oidc => "oidc",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{message}")]
    Validation { field: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(DirectoryError);

/// Why a sign-in did not produce an account.
#[derive(Debug, thiserror::Error)]
pub enum SignInFailure {
    #[error("wrong username or password")]
    Wrong,
    #[error("too many failed sign-ins; try again in {} minutes", .retry_after.whole_minutes().max(1))]
    LockedOut { retry_after: Duration },
    #[error("too many sign-ins are being checked right now; try again in {} seconds", .retry_after.whole_seconds().max(1))]
    Busy { retry_after: Duration },
    /// The directory cannot be asked (down, slow, misconfigured): the words say which.
    #[error("{0}")]
    Unavailable(String),
    /// The identity provider did not vouch for the user (it said no, or its answer did not
    /// verify): the words say which.
    #[error("{0}")]
    Provider(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CheckRefused> for SignInFailure {
    fn from(r: CheckRefused) -> Self {
        match r {
            CheckRefused::LockedOut { retry_after } => SignInFailure::LockedOut { retry_after },
            CheckRefused::Busy { retry_after } => SignInFailure::Busy { retry_after },
        }
    }
}

impl From<DirectoryError> for SignInFailure {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Store(s) => SignInFailure::Store(s),
            other => SignInFailure::Unavailable(other.to_string()),
        }
    }
}

/// A new local account, as the API takes it.
pub struct NewLocalUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub password: Secret<String>,
}

/// The directory service (cheap to clone).
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    guard: SignInGuard,
    /// Where the OpenID provider sends the user back (`urls::Urls::enroll_web_oidc_callback`).
    oidc_redirect_uri: String,
    /// LDAP sign-ins being checked ([`ldap::MAX_CONCURRENT`]).
    ldap_slots: Arc<tokio::sync::Semaphore>,
    /// The OpenID provider's discovery document and JWKS, kept a while.
    oidc_discovery: oidc::cache::DiscoveryCache,
}

impl Directory {
    pub fn new(store: Store, clock: Clock, guard: SignInGuard) -> Directory {
        Directory::with_oidc_redirect(store, clock, guard, String::new())
    }

    /// A directory whose OpenID Connect source sends users back to `redirect_uri`.
    pub fn with_oidc_redirect(
        store: Store,
        clock: Clock,
        guard: SignInGuard,
        redirect_uri: String,
    ) -> Directory {
        let ldap_slots = Arc::new(tokio::sync::Semaphore::new(ldap::MAX_CONCURRENT));
        let inner = Inner {
            store,
            clock,
            guard,
            oidc_redirect_uri: redirect_uri,
            ldap_slots,
            oidc_discovery: Default::default(),
        };
        Directory { inner: Arc::new(inner) }
    }

    /// Checks `username` and `password` against `source` from `addr`; `locks` name what else
    /// the lockout rule counts (the device, the account). The account when they match.
    pub async fn sign_in(
        &self,
        source: Source,
        addr: Option<IpAddr>,
        locks: &[String],
        username: &str,
        password: Secret<String>,
    ) -> Result<Account, SignInFailure> {
        match source {
            Source::Local => self.sign_in_local(addr, locks, username, password).await,
            Source::Ldap => self.sign_in_ldap(locks, username, password).await,
            Source::Oidc => Err(SignInFailure::Unavailable(
                "OpenID Connect users sign in at their provider, not with a password here".into(),
            )),
        }
    }

    async fn sign_in_local(
        &self,
        addr: Option<IpAddr>,
        locks: &[String],
        username: &str,
        password: Secret<String>,
    ) -> Result<Account, SignInFailure> {
        // An invalid name is looked up all the same (and misses): the same cost and answer.
        let name = username.to_string();
        let record = self.inner.store.read(move |rtx| local::get_in(rtx, &name)).await?;
        let stored = record.as_ref().map(|r| r.password_hash.clone());
        let checked =
            self.inner.guard.check_locking(addr, locks, username, password, stored).await?;
        match (checked, record) {
            (Checked::Matches, Some(r)) => Ok(r.account()),
            _ => Err(SignInFailure::Wrong),
        }
    }

    /// Whether `source` can sign anyone in now; the words say what to fix when it cannot.
    pub async fn usable(&self, source: Source) -> Result<Result<(), String>, DirectoryError> {
        match source {
            Source::Local => {
                let n = self.inner.store.read(local::count_in).await?;
                Ok(if n == 0 {
                    Err("the local directory has no accounts yet: add users on the Sign-in \
                         settings page"
                        .into())
                } else {
                    Ok(())
                })
            }
            Source::Ldap => self.ldap_usable().await,
            Source::Oidc => {
                let record = self.inner.store.read(oidc::get_in).await?;
                Ok(match record {
                    Some(_) => Ok(()),
                    None => Err("OpenID Connect is not set up yet: give the provider's issuer, \
                                 client id and client secret on the Sign-in settings page"
                        .into()),
                })
            }
        }
    }

    pub async fn local_users(&self) -> Result<Vec<LocalUserInfo>, DirectoryError> {
        let records = self.inner.store.read(local::list_in).await?;
        Ok(records.iter().map(LocalUserInfo::from).collect())
    }

    /// Adds a local account (password hashed through the bounded gate), audited as `actor`.
    pub async fn add_local_user(
        &self,
        actor: Actor,
        new: NewLocalUser,
        addr: Option<IpAddr>,
    ) -> Result<LocalUserInfo, DirectoryError> {
        check_username(&new.username)?;
        let (display_name, email, groups) =
            local::check_profile(&new.display_name, new.email.as_deref(), &new.groups)?;
        crate::admin::check_password_policy(new.password.expose())
            .map_err(|message| DirectoryError::Validation { field: "password", message })?;
        let password_hash = self.inner.guard.hash(addr, new.password).await.map_err(|r| {
            DirectoryError::Conflict(format!("the password could not be hashed now: {r}"))
        })?;
        let now = self.inner.clock.now();
        let record = local::LocalUserRecord {
            v: 1,
            username: new.username,
            display_name,
            email,
            groups,
            password_hash,
            created_at: now,
        };
        let info = LocalUserInfo::from(&record);
        self.inner
            .store
            .write(move |wtx| {
                local::insert_in(wtx, &record)?;
                let entry =
                    NewEntry::new(now, actor, Action::DirectoryUserCreate, Outcome::Success)
                        .target(record.username.clone())
                        .detail("local sign-in account added");
                audit::record_in(wtx, entry)?;
                Ok::<_, DirectoryError>(())
            })
            .await?;
        Ok(info)
    }

    /// Removes a local account, audited as `actor`.
    pub async fn delete_local_user(
        &self,
        actor: Actor,
        username: &str,
    ) -> Result<(), DirectoryError> {
        let now = self.inner.clock.now();
        let name = username.to_string();
        self.inner
            .store
            .write(move |wtx| {
                if !local::remove_in(wtx, &name)? {
                    return Err(DirectoryError::NotFound(format!("local account \"{name}\"")));
                }
                let entry =
                    NewEntry::new(now, actor, Action::DirectoryUserDelete, Outcome::Success)
                        .target(name)
                        .detail("local sign-in account removed");
                audit::record_in(wtx, entry)?;
                Ok(())
            })
            .await
    }
}

/// Records a change of `source`'s settings in the audit log (`directory.settings_change`),
/// inside the write that makes it. `detail` names what changed, never a secret.
pub(crate) fn settings_change_in(
    wtx: &redb::WriteTransaction,
    at: time::OffsetDateTime,
    actor: Actor,
    source: Source,
    detail: impl Into<String>,
) -> Result<(), StoreError> {
    let entry = NewEntry::new(at, actor, Action::DirectorySettingsChange, Outcome::Success)
        .target(source.code())
        .detail(detail);
    audit::record_in(wtx, entry)?;
    Ok(())
}

#[cfg(test)]
mod tests;
