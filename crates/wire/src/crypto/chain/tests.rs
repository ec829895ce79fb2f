//! Chains against the real Apple device identity certificate and stand-in chains.

use super::*;
use crate::apple::pinned;
use crate::apple::stand_in_pki::{AttestedProperties, StandInApplePki, new_device_key};
use rcgen::PublicKeyData;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn real_device_identity() -> Option<Vec<u8>> {
    let pem = crate::fixtures::read("device-identity/appleca_signed.pem")?;
    Some(pem_certificates(std::str::from_utf8(&pem).unwrap()).unwrap().remove(0))
}

#[test]
fn real_device_identity_chains_to_the_pinned_device_ca_ignoring_dates() {
    let Some(leaf) = real_device_identity() else { return };
    let path = verify_chain(&leaf, &[], &pinned::device_identity_anchors(), None).unwrap();
    assert_eq!(path.len(), 2);
    // With the bag Apple devices carry (the three CAs), the walk stops at the pinned Device CA.
    let bag = pinned::iphone_device_ca_chain();
    let path = verify_chain(&leaf, &bag, &pinned::device_identity_anchors(), None).unwrap();
    assert_eq!(path.len(), 2);
    // Pinned at Apple Root CA, the path goes through both intermediates.
    let root = TrustAnchors::from_der(vec![bag[2].clone()]).unwrap();
    assert_eq!(verify_chain(&leaf, &bag[..2], &root, None).unwrap().len(), 4);
}

#[test]
fn real_device_identity_is_refused_when_dates_are_checked() {
    let Some(leaf) = real_device_identity() else { return };
    let err = verify_chain(&leaf, &[], &pinned::device_identity_anchors(), Some(NOW)).unwrap_err();
    assert!(matches!(err, ChainError::OutsideValidity { .. }), "{err}");
}

#[test]
fn real_device_identity_is_refused_under_the_attestation_root() {
    let Some(leaf) = real_device_identity() else { return };
    let err = verify_chain(
        &leaf,
        &pinned::iphone_device_ca_chain(),
        &pinned::attestation_anchors(),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, ChainError::Untrusted { .. }), "{err}");
    assert!(err.to_string().contains("does not chain to a trusted root"), "{err}");
}

#[test]
fn tampered_certificate_fails_its_signature() {
    let Some(mut leaf) = real_device_identity() else { return };
    // Flip one byte of the subject CN (inside the TBS).
    let pos = leaf.windows(4).position(|w| w == b"6001").unwrap();
    leaf[pos] = b'7';
    let err = verify_chain(&leaf, &[], &pinned::device_identity_anchors(), None).unwrap_err();
    assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");
}

#[test]
fn stand_in_device_identity_chains_to_the_stand_in_device_ca_only() {
    let pki = StandInApplePki::generate(NOW).unwrap();
    let id = pki.issue_device_identity("UDID-1", NOW).unwrap();
    let bag = pki.device_identity_bag();
    let path = verify_chain(&id.cert_der, &bag, &pki.device_identity_anchors(), Some(NOW)).unwrap();
    assert_eq!(path, vec![id.cert_der.clone(), pki.device_ca.cert_der.clone()]);
    let err =
        verify_chain(&id.cert_der, &bag, &pinned::device_identity_anchors(), None).unwrap_err();
    assert!(matches!(err, ChainError::Untrusted { .. }), "{err}");
    // Another stand-in PKI with the same names: names match, signatures do not.
    let other = StandInApplePki::generate(NOW).unwrap();
    let err = verify_chain(&id.cert_der, &[], &other.device_identity_anchors(), None).unwrap_err();
    assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");
    let err = verify_chain(&id.cert_der, &bag, &other.device_identity_anchors(), None).unwrap_err();
    assert!(matches!(err, ChainError::Untrusted { .. }), "{err}");
}

#[test]
fn stand_in_attestation_chain_verifies_inside_its_validity_only() {
    let pki = StandInApplePki::generate(NOW).unwrap();
    let key = new_device_key().unwrap();
    let x5c = pki
        .issue_attestation(&AttestedProperties::default(), &key.subject_public_key_info(), NOW)
        .unwrap();
    let anchors = pki.attestation_anchors();
    let path = verify_chain(&x5c[0], &x5c[1..], &anchors, Some(NOW)).unwrap();
    assert_eq!(path.len(), 3);
    let later = NOW + time::Duration::days(91);
    let err = verify_chain(&x5c[0], &x5c[1..], &anchors, Some(later)).unwrap_err();
    assert!(matches!(err, ChainError::OutsideValidity { .. }), "{err}");
    // Without the Sub CA, nothing links the leaf to the root.
    let err = verify_chain(&x5c[0], &[], &anchors, Some(NOW)).unwrap_err();
    assert!(matches!(err, ChainError::Untrusted { .. }), "{err}");
}

#[test]
fn an_unrelated_certificate_does_not_link_a_chain() {
    let pki = StandInApplePki::generate(NOW).unwrap();
    let id = pki.issue_device_identity("UDID-1", NOW).unwrap();
    let key = new_device_key().unwrap();
    let x5c = pki
        .issue_attestation(&AttestedProperties::default(), &key.subject_public_key_info(), NOW)
        .unwrap();
    // The device identity is no issuer of the attestation leaf: the Sub CA is missing.
    let err =
        verify_chain(&x5c[0], std::slice::from_ref(&id.cert_der), &pki.attestation_anchors(), None)
            .unwrap_err();
    assert!(matches!(err, ChainError::Untrusted { .. }), "{err}");
}

#[test]
fn garbage_and_truncated_certificates_are_refused_without_panic() {
    let Some(leaf) = real_device_identity() else { return };
    let anchors = pinned::device_identity_anchors();
    for len in 0..leaf.len() {
        assert!(verify_chain(&leaf[..len], &[], &anchors, None).is_err());
    }
    assert!(verify_chain(&[0x30, 0x80, 0x00, 0x00], &[vec![0xff; 40]], &anchors, None).is_err());
    assert!(verify_chain(&vec![0x30; MAX_CERT_LEN + 1], &[], &anchors, None).is_err());
}
