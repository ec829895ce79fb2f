//! Which identity certificate a device request proves (../shared/spec/enrollment.md §4.2): the
//! TLS client certificate (already verified against the appliance CA by rustls) and/or the
//! `Mdm-Signature` header, a base64 detached CMS SignedData over the exact body whose signer
//! certificate it carries. When both are present they must name the same certificate.
//! Whether that certificate was issued to the device in the message is `mdm`'s question.
//! Refusals are 403, never 401 (which makes a device drop its MDM enrollment).

use super::error::ApiError;
use super::error::device::identity_refused as refuse;
use super::extract::PeerCertificates;
use crate::crypto::mdm_signature::verify_mdm_signature;
use crate::mdm::DeviceIdentity;
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

/// The header a device sends when its MDM payload has `SignMessage` (spec §2.2, §4.2).
pub const MDM_SIGNATURE: &str = "Mdm-Signature";

/// The certificate `req` proves, as the SHA-256 of its DER.
pub fn device_identity(req: &HttpRequest, body: &[u8]) -> Result<DeviceIdentity, ApiError> {
    let tls = req.conn_data::<PeerCertificates>().and_then(|p| p.0.first().cloned());
    let signed = match req.headers().get(MDM_SIGNATURE) {
        None => None,
        Some(v) => Some(verify_mdm_signature(v.as_bytes(), body).map_err(|e| {
            refuse("mdm_signature_invalid", format!("the Mdm-Signature does not verify: {e}"))
        })?),
    };
    let hash = |der: &[u8]| hex::encode(Sha256::digest(der));
    let cert_sha256 = match (tls, signed) {
        (Some(t), Some(s)) if t.as_ref() != s.as_slice() => {
            return Err(refuse(
                "identity_mismatch",
                "the Mdm-Signature was made with another certificate than the TLS client \
                 certificate",
            ));
        }
        (Some(t), _) => hash(t.as_ref()),
        (None, Some(s)) => hash(&s),
        (None, None) => {
            return Err(refuse(
                "client_certificate_required",
                "this endpoint needs the device's identity certificate (TLS client certificate \
                 or Mdm-Signature)",
            ));
        }
    };
    Ok(DeviceIdentity { cert_sha256 })
}
