//! Which identity certificate a device request proves (../shared/spec/enrollment.md §4.2): the
//! TLS client certificate (already verified against the appliance CA by rustls) and/or the
//! `Mdm-Signature` header, a base64 detached CMS SignedData over the exact body whose signer
//! certificate it carries. When both are present they must name the same certificate.
//! Whether that certificate was issued to the device in the message is `mdm`'s question.
//! Refusals are 403, never 401 (which makes a device drop its MDM enrollment).

use super::error::ApiError;
use super::extract::PeerCertificates;
use crate::mdm::DeviceIdentity;
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use sha2::{Digest, Sha256};

/// The header a device sends when its MDM payload has `SignMessage` (spec §2.2, §4.2).
pub const MDM_SIGNATURE: &str = "Mdm-Signature";
/// Largest header value read: real ones are about 1.7 KiB of base64.
const MAX_SIGNATURE_LEN: usize = 16 * 1024;

fn refuse(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, code, message)
}

/// Verifies an `Mdm-Signature` value over `body`; returns the signer certificate (DER).
pub fn verify_mdm_signature(header: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    use base64ct::{Base64, Encoding};
    if header.len() > MAX_SIGNATURE_LEN {
        return Err(format!("the signature is over {MAX_SIGNATURE_LEN} bytes"));
    }
    let text: Vec<u8> = header.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let der = Base64::decode_vec(&String::from_utf8_lossy(&text))
        .map_err(|_| "the signature is not base64".to_string())?;
    let verified = crate::crypto::cms::verify_detached(&der, body).map_err(|e| e.to_string())?;
    Ok(verified.signer)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ca::{Authority, pem_to_der};
    use crate::crypto::cms::{CmsEncoding, CmsError, SignOptions, SignerKey, sign_detached};
    use crate::crypto::sigverify::Digest;
    use base64ct::{Base64, Encoding};
    use time::macros::datetime;

    fn device_signature(body: &[u8], digest: Digest) -> (String, Vec<u8>) {
        let now = datetime!(2026-11-24 12:00 UTC);
        let ca = Authority::generate("CA", now, time::Duration::days(30)).unwrap();
        let id = ca.issue_client("device", now, time::Duration::days(30)).unwrap();
        let cert = pem_to_der(&id.cert_pem).unwrap();
        let key = SignerKey::from_pkcs8_pem(id.key_pem.expose()).unwrap();
        let opts = SignOptions {
            encoding: CmsEncoding::Ber,
            digest,
            signed_attributes: false,
            signing_time: None,
        };
        let sig = sign_detached(body, &cert, &[], &key, &opts).unwrap();
        (Base64::encode_string(&sig), cert)
    }

    #[test]
    fn a_detached_signature_over_the_exact_body_names_its_signer() {
        for digest in [Digest::Sha1, Digest::Sha256] {
            let (header, cert) = device_signature(b"<plist/>", digest);
            assert_eq!(verify_mdm_signature(header.as_bytes(), b"<plist/>").unwrap(), cert);
        }
    }

    #[test]
    fn a_tampered_body_does_not_verify() {
        let (header, _) = device_signature(b"<plist>1</plist>", Digest::Sha256);
        assert!(verify_mdm_signature(header.as_bytes(), b"<plist>2</plist>").is_err());
    }

    #[test]
    fn garbage_and_oversized_headers_are_refused() {
        assert!(verify_mdm_signature(b"not base64 !!", b"x").is_err());
        assert!(verify_mdm_signature(b"AAAA", b"x").is_err());
        assert!(verify_mdm_signature(&vec![b'A'; MAX_SIGNATURE_LEN + 1], b"x").is_err());
    }

    #[test]
    fn the_real_mdm_signature_header_parses_as_a_detached_sha1_signature() {
        let Some(text) = crate::fixtures::read("mdm-signature/mdm-signature-header-1.b64") else {
            return;
        };
        let text: String = String::from_utf8(text).unwrap().split_whitespace().collect();
        let der = Base64::decode_vec(&text).unwrap();
        assert_eq!(der.len(), 1226);
        // The body it signed is not published: it parses, finds its signer and then fails
        // only at the signature check (fixtures README).
        match crate::crypto::cms::verify_detached(&der, b"some other body") {
            Err(CmsError::BadSignature(_)) => {}
            other => panic!("expected a signature mismatch after parsing, got {other:?}"),
        }
        // Given as attached, it is recognised as detached.
        assert!(matches!(crate::crypto::cms::verify_signed(&der), Err(CmsError::Detached)));
        let err = verify_mdm_signature(text.as_bytes(), b"x").unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
    }
}
