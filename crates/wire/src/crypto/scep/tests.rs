use super::client::{CertRep, DeviceKey, pick_ra};
use super::server::{Ra, Request, read_csr};
use super::*;
use crate::crypto::ca::{Authority, pem_to_der};
use der::Encode;
use time::Duration;
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// The appliance CA (which issues device identities), and an RA issued by an RSA SCEP CA.
fn ra() -> (Authority, Ra) {
    let ca = Authority::generate("test CA", NOW, Duration::days(3650)).unwrap();
    let scep_ca = Authority::generate_rsa("test SCEP CA", NOW, Duration::days(1825)).unwrap();
    let issued = scep_ca.issue_rsa_ra("test SCEP RA", None, NOW, Duration::days(825)).unwrap();
    let ra = Ra::new(
        pem_to_der(&issued.cert_pem).unwrap(),
        issued.key_pem.expose(),
        scep_ca.cert_der().to_vec(),
        scep_ca.key_pem().expose(),
    )
    .unwrap();
    (ca, ra)
}

#[test]
fn a_device_request_round_trips_to_an_issued_certificate() {
    let (ca, ra) = ra();
    let device = DeviceKey::generate("UDID-1", NOW).unwrap();
    let csr = device.csr("UDID-1", "one-time_challenge-value").unwrap();
    let (msg, pending) = device.pkcs_req(&csr, &ra.cert_der).unwrap();

    let req = Request::parse(&msg).unwrap();
    assert_eq!(req.message_type, Some(MessageType::PkcsReq));
    assert_eq!(req.transaction_id, pending.transaction_id);
    assert_eq!(req.signer_cert, device.cert_der);
    req.verify().unwrap();
    let csr_der = req.decrypt(&ra).unwrap();
    assert_eq!(csr_der, csr);
    let info = read_csr(&csr_der).unwrap();
    assert_eq!(info.challenge.as_ref().unwrap().expose(), "one-time_challenge-value");
    assert_eq!(info.common_name.as_deref(), Some("UDID-1"));
    assert!(!format!("{info:?}").contains("one-time"), "the challenge never shows in Debug");

    let issued = ca.issue_for_device_key(&info.spki, "UDID-1", "SERIAL1", NOW, Duration::days(365));
    let issued = issued.unwrap();
    let rep = req.cert_rep(&ra, Ok(&issued), NOW).unwrap();
    assert_eq!(
        device.read_cert_rep(&rep, &ra.cert_der, &pending).unwrap(),
        CertRep::Issued(issued)
    );
}

#[test]
fn a_failure_reply_names_its_fail_info_and_echoes_the_nonce() {
    let (_, ra) = ra();
    let device = DeviceKey::generate("UDID-2", NOW).unwrap();
    let csr = device.csr("UDID-2", "x").unwrap();
    let (msg, pending) = device.pkcs_req(&csr, &ra.cert_der).unwrap();
    let req = Request::parse(&msg).unwrap();
    let rep = req.cert_rep(&ra, Err(FailInfo::BadRequest), NOW).unwrap();
    let got = device.read_cert_rep(&rep, &ra.cert_der, &pending).unwrap();
    assert_eq!(got, CertRep::Failed(FailInfo::BadRequest));
    let mut other = pending.clone();
    other.sender_nonce = vec![0; 16];
    assert!(device.read_cert_rep(&rep, &ra.cert_der, &other).is_err(), "nonce mismatch");
}

#[test]
fn rejects_a_tampered_signature_but_can_still_answer_it() {
    let (_, ra) = ra();
    let device = DeviceKey::generate("UDID-3", NOW).unwrap();
    let csr = device.csr("UDID-3", "x").unwrap();
    let (mut msg, _) = device.pkcs_req(&csr, &ra.cert_der).unwrap();
    // The signature is the last thing in a DER SignedData from this signer.
    let n = msg.len();
    msg[n - 5] ^= 0x01;
    let req = Request::parse(&msg).unwrap();
    assert!(matches!(req.verify(), Err(ScepError::BadSignature(_))));
    assert!(req.cert_rep(&ra, Err(FailInfo::BadMessageCheck), NOW).is_ok());
}

#[test]
fn an_envelope_for_another_ra_is_undecryptable() {
    let (_, ra1) = ra();
    let (_, ra2) = ra();
    let device = DeviceKey::generate("UDID-4", NOW).unwrap();
    let csr = device.csr("UDID-4", "x").unwrap();
    let (msg, _) = device.pkcs_req(&csr, &ra1.cert_der).unwrap();
    let req = Request::parse(&msg).unwrap();
    req.verify().unwrap();
    assert!(matches!(req.decrypt(&ra2), Err(ScepError::Undecryptable)));
}

#[test]
fn garbage_is_malformed_without_panicking() {
    for bytes in [&b""[..], b"hello", &[0x30, 0x80, 0x06], &[0x30; 200], &[0xff; 64]] {
        assert!(Request::parse(bytes).is_err());
        assert!(read_csr(bytes).is_err());
        assert!(read_certs_only(bytes).is_err());
    }
}

#[test]
fn get_ca_cert_carries_only_rsa_certificates_the_ra_and_its_self_signed_ca() {
    use crate::crypto::chain::{TrustAnchors, verify_chain};
    let (_, ra) = ra();
    let certs = read_certs_only(&certs_only(&ra.ca_certs()).unwrap()).unwrap();
    assert_eq!(certs.len(), 2);
    for der in &certs {
        let (_, c) = x509_parser::parse_x509_certificate(der).unwrap();
        let alg = &c.public_key().algorithm.algorithm;
        assert_eq!(alg, &x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION, "every one RSA");
    }
    // Picked by key usage, as iOS does: the RA, not the SCEP CA, in either order.
    assert_eq!(pick_ra(&certs), Some(ra.cert_der.clone()));
    let reversed: Vec<Vec<u8>> = certs.iter().rev().cloned().collect();
    assert_eq!(pick_ra(&reversed), Some(ra.cert_der.clone()));
    let (_, sub) = x509_parser::parse_x509_certificate(&ra.issuer_der).unwrap();
    assert!(sub.is_ca());
    assert_eq!(pick_ra(std::slice::from_ref(&ra.issuer_der)), None, "a CA is never the RA");
    // The SCEP CA is a root (certmonger anchors its check of the replies in it).
    assert_eq!(sub.subject(), sub.issuer(), "self-signed");
    let root = TrustAnchors::from_der(vec![ra.issuer_der.clone()]).unwrap();
    verify_chain(&ra.cert_der, &[], &root, Some(NOW)).unwrap();
}

#[test]
fn an_envelope_to_every_certificate_or_to_the_scep_ca_alone_opens() {
    let (_, ra) = ra();
    let device = DeviceKey::generate("UDID-5", NOW).unwrap();
    let csr = device.csr("UDID-5", "x").unwrap();
    for recipient in [&ra.cert_der, &ra.issuer_der] {
        let (msg, _) = device.pkcs_req(&csr, recipient).unwrap();
        let req = Request::parse(&msg).unwrap();
        assert_eq!(req.decrypt(&ra).unwrap(), csr);
    }
}

#[test]
fn an_unsupported_cipher_is_named_before_any_key_is_tried() {
    let (_, ra) = ra();
    let device = DeviceKey::generate("UDID-6", NOW).unwrap();
    let csr = device.csr("UDID-6", "x").unwrap();
    let (msg, _) = device.pkcs_req(&csr, &ra.cert_der).unwrap();
    // Relabel the AES-128-CBC content with an unknown cipher OID of the same length, so the
    // message still parses (single DES itself is refused end to end with a DES client).
    let aes = const_oid::db::rfc5911::ID_AES_128_CBC.to_der().unwrap();
    let unknown = der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.7.1.1.1.1").to_der().unwrap();
    assert_eq!(unknown.len(), aes.len());
    let at = msg.windows(aes.len()).position(|w| w == aes.as_slice()).unwrap();
    let mut relabelled = msg.clone();
    relabelled[at..at + aes.len()].copy_from_slice(&unknown);
    let req = Request::parse(&relabelled).unwrap();
    match req.decrypt(&ra) {
        Err(ScepError::UnsupportedAlgorithm(words)) => {
            assert!(words.contains("1.3.14.3.2.7.1.1.1.1"), "{words}");
            assert!(!words.contains("RA key"), "{words}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wire_codes_round_trip() {
    for m in MessageType::ALL {
        assert_eq!(MessageType::from_code(m.code()), Some(m));
    }
    for f in FailInfo::ALL {
        assert_eq!(FailInfo::from_code(f.code()), Some(f));
    }
    for s in [PkiStatus::Success, PkiStatus::Failure, PkiStatus::Pending] {
        assert_eq!(PkiStatus::from_code(s.code()), Some(s));
    }
    assert_eq!(MessageType::PkcsReq.code(), "19");
    assert_eq!(MessageType::from_code("99"), None);
}

#[test]
fn a_signer_certificate_with_a_32_byte_serial_is_read_and_answered() {
    // certmonger's self-signed SCEP certificate has a 32-byte serial, over RFC 5280's 20.
    let (ca, ra) = ra();
    let key = super::client::new_rsa_key().unwrap();
    let device = DeviceKey::with_serial(key, "UDID-7", NOW, Some(&[0x5c; 32])).unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(&device.cert_der).unwrap();
    assert_eq!(parsed.raw_serial().len(), 32);
    let csr = device.csr("UDID-7", "x").unwrap();
    let (msg, _) = device.pkcs_req(&csr, &ra.cert_der).unwrap();
    let req = Request::parse(&msg).unwrap();
    assert_eq!(req.signer_cert, device.cert_der);
    req.verify().unwrap();
    assert_eq!(req.decrypt(&ra).unwrap(), csr);
    let spki = server::certificate_spki(&device.cert_der).unwrap();
    let issued = ca.issue_for_device_key(&spki, "UDID-7", "S7", NOW, Duration::days(1)).unwrap();
    let rep = req.cert_rep(&ra, Ok(&issued), NOW).unwrap();
    // The reply is addressed to that certificate, long serial and all: OpenSSL opens it.
    if crate::crypto::openssl_cli::available() {
        let dir = tempfile::tempdir().unwrap();
        let content = crate::crypto::cms::verify_signed(&rep).unwrap().content;
        std::fs::write(dir.path().join("env.der"), &content).unwrap();
        let pem =
            |der: &[u8]| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der);
        std::fs::write(dir.path().join("c.pem"), pem(&device.cert_der).unwrap()).unwrap();
        std::fs::write(dir.path().join("k.pem"), device.key_pem().unwrap().expose()).unwrap();
        let args = [
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "env.der",
            "-recip",
            "c.pem",
            "-inkey",
            "k.pem",
            "-binary",
            "-out",
            "bundle.der",
        ];
        crate::crypto::openssl_cli::run(dir.path(), &args).unwrap();
        let bundle = std::fs::read(dir.path().join("bundle.der")).unwrap();
        assert_eq!(read_certs_only(&bundle).unwrap(), vec![issued]);
    }
}

#[test]
fn an_openssl_envelope_in_3des_to_every_certificate_opens_and_is_answered_in_3des() {
    if !crate::crypto::openssl_cli::available() {
        return;
    }
    let (ca, ra) = ra();
    let device = DeviceKey::generate("UDID-8", NOW).unwrap();
    let csr = device.csr("UDID-8", "x").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = |der: &[u8]| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der);
    std::fs::write(dir.path().join("csr.der"), &csr).unwrap();
    // GetCACert's answer in SET order: the SCEP CA may come first.
    for (name, der) in [("ca.pem", &ra.issuer_der), ("ra.pem", &ra.cert_der)] {
        std::fs::write(dir.path().join(name), pem(der).unwrap()).unwrap();
    }
    let args = [
        "cms", "-encrypt", "-des3", "-binary", "-outform", "DER", "-in", "csr.der", "-out",
        "env.der", "ca.pem", "ra.pem",
    ];
    crate::crypto::openssl_cli::run(dir.path(), &args).unwrap();
    let envelope = std::fs::read(dir.path().join("env.der")).unwrap();
    let (msg, pending) = device.pkcs_req_for_envelope(&envelope).unwrap();
    let req = Request::parse(&msg).unwrap();
    assert_eq!(req.decrypt(&ra).unwrap(), csr);

    let spki = server::certificate_spki(&device.cert_der).unwrap();
    let issued = ca.issue_for_device_key(&spki, "UDID-8", "S8", NOW, Duration::days(1)).unwrap();
    let rep = req.cert_rep(&ra, Ok(&issued), NOW).unwrap();
    let content = crate::crypto::cms::verify_signed(&rep).unwrap().content;
    assert_eq!(
        crate::crypto::cms::content_cipher(&content).unwrap(),
        crate::crypto::cms::ContentCipher::DesEde3Cbc,
        "answered in the request's cipher"
    );
    assert_eq!(
        device.read_cert_rep(&rep, &ra.cert_der, &pending).unwrap(),
        CertRep::Issued(issued)
    );
}
