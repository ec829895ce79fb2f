//! Verifying a CMS SignedData (RFC 5652 §5) the way Apple devices produce them.
//!
//! Exposes [`verify_signed`] (attached content: MachineInfo, OTA payloads) and
//! [`verify_detached`] (content given separately: the `Mdm-Signature` header over a request
//! body), both returning a [`VerifiedSignedData`] with the content, the signer certificate and
//! every certificate the message carries. They check only that the signer's key made the
//! signature; whether that certificate is trusted is the caller's question
//! ([`crate::crypto::chain`]).
//!
//! Accepted shapes (../shared/spec/enrollment.md §1.1–1.2, §7): BER (indefinite lengths,
//! chunked eContent) or DER; SHA-1, SHA-256, SHA-384 or SHA-512; RSA PKCS#1 v1.5 (RSA-1024
//! allowed) or ECDSA P-256/P-384 signers; with signed attributes (messageDigest checked, the
//! signature over the DER `SET OF` re-encoding) or without (the signature over the content).
//! Exactly one signer: every Apple message has one, and a second would only raise the question
//! of which one is meant. Pure: no tokio, redb, reqwest or actix.

use super::CmsError;
use super::ber::{
    BerWriter, CertificateAny, SignedDataBer, SignerIdentifierAny, SignerInfoAny, content_info,
    decode_content, oid_name,
};
use crate::crypto::sigverify::{self, Digest};
use const_oid::db::rfc5911;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// Most certificates a SignedData may carry. Apple's carry four (leaf and three CAs).
pub const MAX_CERTIFICATES: usize = 16;

/// A SignedData whose signature verified.
#[derive(Clone, Debug)]
pub struct VerifiedSignedData {
    /// The signed content (the attached eContent, or the detached content given).
    pub content: Vec<u8>,
    /// The eContentType (`id-data` for everything Apple sends).
    pub content_type: ObjectIdentifier,
    /// The signer's certificate, DER.
    pub signer: Vec<u8>,
    /// Every certificate the message carries (signer included), DER, in message order.
    pub certificates: Vec<Vec<u8>>,
    /// The digest the signer used.
    pub digest: Digest,
    /// Whether the signature covered signed attributes (rather than the content itself).
    pub signed_attributes: bool,
}

/// Verifies a SignedData with attached content and returns that content.
pub fn verify_signed(bytes: &[u8]) -> Result<VerifiedSignedData, CmsError> {
    verify(bytes, None)
}

/// Verifies a detached SignedData (no eContent) over `content`.
pub fn verify_detached(bytes: &[u8], content: &[u8]) -> Result<VerifiedSignedData, CmsError> {
    verify(bytes, Some(content))
}

fn verify(bytes: &[u8], detached: Option<&[u8]>) -> Result<VerifiedSignedData, CmsError> {
    let info = content_info(bytes, rfc5911::ID_SIGNED_DATA, "SignedData")?;
    let sd: SignedDataBer = decode_content(&info)?;
    let encap = &sd.encap_content_info;
    let content: Vec<u8> = match (&encap.econtent, detached) {
        (Some(attached), None) => attached.as_bytes().to_vec(),
        (None, Some(given)) => given.to_vec(),
        (None, None) => return Err(CmsError::Detached),
        (Some(_), Some(_)) => return Err(CmsError::NotDetached),
    };
    let certificates = certificates(&sd)?;
    let signers: Vec<&SignerInfoAny> = sd.signer_infos.iter().collect();
    let [signer_info] = signers.as_slice() else {
        return Err(CmsError::SignerCount(signers.len()));
    };
    let (signer_der, signer_cert) = find_signer(signer_info, &certificates)?;
    let spki = signer_cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| CmsError::Malformed(e.to_string()))?;
    let digest = Digest::from_oid(&signer_info.digest_alg.oid)?;
    let sig_digest =
        sigverify::digest_of_signature_alg(&signer_info.signature_algorithm.oid, Some(digest))?;
    let signature = signer_info.signature.as_bytes();
    let signed_attributes = signer_info.signed_attrs.is_some();
    match &signer_info.signed_attrs {
        None => sigverify::verify(&spki, sig_digest, &content, signature)
            .map_err(CmsError::BadSignature)?,
        Some(attrs) => {
            check_attributes(attrs, &encap.econtent_type, &digest.hash(&content))?;
            verify_over_attributes(attrs, &spki, sig_digest, signature)?;
        }
    }
    Ok(VerifiedSignedData {
        content,
        content_type: encap.econtent_type,
        signer: signer_der.clone(),
        certificates: certificates.into_iter().map(|(der, _)| der).collect(),
        digest,
        signed_attributes,
    })
}

fn certificates(sd: &SignedDataBer) -> Result<Vec<(Vec<u8>, CertificateAny)>, CmsError> {
    let count = sd.certificates.as_ref().map_or(0, |set| set.len());
    if count > MAX_CERTIFICATES {
        return Err(CmsError::Malformed(format!(
            "the message carries {count} certificates, more than the {MAX_CERTIFICATES} accepted"
        )));
    }
    sd.certificates().map(|cert| Ok((cert.to_der()?, cert.clone()))).collect()
}

/// The certificate `signer` names, by issuer and serial or by subject key identifier.
fn find_signer<'a>(
    signer: &SignerInfoAny,
    certs: &'a [(Vec<u8>, CertificateAny)],
) -> Result<&'a (Vec<u8>, CertificateAny), CmsError> {
    certs
        .iter()
        .find(|(_, cert)| {
            let tbs = cert.tbs_certificate();
            match &signer.sid {
                SignerIdentifierAny::IssuerAndSerialNumber(isn) => {
                    isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
                }
                SignerIdentifierAny::SubjectKeyIdentifier(ski) => {
                    matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
                }
            }
        })
        .ok_or(CmsError::SignerCertificateMissing)
}

/// RFC 5652 §5.3: messageDigest must be present once and equal the content's digest;
/// contentType, when present, must equal the eContentType.
fn check_attributes(
    attrs: &x509_cert::attr::Attributes,
    content_type: &ObjectIdentifier,
    content_hash: &[u8],
) -> Result<(), CmsError> {
    let mut digest_seen = false;
    for attr in attrs.iter() {
        let first = attr.values.iter().next();
        if attr.oid == rfc5911::ID_MESSAGE_DIGEST {
            let value = first.and_then(|v| v.decode_as::<OctetString>().ok()).ok_or_else(|| {
                CmsError::Malformed("messageDigest is not an OCTET STRING".into())
            })?;
            if digest_seen || attr.values.len() != 1 {
                return Err(CmsError::Malformed("messageDigest appears more than once".into()));
            }
            if value.as_bytes() != content_hash {
                return Err(CmsError::ContentDigestMismatch);
            }
            digest_seen = true;
        } else if attr.oid == rfc5911::ID_CONTENT_TYPE {
            let value = first.and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
            if value.as_ref() != Some(content_type) {
                return Err(CmsError::Malformed(format!(
                    "the contentType attribute does not name the content type {}",
                    oid_name(content_type)
                )));
            }
        }
    }
    if !digest_seen {
        return Err(CmsError::Malformed("the signed attributes carry no messageDigest".into()));
    }
    Ok(())
}

/// The signature covers the DER encoding of the attributes as a `SET OF` (tag 0x31, not the
/// `[0]` they travel under). BER keeps them in wire order, which is the DER order when the
/// signer encoded them correctly; a signer that sent them unsorted may still have signed the
/// sorted form, so both are tried.
fn verify_over_attributes(
    attrs: &x509_cert::attr::Attributes,
    spki: &[u8],
    digest: Digest,
    signature: &[u8],
) -> Result<(), CmsError> {
    let wire_order = attrs.to_der()?;
    let mut each: Vec<Vec<u8>> = attrs.iter().map(|a| a.to_der()).collect::<Result<_, _>>()?;
    each.sort();
    let mut w = BerWriter::default();
    w.primitive(0x31, &each.concat());
    let sorted = w.finish();
    match sigverify::verify(spki, digest, &wire_order, signature) {
        Ok(()) => Ok(()),
        Err(_) if sorted != wire_order => {
            sigverify::verify(spki, digest, &sorted, signature).map_err(CmsError::BadSignature)
        }
        Err(e) => Err(CmsError::BadSignature(e)),
    }
}

/// Parses a DER certificate with the same types the CMS code uses (for callers and tests).
pub fn parse_certificate(der: &[u8]) -> Result<Certificate, CmsError> {
    Ok(Certificate::from_der(der)?)
}

#[cfg(test)]
mod tests;
