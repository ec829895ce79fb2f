//! The LDAP directory's part of the [`Directory`] service: its settings (saved, shown, removed,
//! audited; the bind password sealed and never shown), the connection test, and the sign-in,
//! which runs under the one sign-in guard's lockout rule in place of an argon2 check.

use super::client::{self, Outcome};
use super::{BIND_PASSWORD, LdapRecord, LdapSettings, LdapView, ROW, TestReport};
use crate::admin::Checked;
use crate::audit::Actor;
use crate::crypto::Secret;
use crate::directory::{
    Account, Directory, DirectoryError, SignInFailure, Source, settings_change_in,
};
use time::Duration;

/// Settings given to the connection test instead of the saved ones.
pub struct TestSettings {
    pub settings: LdapSettings,
    /// `None`: the saved password (when the settings keep the saved bind DN).
    pub bind_password: Option<Secret<String>>,
}

impl Directory {
    async fn ldap_record(&self) -> Result<Option<LdapRecord>, DirectoryError> {
        self.inner.store.read(super::get_in).await
    }

    fn open_password(&self, r: &LdapRecord) -> Result<Option<Secret<String>>, DirectoryError> {
        Ok(self.inner.store.sealer().open_opt(BIND_PASSWORD, ROW, r.bind_password.as_ref())?)
    }

    /// The LDAP directory's settings, if one is set up.
    pub async fn ldap(&self) -> Result<Option<LdapView>, DirectoryError> {
        Ok(self.ldap_record().await?.as_ref().map(LdapView::from))
    }

    /// Saves the LDAP directory; `bind_password` `None` keeps the saved one. Audited as `actor`
    /// (the URL and the bind DN, never the password).
    pub async fn set_ldap(
        &self,
        actor: Actor,
        mut settings: LdapSettings,
        bind_password: Option<Secret<String>>,
    ) -> Result<LdapView, DirectoryError> {
        let given = bind_password.filter(|p| !p.expose().is_empty());
        let kept = self.ldap_record().await?.and_then(|r| r.bind_password);
        super::check(&mut settings, given.is_some() || kept.is_some())?;
        let sealer = self.inner.store.sealer();
        let sealed = match (&given, settings.bind_dn.is_empty()) {
            (_, true) => None,
            (Some(p), false) => Some(sealer.seal(BIND_PASSWORD, ROW, p)),
            (None, false) => kept,
        };
        let now = self.inner.clock.now();
        let record = LdapRecord { v: 1, settings, bind_password: sealed, updated_at: now };
        let view = LdapView::from(&record);
        let detail = format!(
            "LDAP directory saved: {}, bind DN \"{}\", user base \"{}\"{}",
            record.settings.url,
            record.settings.bind_dn,
            record.settings.user_base,
            if given.is_some() { ", new bind password" } else { "" }
        );
        self.inner
            .store
            .write(move |wtx| {
                super::put_in(wtx, &record)?;
                settings_change_in(wtx, now, actor, Source::Ldap, detail)?;
                Ok::<_, DirectoryError>(())
            })
            .await?;
        Ok(view)
    }

    /// Removes the LDAP directory (profiles naming it then refuse sign-ins with the fix).
    pub async fn delete_ldap(&self, actor: Actor) -> Result<(), DirectoryError> {
        let now = self.inner.clock.now();
        self.inner
            .store
            .write(move |wtx| {
                if !super::remove_in(wtx)? {
                    return Err(DirectoryError::NotFound("the LDAP directory".into()));
                }
                settings_change_in(wtx, now, actor, Source::Ldap, "LDAP directory removed")?;
                Ok(())
            })
            .await
    }

    /// Tests `given` settings (checked first), or the saved ones, step by step; with
    /// `username`, looks that user up (no password is checked).
    pub async fn test_ldap(
        &self,
        given: Option<TestSettings>,
        username: Option<&str>,
    ) -> Result<TestReport, DirectoryError> {
        let saved = self.ldap_record().await?;
        let (settings, password) = match (given, &saved) {
            (Some(t), saved) => {
                // The saved password serves a test of the same service account only.
                let kept = match saved {
                    Some(r) if r.settings.bind_dn == t.settings.bind_dn.trim() => {
                        self.open_password(r)?
                    }
                    _ => None,
                };
                let password = t.bind_password.filter(|p| !p.expose().is_empty()).or(kept);
                let mut settings = t.settings;
                super::check(&mut settings, password.is_some())?;
                (settings, password)
            }
            (None, Some(r)) => (r.settings.clone(), self.open_password(r)?),
            (None, None) => {
                return Err(DirectoryError::NotFound(
                    "the LDAP directory (give the settings to test, or save them first)".into(),
                ));
            }
        };
        let username = username.map(str::trim).filter(|u| !u.is_empty());
        Ok(client::test(&settings, password.as_ref(), username).await)
    }

    /// Whether LDAP can sign anyone in: the words of the fix when it cannot.
    pub(in crate::directory) async fn ldap_usable(
        &self,
    ) -> Result<Result<(), String>, DirectoryError> {
        Ok(match self.ldap_record().await? {
            Some(_) => Ok(()),
            None => {
                Err("no LDAP directory is set up yet: configure it on the Sign-in settings page"
                    .into())
            }
        })
    }

    /// Checks `username` and `password` against the LDAP directory, counted by the lockout
    /// rule for `locks` like a local password check.
    pub(in crate::directory) async fn sign_in_ldap(
        &self,
        locks: &[String],
        username: &str,
        password: Secret<String>,
    ) -> Result<Account, SignInFailure> {
        let record = self.ldap_record().await?.ok_or_else(|| {
            SignInFailure::Unavailable(
                "signing in with the organisation's directory is not set up on this appliance; contact your IT department".into(),
            )
        })?;
        let bind_password = self.open_password(&record)?;
        let slots = self.inner.ldap_slots.clone();
        let check = async {
            // An empty password would be an unauthenticated bind, which directories accept.
            if password.expose().is_empty() || username.is_empty() || username.len() > 256 {
                return Ok(None);
            }
            let Ok(_slot) = slots.try_acquire() else {
                return Err(SignInFailure::Busy { retry_after: Duration::seconds(2) });
            };
            let outcome =
                client::sign_in(&record.settings, bind_password.as_ref(), username, &password)
                    .await
                    .map_err(|words| SignInFailure::Unavailable(format!("LDAP: {words}")))?;
            Ok(match outcome {
                Outcome::Account(a) => Some(a),
                Outcome::Wrong => None,
            })
        };
        let mut found = None;
        let counted = async {
            found = check.await?;
            Ok::<_, SignInFailure>(found.is_some())
        };
        match self.inner.guard.check_external(locks, username, counted).await? {
            Ok(Checked::Matches) => found.ok_or(SignInFailure::Wrong),
            Ok(Checked::Wrong { .. }) => Err(SignInFailure::Wrong),
            Err(e) => Err(e),
        }
    }
}
