//! The MDM push (APNs) certificate's key work (../shared/spec/enrollment.md §5.2): the RSA-2048
//! key and CSR the appliance makes for the Apple Push Certificates Portal, the vendor-signed
//! request built from them with an MDM vendor certificate and key, and reading the
//! certificate the portal issues (its topic, validity, and whether it belongs to a key).
//!
//! Exposes [`generate_request`], [`vendor_signed_request`], [`parse_certificate`],
//! [`key_matches`] and [`PUSH_TOPIC_PREFIX`]. Owns no storage. Pure: no tokio, redb, reqwest
//! or actix; key generation takes ~0.2 s of CPU, so async callers run it on a blocking thread.

use crate::crypto::Secret;
use crate::crypto::token_keypair::load_rsa_private_key;
use base64ct::{Base64, Encoding};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Every MDM push topic starts with this (nanomdm `cryptoutil.TopicFromCert`, spec §5.2 item 5).
pub const PUSH_TOPIC_PREFIX: &str = "com.apple.mgmt";

/// The subject attribute holding the topic: `UID` (userId, OID 0.9.2342.19200300.100.1.1).
const UID_OID: &str = "0.9.2342.19200300.100.1.1";

/// `emailAddress` (PKCS#9), part of the Keychain-style CSR subject Apple's tools make.
const EMAIL_ARCS: [u64; 7] = [1, 2, 840, 113549, 1, 9, 1];

/// Largest certificate file accepted: a PEM chain of a few certificates is ~10 KB.
pub const MAX_CERT_FILE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PushCertError {
    #[error("could not make the push certificate request: {0}")]
    Generate(String),
    #[error(
        "the file is {0} bytes; a push certificate is a few kilobytes (upload the .pem the Apple Push Certificates Portal gave you)"
    )]
    TooLarge(usize),
    #[error(
        "this is not a certificate{0}; upload the .pem file you downloaded from the Apple Push Certificates Portal (identity.apple.com)"
    )]
    NotACertificate(&'static str),
    #[error(
        "the certificate is damaged ({0}); download it again from the Apple Push Certificates Portal"
    )]
    Malformed(String),
    #[error(
        "this certificate has no push topic (no UID in its subject), so it is not an MDM push certificate; download the certificate issued for your request from the Apple Push Certificates Portal"
    )]
    NoTopic,
    #[error(
        "this certificate's topic \"{0}\" does not start with com.apple.mgmt, so it is not an MDM push certificate (perhaps an app's push certificate); download the MDM certificate from the Apple Push Certificates Portal"
    )]
    NotMdmTopic(String),
    #[error("the MDM vendor certificate: {0}")]
    VendorCertificate(String),
    #[error("the MDM vendor private key: {0}")]
    VendorKey(String),
    #[error(
        "the MDM vendor private key does not belong to the vendor certificate; use the key the vendor certificate was made for"
    )]
    VendorMismatch,
    #[error("the stored push key cannot be read: {0}")]
    StoredKey(String),
}

/// A push certificate request: the key the appliance keeps and the CSR for the portal.
#[derive(Clone)]
pub struct PushRequest {
    /// PKCS#8 PEM RSA-2048 private key: never leaves the appliance.
    pub key_pem: Secret<String>,
    pub csr_pem: String,
    pub csr_der: Vec<u8>,
}

impl std::fmt::Debug for PushRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushRequest").field("csr_len", &self.csr_der.len()).finish()
    }
}

/// What the appliance needs to know of an issued push certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushCertInfo {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    /// `com.apple.mgmt.External.<uuid>`.
    pub topic: String,
    /// The subject as one line (`C=US, CN=APSP:…, UID=…`).
    pub subject: String,
    pub issuer: String,
    pub serial_hex: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

/// Makes an RSA-2048 key and a CSR with a Keychain-style subject (`CN`, `C`, `emailAddress`),
/// signed SHA256withRSA, as Apple's tools make for the portal (spec §5.2 item 1).
pub fn generate_request(
    common_name: &str,
    country: &str,
    email: &str,
) -> Result<PushRequest, PushCertError> {
    let err = |e: &dyn std::fmt::Display| PushCertError::Generate(e.to_string());
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| err(&e))?;
    let key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| err(&e))?;
    let signer =
        KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &PKCS_RSA_SHA256).map_err(|e| err(&e))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::CountryName, country);
    dn.push(
        DnType::CustomDnType(EMAIL_ARCS.to_vec()),
        rcgen::DnValue::Ia5String(
            email.try_into().map_err(|_| err(&"the e-mail address must be plain ASCII"))?,
        ),
    );
    params.distinguished_name = dn;
    let csr = params.serialize_request(&signer).map_err(|e| err(&e))?;
    Ok(PushRequest {
        key_pem: Secret::new(key_pem.to_string()),
        csr_pem: csr.pem().map_err(|e| err(&e))?,
        csr_der: csr.der().to_vec(),
    })
}

/// The vendor-signed request the portal takes (micromdm `mdmcertutil`, spec §5.2 item 2): the
/// DER CSR signed SHA256withRSA by the MDM vendor key, in an XML plist
/// `{PushCertRequestCSR, PushCertCertificateChain, PushCertSignature}`, the whole plist
/// base64-encoded. `csr` is the request, PEM or DER. `vendor_cert_pem` is the vendor certificate, optionally followed by its
/// intermediates; `apple_root_pem` (Apple Root CA) is appended when missing. Whether the portal also insists on
/// the WWDR intermediate is not confirmed: we carry whatever the admin's file holds.
pub fn vendor_signed_request(
    csr: &[u8],
    vendor_cert_pem: &str,
    vendor_key: &[u8],
    apple_root_pem: &str,
) -> Result<String, PushCertError> {
    let csr_der = match csr.first() {
        Some(0x30) => csr.to_vec(),
        _ => pem_blocks(csr, "CERTIFICATE REQUEST").into_iter().next().ok_or_else(|| {
            PushCertError::Generate("the certificate request is not a PEM or DER CSR".into())
        })?,
    };
    let csr_der = csr_der.as_slice();
    let certs = pem_certificates(vendor_cert_pem.as_bytes());
    let Some(first) = certs.first() else {
        return Err(PushCertError::VendorCertificate(
            "no certificate found; upload the MDM vendor certificate as PEM (BEGIN CERTIFICATE)"
                .into(),
        ));
    };
    let (_, vendor) = X509Certificate::from_der(first)
        .map_err(|e| PushCertError::VendorCertificate(format!("it is damaged ({e})")))?;
    let key =
        load_rsa_private_key(vendor_key).map_err(|e| PushCertError::VendorKey(e.to_string()))?;
    let key_spki = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| PushCertError::VendorKey(e.to_string()))?;
    if key_spki.as_bytes() != vendor.public_key().raw {
        return Err(PushCertError::VendorMismatch);
    }
    use sha2::Digest;
    let hashed = sha2::Sha256::digest(csr_der);
    let signature = key
        .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed)
        .map_err(|e| PushCertError::VendorKey(e.to_string()))?;

    let mut chain: String = certs.iter().map(|d| der_to_pem(d)).collect();
    let root_der = crate::crypto::ca::pem_to_der(apple_root_pem).unwrap_or_default();
    if !root_der.is_empty() && !certs.contains(&root_der) {
        chain.push_str(apple_root_pem.trim_end());
        chain.push('\n');
    }
    let mut dict = plist::Dictionary::new();
    dict.insert("PushCertRequestCSR".into(), Base64::encode_string(csr_der).into());
    dict.insert("PushCertCertificateChain".into(), chain.into());
    dict.insert("PushCertSignature".into(), Base64::encode_string(&signature).into());
    let mut xml = Vec::new();
    plist::to_writer_xml(&mut xml, &plist::Value::Dictionary(dict))
        .map_err(|e| PushCertError::Generate(e.to_string()))?;
    Ok(Base64::encode_string(&xml))
}

/// Reads the certificate the portal issued: PEM (the first certificate of the file; text
/// around it is ignored) or DER. Refuses anything that is not an MDM push certificate.
pub fn parse_certificate(bytes: &[u8]) -> Result<PushCertInfo, PushCertError> {
    if bytes.len() > MAX_CERT_FILE {
        return Err(PushCertError::TooLarge(bytes.len()));
    }
    let der = if bytes.first() == Some(&0x30) {
        bytes.to_vec()
    } else {
        match pem_certificates(bytes).into_iter().next() {
            Some(d) => d,
            None => return Err(PushCertError::NotACertificate(not_a_cert_hint(bytes))),
        }
    };
    let (_, cert) =
        X509Certificate::from_der(&der).map_err(|e| PushCertError::Malformed(e.to_string()))?;
    let topic = topic_of(&cert)?;
    let ts = |t: x509_parser::time::ASN1Time| {
        OffsetDateTime::from_unix_timestamp(t.timestamp())
            .map_err(|e| PushCertError::Malformed(e.to_string()))
    };
    Ok(PushCertInfo {
        cert_pem: der_to_pem(&der),
        topic,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial_hex: cert.raw_serial_as_string(),
        not_before: ts(cert.validity().not_before)?,
        not_after: ts(cert.validity().not_after)?,
        spki_der: cert.public_key().raw.to_vec(),
        cert_der: der,
    })
}

/// The push topic: the subject's UID, which must start with `com.apple.mgmt` (spec §5.2).
fn topic_of(cert: &X509Certificate<'_>) -> Result<String, PushCertError> {
    let oid = x509_parser::der_parser::oid::Oid::from(&[0u64, 9, 2342, 19200300, 100, 1, 1][..])
        .map_err(|_| PushCertError::Malformed(format!("OID {UID_OID}")))?;
    let Some(attr) = cert.subject().iter_by_oid(&oid).next() else {
        return Err(PushCertError::NoTopic);
    };
    let topic = attr.as_str().map_err(|_| PushCertError::NoTopic)?.trim().to_string();
    if !topic.starts_with(PUSH_TOPIC_PREFIX) {
        return Err(PushCertError::NotMdmTopic(topic));
    }
    Ok(topic)
}

/// Whether `key_pem` (PKCS#8 or PKCS#1 PEM) is the private half of `spki_der`.
pub fn key_matches(spki_der: &[u8], key_pem: &str) -> Result<bool, PushCertError> {
    let key = load_rsa_private_key(key_pem.as_bytes())
        .map_err(|e| PushCertError::StoredKey(e.to_string()))?;
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| PushCertError::StoredKey(e.to_string()))?;
    Ok(public.as_bytes() == spki_der)
}

/// The DER of every `CERTIFICATE` block in a PEM text (unparseable blocks are skipped).
fn pem_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    pem_blocks(bytes, "CERTIFICATE")
}

/// The DER of every PEM block labelled `label`.
fn pem_blocks(bytes: &[u8], label: &str) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(bytes)
        .map_while(Result::ok)
        .filter(|p| p.label == label)
        .map(|p| p.contents)
        .collect()
}

fn der_to_pem(der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn not_a_cert_hint(bytes: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    if text.contains("PRIVATE KEY-----") {
        " (it is a private key: the push key stays inside adebox, upload only the certificate)"
    } else if text.contains("CERTIFICATE REQUEST-----") {
        " (it is the request adebox made: upload it at the portal, then upload what the portal gives back)"
    } else if text.contains("<plist") || text.starts_with("PD94") {
        " (it is a signed request: upload it at the portal, then upload what the portal gives back)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests;
