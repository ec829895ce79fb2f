//! User affinity: the sign-in page Setup Assistant opens at a profile's
//! `configuration_web_url` (../shared/spec/enrollment.md §1.6, dep-api.md §4). The device's
//! MachineInfo is verified and gated exactly as the profile URL does it (`enroll::admit`), the
//! verified device waits in [`attempts`] under a single-use id, the user signs in with the
//! profile's directory (`directory`), and the device then gets the same signed enrollment
//! profile the profile URL serves (`enroll::serve`), bound to its user.
//!
//! Owns `signin.enrolled_users` ([`enrolled`]) and the in-memory attempts. Exposes [`SignIn`]
//! (start, submit, [`SignIn::enrolled_user`]) and [`enrolled_user_in`] for code inside a
//! transaction. Calls enroll, directory, devices (timeline) and audit; never names actix
//! types: the page itself is drawn by `http::signin`.

pub mod attempts;
pub mod enrolled;
mod oidc;

pub use oidc::{OidcFailure, ProviderAnswer};

pub use enrolled::{EnrolledUserRecord, by_serial_in};

use crate::audit::{self, Action, Actor, NewEntry, Outcome};
use crate::clock::Clock;
use crate::crypto::Secret;
use crate::devices::TimelineKind;
use crate::directory::{Directory, SignInFailure, Source};
use crate::enroll::{Answer, Enroll, EnrollError};
use crate::ids::{Serial, Udid};
use crate::store::{Store, StoreError};
use attempts::{Attempt, Attempts};
use redb::ReadTransaction;
use std::net::IpAddr;
use std::sync::Arc;

/// This module's tables, all created when the store opens.
pub const TABLES: &[crate::store::Table] =
    &[enrolled::ENROLLED_USERS, enrolled::USER_INDEX, enrolled::USER_BY_SERIAL];

/// Records a device's user directly, for other modules' tests.
#[cfg(test)]
pub(crate) use enrolled::put_in as put_enrolled_user_in;

/// The user a device was enrolled for (what the macOS account step and the views need).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolledUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Pre-fill the Mac's first account with this user, and whether to lock it.
    pub prefill_macos_account: bool,
    pub lock_macos_account: bool,
}

impl From<EnrolledUserRecord> for EnrolledUser {
    fn from(r: EnrolledUserRecord) -> Self {
        EnrolledUser {
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            prefill_macos_account: r.prefill_macos_account,
            lock_macos_account: r.lock_macos_account,
        }
    }
}

/// The user `udid` was enrolled for, inside the caller's transaction.
pub fn enrolled_user_in(
    rtx: &ReadTransaction,
    udid: &Udid,
) -> Result<Option<EnrolledUser>, StoreError> {
    Ok(enrolled::get_in(rtx, udid)?.map(EnrolledUser::from))
}

/// What the sign-in page shows besides the form (from the device's profile and MachineInfo).
#[derive(Clone, Debug, Default)]
pub struct PageFacts {
    /// The department of the profile (Apple shows it in Setup Assistant too).
    pub organisation: Option<String>,
    pub support_phone: Option<String>,
    pub support_email: Option<String>,
    /// Setup Assistant's language from the MachineInfo, else the profile's.
    pub language: Option<String>,
    /// `local`, `ldap` or `oidc`.
    pub source: &'static str,
}

/// A device admitted and waiting for its user.
#[derive(Clone, Debug)]
pub struct Started {
    pub attempt: String,
    pub csrf: String,
    pub facts: PageFacts,
}

/// Why a started sign-in did not give the device its profile.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// No such attempt, or it expired: Setup Assistant must open the page again.
    #[error("this sign-in page has expired; go back and try again")]
    Expired,
    /// The form did not carry the page's CSRF token.
    #[error("the form was not sent from this sign-in page; go back and try again")]
    Forged,
    #[error(transparent)]
    SignIn(#[from] SignInFailure),
    /// The user is not in a group the profile allows.
    #[error(
        "{username} may not enroll this device: their account is not in a group allowed to enroll ({groups}); ask IT to add them"
    )]
    NotAllowed { username: String, groups: String },
    #[error(transparent)]
    Enroll(#[from] EnrollError),
}

impl From<StoreError> for SubmitError {
    fn from(e: StoreError) -> Self {
        SubmitError::Enroll(EnrollError::Store(e))
    }
}

/// The sign-in service (cheap to clone).
#[derive(Clone)]
pub struct SignIn {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    enroll: Enroll,
    directory: Directory,
    attempts: Attempts,
}

impl SignIn {
    pub fn new(store: Store, clock: Clock, enroll: Enroll, directory: Directory) -> SignIn {
        let attempts = Attempts::default();
        SignIn { inner: Arc::new(Inner { store, clock, enroll, directory, attempts }) }
    }

    /// Setup Assistant opened the page with `device_info` (the decoded header): verify and
    /// gate the device as the profile URL does, and keep it waiting for its user.
    pub async fn start(&self, device_info: Vec<u8>) -> Result<Started, EnrollError> {
        let admitted = self.inner.enroll.admit(device_info).await?;
        let profile = admitted.profile.clone();
        // A device without one of our profiles gets this far only in audit-only mode: it signs
        // in with the local directory, without a group rule.
        let choice = profile.as_ref().map(|p| p.sign_in.clone()).unwrap_or_default();
        let source = Source::parse(&choice.source).ok_or_else(|| {
            EnrollError::Unavailable(format!(
                "the profile's sign-in source \"{}\" is not available on this appliance",
                choice.source
            ))
        })?;
        let language = admitted
            .machine_info
            .language
            .clone()
            .or_else(|| profile.as_ref().and_then(|p| p.language.clone()));
        let facts = PageFacts {
            organisation: profile.as_ref().and_then(|p| p.department.clone()),
            support_phone: profile.as_ref().and_then(|p| p.support_phone_number.clone()),
            support_email: profile.as_ref().and_then(|p| p.support_email_address.clone()),
            language,
            source: source.code(),
        };
        let csrf = crate::crypto::random_token::<32>();
        let now = self.inner.clock.now();
        let attempt = Attempt {
            admitted,
            csrf: csrf.clone(),
            source,
            allowed_groups: choice.allowed_groups,
            started: now,
            oidc: None,
        };
        let id = self.inner.attempts.insert(attempt, now);
        Ok(Started { attempt: id, csrf, facts })
    }

    /// The page facts of a live attempt (to draw the form again after a wrong password).
    pub fn facts(&self, attempt: &str) -> Option<PageFacts> {
        let a = self.inner.attempts.get(attempt, self.inner.clock.now())?;
        let p = a.admitted.profile.as_ref();
        Some(PageFacts {
            organisation: p.and_then(|p| p.department.clone()),
            support_phone: p.and_then(|p| p.support_phone_number.clone()),
            support_email: p.and_then(|p| p.support_email_address.clone()),
            language: a.admitted.machine_info.language.clone(),
            source: a.source.code(),
        })
    }

    /// The user sent the form of `attempt`: check the CSRF token and the password, the group
    /// rule, then serve the device its profile and remember its user.
    pub async fn submit(
        &self,
        attempt_id: &str,
        csrf: &str,
        addr: Option<IpAddr>,
        username: &str,
        password: Secret<String>,
    ) -> Result<Vec<u8>, SubmitError> {
        let now = self.inner.clock.now();
        let attempt = self.inner.attempts.get(attempt_id, now).ok_or(SubmitError::Expired)?;
        if !tokens_equal(&attempt.csrf, csrf) {
            return Err(SubmitError::Forged);
        }
        let mi = &attempt.admitted.machine_info;
        let username = username.trim();
        // Counted before the check: the device, and the account in this directory, each lock
        // after a few failures whatever address the guesses come from.
        let locks = vec![
            format!("device:{}", mi.udid.as_str()),
            format!("user:{}:{}", attempt.source.code(), username.to_lowercase()),
        ];
        let signed_in =
            self.inner.directory.sign_in(attempt.source, addr, &locks, username, password).await;
        let account = match signed_in {
            Ok(a) => a,
            Err(e) => {
                self.audit_failure(mi, username, addr, &e.to_string()).await?;
                return Err(e.into());
            }
        };
        self.finish(attempt_id, &attempt, account, addr).await
    }

    /// The directory vouched for `account`: check the profile's group rule, then serve the
    /// device its profile and remember its user (audit, timeline), using the attempt up.
    async fn finish(
        &self,
        attempt_id: &str,
        attempt: &Attempt,
        account: crate::directory::Account,
        addr: Option<IpAddr>,
    ) -> Result<Vec<u8>, SubmitError> {
        let now = self.inner.clock.now();
        let mi = &attempt.admitted.machine_info;
        if !account.in_any_group(&attempt.allowed_groups) {
            let groups = attempt.allowed_groups.join(", ");
            self.audit_failure(mi, &account.username, addr, "not in an allowed group").await?;
            return Err(SubmitError::NotAllowed { username: account.username, groups });
        }
        if !self.inner.attempts.take(attempt_id) {
            return Err(SubmitError::Expired);
        }
        let choice = attempt.admitted.profile.as_ref().map(|p| p.sign_in.clone());
        let Answer::Profile(bytes) = self.inner.enroll.serve(attempt.admitted.clone()).await?;
        let record = EnrolledUserRecord {
            v: 1,
            serial: mi.serial.clone(),
            username: account.username.clone(),
            display_name: account.display_name.clone(),
            email: account.email.clone(),
            source: attempt.source.code().into(),
            prefill_macos_account: choice.as_ref().is_some_and(|c| c.prefill_macos_account),
            lock_macos_account: choice.as_ref().is_some_and(|c| c.lock_macos_account),
            signed_in_at: now,
        };
        let (udid, serial) = (mi.udid.clone(), mi.serial.clone());
        let addr_text = addr.map(|a| a.to_string());
        self.inner
            .store
            .write(move |wtx| {
                enrolled::put_in(wtx, &udid, &record)?;
                let words = format!(
                    "{} ({}) signed in during Setup Assistant; the device is enrolled for them",
                    record.display_name, record.username
                );
                crate::devices::note_in(wtx, &serial, TimelineKind::UserSignedIn, words, now)?;
                let entry = NewEntry::new(
                    now,
                    Actor::DirectoryUser(record.username.clone()),
                    Action::SignInEnroll,
                    Outcome::Success,
                )
                .target(serial.to_string())
                .from_addr(addr_text)
                .detail(format!("user {} enrolled device {serial}", record.username));
                audit::record_in(wtx, entry)?;
                Ok::<_, StoreError>(())
            })
            .await?;
        log::info!(serial = mi.serial.as_str(), source = attempt.source.code(); "user signed in; enrollment profile served");
        Ok(bytes)
    }

    /// A failed sign-in in the audit log: the username tried, never the password.
    async fn audit_failure(
        &self,
        mi: &crate::apple::machineinfo::MachineInfo,
        username: &str,
        addr: Option<IpAddr>,
        why: &str,
    ) -> Result<(), StoreError> {
        let now = self.inner.clock.now();
        let name: String = username.chars().take(64).collect();
        let entry = NewEntry::new(now, Actor::Anonymous, Action::SignInEnroll, Outcome::Failure)
            .target(mi.serial.to_string())
            .from_addr(addr.map(|a| a.to_string()))
            .detail(format!("sign-in as \"{name}\" refused: {why}"));
        self.inner.store.write(move |wtx| audit::record_in(wtx, entry).map(|_| ())).await
    }

    /// The user `udid` was enrolled for, if any (the macOS account step asks this).
    pub async fn enrolled_user(&self, udid: &Udid) -> Result<Option<EnrolledUser>, StoreError> {
        let udid = udid.clone();
        self.inner.store.read(move |rtx| enrolled_user_in(rtx, &udid)).await
    }

    /// Every enrolled device's user, by serial (the device CSV). A scan: the table holds one
    /// row per device that signed a user in.
    pub async fn users_by_serial(
        &self,
    ) -> Result<std::collections::HashMap<crate::ids::Serial, EnrolledUserRecord>, StoreError> {
        self.inner.store.read(by_serial_in).await
    }

    /// The user the device `serial` was enrolled for, if any (the device page).
    pub async fn user_of_serial(
        &self,
        serial: &crate::ids::Serial,
    ) -> Result<Option<EnrolledUserRecord>, StoreError> {
        let serial = serial.clone();
        self.inner.store.read(move |rtx| enrolled::of_serial_in(rtx, &serial)).await
    }

    /// The users of `serials` (one page of the device list), by serial, read through the index.
    pub async fn users_of_serials(
        &self,
        serials: Vec<crate::ids::Serial>,
    ) -> Result<std::collections::HashMap<crate::ids::Serial, EnrolledUserRecord>, StoreError> {
        self.inner
            .store
            .read(move |rtx| {
                let mut out = std::collections::HashMap::new();
                for s in serials {
                    if let Some(u) = enrolled::of_serial_in(rtx, &s)? {
                        out.insert(s, u);
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The serials of the devices whose user has a name (username, e-mail, display name or
    /// one of its words) starting with `prefix`, ignoring case (the device list's `user`
    /// filter), at most [`enrolled::MAX_USER_MATCHES`].
    pub async fn serials_of_users_matching(
        &self,
        prefix: &str,
    ) -> Result<std::collections::BTreeSet<Serial>, StoreError> {
        let prefix = prefix.to_string();
        self.inner.store.read(move |rtx| enrolled::serials_matching_in(rtx, &prefix)).await
    }

    /// Sign-ins in progress (the bound is [`attempts::MAX_ATTEMPTS`]).
    pub fn attempts_in_progress(&self) -> usize {
        self.inner.attempts.len()
    }
}

/// Compares two tokens in constant time.
fn tokens_equal(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}
