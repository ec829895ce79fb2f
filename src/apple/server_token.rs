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

/// Why a server token could not be made. Temporary stand-in on the simulator branch: the real
/// enum and [`mint_p7m`] come from the token work and replace this at merge.
#[derive(Debug, thiserror::Error)]
pub enum ServerTokenError {
    #[error("making .p7m server tokens is not available in this build")]
    MintUnavailable,
}

/// Encrypts `creds` to the certificate the way Apple does (dep-api.md §1.3–§1.5).
/// Temporary body: always fails until the real implementation is merged.
pub fn mint_p7m(
    recipient_cert_pem: &str,
    creds: &OAuthCredentials,
) -> Result<Vec<u8>, ServerTokenError> {
    let _ = (recipient_cert_pem, creds);
    Err(ServerTokenError::MintUnavailable)
}
