//! The tokens module's tables and stored records.

use super::TokenId;
use crate::crypto::Secret;
use crate::store::{self, Table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Token id → [`TokenRecord`].
pub(super) const TOKENS: Table = store::table("tokens.by_id");
/// Pending key id → [`PendingKeyRecord`]: key pairs handed out for a token not uploaded yet.
pub(super) const PENDING: Table = store::table("tokens.pending_keys");
/// This module's tables, all created when the store opens ([`crate::store::Store::open`]).
pub const TABLES: &[Table] = &[TOKENS, PENDING];

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

/// The OAuth credentials as stored (0600 store file; see README "Secrets").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CredentialsRecord {
    pub consumer_key: String,
    #[serde(with = "crate::crypto::secret::stored")]
    pub consumer_secret: Secret<String>,
    #[serde(with = "crate::crypto::secret::stored")]
    pub access_token: Secret<String>,
    #[serde(with = "crate::crypto::secret::stored")]
    pub access_secret: Secret<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub access_token_expiry: OffsetDateTime,
}

impl CredentialsRecord {
    pub fn from_credentials(c: &crate::apple::server_token::OAuthCredentials) -> Self {
        CredentialsRecord {
            consumer_key: c.consumer_key.clone(),
            consumer_secret: c.consumer_secret.clone(),
            access_token: c.access_token.clone(),
            access_secret: c.access_secret.clone(),
            access_token_expiry: c.access_token_expiry,
        }
    }

    pub fn to_credentials(&self) -> crate::apple::server_token::OAuthCredentials {
        crate::apple::server_token::OAuthCredentials {
            consumer_key: self.consumer_key.clone(),
            consumer_secret: self.consumer_secret.clone(),
            access_token: self.access_token.clone(),
            access_secret: self.access_secret.clone(),
            access_token_expiry: self.access_token_expiry,
        }
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
    /// public key is encrypted to it again.
    #[serde(with = "crate::crypto::secret::stored")]
    pub key_pem: Secret<String>,
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
    #[serde(with = "crate::crypto::secret::stored")]
    pub key_pem: Secret<String>,
    pub fingerprint_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
    /// The token this key is meant to renew, if any.
    pub for_token: Option<TokenId>,
}
