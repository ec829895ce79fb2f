//! Apple's public CA certificates that adebox pins, compiled in.
//!
//! Exposes the trust anchors for device identity signatures ([`device_identity_anchors`]:
//! the Apple iPhone Device CA, chained by signature to Apple Root CA) and for Managed Device
//! Attestation ([`attestation_anchors`]: the Apple Enterprise Attestation Root CA), plus
//! [`iphone_device_ca_chain`] (Device CA, iPhone Certification Authority, Root CA).
//!
//! The PEM files under `src/apple/certs/` are Apple's public certificates (sources and
//! fingerprints in `src/apple/certs/README.md`; ../shared/spec/enrollment.md §1.2, §3.5).
//! Pinning the Device CA itself, not only Apple Root CA, follows fleet and micromdm: only a
//! certificate the Device CA issued is a device identity. Pure: no tokio, redb, reqwest or actix.

use crate::crypto::chain::{TrustAnchors, pem_certificates};

/// Apple Root CA (public Apple certificate).
pub const APPLE_ROOT_CA_PEM: &str = include_str!("certs/apple-root-ca.pem");
/// Apple iPhone Certification Authority (public Apple certificate; expired 2022).
pub const APPLE_IPHONE_CERTIFICATION_AUTHORITY_PEM: &str =
    include_str!("certs/apple-iphone-certification-authority.pem");
/// Apple iPhone Device CA (public Apple certificate; expired 2014, still the issuer devices use).
pub const APPLE_IPHONE_DEVICE_CA_PEM: &str = include_str!("certs/apple-iphone-device-ca.pem");
/// Apple Enterprise Attestation Root CA (public Apple certificate).
pub const APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM: &str =
    include_str!("certs/apple-enterprise-attestation-root-ca.pem");

fn der(pem: &str) -> Vec<u8> {
    pem_certificates(pem)
        .ok()
        .and_then(|mut v| v.pop())
        .expect("the compiled-in Apple certificates are valid PEM (checked by tests)")
}

/// The anchors a device identity (MachineInfo, OTA payload) signer must chain to.
pub fn device_identity_anchors() -> TrustAnchors {
    TrustAnchors::from_der(vec![der(APPLE_IPHONE_DEVICE_CA_PEM)])
        .expect("the compiled-in Apple iPhone Device CA parses (checked by tests)")
}

/// The anchor an ACME device attestation chain must reach.
pub fn attestation_anchors() -> TrustAnchors {
    TrustAnchors::from_der(vec![der(APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM)])
        .expect("the compiled-in Apple Enterprise Attestation Root CA parses (checked by tests)")
}

/// Apple iPhone Device CA, Apple iPhone Certification Authority, Apple Root CA (DER).
pub fn iphone_device_ca_chain() -> Vec<Vec<u8>> {
    vec![
        der(APPLE_IPHONE_DEVICE_CA_PEM),
        der(APPLE_IPHONE_CERTIFICATION_AUTHORITY_PEM),
        der(APPLE_ROOT_CA_PEM),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::chain::verify_chain;
    use sha2::{Digest, Sha256};
    use time::macros::datetime;

    #[test]
    fn compiled_in_certificates_have_the_published_fingerprints() {
        let cases = [
            (APPLE_ROOT_CA_PEM, "B0B1730ECBC7FF4505142C49F1295E6EDA6BCAED7E2C68C5BE91B5A11001F024"),
            (
                APPLE_IPHONE_CERTIFICATION_AUTHORITY_PEM,
                "E4E2936D3C076EC4AEA8AC37277524950CA005894B39BBA2D347FA33155AE5FA",
            ),
            (
                APPLE_IPHONE_DEVICE_CA_PEM,
                "76F27D00E1333BC88DE0E2916C38C9A7F2B75774C25A794C092A80E3C4C66CCE",
            ),
            (
                APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM,
                "CCF59EF8FCB3017D97F8B5FA6FA90E7A3F9283F76B55AC6CF6EDA8B8B949F05B",
            ),
        ];
        for (pem, sha) in cases {
            assert_eq!(hex::encode_upper(Sha256::digest(der(pem))), sha);
        }
    }

    #[test]
    fn device_ca_chains_to_apple_root_by_signature_ignoring_its_expiry() {
        let chain = iphone_device_ca_chain();
        let root = TrustAnchors::from_der(vec![chain[2].clone()]).unwrap();
        let path = verify_chain(&chain[0], &chain[1..2], &root, None).unwrap();
        assert_eq!(path.len(), 3);
        // With dates checked, the expired Device CA fails, as openssl reports (error 10).
        let err =
            verify_chain(&chain[0], &chain[1..2], &root, Some(datetime!(2026-01-01 0:00 UTC)))
                .unwrap_err();
        assert!(err.to_string().contains("not valid at"), "{err}");
    }

    #[test]
    fn attestation_root_is_self_signed_and_valid_now() {
        let anchors = attestation_anchors();
        let root = &anchors.certificates()[0];
        let path = verify_chain(root, &[], &anchors, Some(datetime!(2026-11-24 0:00 UTC))).unwrap();
        assert_eq!(path.len(), 1);
    }
}
