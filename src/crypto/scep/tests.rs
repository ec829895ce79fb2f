use super::client::{CertRep, DeviceKey, pick_ra};
use super::server::{Ra, Request, read_csr};
use super::*;
use crate::crypto::ca::{Authority, pem_to_der};
use time::Duration;
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn ra() -> (Authority, Ra) {
    let ca = Authority::generate("test CA", NOW, Duration::days(3650)).unwrap();
    let issued = ca.issue_rsa_ra("test SCEP RA", NOW, Duration::days(825)).unwrap();
    let ra = Ra::new(
        pem_to_der(&issued.cert_pem).unwrap(),
        issued.key_pem.expose(),
        ca.cert_der().to_vec(),
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
fn certs_only_carries_the_ra_and_ca_and_the_ra_is_the_rsa_one() {
    let (ca, ra) = ra();
    let bundle = certs_only(&[ra.cert_der.clone(), ca.cert_der().to_vec()]).unwrap();
    let certs = read_certs_only(&bundle).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(pick_ra(&certs), Some(ra.cert_der.clone()));
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
