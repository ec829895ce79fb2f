//! Attestation: the real Apple leaf (fixed time), stand-in chains, CBOR and hostile input.

use super::*;
use crate::apple::pinned;
use crate::apple::stand_in_pki::{
    AttestedProperties, StandInApplePki, new_device_key, new_device_key_p256,
};
use rcgen::PublicKeyData;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);
const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

fn real_leaf() -> Option<Vec<u8>> {
    let pem = crate::fixtures::read("attestation/apple-attestation-leaf-macos-15.5.pem")?;
    Some(parse_pem_chain(std::str::from_utf8(&pem).unwrap()).unwrap().remove(0))
}

fn stand_in(props: &AttestedProperties) -> (StandInApplePki, Vec<Vec<u8>>, Vec<u8>) {
    let pki = StandInApplePki::generate(NOW).unwrap();
    let key = new_device_key().unwrap();
    let spki = key.subject_public_key_info();
    let x5c = pki.issue_attestation(props, &spki, NOW).unwrap();
    (pki, x5c, spki)
}

fn props() -> AttestedProperties {
    AttestedProperties {
        serial: Some("F9FTESTSERIAL".into()),
        udid: Some("00008103-000A1B2C3D4E5F60".into()),
        os_version: Some("18.1".into()),
        sepos_version: Some("18.1".into()),
        freshness: Some(Sha256::digest(TOKEN.as_bytes()).to_vec()),
        ..AttestedProperties::default()
    }
}

#[test]
fn reads_every_oid_of_the_real_apple_leaf() {
    let Some(der) = real_leaf() else { return };
    let leaf = read_leaf(&der).unwrap();
    assert_eq!(leaf.serial.as_deref(), Some("TMWFWWWP67"));
    assert_eq!(leaf.udid.as_deref(), Some("00006030-000651690A84001C"));
    assert_eq!(
        leaf.nonce_hex.as_deref(),
        Some("9ff219c2831313c8190b63e9dd8f80aa0a4a9737a58daa931da8abde2f2d5d62")
    );
    assert_eq!(leaf.os_version.as_deref(), Some("15.5"));
    assert_eq!(leaf.sepos_version.as_deref(), Some("15.5"));
    assert_eq!(leaf.llb_version.as_deref(), Some("15.5"));
    assert_eq!(leaf.software_update_device_id.as_deref(), Some("J514sAP"));
    assert_eq!(leaf.sip_status, Some(0));
    assert_eq!(leaf.secure_boot.as_deref(), Some("Full Security"));
    assert_eq!(leaf.third_party_kexts, Some(0));
    assert!(leaf.issuer.contains("Apple Enterprise Attestation Sub CA 1"), "{}", leaf.issuer);
    // The attested key is P-384: a 120-byte SubjectPublicKeyInfo.
    assert_eq!(leaf.public_key_spki.len(), 120);
}

#[test]
fn real_leaf_is_refused_without_its_sub_ca_and_outside_its_validity() {
    let Some(der) = real_leaf() else { return };
    let anchors = pinned::attestation_anchors();
    // Inside its validity the leaf is fine, but the Sub CA is not published (fixtures README).
    let err =
        verify_attestation(std::slice::from_ref(&der), &anchors, datetime!(2025-08-01 0:00 UTC))
            .unwrap_err();
    assert!(matches!(err, AttestationError::Untrusted(ChainError::Untrusted { .. })), "{err}");
    let err = verify_attestation(&[der], &anchors, NOW).unwrap_err();
    assert!(
        matches!(err, AttestationError::Untrusted(ChainError::OutsideValidity { .. })),
        "{err}"
    );
}

#[test]
fn stand_in_attestation_verifies_and_is_fresh_for_its_token_only() {
    let (pki, x5c, spki) = stand_in(&props());
    let att_obj = encode_att_obj(&x5c);
    let parsed = parse_att_obj(&att_obj).unwrap();
    assert_eq!(parsed, x5c);
    let v = verify_attestation(&parsed, &pki.attestation_anchors(), NOW).unwrap();
    assert_eq!(v.path.len(), 3);
    assert_eq!(v.leaf.serial.as_deref(), Some("F9FTESTSERIAL"));
    assert_eq!(v.leaf.udid.as_deref(), Some("00008103-000A1B2C3D4E5F60"));
    assert_eq!(v.leaf.os_version.as_deref(), Some("18.1"));
    assert_eq!(v.leaf.public_key_spki, spki);
    check_freshness(&v.leaf, TOKEN).unwrap();
    let err = check_freshness(&v.leaf, "another-token").unwrap_err();
    assert!(matches!(err, AttestationError::FreshnessMismatch), "{err}");
}

#[test]
fn attestation_without_a_nonce_is_not_fresh() {
    let (pki, x5c, _) = stand_in(&AttestedProperties { freshness: None, ..props() });
    let v = verify_attestation(&x5c, &pki.attestation_anchors(), NOW).unwrap();
    assert!(matches!(check_freshness(&v.leaf, TOKEN), Err(AttestationError::FreshnessMissing)));
}

#[test]
fn p256_device_keys_are_attested_too() {
    let pki = StandInApplePki::generate(NOW).unwrap();
    let key = new_device_key_p256().unwrap();
    let x5c = pki.issue_attestation(&props(), &key.subject_public_key_info(), NOW).unwrap();
    let v = verify_attestation(&x5c, &pki.attestation_anchors(), NOW).unwrap();
    assert_eq!(v.leaf.public_key_spki, key.subject_public_key_info());
}

#[test]
fn stand_in_attestation_is_refused_under_the_apple_root_and_when_expired() {
    let (pki, x5c, _) = stand_in(&props());
    let err = verify_attestation(&x5c, &pinned::attestation_anchors(), NOW).unwrap_err();
    assert!(matches!(err, AttestationError::Untrusted(_)), "{err}");
    assert!(err.to_string().contains("trusted Apple attestation root"), "{err}");
    let later = NOW + time::Duration::days(91);
    assert!(verify_attestation(&x5c, &pki.attestation_anchors(), later).is_err());
    let before = NOW - time::Duration::days(1);
    assert!(verify_attestation(&x5c, &pki.attestation_anchors(), before).is_err());
}

#[test]
fn refuses_other_formats_and_malformed_objects() {
    use ciborium::Value;
    let enc = |v: Value| {
        let mut out = Vec::new();
        ciborium::ser::into_writer(&v, &mut out).unwrap();
        out
    };
    let t = |s: &str| Value::Text(s.into());
    let packed = enc(Value::Map(vec![(t("fmt"), t("packed"))]));
    assert!(
        matches!(parse_att_obj(&packed), Err(AttestationError::WrongFormat(f)) if f == "packed")
    );
    let no_stmt = enc(Value::Map(vec![(t("fmt"), t("apple"))]));
    assert!(matches!(parse_att_obj(&no_stmt), Err(AttestationError::Malformed(_))));
    let empty = encode_att_obj(&[]);
    assert!(matches!(parse_att_obj(&empty), Err(AttestationError::NoCertificates)));
    let many = encode_att_obj(&vec![vec![0x30]; MAX_X5C + 1]);
    assert!(matches!(parse_att_obj(&many), Err(AttestationError::TooManyCertificates(_))));
    let text_entry = enc(Value::Map(vec![
        (t("fmt"), t("apple")),
        (t("attStmt"), Value::Map(vec![(t("x5c"), Value::Array(vec![t("x")]))])),
    ]));
    assert!(matches!(parse_att_obj(&text_entry), Err(AttestationError::Malformed(_))));
    assert!(matches!(parse_att_obj(&enc(t("x"))), Err(AttestationError::Malformed(_))));
}

#[test]
fn hostile_bytes_are_refused_without_panic() {
    let (_, x5c, _) = stand_in(&props());
    let good = encode_att_obj(&x5c);
    for len in 0..good.len() {
        assert!(parse_att_obj(&good[..len]).is_err(), "truncated at {len}");
    }
    // A byte string claiming 2^62 bytes, deep nesting, garbage, oversize.
    let huge = [0xa1, 0x63, b'f', b'm', b't', 0x5b, 0x40, 0, 0, 0, 0, 0, 0, 0];
    assert!(parse_att_obj(&huge).is_err());
    assert!(parse_att_obj(&[0x81; 1000]).is_err());
    assert!(parse_att_obj(&[0xff; 100]).is_err());
    let big = vec![0u8; MAX_ATT_OBJ_LEN + 1];
    assert!(matches!(parse_att_obj(&big), Err(AttestationError::TooLarge { .. })));
    // Certificates that are not certificates.
    assert!(matches!(read_leaf(&[0x30, 0x03, 1, 2, 3]), Err(AttestationError::BadCertificate(_))));
    let junk = vec![vec![0x30, 0x80, 0, 0], vec![0x01]];
    assert!(verify_attestation(&junk, &pinned::attestation_anchors(), NOW).is_err());
    assert!(parse_pem_chain("no pem here").is_err());
}

#[test]
fn der_small_integers_decode() {
    assert_eq!(der_small_integer(&[0x02, 0x01, 0x00]), Some(0));
    assert_eq!(der_small_integer(&[0x02, 0x01, 0x05]), Some(5));
    assert_eq!(der_small_integer(&[0x02, 0x02, 0x01, 0x00]), Some(256));
    assert_eq!(der_small_integer(&[0x02, 0x01, 0xff]), Some(-1));
    assert_eq!(der_small_integer(&[0x02, 0x02, 0x00]), None);
    assert_eq!(der_small_integer(b"0"), None);
}
