use super::*;
use crate::crypto::chain::{TrustAnchors, verify_chain};
use crate::crypto::scep::client::DeviceKey;
use crate::crypto::scep::server::{Request, certificate_spki};
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

fn appliance_ca() -> Authority {
    Authority::generate("test CA", NOW, Duration::days(3650)).unwrap()
}

/// `ra`'s certificate is issued by its SCEP CA, a self-signed root, and both are valid at `at`.
fn chains(ra: &Ra, at: OffsetDateTime) -> bool {
    let root = TrustAnchors::from_der(vec![ra.issuer_der.clone()]).unwrap();
    verify_chain(&ra.cert_der, &[], &root, Some(at)).is_ok()
        && verify_chain(&ra.issuer_der, &[], &root, Some(at)).is_ok()
}

#[test]
fn the_ca_and_ra_are_kept_across_restarts_and_carried_by_backups() {
    let dir = tempfile::tempdir().unwrap();
    let first = ensure(dir.path(), NOW).unwrap();
    assert!(chains(&first, NOW));
    let again = ensure(dir.path(), NOW + Duration::days(1)).unwrap();
    assert_eq!(first.ca_certs(), again.ca_certs());

    let files = crate::enroll::backup_files(dir.path()).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for name in ["scep/ca.pem", "scep/ca.key", "scep/ra.pem", "scep/ra.key"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let restored = tempfile::tempdir().unwrap();
    assert_eq!(crate::enroll::restore_files(restored.path(), &files).unwrap(), 4);
    let back = ensure(restored.path(), NOW + Duration::days(2)).unwrap();
    assert_eq!(back.ca_certs(), first.ca_certs(), "the restored chain is kept, not reissued");
}

#[test]
fn an_ra_from_before_the_scep_ca_is_certified_again_under_it_with_its_key() {
    let ca = appliance_ca();
    let dir = tempfile::tempdir().unwrap();
    // What an appliance had before: the RA issued by the appliance CA itself.
    let old = ca.issue_rsa_ra("adebox SCEP RA", None, NOW, Duration::days(825)).unwrap();
    let scep = dir.path().join("scep");
    std::fs::create_dir_all(&scep).unwrap();
    std::fs::write(scep.join("ra.pem"), &old.cert_pem).unwrap();
    std::fs::write(scep.join("ra.key"), old.key_pem.expose()).unwrap();
    let old_der = crate::crypto::ca::pem_to_der(&old.cert_pem).unwrap();

    let later = NOW + Duration::days(3);
    let ra = ensure(dir.path(), later).unwrap();
    assert_ne!(ra.cert_der, old_der, "re-certified under the SCEP CA");
    assert!(chains(&ra, later));
    assert_eq!(certificate_spki(&ra.cert_der).unwrap(), certificate_spki(&old_der).unwrap());

    // A device that fetched GetCACert before the upgrade still gets its request read.
    let device = DeviceKey::generate("UDID-OLD", later).unwrap();
    let csr = device.csr("UDID-OLD", "x").unwrap();
    let (msg, _) = device.pkcs_req(&csr, &old_der).unwrap();
    assert_eq!(Request::parse(&msg).unwrap().decrypt(&ra).unwrap(), csr);

    // From then on it is kept as it is.
    let again = ensure(dir.path(), later + Duration::days(1)).unwrap();
    assert_eq!(again.cert_der, ra.cert_der);
}

#[test]
fn a_due_ra_gets_a_new_key_and_a_due_ca_a_new_ra_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = ensure(dir.path(), NOW).unwrap();
    let due = NOW + Duration::days(RA_DAYS) - RA_RENEW_BEFORE + Duration::days(1);
    let renewed = ensure(dir.path(), due).unwrap();
    assert_eq!(renewed.issuer_der, first.issuer_der, "the SCEP CA is not due yet");
    assert_ne!(
        certificate_spki(&renewed.cert_der).unwrap(),
        certificate_spki(&first.cert_der).unwrap(),
        "a renewal makes a new RA key"
    );
    assert!(chains(&renewed, due));

    let ca_due = NOW + Duration::days(CA_DAYS) - CA_RENEW_BEFORE + Duration::days(1);
    let moved = ensure(dir.path(), ca_due).unwrap();
    assert_ne!(moved.issuer_der, renewed.issuer_der);
    assert!(chains(&moved, ca_due));
    assert_eq!(
        certificate_spki(&moved.cert_der).unwrap(),
        certificate_spki(&renewed.cert_der).unwrap(),
        "the RA keeps its key under the new SCEP CA"
    );
}

#[test]
fn a_scep_ca_that_is_not_a_root_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let first = ensure(dir.path(), NOW).unwrap();
    // A CA certificate issued by another CA where the root belongs.
    let other = appliance_ca();
    let issued = other.issue_rsa_ra("adebox SCEP CA", None, NOW, Duration::days(30)).unwrap();
    std::fs::write(dir.path().join("scep/ca.pem"), &issued.cert_pem).unwrap();
    std::fs::write(dir.path().join("scep/ca.key"), issued.key_pem.expose()).unwrap();
    let again = ensure(dir.path(), NOW).unwrap();
    assert!(chains(&again, NOW));
    assert_ne!(again.issuer_der, first.issuer_der);
    assert_ne!(again.issuer_der, crate::crypto::ca::pem_to_der(&issued.cert_pem).unwrap());
}
