//! CMS (RFC 5652) messages as Apple sends them: BER or DER, decrypted and built here.
//!
//! Owns no state. Exposes:
//! - [`ber`]: BER-tolerant decoding of a `ContentInfo` and its content (indefinite lengths,
//!   constructed OCTET STRINGs), reusable for every CMS type Apple produces (the DEP server
//!   token's EnvelopedData, MachineInfo and `Mdm-Signature` SignedData), including
//!   [`ber::SignedDataBer`], a SignedData whose eContent survives BER chunking.
//! - [`decrypt_enveloped`] / [`decrypt_enveloped_for_cert`]: EnvelopedData with an RSA
//!   (PKCS#1 v1.5) KeyTransRecipientInfo and AES-CBC or 3DES-CBC content ([`ContentCipher`]),
//!   with reliable wrong-key detection; [`content_cipher`] reads the cipher without decrypting.
//! - [`encrypt_enveloped_ber`]: EnvelopedData byte-for-byte in the shape Apple's server tokens
//!   have (../shared/spec/dep-api.md §1.4); [`encrypt_enveloped_ber_with`] another cipher.
//! - [`recipients`]: who a message is addressed to, for error messages.
//! - [`verify_signed`] / [`verify_detached`]: SignedData signature checks ([`signed`]).
//! - [`sign_attached`] / [`sign_detached`]: SignedData signing, DER or BER, with or without
//!   signed attributes ([`sign`]).
//!
//! Pure: no tokio, redb, reqwest or actix. Uses the RustCrypto `cms =0.3.0-rc.0` types in
//! BER mode (../shared/crates.md Q1): one type system with x509-cert, spki and rsa, and the
//! same types serve SignedData later. The only gap, eContent as `Any`, is covered by the local
//! mirror in [`ber`].

pub mod ber;
mod cipher;
mod enveloped;
mod ident;
mod normalize;
pub mod sign;
pub mod signed;

pub use cipher::{ContentCipher, cipher_name};
pub use enveloped::{
    content_cipher, decrypt_enveloped, decrypt_enveloped_for_cert, encrypt_enveloped_ber,
    encrypt_enveloped_ber_with, recipients,
};
pub use ident::Recipient;
pub use sign::{
    CmsEncoding, SignOptions, SignerKey, sign_attached, sign_attached_with_attributes,
    sign_detached,
};
pub use signed::{VerifiedSignedData, verify_detached, verify_signed};

/// Largest CMS message we parse. Apple's are a few KiB (a server token is ~1 KiB, a
/// MachineInfo a few KiB); the cap only keeps hostile input from costing memory.
pub const MAX_CMS_LEN: usize = 1024 * 1024;

/// Why a CMS message could not be read, decrypted or built.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("the CMS message is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the data is not a well-formed CMS message: {0}")]
    Malformed(String),
    #[error("the CMS message holds {found}, not {expected}")]
    WrongContentType { expected: &'static str, found: String },
    #[error("the message has no recipient adebox can decrypt for: {0}")]
    UnsupportedRecipient(String),
    #[error(
        "the content is encrypted with {0}, which adebox does not accept (only AES-128, AES-192 \
         and AES-256 in CBC mode, and 3DES-CBC)"
    )]
    UnsupportedCipher(String),
    #[error("the message carries no encrypted content")]
    NoContent,
    /// The private key does not open the message. `addressed_to` lists the message's
    /// recipients; `key_certificate` is set when the caller named the key's certificate and
    /// it is not among them.
    #[error("{}", wrong_key_message(addressed_to, key_certificate.as_ref()))]
    WrongKey { addressed_to: Vec<Recipient>, key_certificate: Option<Recipient> },
    #[error("the recipient certificate cannot be used: {0}")]
    BadCertificate(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error(
        "the signed message carries no content (a detached signature): give the signed \
         content separately"
    )]
    Detached,
    #[error("the signed message carries its own content; it is not a detached signature")]
    NotDetached,
    #[error("the signed message has {0} signers; adebox accepts exactly one")]
    SignerCount(usize),
    #[error("the signed message does not carry its signer's certificate")]
    SignerCertificateMissing,
    #[error(
        "the content does not match the digest the signer signed (it was altered after signing)"
    )]
    ContentDigestMismatch,
    #[error("cannot sign: {0}")]
    Sign(String),
    #[error("the signature does not verify: {0}")]
    BadSignature(crate::crypto::sigverify::SigError),
}

fn wrong_key_message(addressed_to: &[Recipient], key_certificate: Option<&Recipient>) -> String {
    let mut msg = "the private key does not open this message".to_string();
    if let Some(mine) = key_certificate {
        let theirs: Vec<String> = addressed_to.iter().map(ToString::to_string).collect();
        msg.push_str(&format!(
            " (it is addressed to the certificate {}, not to the key's certificate {mine})",
            theirs.join(" or ")
        ));
    }
    msg
}

impl From<crate::crypto::sigverify::SigError> for CmsError {
    fn from(e: crate::crypto::sigverify::SigError) -> Self {
        CmsError::BadSignature(e)
    }
}

impl From<der::Error> for CmsError {
    fn from(e: der::Error) -> Self {
        CmsError::Malformed(e.to_string())
    }
}

#[cfg(test)]
mod tests;
