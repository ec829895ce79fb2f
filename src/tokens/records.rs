//! The tokens module's tables and stored records.

use super::TokenId;
use crate::store::{self, Sealed, Sealer, SecretField, StoreError, Table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Token id → [`TokenRecord`].
pub(super) const TOKENS: Table = store::table("tokens.by_id");
/// Pending key id → [`PendingKeyRecord`]: key pairs handed out for a token not uploaded yet.
pub(super) const PENDING: Table = store::table("tokens.pending_keys");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[TOKENS, PENDING];

// The secrets of these records, sealed with the data key (`store::seal`), each bound to its
// record's key (the token id, the pending key id).
pub(super) const CONSUMER_SECRET: SecretField =
    SecretField::new("tokens.by_id", "credentials.consumer_secret");
pub(super) const ACCESS_TOKEN: SecretField =
    SecretField::new("tokens.by_id", "credentials.access_token");
pub(super) const ACCESS_SECRET: SecretField =
    SecretField::new("tokens.by_id", "credentials.access_secret");
pub(super) const TOKEN_KEY: SecretField = SecretField::new("tokens.by_id", "key_pem");
pub(super) const PENDING_KEY: SecretField = SecretField::new("tokens.pending_keys", "key_pem");
/// Every secret of a [`TokenRecord`].
#[cfg(test)]
pub(super) const TOKEN_SECRETS: &[SecretField] =
    &[CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, TOKEN_KEY];

/// What Apple's `GET /account` said about the MDM server, as stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct AccountRecord {
    pub server_name: String,
    pub server_uuid: String,
    pub admin_id: Option<String>,
    pub org_name: Option<String>,
    pub org_email: Option<String>,
    pub org_phone: Option<String>,
    pub org_address: Option<String>,
    pub org_id: Option<String>,
    pub org_type: Option<String>,
    pub org_version: Option<String>,
}

impl From<&crate::apple::dep::AccountDetail> for AccountRecord {
    fn from(a: &crate::apple::dep::AccountDetail) -> Self {
        AccountRecord {
            server_name: a.server_name.clone(),
            server_uuid: a.server_uuid.clone(),
            admin_id: a.admin().map(str::to_string),
            org_name: a.org_name.clone(),
            org_email: a.org_email.clone(),
            org_phone: a.org_phone.clone(),
            org_address: a.org_address.clone(),
            org_id: a.org_id.clone(),
            org_type: a.org_type.clone(),
            org_version: a.org_version.clone(),
        }
    }
}

/// The OAuth credentials as stored, secrets sealed (docs/configuration.md "Secrets at rest").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CredentialsRecord {
    pub consumer_key: String,
    pub consumer_secret: Sealed,
    pub access_token: Sealed,
    pub access_secret: Sealed,
    #[serde(with = "time::serde::rfc3339")]
    pub access_token_expiry: OffsetDateTime,
}

impl CredentialsRecord {
    /// Seals `c` for the token stored under `id`.
    pub fn seal(
        c: &crate::apple::server_token::OAuthCredentials,
        sealer: &Sealer,
        id: &TokenId,
    ) -> Self {
        let row = id.as_bytes();
        CredentialsRecord {
            consumer_key: c.consumer_key.clone(),
            consumer_secret: sealer.seal(CONSUMER_SECRET, row, &c.consumer_secret),
            access_token: sealer.seal(ACCESS_TOKEN, row, &c.access_token),
            access_secret: sealer.seal(ACCESS_SECRET, row, &c.access_secret),
            access_token_expiry: c.access_token_expiry,
        }
    }

    /// Opens the credentials of the token stored under `id`.
    pub fn open(
        &self,
        sealer: &Sealer,
        id: &TokenId,
    ) -> Result<crate::apple::server_token::OAuthCredentials, StoreError> {
        let row = id.as_bytes();
        Ok(crate::apple::server_token::OAuthCredentials {
            consumer_key: self.consumer_key.clone(),
            consumer_secret: sealer.open(CONSUMER_SECRET, row, &self.consumer_secret)?,
            access_token: sealer.open(ACCESS_TOKEN, row, &self.access_token)?,
            access_secret: sealer.open(ACCESS_SECRET, row, &self.access_secret)?,
            access_token_expiry: self.access_token_expiry,
        })
    }
}

/// The last problem Apple reported for a token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenProblem {
    /// Apple's code (`T_C_NOT_SIGNED`, `token_rejected`, …) or ours.
    pub code: String,
    /// Plain words, with what to do.
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether the token cannot work until the admin acts (revoked, terms not accepted).
    pub blocking: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct TokenRecord {
    pub id: TokenId,
    pub account: AccountRecord,
    /// The Apple Account the admin says created the token (renewal must use the same one).
    pub apple_id: Option<String>,
    pub credentials: CredentialsRecord,
    /// The key Apple encrypted the token to: a renewal downloaded without uploading a new
    /// public key is encrypted to it again. Sealed ([`TOKEN_KEY`]).
    pub key_pem: Sealed,
    pub cert_pem: String,
    /// Apple's `https://mdmenrollment.apple.com`, or a simulator in the sandbox.
    pub base_url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub renewed_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub problem: Option<TokenProblem>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct PendingKeyRecord {
    pub id: String,
    pub cert_pem: String,
    /// Sealed ([`PENDING_KEY`]).
    pub key_pem: Sealed,
    pub fingerprint_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
    /// The token this key is meant to renew, if any.
    pub for_token: Option<TokenId>,
}
