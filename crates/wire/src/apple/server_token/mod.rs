//! The DEP server token (`.p7m`) Apple Business Manager hands out: S/MIME framing, the
//! decrypted plaintext, and the OAuth 1.0a credentials inside (../shared/spec/dep-api.md §1).
//!
//! Exposes [`decrypt`] / [`decrypt_for_certificate`] (uploaded file + private key →
//! [`OAuthCredentials`]), [`check_not_expired`], [`mint_p7m`] (the exact bytes Apple would
//! send, for the DEP simulator's stand-in ABM portal), [`inspect_json`] and [`issued_at`].
//! Every failure is a [`ServerTokenError`] whose message tells the admin what to do.
//!
//! Pure: no tokio, redb, reqwest or actix; owns no storage. Secrets stay in
//! [`Secret`]s and never appear in error messages.

mod framing;
mod inspect;
mod plaintext;

pub use inspect::{inspect_json, issued_at};

use crate::crypto::Secret;
use crate::crypto::cms::{self, CmsError};
use framing::Framing;
use time::OffsetDateTime;
use time::macros::format_description;
use zeroize::Zeroizing;

/// Largest upload we look at. A real token is ~1.5 KB; anything this big is some other file.
pub const MAX_TOKEN_FILE: usize = 64 * 1024;

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

/// Why a server token was refused. Messages are for the admin: what is wrong, what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServerTokenError {
    #[error(
        "the file is empty — choose the .p7m server token downloaded from Apple Business \
         Manager or Apple School Manager"
    )]
    Empty,
    #[error(
        "the file is {len} bytes; a server token is about 1.5 KB and adebox refuses files over \
         64 KiB — choose the .p7m file downloaded from Apple Business Manager"
    )]
    TooLarge { len: usize },
    #[error(
        "not an Apple server token (expected the .p7m file downloaded from Apple Business \
         Manager or Apple School Manager){hint}"
    )]
    NotAToken { hint: String },
    #[error("the token file is damaged ({detail}) — download it again from Apple Business Manager")]
    Damaged { detail: String },
    #[error(
        "this token was made for a different public key — download the public key again and \
         re-create the token in Apple Business Manager{}",
        detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    WrongKey { detail: Option<String> },
    #[error(
        "the token decrypted, but its contents are not what Apple sends ({detail}) — download \
         it again from Apple Business Manager"
    )]
    BadContent { detail: String },
    #[error("this token uses something adebox does not support: {detail}")]
    Unsupported { detail: String },
    #[error(
        "this token expired on {} — download a new token for this MDM server in Apple Business \
         Manager",
        format_date(*expiry)
    )]
    Expired { expiry: OffsetDateTime },
    #[error("the public key certificate cannot be used: {detail}")]
    BadCertificate { detail: String },
    #[error("could not create the token: {detail}")]
    Mint { detail: String },
}

/// Decrypts an uploaded server token with the private key whose certificate was uploaded to
/// Apple, and returns its credentials. Does not check expiry: see [`check_not_expired`].
pub fn decrypt(p7m: &[u8], key: &rsa::PrivateKey) -> Result<OAuthCredentials, ServerTokenError> {
    open(p7m, key, None)
}

/// Like [`decrypt`], also knowing the key's certificate (PEM), so a token made for another
/// certificate is reported with both identities.
pub fn decrypt_for_certificate(
    p7m: &[u8],
    key: &rsa::PrivateKey,
    cert_pem: &str,
) -> Result<OAuthCredentials, ServerTokenError> {
    let cert_der = crate::crypto::ca::pem_to_der(cert_pem)
        .map_err(|e| ServerTokenError::BadCertificate { detail: e.to_string() })?;
    open(p7m, key, Some(&cert_der))
}

/// The CMS bytes inside an uploaded token file (the first stage of [`decrypt`]); for the fuzz
/// entry points in `adebox::fuzzing`.
#[doc(hidden)]
pub fn unwrap_file(p7m: &[u8]) -> Result<Vec<u8>, ServerTokenError> {
    framing::unwrap(p7m).map(|(bytes, _)| bytes)
}

/// The credentials in a decrypted token text (the last stage of [`decrypt`]); for the fuzz
/// entry points in `adebox::fuzzing`.
#[doc(hidden)]
pub fn parse_plaintext(text: &[u8]) -> Result<OAuthCredentials, ServerTokenError> {
    plaintext::parse(text)
}

/// The decrypted token text Apple would send for `creds`; fuzz seeds start from it.
#[doc(hidden)]
pub fn render_plaintext(creds: &OAuthCredentials) -> String {
    (*plaintext::render(creds)).clone()
}

/// Refuses credentials whose access token has expired at `now`.
pub fn check_not_expired(
    creds: &OAuthCredentials,
    now: OffsetDateTime,
) -> Result<(), ServerTokenError> {
    if now >= creds.access_token_expiry {
        return Err(ServerTokenError::Expired { expiry: creds.access_token_expiry });
    }
    Ok(())
}

/// The `.p7m` file Apple Business Manager would hand out for `creds`, encrypted for the
/// public key in `recipient_cert_pem`: the §1.5 plaintext (CRLF headers, LF body, BEGIN/END
/// MESSAGE markers), BER EnvelopedData with AES-128-CBC, Apple's four MIME headers in Apple's
/// order, LF line endings, 76-column base64 and a final LF (§1.3–§1.4).
pub fn mint_p7m(
    recipient_cert_pem: &str,
    creds: &OAuthCredentials,
) -> Result<Vec<u8>, ServerTokenError> {
    let cert_der = crate::crypto::ca::pem_to_der(recipient_cert_pem)
        .map_err(|e| ServerTokenError::BadCertificate { detail: e.to_string() })?;
    let text = plaintext::render(creds);
    let cms = cms::encrypt_enveloped_ber(text.as_bytes(), &cert_der).map_err(|e| match e {
        CmsError::BadCertificate(detail) => ServerTokenError::BadCertificate { detail },
        other => ServerTokenError::Mint { detail: other.to_string() },
    })?;
    Ok(framing::wrap(&cms))
}

fn open(
    p7m: &[u8],
    key: &rsa::PrivateKey,
    cert_der: Option<&[u8]>,
) -> Result<OAuthCredentials, ServerTokenError> {
    let (bytes, framing) = framing::unwrap(p7m)?;
    let decrypted = match cert_der {
        Some(cert) => cms::decrypt_enveloped_for_cert(&bytes, key, cert),
        None => cms::decrypt_enveloped(&bytes, key),
    };
    let plaintext = Zeroizing::new(decrypted.map_err(|e| from_cms(e, framing, &bytes))?);
    check_decrypted_text(&plaintext)?;
    plaintext::parse(&plaintext)
}

/// After RSA with implicit rejection, a wrong key that slips past the CEK-length and padding
/// checks yields random bytes; a damaged ciphertext garbles one or two 16-byte blocks of
/// otherwise readable text. A token's plaintext is printable ASCII throughout.
fn check_decrypted_text(plaintext: &[u8]) -> Result<(), ServerTokenError> {
    let readable = plaintext
        .iter()
        .filter(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'))
        .count();
    if readable == plaintext.len() {
        Ok(())
    } else if readable * 4 >= plaintext.len() * 3 {
        Err(ServerTokenError::Damaged { detail: "part of the encrypted content is garbled".into() })
    } else {
        Err(ServerTokenError::WrongKey { detail: None })
    }
}

fn from_cms(e: CmsError, framing: Framing, bytes: &[u8]) -> ServerTokenError {
    match e {
        CmsError::WrongKey { addressed_to, key_certificate: Some(mine) } => {
            let theirs: Vec<String> = addressed_to.iter().map(ToString::to_string).collect();
            ServerTokenError::WrongKey {
                detail: Some(format!(
                    "it is for the certificate {}; this key's certificate is {mine}",
                    theirs.join(" or ")
                )),
            }
        }
        CmsError::WrongKey { .. } => ServerTokenError::WrongKey { detail: None },
        CmsError::UnsupportedCipher(_) | CmsError::UnsupportedRecipient(_) => {
            ServerTokenError::Unsupported { detail: e.to_string() }
        }
        CmsError::BadCertificate(detail) => ServerTokenError::BadCertificate { detail },
        CmsError::WrongContentType { found, .. } => ServerTokenError::NotAToken {
            hint: format!(" — it is a CMS message of another kind ({found})"),
        },
        CmsError::Malformed(_) | CmsError::TooLarge { .. } | CmsError::NoContent
            if framing == Framing::Smime || starts_like_enveloped_data(bytes) =>
        {
            ServerTokenError::Damaged { detail: format!("its encrypted part is incomplete: {e}") }
        }
        _ => ServerTokenError::NotAToken { hint: String::new() },
    }
}

/// `30 xx… 06 09 2A 86 48 86 F7 0D 01 07 03`: a ContentInfo announcing EnvelopedData, so a
/// parse failure further on means a damaged token rather than some other file.
fn starts_like_enveloped_data(bytes: &[u8]) -> bool {
    const OID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
    let head = &bytes[..bytes.len().min(8 + OID.len())];
    bytes.first() == Some(&0x30) && head.windows(OID.len()).any(|w| w == OID)
}

/// `Name: value` with an RFC 5322 field name: what a MIME header line looks like.
fn is_header_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// `2026-01-17 11:02:21 UTC`.
fn format_date(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"))
        .unwrap_or_else(|_| utc.to_string())
}

#[cfg(test)]
mod tests;
