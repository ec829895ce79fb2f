//! The OpenID Connect directory: users sign in at the organisation's identity provider
//! (authorization code flow with PKCE), and the verified ID token says who they are.
//!
//! Owns `directory.oidc` (one row, [`SETTINGS_KEY`] → [`OidcRecord`]): the provider's issuer,
//! the client registered there (its secret sealed at rest, [`CLIENT_SECRET`], never answered
//! back), the scopes, which claims carry the username, display name, e-mail and groups, an
//! optional CA to trust for the provider and the timeout. The protocol itself (discovery,
//! the authorization request, the code exchange and the ID-token checks) is [`provider`]'s,
//! done by the `openidconnect` crate; the discovery document and JWKS are kept a while by
//! [`cache`].

pub mod cache;
pub mod provider;
mod service;
mod settings;

pub use provider::{OidcPending, TestStep};
pub use settings::{NewOidcSettings, OidcSettings};

use super::DirectoryError;
use crate::crypto::Secret;
use crate::store::{self, Sealed, SecretField, Table};
use redb::{ReadTransaction, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub(in crate::directory) const OIDC: Table = store::table("directory.oidc");
/// Where the client secret is sealed.
pub(in crate::directory) const CLIENT_SECRET: SecretField =
    SecretField::new("directory.oidc", "client_secret");
/// The one row of `directory.oidc`.
pub(in crate::directory) const SETTINGS_KEY: &[u8] = b"settings";

/// The longest any single step with the provider may take (the page answers within it).
pub const MAX_TIMEOUT_SECONDS: u64 = 10;

fn v1() -> u32 {
    1
}

/// The provider settings as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::directory) struct OidcRecord {
    #[serde(default = "v1")]
    pub v: u32,
    #[serde(flatten)]
    pub settings: OidcSettings,
    pub client_secret: Sealed,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The settings with the client secret opened: what the protocol code works with.
#[derive(Clone)]
pub struct OidcClientConfig {
    pub settings: OidcSettings,
    pub client_secret: Secret<String>,
}

impl std::fmt::Debug for OidcClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClientConfig")
            .field("settings", &self.settings)
            .field("client_secret", &"..")
            .finish()
    }
}

pub(in crate::directory) fn get_in(
    rtx: &ReadTransaction,
) -> Result<Option<OidcRecord>, DirectoryError> {
    let t = rtx.open_table(OIDC)?;
    Ok(store::get(&t, SETTINGS_KEY)?)
}

/// The stored settings, read inside a write transaction.
pub(in crate::directory) fn get_in_write(
    wtx: &WriteTransaction,
) -> Result<Option<OidcRecord>, DirectoryError> {
    let t = wtx.open_table(OIDC)?;
    Ok(store::get(&t, SETTINGS_KEY)?)
}

pub(in crate::directory) fn put_in(
    wtx: &WriteTransaction,
    record: &OidcRecord,
) -> Result<(), DirectoryError> {
    let mut t = wtx.open_table(OIDC)?;
    store::put(&mut t, SETTINGS_KEY, record)?;
    Ok(())
}

/// Removes the settings; whether there were any.
pub(in crate::directory) fn remove_in(wtx: &WriteTransaction) -> Result<bool, DirectoryError> {
    let mut t = wtx.open_table(OIDC)?;
    Ok(t.remove(SETTINGS_KEY)?.is_some())
}
