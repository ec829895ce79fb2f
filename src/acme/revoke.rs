//! revokeCert (RFC 8555 §7.6): a device identity is revoked by the account that ordered it,
//! or by a request signed with the certificate's own key (`jwk` in the header). The
//! revocation is recorded on the certificate and on its certificate → device entry, which
//! MDM check-in reads, so a revoked identity stops being accepted.

use super::records::{self, CertRec, IssuedTo, Revocation};
use super::{AcmeError, Ctx, Reply, load, save};
use crate::crypto::jws::Jwk;
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;
use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer;

/// Largest certificate accepted in a revocation request (DER).
const MAX_CERT_LEN: usize = 16 * 1024;
/// RFC 5280 CRLReason codes a device may give (7 is unused; 8 removeFromCRL and 10 aACompromise
/// make no sense for an end-entity identity).
const REASONS: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 9];

impl Ctx<'_> {
    pub(super) fn revoke_cert(&self) -> Result<Reply, AcmeError> {
        let payload = self.json_payload()?;
        let b64 = payload
            .get("certificate")
            .and_then(Value::as_str)
            .filter(|s| s.len() <= MAX_CERT_LEN * 4 / 3 + 4)
            .ok_or_else(|| {
                AcmeError::Malformed(
                    "a revokeCert request must carry \"certificate\", the base64url DER \
                     certificate (RFC 8555 §7.6)"
                        .into(),
                )
            })?;
        let der = Base64UrlUnpadded::decode_vec(b64.trim_end_matches('='))
            .map_err(|_| AcmeError::Malformed("the certificate is not base64url DER".into()))?;
        let reason = match payload.get("reason") {
            None => 0,
            Some(r) => r
                .as_u64()
                .and_then(|r| u8::try_from(r).ok())
                .filter(|r| REASONS.contains(r))
                .ok_or_else(|| {
                    AcmeError::BadRevocationReason(
                        "the reason must be an RFC 5280 CRLReason code this server accepts: 0 to \
                         6, or 9"
                            .into(),
                    )
                })?,
        };
        let sha256 = hex::encode(Sha256::digest(&der));
        let not_ours = || AcmeError::NotFound("this server did not issue that certificate".into());
        let mut to =
            load::<IssuedTo>(&self.tx, records::CERT_BY_HASH, &sha256)?.ok_or_else(not_ours)?;
        let mut cert =
            load::<CertRec>(&self.tx, records::CERTS, &to.cert_id)?.ok_or_else(not_ours)?;
        let by = match &self.account {
            Some(a) if a.id == cert.account_id => "account",
            Some(_) => {
                return Err(AcmeError::Unauthorized(
                    "this certificate was ordered by another account".into(),
                ));
            }
            None if key_matches(&self.jwk, &der) => "certificate_key",
            None => {
                return Err(AcmeError::Unauthorized(
                    "this request is signed neither by the account that ordered the certificate \
                     nor by the certificate's key"
                        .into(),
                ));
            }
        };
        if cert.revoked.is_some() {
            return Err(AcmeError::AlreadyRevoked("the certificate is already revoked".into()));
        }
        let revocation = Revocation { at: self.now, reason, by: by.into() };
        cert.revoked = Some(revocation.clone());
        to.revoked = Some(revocation);
        save(self.wtx()?, records::CERTS, &cert.id, &cert)?;
        save(self.wtx()?, records::CERT_BY_HASH, &sha256, &to)?;
        log::warn!(
            serial = to.serial.as_str(), udid = to.udid.as_str(), sha256 = sha256.as_str(), reason = reason, by = by;
            "ACME: device identity revoked"
        );
        Ok(Reply::json(200, Value::Null))
    }
}

/// Whether `jwk` is the certificate's public key (EC: the uncompressed point 04‖x‖y; the
/// identities this server issues are EC keys from the Secure Enclave).
fn key_matches(jwk: &Jwk, cert_der: &[u8]) -> bool {
    let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(cert_der) else {
        return false;
    };
    let point = &cert.public_key().subject_public_key.data;
    let (x, y) = match jwk {
        Jwk::P256 { x, y } | Jwk::P384 { x, y } => (x, y),
        Jwk::Rsa { .. } => return false,
    };
    let (Ok(x), Ok(y)) = (Base64UrlUnpadded::decode_vec(x), Base64UrlUnpadded::decode_vec(y))
    else {
        return false;
    };
    let mut expected = vec![0x04];
    expected.extend_from_slice(&x);
    expected.extend_from_slice(&y);
    point.as_ref() == expected.as_slice()
}
