//! Signature checks over a precomputed digest, for every key and algorithm Apple devices and
//! Apple's CAs use: RSA PKCS#1 v1.5 (RSA-1024 and up) with SHA-1/256/384/512, and ECDSA on
//! P-256 and P-384.
//!
//! Exposes [`Digest`] (the hash named by an AlgorithmIdentifier), [`digest_of_signature_alg`]
//! (which hash a signature algorithm implies) and [`verify_prehashed`]. Shared by CMS
//! SignedData ([`super::cms::signed`]) and certificate chains ([`super::chain`]).
//!
//! Why SHA-1 and RSA-1024 are accepted: Apple's iPhone Device CA chain and the device identity
//! certificates that sign MachineInfo use them (../shared/spec/enrollment.md §1.2, §7); the
//! callers decide where that is acceptable. Pure: no tokio, redb, reqwest or actix.

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc5912::ID_EC_PUBLIC_KEY};
use sha2::Digest as _;
use signature::hazmat::PrehashVerifier;
use spki::{DecodePublicKey, SubjectPublicKeyInfoRef};

/// Why a signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SigError {
    #[error("the digest algorithm {0} is not supported (only SHA-1, SHA-256, SHA-384, SHA-512)")]
    UnsupportedDigest(String),
    #[error("the signature algorithm {0} is not supported (only RSA PKCS#1 v1.5 and ECDSA)")]
    UnsupportedSignatureAlgorithm(String),
    #[error("the public key cannot be used: {0}")]
    BadKey(String),
    #[error("the signature does not match the signed data")]
    Mismatch,
}

/// `ecdsa-with-SHA1` (RFC 3279), which the OID database lacks.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// A hash function named in CMS or X.509.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    /// The digest an AlgorithmIdentifier OID names (`id-sha1`, `id-sha256`, …).
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Digest, SigError> {
        match *oid {
            rfc5912::ID_SHA_1 => Ok(Digest::Sha1),
            rfc5912::ID_SHA_256 => Ok(Digest::Sha256),
            rfc5912::ID_SHA_384 => Ok(Digest::Sha384),
            rfc5912::ID_SHA_512 => Ok(Digest::Sha512),
            _ => Err(SigError::UnsupportedDigest(crate::crypto::cms::ber::oid_name(oid))),
        }
    }

    /// The digest of `data`.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Digest::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Digest::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Digest::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Digest::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Lower-case name for reports (`sha1`, `sha256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "sha1",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha512 => "sha512",
        }
    }

    fn rsa_scheme(self) -> rsa::Pkcs1v15Sign {
        match self {
            Digest::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
            Digest::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Digest::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Digest::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// The digest a signature algorithm implies. `sha1WithRSAEncryption` → SHA-1,
/// `ecdsa-with-SHA384` → SHA-384. Plain `rsaEncryption` (which CMS signers often name) and
/// `id-ecPublicKey` imply nothing: then `fallback` (the CMS digestAlgorithm) is used.
pub fn digest_of_signature_alg(
    sig_alg: &ObjectIdentifier,
    fallback: Option<Digest>,
) -> Result<Digest, SigError> {
    let implied = match *sig_alg {
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION | ECDSA_WITH_SHA_1 => Some(Digest::Sha1),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_256 => Some(Digest::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_384 => Some(Digest::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION | rfc5912::ECDSA_WITH_SHA_512 => Some(Digest::Sha512),
        rfc5912::RSA_ENCRYPTION | ID_EC_PUBLIC_KEY => None,
        _ => {
            return Err(SigError::UnsupportedSignatureAlgorithm(
                crate::crypto::cms::ber::oid_name(sig_alg),
            ));
        }
    };
    implied.or(fallback).ok_or_else(|| {
        SigError::UnsupportedSignatureAlgorithm(crate::crypto::cms::ber::oid_name(sig_alg))
    })
}

/// Checks `signature` over a message whose `digest` hash is `hashed`, with the public key in
/// `spki_der` (a DER SubjectPublicKeyInfo). RSA signatures are PKCS#1 v1.5; ECDSA signatures
/// are DER `ECDSA-Sig-Value` as X.509 and CMS carry them.
pub fn verify_prehashed(
    spki_der: &[u8],
    digest: Digest,
    hashed: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    let spki =
        SubjectPublicKeyInfoRef::try_from(spki_der).map_err(|e| SigError::BadKey(e.to_string()))?;
    match spki.algorithm.oid {
        rfc5912::RSA_ENCRYPTION => {
            let key = rsa::PublicKey::from_public_key_der(spki_der)
                .map_err(|e| SigError::BadKey(e.to_string()))?;
            key.verify(digest.rsa_scheme(), hashed, signature).map_err(|_| SigError::Mismatch)
        }
        ID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|e| SigError::BadKey(format!("EC key without a named curve: {e}")))?;
            match curve {
                rfc5912::SECP_256_R_1 => {
                    let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                        .map_err(|e| SigError::BadKey(e.to_string()))?;
                    let sig = p256::ecdsa::Signature::from_der(signature)
                        .map_err(|_| SigError::Mismatch)?;
                    key.verify_prehash(hashed, &sig).map_err(|_| SigError::Mismatch)
                }
                rfc5912::SECP_384_R_1 => {
                    let key = p384::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                        .map_err(|e| SigError::BadKey(e.to_string()))?;
                    let sig = p384::ecdsa::Signature::from_der(signature)
                        .map_err(|_| SigError::Mismatch)?;
                    key.verify_prehash(hashed, &sig).map_err(|_| SigError::Mismatch)
                }
                other => Err(SigError::BadKey(format!(
                    "the EC curve {} is not supported (only P-256 and P-384)",
                    crate::crypto::cms::ber::oid_name(&other)
                ))),
            }
        }
        other => {
            Err(SigError::UnsupportedSignatureAlgorithm(crate::crypto::cms::ber::oid_name(&other)))
        }
    }
}

/// Hashes `message` with `digest` and checks `signature` over it (see [`verify_prehashed`]).
pub fn verify(
    spki_der: &[u8],
    digest: Digest,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    verify_prehashed(spki_der, digest, &digest.hash(message), signature)
}
