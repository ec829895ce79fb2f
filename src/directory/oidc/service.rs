//! The directory service's OpenID Connect part: the settings an Owner keeps (audited, the
//! client secret sealed and never answered), the connection test, and the two halves of a
//! sign-in the `signin` module drives ([`Directory::oidc_begin`], [`Directory::oidc_finish`]).

use super::provider::{self, OidcPending, TestStep};
use super::{
    CLIENT_SECRET, NewOidcSettings, OidcClientConfig, OidcRecord, OidcSettings, SETTINGS_KEY,
};
use crate::audit::Actor;
use crate::directory::{
    Account, Directory, DirectoryError, SignInFailure, Source, settings_change_in,
};

impl Directory {
    /// Where the provider sends users back: the redirect URI to register at the provider.
    pub fn oidc_redirect_uri(&self) -> &str {
        &self.inner.oidc_redirect_uri
    }

    /// The OpenID Connect settings (never the client secret), if set up.
    pub async fn oidc_settings(&self) -> Result<Option<OidcSettings>, DirectoryError> {
        Ok(self.inner.store.read(super::get_in).await?.map(|r| r.settings))
    }

    /// Saves the settings, audited as `actor`. A left-out client secret keeps the stored one.
    pub async fn put_oidc(
        &self,
        actor: Actor,
        mut new: NewOidcSettings,
    ) -> Result<OidcSettings, DirectoryError> {
        let secret = new.client_secret.take();
        let settings = NewOidcSettings { client_secret: secret.clone(), ..new }.check()?;
        let sealed =
            secret.map(|s| self.inner.store.sealer().seal(CLIENT_SECRET, SETTINGS_KEY, &s));
        let now = self.inner.clock.now();
        let saved = settings.clone();
        self.inner
            .store
            .write(move |wtx| {
                let client_secret = match sealed {
                    Some(s) => s,
                    None => match super::get_in_write(wtx)? {
                        Some(old) => old.client_secret,
                        None => {
                            return Err(DirectoryError::Validation {
                                field: "client_secret",
                                message: "give the client secret the provider shows for this \
                                          application"
                                    .into(),
                            });
                        }
                    },
                };
                let detail = format!(
                    "OpenID Connect settings saved: issuer {}, client id {}",
                    settings.issuer, settings.client_id
                );
                let record = OidcRecord { v: 1, settings, client_secret, updated_at: now };
                super::put_in(wtx, &record)?;
                settings_change_in(wtx, now, actor, Source::Oidc, detail)?;
                Ok(())
            })
            .await?;
        self.inner.oidc_discovery.forget();
        Ok(saved)
    }

    /// Removes the settings (profiles naming `oidc` then cannot sign anyone in), audited.
    pub async fn delete_oidc(&self, actor: Actor) -> Result<(), DirectoryError> {
        let now = self.inner.clock.now();
        self.inner
            .store
            .write(move |wtx| {
                if !super::remove_in(wtx)? {
                    return Err(DirectoryError::NotFound("OpenID Connect settings".into()));
                }
                let detail = "OpenID Connect settings removed";
                settings_change_in(wtx, now, actor, Source::Oidc, detail)?;
                Ok(())
            })
            .await?;
        self.inner.oidc_discovery.forget();
        Ok(())
    }

    /// Tries the stored settings against the provider: discovery, issuer, JWKS.
    pub async fn test_oidc(&self) -> Result<Vec<TestStep>, DirectoryError> {
        let settings = self
            .oidc_settings()
            .await?
            .ok_or_else(|| DirectoryError::NotFound("OpenID Connect settings".into()))?;
        Ok(provider::test(&settings).await)
    }

    /// The name on the sign-in button, if OpenID Connect is set up.
    pub async fn oidc_provider_name(&self) -> Result<Option<String>, DirectoryError> {
        Ok(self.oidc_settings().await?.map(|s| s.provider_name))
    }

    async fn oidc_config(&self) -> Result<OidcClientConfig, SignInFailure> {
        let record = self.inner.store.read(super::get_in).await?.ok_or_else(|| {
            SignInFailure::Unavailable("OpenID Connect is not set up on this appliance".into())
        })?;
        let client_secret =
            self.inner.store.sealer().open(CLIENT_SECRET, SETTINGS_KEY, &record.client_secret)?;
        Ok(OidcClientConfig { settings: record.settings, client_secret })
    }

    /// Starts a sign-in at the provider: the URL to send the user to, and what the callback
    /// needs (kept server-side by the caller).
    pub async fn oidc_begin(&self) -> Result<(String, OidcPending), SignInFailure> {
        let config = self.oidc_config().await?;
        let (cache, now) = (&self.inner.oidc_discovery, self.inner.clock.now());
        provider::begin(&config, &self.inner.oidc_redirect_uri, cache, now).await
    }

    /// Finishes a sign-in with the provider's `code`: the account the verified ID token names.
    pub async fn oidc_finish(
        &self,
        pending: &OidcPending,
        code: String,
    ) -> Result<Account, SignInFailure> {
        provider::finish(pending, code, &self.inner.oidc_discovery, self.inner.clock.now()).await
    }
}
