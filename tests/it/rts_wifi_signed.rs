//! A Return to Service Wi-Fi profile may come signed, as profile tools export it
//! (`../shared/spec/apple-2026.md` §2.2 `WiFiProfileData`): one whose signature verifies is
//! taken and handed to the device exactly as uploaded; one whose signed content was altered is
//! refused with the reason, and nothing is queued or stored. Signed by OpenSSL's `cms -sign`, a
//! signer that is not adebox's.

use crate::return_to_service::tapped_fleet;
use crate::setup_steps::mobileconfig;
use crate::tls_rules::openssl_available;
use adebox::sim::fleet::{FleetDevice, Progress};
use base64ct::{Base64, Encoding};
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;

/// `profile` signed with a new self-signed RSA certificate, DER, content attached.
fn signed(dir: &std::path::Path, profile: &[u8]) -> Vec<u8> {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (key, cert, input, out) =
        (path("key.pem"), path("cert.pem"), path("wifi.mobileconfig"), path("wifi.signed"));
    std::fs::write(&input, profile).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new("openssl").args(args).output().unwrap();
        assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let subject = "/CN=Shop floor profile signer";
    run(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject, "-keyout",
        &key, "-out", &cert,
    ]);
    run(&[
        "cms",
        "-sign",
        "-nodetach",
        "-binary",
        "-outform",
        "DER",
        "-in",
        &input,
        "-signer",
        &cert,
        "-inkey",
        &key,
        "-out",
        &out,
    ]);
    std::fs::read(out).unwrap()
}

#[tokio::test]
async fn a_signed_wifi_profile_is_taken_as_uploaded_and_a_tampered_one_refused() {
    if !openssl_available() {
        return;
    }
    let now = adebox::clock::Clock::system().now();
    let (_d, page, serials, fleet, _) = tapped_fleet(1).await;
    let device = FleetDevice::for_serial(&serials[0], 0);
    let report = fleet.run(std::slice::from_ref(&device), 1, &Progress::default(), now).await;
    assert_eq!(report.released, 1, "{report:?}");
    let kept = fleet.enrolled().into_iter().next().unwrap();
    let serial = &serials[0];
    let path = format!("/api/v1/devices/{serial}/mdm/return-to-service");

    let dir = tempfile::tempdir().unwrap();
    let good = signed(dir.path(), &mobileconfig("org.example.rts", "Shop floor Wi-Fi"));
    // The signed content is in clear in the DER: change the network's name in it.
    let at = good.windows(6).position(|w| w == b"School").expect("the SSID in the content");
    let mut tampered = good.clone();
    tampered[at..at + 6].copy_from_slice(b"Hacked");

    let body = json!({"confirm": serial, "wifi_profile": Base64::encode_string(&tampered)});
    let (s, v) = page.post(&path, body).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wifi_profile")),
        "{v}"
    );
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("Wi-Fi profile cannot be used"), "{message}");
    assert!(message.contains("signed profile whose signature verifies"), "{message}");
    let (_, mdm) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
    let commands = mdm["commands"].as_array().unwrap();
    assert!(commands.iter().all(|c| c["request_type"] != "EraseDevice"), "{mdm}");
    // Nothing stored: the device starting Return to Service itself is still refused.
    assert!(kept.check_in("ReturnToService").await.is_err(), "no settings were stored");

    let body = json!({"confirm": serial, "wifi_profile": Base64::encode_string(&good)});
    let (s, v) = page.post(&path, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let answer = kept.check_in("ReturnToService").await.unwrap_or_else(|e| panic!("{e}"));
    let answer = plist::Value::from_reader_xml(answer.as_slice()).unwrap();
    let rts = answer.as_dictionary().unwrap()["ReturnToService"].as_dictionary().unwrap();
    assert_eq!(rts["WiFiProfileData"].as_data(), Some(good.as_slice()), "handed over as uploaded");
}
