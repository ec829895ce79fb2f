//! Making a CMS SignedData (RFC 5652 §5) with attached content.
//!
//! Exposes [`SignerKey`] (an RSA key of any size, RSA-1024 included, or an ECDSA P-256 key),
//! [`SignOptions`] and [`sign_attached`]. Two callers shape the options:
//! - the enrollment endpoint signs the .mobileconfig as Apple expects it: DER, SHA-256, signed
//!   attributes (contentType, messageDigest, signingTime), the signer's chain included
//!   (../shared/spec/enrollment.md §2.6, [`SignOptions::profile`]);
//! - the device-fleet simulator signs MachineInfo the way devices do: BER with indefinite
//!   lengths and chunked eContent, SHA-1 or SHA-256, with or without signed attributes, by an
//!   RSA-1024 device identity (§1.1–1.2).
//!
//! The output is read back by [`super::verify_signed`] and by `openssl cms -verify` (tests).
//! Pure: no tokio, redb, reqwest or actix; the signing time is a parameter.

use super::CmsError;
use super::ber::{
    BerWriter, CertificateAny, CertificateChoicesAny, EncapsulatedContentInfoBer,
    IssuerAndSerialNumberAny, SignedDataBer, SignerIdentifierAny, SignerInfoAny,
};
use crate::crypto::sigverify::Digest;
use cms::content_info::{CmsVersion, ContentInfo};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode, Tag};
use spki::{AlgorithmIdentifierOwned, EncodePublicKey};
use time::OffsetDateTime;
use x509_cert::attr::Attribute;

/// `ecdsa-with-SHA1` (RFC 3279), which the OID database lacks.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// Size of the OCTET STRING chunks of a BER eContent (what OpenSSL's streaming encoder and
/// Apple devices use).
const BER_CHUNK: usize = 1000;

/// A private key that can sign CMS.
pub enum SignerKey {
    /// RSA PKCS#1 v1.5, any size adebox can load (device identities are RSA-1024).
    Rsa(Box<rsa::PrivateKey>),
    /// ECDSA on P-256 (the appliance's own certificates).
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignerKey::Rsa(_) => "SignerKey::Rsa(..)",
            SignerKey::P256(_) => "SignerKey::P256(..)",
        })
    }
}

impl SignerKey {
    /// Loads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), RSA or P-256.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SignerKey, CmsError> {
        use p256::pkcs8::DecodePrivateKey as _;
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SignerKey::P256(key));
        }
        rsa::PrivateKey::from_pkcs8_pem(pem).map(|k| SignerKey::Rsa(Box::new(k))).map_err(|e| {
            CmsError::Sign(format!(
                "the signing key is not a PKCS#8 PEM RSA or P-256 private key ({e})"
            ))
        })
    }

    /// The key's public half as a DER SubjectPublicKeyInfo.
    fn public_spki(&self) -> Result<Vec<u8>, CmsError> {
        let der = match self {
            SignerKey::Rsa(key) => key.to_public_key().to_public_key_der(),
            SignerKey::P256(key) => key.verifying_key().to_public_key_der(),
        };
        der.map(|d| d.as_bytes().to_vec()).map_err(|e| CmsError::Sign(e.to_string()))
    }

    /// The signatureAlgorithm to name for `digest`.
    fn algorithm(&self, digest: Digest) -> Result<AlgorithmIdentifierOwned, CmsError> {
        let (oid, parameters) = match (self, digest) {
            // CMS signers (OpenSSL, Apple devices) name plain rsaEncryption with NULL
            // parameters; the digest is the SignerInfo's digestAlgorithm.
            (SignerKey::Rsa(_), _) => (rfc5912::RSA_ENCRYPTION, Some(Any::null())),
            (SignerKey::P256(_), Digest::Sha1) => (ECDSA_WITH_SHA_1, None),
            (SignerKey::P256(_), Digest::Sha256) => (rfc5912::ECDSA_WITH_SHA_256, None),
            (SignerKey::P256(_), other) => {
                return Err(CmsError::Sign(format!(
                    "a P-256 key signs with SHA-1 or SHA-256, not {}",
                    other.name()
                )));
            }
        };
        Ok(AlgorithmIdentifierOwned { oid, parameters })
    }

    /// Signs the `digest` hash `hashed`: PKCS#1 v1.5 for RSA, DER `ECDSA-Sig-Value` for ECDSA.
    fn sign_prehashed(&self, digest: Digest, hashed: &[u8]) -> Result<Vec<u8>, CmsError> {
        match self {
            SignerKey::Rsa(key) => {
                let scheme = match digest {
                    Digest::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    Digest::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    Digest::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    Digest::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                key.sign(scheme, hashed).map_err(|e| CmsError::Sign(e.to_string()))
            }
            SignerKey::P256(key) => {
                use signature::hazmat::PrehashSigner;
                let sig: p256::ecdsa::Signature =
                    key.sign_prehash(hashed).map_err(|e| CmsError::Sign(e.to_string()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

/// Outer encoding of the message.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum CmsEncoding {
    /// Definite lengths throughout (what servers send, the .mobileconfig).
    Der,
    /// Indefinite-length outer structures and eContent in chunks (what devices send).
    Ber,
}

/// How to sign.
#[derive(Clone, Copy, Debug)]
pub struct SignOptions {
    pub encoding: CmsEncoding,
    /// SHA-1 or SHA-256 (SHA-384/512 with RSA too).
    pub digest: Digest,
    /// Sign contentType + messageDigest (+ signingTime) rather than the content itself.
    pub signed_attributes: bool,
    /// The signingTime attribute (only with signed attributes); `None` leaves it out.
    pub signing_time: Option<OffsetDateTime>,
}

impl SignOptions {
    /// How the enrollment profile is signed (../shared/spec/enrollment.md §2.6): DER, SHA-256,
    /// signed attributes with the signing time.
    pub fn profile(now: OffsetDateTime) -> SignOptions {
        SignOptions {
            encoding: CmsEncoding::Der,
            digest: Digest::Sha256,
            signed_attributes: true,
            signing_time: Some(now),
        }
    }
}

/// Signs `content` (attached, eContentType id-data) with `key`, whose certificate is
/// `signer_cert` (DER); `chain` (DER, e.g. the issuing CAs) is carried after the signer's
/// certificate. Refuses a key that does not belong to the certificate.
pub fn sign_attached(
    content: &[u8],
    signer_cert: &[u8],
    chain: &[Vec<u8>],
    key: &SignerKey,
    opts: &SignOptions,
) -> Result<Vec<u8>, CmsError> {
    sign(content, signer_cert, chain, key, opts, &[], false)
}

/// Like [`sign_attached`], but the content is left out of the message (a detached signature,
/// the shape of a device's `Mdm-Signature` header, ../shared/spec/enrollment.md §4.2).
pub fn sign_detached(
    content: &[u8],
    signer_cert: &[u8],
    chain: &[Vec<u8>],
    key: &SignerKey,
    opts: &SignOptions,
) -> Result<Vec<u8>, CmsError> {
    sign(content, signer_cert, chain, key, opts, &[], true)
}

/// [`sign_attached`] with `extra` signed attributes beside contentType, messageDigest and
/// signingTime (SCEP's messageType, transactionID and nonces, RFC 8894 §3.2.1). `extra` needs
/// `opts.signed_attributes`.
pub fn sign_attached_with_attributes(
    content: &[u8],
    signer_cert: &[u8],
    chain: &[Vec<u8>],
    key: &SignerKey,
    opts: &SignOptions,
    extra: &[Attribute],
) -> Result<Vec<u8>, CmsError> {
    sign(content, signer_cert, chain, key, opts, extra, false)
}

fn sign(
    content: &[u8],
    signer_cert: &[u8],
    chain: &[Vec<u8>],
    key: &SignerKey,
    opts: &SignOptions,
    extra: &[Attribute],
    detached: bool,
) -> Result<Vec<u8>, CmsError> {
    if !extra.is_empty() && !opts.signed_attributes {
        return Err(CmsError::Sign("extra attributes need signed attributes".into()));
    }
    let cert = CertificateAny::from_der(signer_cert)
        .map_err(|e| CmsError::Sign(format!("the signer certificate is not DER X.509: {e}")))?;
    let cert_spki = cert.tbs_certificate().subject_public_key_info().to_der()?;
    if cert_spki != key.public_spki()? {
        return Err(CmsError::Sign(
            "the signing key does not belong to the signer certificate (their public keys \
             differ)"
                .into(),
        ));
    }
    let digest = opts.digest;
    let digest_alg = AlgorithmIdentifierOwned { oid: digest_oid(digest)?, parameters: None };
    let content_hash = digest.hash(content);
    let (signed_attrs, signature) = if opts.signed_attributes {
        let attrs = signed_attributes(&content_hash, opts.signing_time, extra)?;
        // RFC 5652 §5.4: the signature covers the DER `SET OF` encoding of the attributes.
        let hashed = digest.hash(&attrs.to_der()?);
        (Some(attrs), key.sign_prehashed(digest, &hashed)?)
    } else {
        (None, key.sign_prehashed(digest, &content_hash)?)
    };
    let signer_info = SignerInfoAny {
        version: CmsVersion::V1,
        sid: SignerIdentifierAny::IssuerAndSerialNumber(IssuerAndSerialNumberAny::of(&cert)),
        digest_alg: digest_alg.clone(),
        signed_attrs,
        signature_algorithm: key.algorithm(digest)?,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut certs = vec![cert];
    for der in chain {
        certs.push(
            CertificateAny::from_der(der).map_err(|e| {
                CmsError::Sign(format!("a chain certificate is not DER X.509: {e}"))
            })?,
        );
    }
    let parts = Parts { digest_alg, certs, signer_info };
    let content = (!detached).then_some(content);
    match opts.encoding {
        CmsEncoding::Der => parts.der(content),
        CmsEncoding::Ber => parts.ber(content),
    }
}

fn digest_oid(digest: Digest) -> Result<ObjectIdentifier, CmsError> {
    Ok(match digest {
        Digest::Sha1 => rfc5912::ID_SHA_1,
        Digest::Sha256 => rfc5912::ID_SHA_256,
        Digest::Sha384 => rfc5912::ID_SHA_384,
        Digest::Sha512 => rfc5912::ID_SHA_512,
    })
}

fn signed_attributes(
    content_hash: &[u8],
    signing_time: Option<OffsetDateTime>,
    extra: &[Attribute],
) -> Result<x509_cert::attr::Attributes, CmsError> {
    let attr = |oid, value: Any| -> Result<Attribute, CmsError> {
        Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
    };
    let mut attrs = vec![
        attr(rfc5911::ID_CONTENT_TYPE, Any::encode_from(&rfc5911::ID_DATA)?)?,
        attr(rfc5911::ID_MESSAGE_DIGEST, Any::new(Tag::OctetString, content_hash.to_vec())?)?,
    ];
    if let Some(at) = signing_time {
        let unix = u64::try_from(at.unix_timestamp())
            .map_err(|_| CmsError::Sign(format!("the signing time {at} is before 1970")))?;
        // RFC 5652 §11.3: UTCTime for 1950–2049, which covers every time adebox runs at.
        let utc = UtcTime::from_unix_duration(std::time::Duration::from_secs(unix))
            .map_err(|e| CmsError::Sign(format!("the signing time {at} cannot be encoded: {e}")))?;
        attrs.push(attr(rfc5911::ID_SIGNING_TIME, Any::encode_from(&utc)?)?);
    }
    attrs.extend(extra.iter().cloned());
    Ok(SetOfVec::try_from(attrs)?)
}

/// The parts of the SignedData besides the content.
struct Parts {
    digest_alg: AlgorithmIdentifierOwned,
    certs: Vec<CertificateAny>,
    signer_info: SignerInfoAny,
}

impl Parts {
    fn der(self, content: Option<&[u8]>) -> Result<Vec<u8>, CmsError> {
        let sd = SignedDataBer {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![self.digest_alg])?,
            encap_content_info: EncapsulatedContentInfoBer {
                econtent_type: rfc5911::ID_DATA,
                econtent: content.map(OctetString::new).transpose()?,
            },
            certificates: Some(SetOfVec::try_from(
                self.certs.into_iter().map(CertificateChoicesAny::Certificate).collect::<Vec<_>>(),
            )?),
            crls: None,
            signer_infos: SetOfVec::try_from(vec![self.signer_info])?,
        };
        let info =
            ContentInfo { content_type: rfc5911::ID_SIGNED_DATA, content: Any::encode_from(&sd)? };
        Ok(info.to_der()?)
    }

    /// The shape of a device's message: every constructed value up to the eContent with an
    /// indefinite length, the eContent as a constructed OCTET STRING of chunks, certificates
    /// in the given order.
    fn ber(self, content: Option<&[u8]>) -> Result<Vec<u8>, CmsError> {
        let mut w = BerWriter::default();
        w.begin(0x30); // ContentInfo
        w.der(&rfc5911::ID_SIGNED_DATA.to_der()?);
        w.begin(0xa0); // [0] EXPLICIT content
        w.begin(0x30); // SignedData
        w.der(&CmsVersion::V1.to_der()?);
        w.der(&SetOfVec::try_from(vec![self.digest_alg])?.to_der()?);
        w.begin(0x30); // EncapsulatedContentInfo
        w.der(&rfc5911::ID_DATA.to_der()?);
        if let Some(content) = content {
            w.begin(0xa0); // [0] EXPLICIT eContent
            w.begin(0x24); // constructed OCTET STRING
            for chunk in content.chunks(BER_CHUNK) {
                w.primitive(0x04, chunk);
            }
            w.end();
            w.end();
        }
        w.end();
        w.begin(0xa0); // [0] IMPLICIT certificates
        for cert in &self.certs {
            w.der(&cert.to_der()?);
        }
        w.end();
        w.der(&SetOfVec::try_from(vec![self.signer_info])?.to_der()?);
        w.end();
        w.end();
        w.end();
        Ok(w.finish())
    }
}

#[cfg(test)]
mod tests;
