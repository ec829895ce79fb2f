//! The DEP server token (`.p7m`) Apple Business Manager hands out: S/MIME framing, the
//! decrypted plaintext, and the OAuth 1.0a credentials inside (../shared/spec/dep-api.md §1).

use crate::crypto::Secret;
use time::OffsetDateTime;

/// The four OAuth 1.0a credentials of a server token and their expiry (dep-api.md §1.6).
#[derive(Clone, Debug)]
pub struct OAuthCredentials {
    /// `CK_…`: not secret on its own, identifies the MDM server's token; safe to show.
    pub consumer_key: String,
    pub consumer_secret: Secret<String>,
    pub access_token: Secret<String>,
    pub access_secret: Secret<String>,
    pub access_token_expiry: OffsetDateTime,
}
