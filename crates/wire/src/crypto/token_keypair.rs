//! The key pair behind a DEP server token: an RSA-2048 private key the appliance keeps and a
//! self-signed certificate the admin uploads to Apple Business Manager (or School Manager),
//! which encrypts the server token for it (../shared/spec/dep-api.md §1.1–§1.2).
//!
//! Exposes [`generate`] (one key pair per token being added; ~0.2 s of CPU, so async callers
//! run it on a blocking thread) and [`load_rsa_private_key`] (PKCS#1 or PKCS#8, PEM or DER).
//! Owns no storage. Pure: no tokio, redb, reqwest or actix.

use crate::crypto::Secret;
use crate::crypto::ca::{distinguished_name, fingerprint_sha256, random_serial};
use rcgen::{CertificateParams, IsCa, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256};
use rsa::PrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use time::{Duration, OffsetDateTime};

/// Apple only reads the certificate when the admin uploads it and encrypts the token for its
/// key; nothing checks its validity later (nanodep issues one-day certificates). Three years
/// leaves room for an admin who downloads the key now and uploads it much later, and for
/// re-using the same key for a renewal.
pub const VALIDITY: Duration = Duration::days(3 * 365);

/// RSA-2048, as every known DEP implementation and Apple's own example use (§1.2).
pub const KEY_BITS: usize = 2048;

/// Largest key file we read; a 4096-bit PEM key is ~3.3 KB.
const MAX_KEY_FILE: usize = 64 * 1024;

/// Longest common name X.520 allows (`ub-common-name`).
const MAX_COMMON_NAME: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TokenKeyError {
    #[error(
        "the certificate name must be 1 to 64 printable characters (got {0:?}); pick a short \
         name such as the MDM server's name in Apple Business Manager"
    )]
    BadCommonName(String),
    #[error("could not generate the token key pair: {0}")]
    Generate(String),
    #[error("the key file is {0} bytes; a private key file is a few kilobytes at most")]
    TooLarge(usize),
    #[error(
        "not a private key file{0}: expected an RSA private key in PEM (BEGIN RSA PRIVATE KEY or \
         BEGIN PRIVATE KEY) or DER form"
    )]
    NotAKey(&'static str),
    #[error(
        "the private key is password-protected; export it without a password first (for \
         example `openssl rsa -in KEY -out KEY.pem`)"
    )]
    Encrypted,
    #[error("the private key is not an RSA key; DEP server tokens are only encrypted for RSA keys")]
    NotRsa,
    #[error(
        "the private key file is damaged ({0}); use the key file adebox gave out for this token"
    )]
    Malformed(String),
}

/// A freshly generated token key pair.
#[derive(Debug, Clone)]
pub struct TokenKeyPair {
    /// The PEM certificate the admin uploads to Apple Business Manager.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM. Keep it: it decrypts the token, and later signs Managed
    /// Apple ID access-management JWTs (§1.2).
    pub key_pem: Secret<String>,
    /// SHA-256 of the certificate DER, colon-separated upper-case hex.
    pub fingerprint_sha256: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// Generates an RSA-2048 key and a self-signed certificate `O=adebox, CN=<common_name>`:
/// SHA-256 with RSA, keyUsage digitalSignature + keyEncipherment, CA:false, valid from an
/// hour before `now` (clock skew) for [`VALIDITY`].
pub fn generate(common_name: &str, now: OffsetDateTime) -> Result<TokenKeyPair, TokenKeyError> {
    let name = common_name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_COMMON_NAME
        || name.chars().any(char::is_control)
    {
        return Err(TokenKeyError::BadCommonName(common_name.to_string()));
    }
    let key = PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
        .map_err(|e| TokenKeyError::Generate(e.to_string()))?;
    let key_pem =
        key.to_pkcs8_pem(LineEnding::LF).map_err(|e| TokenKeyError::Generate(e.to_string()))?;
    let signer = KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &PKCS_RSA_SHA256)
        .map_err(|e| TokenKeyError::Generate(e.to_string()))?;

    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + VALIDITY;
    params.serial_number = Some(random_serial());
    let cert = params.self_signed(&signer).map_err(|e| TokenKeyError::Generate(e.to_string()))?;

    Ok(TokenKeyPair {
        cert_pem: cert.pem(),
        key_pem: Secret::new(key_pem.to_string()),
        fingerprint_sha256: fingerprint_sha256(cert.der()),
        not_before: params.not_before,
        not_after: params.not_after,
    })
}

/// Reads an RSA private key: PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), PEM or DER.
/// In a PEM file with several blocks (a key next to its certificate) the first private key
/// is used.
pub fn load_rsa_private_key(bytes: &[u8]) -> Result<PrivateKey, TokenKeyError> {
    if bytes.len() > MAX_KEY_FILE {
        return Err(TokenKeyError::TooLarge(bytes.len()));
    }
    if bytes.first() == Some(&0x30) {
        return load_der(bytes);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| TokenKeyError::NotAKey(""))?;
    let Some((label, block)) = first_key_block(text) else {
        return Err(TokenKeyError::NotAKey(not_a_key_hint(text)));
    };
    match label {
        "RSA PRIVATE KEY" if block.contains("ENCRYPTED") => Err(TokenKeyError::Encrypted),
        "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_pem(block).map_err(malformed),
        "PRIVATE KEY" => PrivateKey::from_pkcs8_pem(block).map_err(pkcs8_error),
        "ENCRYPTED PRIVATE KEY" => Err(TokenKeyError::Encrypted),
        _ => Err(TokenKeyError::NotRsa), // EC PRIVATE KEY, DSA PRIVATE KEY, …
    }
}

fn load_der(bytes: &[u8]) -> Result<PrivateKey, TokenKeyError> {
    PrivateKey::from_pkcs1_der(bytes)
        .or_else(|_| PrivateKey::from_pkcs8_der(bytes).map_err(pkcs8_error))
}

/// The first `-----BEGIN … PRIVATE KEY-----` block: its label and its full text.
fn first_key_block(text: &str) -> Option<(&str, &str)> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end = block[11..].find("-----")? + 11;
        let label = &block[11..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block.find(&end_marker)? + end_marker.len();
        if label.ends_with("PRIVATE KEY") {
            return Some((label, &block[..end]));
        }
        rest = &block[end..];
    }
    None
}

fn not_a_key_hint(text: &str) -> &'static str {
    if text.contains("-----BEGIN CERTIFICATE-----") {
        " (this is a certificate, the public half; use the private key file kept with it)"
    } else if text.contains("-----BEGIN PUBLIC KEY-----") {
        " (this is a public key; use the private key file kept with it)"
    } else {
        ""
    }
}

fn malformed(e: impl std::fmt::Display) -> TokenKeyError {
    TokenKeyError::Malformed(e.to_string())
}

fn pkcs8_error(e: rsa::pkcs8::Error) -> TokenKeyError {
    match e {
        rsa::pkcs8::Error::PublicKey(spki::Error::OidUnknown { .. }) => TokenKeyError::NotRsa,
        _ => malformed(e),
    }
}

#[cfg(test)]
mod tests;
