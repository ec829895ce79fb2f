use super::*;
use crate::crypto::ca::Authority;
use time::Duration;
use time::macros::datetime;

const TOPIC: &str = "com.apple.mgmt.External.18a16429-886b-41f1-9c30-2bd04ae4fc37";

fn request() -> PushRequest {
    generate_request("adebox push", "US", "admin@example.org").unwrap()
}

/// A push certificate for `csr_der` from a stand-in issuer, subject `UID=<uid>, CN=APSP:…, C=US`.
fn issue(csr_der: &[u8], uid: &str) -> String {
    let now = datetime!(2026-06-01 0:00 UTC);
    let ca = Authority::generate("stand-in push CA", now, Duration::days(3650)).unwrap();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]), uid);
    dn.push(rcgen::DnType::CommonName, "APSP:18a16429");
    dn.push(rcgen::DnType::CountryName, "US");
    ca.issue_for_request(csr_der, dn, now, Duration::days(365)).unwrap()
}

#[test]
fn the_request_is_a_signed_rsa_2048_csr_with_the_keychain_subject() {
    let r = request();
    assert!(r.csr_pem.contains("BEGIN CERTIFICATE REQUEST"));
    use x509_parser::prelude::FromDer;
    let (_, csr) =
        x509_parser::certification_request::X509CertificationRequest::from_der(&r.csr_der).unwrap();
    csr.verify_signature().unwrap();
    let subject = csr.certification_request_info.subject.to_string();
    assert!(subject.contains("CN=adebox push") && subject.contains("C=US"), "{subject}");
    assert!(subject.contains("admin@example.org"), "{subject}");
    let spki = csr.certification_request_info.subject_pki.raw;
    assert!(key_matches(spki, r.key_pem.expose()).unwrap());
    assert!(format!("{r:?}").contains("csr_len") && !format!("{r:?}").contains("PRIVATE"));
}

#[test]
fn reads_the_topic_of_the_mock_push_certificates() {
    let Some(good) = crate::fixtures::read("push-cert/mock_push_cert.pem") else { return };
    let info = parse_certificate(&good).unwrap();
    assert_eq!(info.topic, TOPIC);
    assert!(info.subject.contains("APSP:17a16429"), "{}", info.subject);
    assert_eq!(info.not_before.year(), 2018);
    assert_eq!(info.not_after.year(), 2068);

    let no_uid = crate::fixtures::read("push-cert/mock_push_cert_no_uid.pem").unwrap();
    assert!(matches!(parse_certificate(&no_uid), Err(PushCertError::NoTopic)));
    let wrong = crate::fixtures::read("push-cert/mock_push_cert_wrong_uid_prefix.pem").unwrap();
    let e = parse_certificate(&wrong).unwrap_err();
    assert!(matches!(&e, PushCertError::NotMdmTopic(t) if t.starts_with("wrong.prefix")), "{e}");
    assert!(e.to_string().contains("com.apple.mgmt"), "{e}");
}

#[test]
fn the_issued_certificate_matches_its_request_key_and_no_other() {
    let r = request();
    let pem = issue(&r.csr_der, TOPIC);
    let info = parse_certificate(pem.as_bytes()).unwrap();
    assert_eq!(info.topic, TOPIC);
    assert!(key_matches(&info.spki_der, r.key_pem.expose()).unwrap());
    let other = request();
    assert!(!key_matches(&info.spki_der, other.key_pem.expose()).unwrap());
    // DER and PEM with text around it read the same.
    let again = parse_certificate(&info.cert_der).unwrap();
    assert_eq!(again, info);
    let wrapped = format!("Bag Attributes\n    friendlyName: APSP\n{pem}");
    assert_eq!(parse_certificate(wrapped.as_bytes()).unwrap().topic, TOPIC);
}

#[test]
fn refuses_what_is_not_a_push_certificate_with_the_reason() {
    let r = request();
    let cases: [(&[u8], &str); 4] = [
        (r.key_pem.expose().as_bytes(), "private key"),
        (r.csr_pem.as_bytes(), "request adebox made"),
        (b"hello", "not a certificate"),
        (b"0\x03\x02\x01\x00", "damaged"),
    ];
    for (bytes, words) in cases {
        let e = parse_certificate(bytes).unwrap_err();
        assert!(e.to_string().contains(words), "{words}: {e}");
    }
    let huge = vec![b'A'; MAX_CERT_FILE + 1];
    assert!(matches!(parse_certificate(&huge), Err(PushCertError::TooLarge(_))));
    let app = issue(&r.csr_der, "com.example.app");
    assert!(matches!(parse_certificate(app.as_bytes()), Err(PushCertError::NotMdmTopic(_))));
}

#[test]
fn the_vendor_signed_request_verifies_with_the_vendor_key() {
    let r = request();
    let now = datetime!(2026-06-01 0:00 UTC);
    let vendor = crate::crypto::token_keypair::generate("MDM vendor", now).unwrap();
    let root = crate::crypto::ca::Authority::generate("root", now, Duration::days(10)).unwrap();
    let b64 = vendor_signed_request(
        &r.csr_der,
        &vendor.cert_pem,
        vendor.key_pem.expose().as_bytes(),
        root.cert_pem(),
    )
    .unwrap();
    let xml = Base64::decode_vec(&b64).unwrap();
    let plist: plist::Dictionary = plist::from_bytes(&xml).unwrap();
    let csr = Base64::decode_vec(plist["PushCertRequestCSR"].as_string().unwrap()).unwrap();
    assert_eq!(csr, r.csr_der);
    let chain = plist["PushCertCertificateChain"].as_string().unwrap();
    assert_eq!(pem_certificates(chain.as_bytes()).len(), 2, "vendor certificate + root");
    let sig = Base64::decode_vec(plist["PushCertSignature"].as_string().unwrap()).unwrap();
    let vendor_der = crate::crypto::ca::pem_to_der(&vendor.cert_pem).unwrap();
    let (_, cert) = X509Certificate::from_der(&vendor_der).unwrap();
    crate::crypto::sigverify::verify(
        cert.public_key().raw,
        crate::crypto::sigverify::Digest::Sha256,
        &r.csr_der,
        &sig,
    )
    .unwrap();
}

#[test]
fn refuses_a_vendor_key_that_does_not_belong_to_the_vendor_certificate() {
    let r = request();
    let now = datetime!(2026-06-01 0:00 UTC);
    let vendor = crate::crypto::token_keypair::generate("MDM vendor", now).unwrap();
    let stranger = crate::crypto::token_keypair::generate("someone else", now).unwrap();
    let e = vendor_signed_request(
        &r.csr_der,
        &vendor.cert_pem,
        stranger.key_pem.expose().as_bytes(),
        "",
    )
    .unwrap_err();
    assert!(matches!(e, PushCertError::VendorMismatch), "{e}");
    let e = vendor_signed_request(&r.csr_der, "nothing", vendor.key_pem.expose().as_bytes(), "")
        .unwrap_err();
    assert!(e.to_string().contains("vendor certificate"), "{e}");
    let e = vendor_signed_request(&r.csr_der, &vendor.cert_pem, b"junk", "").unwrap_err();
    assert!(e.to_string().contains("vendor private key"), "{e}");
}
