//! The enrollment profile's root payload follows the appliance's server certificate: under
//! the self-managed certificate it carries the appliance CA and pins the MDM URLs to it; under
//! a publicly trusted one (here from a real ACME CA, Debian's pebble) it carries no root and
//! pins nothing, so the device trusts the server through the public root (apple-2026.md §7).

use crate::common::*;
use crate::enroll::{fleet_with_default_profile, signed};
use crate::tls_acme::{Pebble, free_port, tls_until};
use crate::tls_switch::login_trusting;
use adebox::daemon::Mode;
use adebox::sim::apple_pki::StandInApplePki;
use plist::{Dictionary, Value};
use reqwest::StatusCode;
use std::sync::Arc;

/// The payloads of the enrollment profile served to `serial`, posted with `client`.
async fn enrollment_payloads(
    client: &reqwest::Client,
    d: &TestDaemon,
    pki: &StandInApplePki,
    serial: &str,
    udid: &str,
) -> Vec<Dictionary> {
    let resp = client
        .post(d.url("/enroll/machineinfo"))
        .header("Content-Type", "application/pkcs7-signature")
        .body(signed(pki, serial, udid))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.bytes().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let content = adebox::crypto::cms::verify_signed(&body).unwrap().content;
    let plist = Value::from_reader(std::io::Cursor::new(&content)).unwrap();
    plist.as_dictionary().unwrap()["PayloadContent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_dictionary().unwrap().clone())
        .collect()
}

fn types(payloads: &[Dictionary]) -> Vec<String> {
    payloads.iter().map(|p| p["PayloadType"].as_string().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_payload_is_there_under_the_appliance_ca_and_gone_under_an_acme_certificate() {
    let http_port = free_port();
    let Some(pebble) = Pebble::start(http_port, false) else { return };
    let root = pebble.root_pem().await;
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now).unwrap());
    let (mut d, _, _, serials) = fleet_with_default_profile(&pki, 1).await;
    let appliance_ca = d.ca_pem();

    // Self-managed: the appliance CA as the root payload, both MDM URLs pinned to it.
    let p = enrollment_payloads(&d.client(), &d, &pki, &serials[0], "00008101-00A1").await;
    assert_eq!(types(&p), ["com.apple.security.root", "com.apple.security.acme", "com.apple.mdm"]);
    let ca_der = d.running().services.tls.ca().cert_der().to_vec();
    assert_eq!(p[0]["PayloadContent"].as_data(), Some(ca_der.as_slice()));
    let root_uuid = p[0]["PayloadUUID"].clone();
    for key in ["ServerURLPinningCertificateUUIDs", "CheckInURLPinningCertificateUUIDs"] {
        assert_eq!(p[2][key], Value::Array(vec![root_uuid.clone()]), "{key}");
    }

    // The site adds [tls.acme] and restarts: once the ACME certificate is served, no root.
    let (sim, apns) = (d.sim.take().unwrap(), d.apns.take().unwrap());
    let dir = d.stop().await;
    let mut opts = options(dir.path(), Mode::Sandbox);
    opts.config.tls_acme = Some(pebble.acme_config(http_port, None));
    // The device assigned would hold the switch for a confirmation (`tls_switch`).
    opts.config.tls_confirm_reassign = true;
    opts.device_trust = adebox::daemon::DeviceTrust::StandIn(pki.clone());
    opts.apple = adebox::daemon::sandbox::apple_side(&sim, &apns);
    opts.sandbox_pushes = Some(apns.feed());
    let mut d = TestDaemon::start_with(dir, opts).await;
    (d.sim, d.apns) = (Some(sim), Some(apns));
    let page = login_trusting(&d, &[&appliance_ca, root.as_bytes()]).await;
    tls_until(&page, &pebble, |v| v["mode"] == "acme").await;
    let p = enrollment_payloads(&page.client, &d, &pki, &serials[0], "00008101-00A1").await;
    assert_eq!(types(&p), ["com.apple.security.acme", "com.apple.mdm"]);
    assert_eq!(p[1]["IdentityCertificateUUID"], p[0]["PayloadUUID"]);
    for key in ["ServerURLPinningCertificateUUIDs", "CheckInURLPinningCertificateUUIDs"] {
        assert!(!p[1].contains_key(key), "{key} is left out when nothing is pinned: {:?}", p[1]);
    }
}
