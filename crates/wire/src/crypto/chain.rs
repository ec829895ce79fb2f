//! Certificate chains checked by signature to a pinned set of trust anchors.
//!
//! Exposes [`TrustAnchors`] (pinned certificates, usually compiled in) and
//! [`verify_chain`], which walks from a leaf through the intermediates a message carries to a
//! pinned anchor, checking each signature with [`crate::crypto::sigverify`] (RSA PKCS#1 v1.5
//! with SHA-1/2, ECDSA P-256/P-384) and that every issuer is a CA.
//!
//! Time is a parameter: `at: None` ignores validity dates. That is deliberate for device
//! identity certificates, whose Apple iPhone Device CA chain expired in 2014/2022 and is still
//! what devices use (../shared/spec/enrollment.md §1.2). The attestation chain is valid and is
//! checked at the current time (`at: Some(now)`, §3.4). No revocation, name constraints or
//! policy checks: Apple publishes none for these chains. Pure: no tokio, redb, reqwest or
//! actix.

use crate::crypto::sigverify::{self, SigError};
use const_oid::ObjectIdentifier;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Longest path walked (leaf, intermediates, anchor); Apple's are three or four long.
pub const MAX_DEPTH: usize = 6;
/// Largest certificate accepted, in bytes.
pub const MAX_CERT_LEN: usize = 16 * 1024;

/// Why a chain does not verify.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("certificate {index} in the chain is not a well-formed X.509 certificate: {reason}")]
    Malformed { index: usize, reason: String },
    #[error(
        "the certificate \"{subject}\" does not chain to a trusted root: no pinned root or \
         carried intermediate issued it (issuer \"{issuer}\")"
    )]
    Untrusted { subject: String, issuer: String },
    #[error(
        "the certificate \"{subject}\" claims to be issued by \"{issuer}\" but its signature does not verify with that issuer's key: {source}"
    )]
    BadSignature { subject: String, issuer: String, source: SigError },
    #[error("the intermediate \"{0}\" is not a CA certificate, so it cannot issue certificates")]
    NotCa(String),
    #[error(
        "the certificate \"{subject}\" is not valid at {at} (valid {not_before} to {not_after})"
    )]
    OutsideValidity { subject: String, at: String, not_before: String, not_after: String },
    #[error("the chain is longer than {MAX_DEPTH} certificates")]
    TooLong,
}

/// Certificates trusted as chain ends (DER). A leaf is accepted when a path of valid
/// signatures reaches one of them.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    certs: Vec<Vec<u8>>,
}

impl TrustAnchors {
    /// Anchors from DER certificates. Each must parse, so a broken pin fails at start-up.
    pub fn from_der(certs: Vec<Vec<u8>>) -> Result<TrustAnchors, ChainError> {
        for (index, der) in certs.iter().enumerate() {
            parse(der, index)?;
        }
        Ok(TrustAnchors { certs })
    }

    /// Anchors from one PEM text holding one or more certificates.
    pub fn from_pem(pem: &str) -> Result<TrustAnchors, ChainError> {
        let ders =
            pem_certificates(pem).map_err(|reason| ChainError::Malformed { index: 0, reason })?;
        TrustAnchors::from_der(ders)
    }

    /// The anchors, DER.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certs
    }
}

/// Every `CERTIFICATE` block of a PEM text, DER.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut rest = pem;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start..];
        let Some(end) = after.find(END) else {
            return Err("a PEM certificate block has no END line".into());
        };
        let block = &after[..end + END.len()];
        out.push(crate::crypto::ca::pem_to_der(block).map_err(|e| e.to_string())?);
        rest = &after[end + END.len()..];
    }
    if out.is_empty() {
        return Err("the text holds no PEM certificate".into());
    }
    Ok(out)
}

/// Verifies `leaf` through `intermediates` (any order; unrelated ones are ignored) to one of
/// `anchors`. With `at`, every certificate on the path must be valid at that time. Returns the
/// path, leaf first, anchor last (DER).
pub fn verify_chain(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: Option<OffsetDateTime>,
) -> Result<Vec<Vec<u8>>, ChainError> {
    let mut path = vec![leaf.to_vec()];
    let mut current = leaf.to_vec();
    loop {
        if path.len() > MAX_DEPTH {
            return Err(ChainError::TooLong);
        }
        let cert = parse(&current, path.len() - 1)?;
        check_time(&cert, at)?;
        // An anchor that signed the current certificate ends the walk.
        let mut last_error = None;
        for anchor in &anchors.certs {
            let issuer = parse(anchor, 0)?;
            if issuer.subject().as_raw() != cert.issuer().as_raw() {
                continue;
            }
            match check_signature(&cert, &issuer) {
                Ok(()) => {
                    check_time(&issuer, at)?;
                    if anchor != &current {
                        path.push(anchor.clone());
                    }
                    return Ok(path);
                }
                Err(e) => last_error = Some(e),
            }
        }
        // The current certificate may itself be pinned (a carried copy of the anchor).
        if anchors.certs.contains(&current) {
            return Ok(path);
        }
        let mut next = None;
        for (index, der) in intermediates.iter().enumerate() {
            if der == &current || path.contains(der) {
                continue;
            }
            let issuer = parse(der, index + 1)?;
            if issuer.subject().as_raw() != cert.issuer().as_raw() {
                continue;
            }
            match check_signature(&cert, &issuer) {
                Ok(()) => {
                    if !issuer.is_ca() {
                        return Err(ChainError::NotCa(issuer.subject().to_string()));
                    }
                    next = Some(der.clone());
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        match next {
            Some(der) => {
                path.push(der.clone());
                current = der;
            }
            None => {
                return Err(last_error.unwrap_or_else(|| ChainError::Untrusted {
                    subject: cert.subject().to_string(),
                    issuer: cert.issuer().to_string(),
                }));
            }
        }
    }
}

fn parse(der: &[u8], index: usize) -> Result<X509Certificate<'_>, ChainError> {
    if der.len() > MAX_CERT_LEN {
        return Err(ChainError::Malformed {
            index,
            reason: format!("{} bytes, over the {MAX_CERT_LEN}-byte limit", der.len()),
        });
    }
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(ChainError::Malformed { index, reason: "trailing bytes".into() }),
        Err(e) => Err(ChainError::Malformed { index, reason: e.to_string() }),
    }
}

fn check_signature(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<(), ChainError> {
    let bad = |source| ChainError::BadSignature {
        subject: cert.subject().to_string(),
        issuer: issuer.subject().to_string(),
        source,
    };
    let alg = ObjectIdentifier::from_bytes(cert.signature_algorithm.algorithm.as_bytes())
        .map_err(|e| bad(SigError::UnsupportedSignatureAlgorithm(e.to_string())))?;
    let digest = sigverify::digest_of_signature_alg(&alg, None).map_err(bad)?;
    sigverify::verify(
        issuer.public_key().raw,
        digest,
        cert.tbs_certificate.as_ref(),
        &cert.signature_value.data,
    )
    .map_err(bad)
}

fn check_time(cert: &X509Certificate<'_>, at: Option<OffsetDateTime>) -> Result<(), ChainError> {
    let Some(at) = at else { return Ok(()) };
    let validity = cert.validity();
    let t = at.unix_timestamp();
    if t < validity.not_before.timestamp() || t > validity.not_after.timestamp() {
        return Err(ChainError::OutsideValidity {
            subject: cert.subject().to_string(),
            at: at.to_string(),
            not_before: validity.not_before.to_string(),
            not_after: validity.not_after.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
