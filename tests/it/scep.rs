//! SCEP (RFC 8894) for devices too old for ACME, end to end against a sandbox daemon: an
//! iOS 15 device gets the SCEP variant of the profile with a one-time challenge, finds the RA
//! in GetCACert (only RSA certificates: the RA and the SCEP CA that issued it), enrolls, and
//! its certificate is recorded against it; refusals for an expired challenge (the daemon's
//! clock stepped past 15 minutes), a reused one, one issued to another device, a tampered
//! signature; garbage, oversized and unknown requests get plain HTTP errors without a panic.

use crate::common::*;
use crate::enroll::{fleet_with_default_profile_at, signed_content};
use adebox::clock::Clock;
use adebox::crypto::cms::verify_signed;
use adebox::crypto::scep::FailInfo;
use adebox::crypto::scep::client::{CertRep, DeviceKey, pick_ca, pick_ra};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{FleetDevice, machine_info};
use reqwest::StatusCode;
use std::sync::Arc;
use time::Duration;

/// An iOS 15 device for `serial` (the fleet makes device 3 of every 5 one).
pub(crate) fn old_device(serial: &str) -> FleetDevice {
    let d = FleetDevice::for_serial(serial, 3);
    assert!(d.os_version.starts_with("15."), "{d:?}");
    d
}

/// The SCEP payload's URL, challenge and subject CN from the profile `d` is served.
pub(crate) async fn scep_profile(
    daemon: &TestDaemon,
    pki: &StandInApplePki,
    d: &FleetDevice,
) -> (String, String, String) {
    let body = signed_content(pki, &d.udid, &machine_info(d));
    let resp = daemon
        .client()
        .post(daemon.url("/enroll/machineinfo"))
        .header("Content-Type", "application/pkcs7-signature")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let signed = verify_signed(&resp.bytes().await.unwrap()).unwrap();
    let plist = plist::Value::from_reader(std::io::Cursor::new(&signed.content)).unwrap();
    let payloads = plist.as_dictionary().unwrap()["PayloadContent"].as_array().unwrap().clone();
    let types: Vec<&str> = payloads
        .iter()
        .map(|p| p.as_dictionary().unwrap()["PayloadType"].as_string().unwrap())
        .collect();
    assert_eq!(types, ["com.apple.security.root", "com.apple.security.scep", "com.apple.mdm"]);
    let scep = payloads[1].as_dictionary().unwrap();
    let mdm = payloads[2].as_dictionary().unwrap();
    assert_eq!(mdm["IdentityCertificateUUID"], scep["PayloadUUID"]);
    let c = scep["PayloadContent"].as_dictionary().unwrap();
    let cn = c["Subject"].as_array().unwrap()[1].as_array().unwrap()[0].as_array().unwrap()[1]
        .as_string()
        .unwrap()
        .to_string();
    (c["URL"].as_string().unwrap().to_string(), c["Challenge"].as_string().unwrap().to_string(), cn)
}

/// The RA certificate from GetCACert.
pub(crate) async fn ra_of(daemon: &TestDaemon, url: &str) -> Vec<u8> {
    let resp = daemon.client().get(format!("{url}?operation=GetCACert")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-x509-ca-ra-cert");
    let certs = adebox::crypto::scep::read_certs_only(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(certs.len(), 2, "the RA and the SCEP CA");
    for der in &certs {
        // Clients encrypt to every certificate of the answer, or to one they pick: all RSA.
        let (_, c) = x509_parser::parse_x509_certificate(der).unwrap();
        let alg = &c.public_key().algorithm.algorithm;
        assert_eq!(alg, &x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION, "{}", c.subject());
    }
    let ra = pick_ra(&certs).unwrap();
    pick_ca(&certs, &ra, Clock::system().now()).expect("the RA's CA is in the answer");
    ra
}

/// A PKCSReq for a new key with subject `cn` and `challenge`, optionally altered, and what
/// the server answered.
pub(crate) async fn request(
    daemon: &TestDaemon,
    url: &str,
    ra: &[u8],
    cn: &str,
    challenge: &str,
    tamper: bool,
) -> CertRep {
    let now = Clock::system().now();
    let key = DeviceKey::generate(cn, now).unwrap();
    let csr = key.csr(cn, challenge).unwrap();
    let (mut msg, pending) = key.pkcs_req(&csr, ra).unwrap();
    if tamper {
        let n = msg.len();
        msg[n - 5] ^= 0x01;
    }
    let resp = daemon
        .client()
        .post(format!("{url}?operation=PKIOperation"))
        .header("Content-Type", "application/x-pki-message")
        .body(msg)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-pki-message");
    key.read_cert_rep(&resp.bytes().await.unwrap(), ra, &pending).unwrap()
}

pub(crate) fn pki() -> Arc<StandInApplePki> {
    let now = Clock::system().now();
    Arc::new(StandInApplePki::generate(now - Duration::days(1)).unwrap())
}

#[tokio::test]
async fn an_old_device_enrolls_by_scep_and_refusals_get_a_failure_cert_rep() {
    let pki = pki();
    let clock = Clock::manual(Clock::system().now());
    let (d, page, _, serials) = fleet_with_default_profile_at(&pki, 4, clock.clone()).await;
    let (a, b) = (old_device(&serials[0]), old_device(&serials[1]));

    let caps = d.client().get(d.url("/scep?operation=GetCACaps")).send().await.unwrap();
    assert_eq!(caps.status(), StatusCode::OK);
    let caps = caps.text().await.unwrap();
    for cap in ["POSTPKIOperation", "SHA-256", "AES", "DES3", "SCEPStandard"] {
        assert!(caps.lines().any(|l| l == cap), "{caps}");
    }

    // Device A enrolls; its certificate is for its UDID and recorded against it.
    let (url, challenge, cn) = scep_profile(&d, &pki, &a).await;
    assert_eq!(url, d.url("/scep"));
    assert_eq!(cn, a.udid);
    let ra = ra_of(&d, &url).await;
    let CertRep::Issued(cert) = request(&d, &url, &ra, &cn, &challenge, false).await else {
        panic!("device A was not issued a certificate");
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
    let subject_cn = parsed.subject().iter_common_name().next().unwrap().as_str().unwrap();
    assert_eq!(subject_cn, a.udid);
    assert!(parsed.extended_key_usage().unwrap().unwrap().value.client_auth);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&cert));
    let to = d.running().services.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!((to.serial.as_str(), to.udid.as_str()), (a.serial.as_str(), a.udid.as_str()));

    // The same challenge again: refused, and no certificate.
    let again = request(&d, &url, &ra, &cn, &challenge, false).await;
    assert_eq!(again, CertRep::Failed(FailInfo::BadRequest));

    // B's challenge used with A's identity: refused.
    let (_, challenge_b, cn_b) = scep_profile(&d, &pki, &b).await;
    assert_ne!(cn_b, a.udid);
    let stolen = request(&d, &url, &ra, &a.udid, &challenge_b, false).await;
    assert_eq!(stolen, CertRep::Failed(FailInfo::BadRequest));

    // A tampered signature: badMessageCheck.
    let (_, challenge_b2, _) = scep_profile(&d, &pki, &b).await;
    let tampered = request(&d, &url, &ra, &cn_b, &challenge_b2, true).await;
    assert_eq!(tampered, CertRep::Failed(FailInfo::BadMessageCheck));

    // A challenge is good for 15 minutes only.
    let (_, challenge_b3, _) = scep_profile(&d, &pki, &b).await;
    clock.advance(Duration::minutes(16));
    let late = request(&d, &url, &ra, &cn_b, &challenge_b3, false).await;
    assert_eq!(late, CertRep::Failed(FailInfo::BadRequest));
    let certified = d.running().services.acme.certified_serials().await.unwrap();
    let b_serial = adebox::ids::Serial::parse(&b.serial).unwrap();
    assert!(!certified.contains(&b_serial), "a refused device never gets a certificate");

    // The funnel counts the issue and lists the refusals with their reasons.
    let (s, funnel) = page.get("/api/v1/enrollment/funnel").await;
    assert_eq!(s, StatusCode::OK, "{funnel}");
    let text = funnel.to_string();
    assert!(text.contains("certificate_issued"), "{text}");
    let (s, refusals) = page.get("/api/v1/enrollment/refusals").await;
    assert_eq!(s, StatusCode::OK, "{refusals}");
    let reasons = refusals.to_string();
    for reason in
        ["scep_challenge_used", "scep_wrong_device", "scep_bad_signature", "scep_challenge_expired"]
    {
        assert!(reasons.contains(reason), "{reason} missing from {reasons}");
    }
}

#[tokio::test]
async fn garbage_oversized_and_unknown_scep_requests_get_plain_errors() {
    let d = TestDaemon::start().await;
    let c = d.client();
    let post = |body: Vec<u8>| {
        c.post(d.url("/scep?operation=PKIOperation"))
            .header("Content-Type", "application/x-pki-message")
            .body(body)
            .send()
    };
    assert_eq!(post(b"hello".to_vec()).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(post(vec![0x30; 300]).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(post(vec![0; 100 * 1024]).await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    let get = |q: &str| c.get(d.url(&format!("/scep?{q}"))).send();
    assert_eq!(
        get("operation=PKIOperation&message=%%%").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get("operation=PKIOperation&message=aGVsbG8=").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(get("operation=PKIOperation").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(get("operation=Nope").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(get("").await.unwrap().status(), StatusCode::BAD_REQUEST);
    let huge = "A".repeat(60 * 1024);
    let s = get(&format!("operation=PKIOperation&message={huge}")).await.unwrap().status();
    assert!(s.is_client_error(), "{s}");
    // The server still answers afterwards.
    assert_eq!(get("operation=GetCACaps").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_pki_message_sent_by_get_is_answered_like_a_post() {
    let d = TestDaemon::start().await;
    let ra = ra_of(&d, &d.url("/scep")).await;
    let now = Clock::system().now();
    let key = DeviceKey::generate("U-GET", now).unwrap();
    let csr = key.csr("U-GET", "not-a-challenge").unwrap();
    let (msg, pending) = key.pkcs_req(&csr, &ra).unwrap();
    use base64ct::{Base64, Encoding};
    let encoded = percent_encoding::utf8_percent_encode(
        &Base64::encode_string(&msg),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let resp = d
        .client()
        .get(d.url(&format!("/scep?operation=PKIOperation&message={encoded}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let rep = key.read_cert_rep(&resp.bytes().await.unwrap(), &ra, &pending).unwrap();
    assert_eq!(rep, CertRep::Failed(FailInfo::BadRequest), "an unknown challenge is refused");
}
