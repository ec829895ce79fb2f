//! The profile URL end to end: a synced device with a default profile posts a MachineInfo
//! signed by a stand-in device identity and gets a signed enrollment profile; refusals for
//! unknown serials, removed devices, bad signatures, untrusted identities, garbage and oversize bodies; the
//! audit-only mode lets an unknown serial through and records it.

use crate::assignments_api::{serials_of, wait_for};
use crate::common::add_token;
use crate::common::*;
use crate::tokens_api::sync_until;
use adebox::crypto::cms::{CmsEncoding, SignOptions, SignerKey, sign_attached};
use adebox::crypto::sigverify::Digest;
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn machine_info(serial: &str, udid: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>SERIAL</key><string>{serial}</string><key>UDID</key><string>{udid}</string>\
         <key>PRODUCT</key><string>iPhone15,2</string><key>VERSION</key><string>21F79</string>\
         <key>OS_VERSION</key><string>17.5</string></dict></plist>"
    )
    .into_bytes()
}

pub(crate) fn signed(pki: &StandInApplePki, serial: &str, udid: &str) -> Vec<u8> {
    signed_content(pki, udid, &machine_info(serial, udid))
}

/// `content` signed as the device `udid` of `pki` signs its MachineInfo (BER, SHA-1, no
/// signed attributes).
pub(crate) fn signed_content(pki: &StandInApplePki, udid: &str, content: &[u8]) -> Vec<u8> {
    let now = adebox::clock::Clock::system().now();
    let id = pki.issue_device_identity(udid, now).unwrap();
    let key = SignerKey::from_pkcs8_pem(id.key_pem.expose()).unwrap();
    let opts = SignOptions {
        encoding: CmsEncoding::Ber,
        digest: Digest::Sha1,
        signed_attributes: false,
        signing_time: None,
    };
    sign_attached(content, &id.cert_der, &pki.device_identity_bag(), &key, &opts).unwrap()
}

pub(crate) async fn post(d: &TestDaemon, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
    let resp = d
        .client()
        .post(d.url("/enroll/machineinfo"))
        .header("Content-Type", "application/pkcs7-signature")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// A daemon trusting `pki`'s device identities, with one token whose `count` synced devices
/// all have the default profile assigned at Apple; returns the admin page, the token id and
/// the serials.
pub(crate) async fn fleet_with_default_profile(
    pki: &std::sync::Arc<StandInApplePki>,
    count: u64,
) -> (TestDaemon, Page, String, Vec<String>) {
    fleet_with_default_profile_at(pki, count, adebox::clock::Clock::system()).await
}

/// [`fleet_with_default_profile`] with the daemon reading time from `clock`.
pub(crate) async fn fleet_with_default_profile_at(
    pki: &std::sync::Arc<StandInApplePki>,
    count: u64,
    clock: adebox::clock::Clock,
) -> (TestDaemon, Page, String, Vec<String>) {
    let profile = json!({"name": "Default", "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"], "device_name_template": "Lab-{{SERIAL}}"});
    fleet_with_profile_at(pki, count, clock, profile, &[]).await
}

/// [`fleet_with_default_profile_at`] with `profile` (a profile body) as the default, after
/// `first` (API paths and bodies, each answered 201) are posted.
pub(crate) async fn fleet_with_profile_at(
    pki: &std::sync::Arc<StandInApplePki>,
    count: u64,
    clock: adebox::clock::Clock,
    profile: Value,
    first: &[(&str, Value)],
) -> (TestDaemon, Page, String, Vec<String>) {
    let post_first = async |page: &Page| {
        for (path, body) in first {
            let (s, v) = page.post(path, body.clone()).await;
            assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
        }
    };
    fleet_with_profile_prepared(pki, count, clock, profile, post_first).await
}

/// [`fleet_with_profile_at`] with `prepare` run on the admin page before the profile is made.
pub(crate) async fn fleet_with_profile_prepared(
    pki: &std::sync::Arc<StandInApplePki>,
    count: u64,
    clock: adebox::clock::Clock,
    profile: Value,
    prepare: impl AsyncFnOnce(&Page),
) -> (TestDaemon, Page, String, Vec<String>) {
    let trust = adebox::daemon::DeviceTrust::StandIn(pki.clone());
    let d = TestDaemon::with_simulator_trusting_at(trust, clock).await;
    let page = d.sandbox_admin().await;
    prepare(&page).await;
    let (tid, serials) = fleet_with_profile_on(&d, &page, count, profile).await;
    (d, page, tid, serials)
}

/// `count` simulated devices synced and assigned `profile` (the default) on the running `d`:
/// the token id and the serials.
pub(crate) async fn fleet_with_profile_on(
    d: &TestDaemon,
    page: &Page,
    count: u64,
    profile: Value,
) -> (String, Vec<String>) {
    let (s, p) = page.post("/api/v1/profiles", profile).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap().to_string();
    let (token, uuid) = add_token(d, page, "Enroll campus").await;
    let tid = token["id"].as_str().unwrap().to_string();
    let (s, _) = page
        .send(
            Method::PUT,
            "/api/v1/profiles/defaults",
            Some(json!({"token_id": tid, "profile_id": pid})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, added) =
        page.post("/api/v1/sandbox/devices", json!({"server_uuid": uuid, "count": count})).await;
    assert_eq!(s, StatusCode::OK, "{added}");
    sync_until(d, page, &tid, count).await;
    wait_for(page, "/api/v1/assignments?state=assigned&limit=1", "default assignment", |v| {
        v["total"] == count
    })
    .await;
    (tid, serials_of(&added))
}

#[tokio::test]
async fn serves_a_signed_profile_to_synced_devices_and_refuses_the_rest() {
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 2).await;
    let serial = serials[0].clone();

    // The synced device gets a signed profile.
    let (s, ct, body) = post(&d, signed(&pki, &serial, "00008101-0001")).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(ct, "application/x-apple-aspen-config");
    let v = adebox::crypto::cms::verify_signed(&body).unwrap();
    let plist = plist::Value::from_reader(std::io::Cursor::new(&v.content)).unwrap();
    let payloads = plist.as_dictionary().unwrap()["PayloadContent"].as_array().unwrap().clone();
    let types: Vec<&str> = payloads
        .iter()
        .map(|p| p.as_dictionary().unwrap()["PayloadType"].as_string().unwrap())
        .collect();
    assert_eq!(types, ["com.apple.security.root", "com.apple.security.acme", "com.apple.mdm"]);
    let acme = payloads[1].as_dictionary().unwrap();
    assert!(acme["DirectoryURL"].as_string().unwrap().ends_with("/acme/directory"));
    let mdm = payloads[2].as_dictionary().unwrap();
    assert_eq!(mdm["IdentityCertificateUUID"], acme["PayloadUUID"]);
    assert!(mdm["ServerURL"].as_string().unwrap().starts_with("https://"));
    assert_eq!(mdm["Topic"].as_string().unwrap(), d.apns().topic(), "the push certificate's topic");

    // The serial as any device may spell it meets the synced one (it was looked up as sent).
    let spelled = format!(" {} ", serials[1].to_ascii_lowercase());
    let (s, _, body) = post(&d, signed(&pki, &spelled, "00008101-0002")).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    // A UDID that is no UDID never reaches a certificate subject.
    for udid in ["A".repeat(3000), "\u{202e}00008101-0003".to_string()] {
        let body = signed_content(&pki, "00008101-0003", &machine_info(&serial, &udid));
        let (s, _, body) = post(&d, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
        let v = json_of(&body);
        assert_eq!(v["code"], "adebox.enrollment.bad_machine_info", "{v}");
    }

    // Unknown serial: 403 JSON with the reason.
    let (s, ct, body) = post(&d, signed(&pki, "UNKNOWN0001", "U-1")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(ct.starts_with("application/json"));
    assert_eq!(json_of(&body)["code"], "adebox.enrollment.unknown_device");

    // An identity from another (untrusted) CA.
    let other = StandInApplePki::generate(now).unwrap();
    let (s, _, body) = post(&d, signed(&other, &serial, "U-2")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json_of(&body)["code"], "adebox.enrollment.bad_machine_info");

    // A bad signature: one byte of the content changed.
    let mut tampered = signed(&pki, &serial, "U-3");
    let at = tampered.windows(6).position(|w| w == b"SERIAL").unwrap();
    tampered[at] = b'X';
    let (s, _, body) = post(&d, tampered).await;
    assert!(s == StatusCode::FORBIDDEN || s == StatusCode::BAD_REQUEST, "{s}");
    assert!(json_of(&body)["code"].is_string());

    // Garbage and oversize bodies.
    let (s, _, body) = post(&d, b"not a cms message".to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(json_of(&body)["code"].is_string());
    let (s, _, body) = post(&d, vec![0x30; 70 * 1024]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(json_of(&body)["code"].is_string());

    // The funnel and the refusals list.
    let (s, f) = page.get("/api/v1/enrollment/funnel").await;
    assert_eq!(s, StatusCode::OK);
    let count = |step: &str| {
        f["steps"].as_array().unwrap().iter().find(|x| x["step"] == step).unwrap()["last_24h"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("profile_served"), 2);
    assert!(count("refused") >= 3, "{f}");
    let (_, r) = page.get("/api/v1/enrollment/refusals?limit=10").await;
    assert!(r["items"].as_array().unwrap().iter().any(|e| e["reason"] == "unknown_device"), "{r}");
    let (_, dev) = page.get(&format!("/api/v1/devices/{serial}")).await;
    assert!(dev.to_string().contains("enrollment_profile_served"), "{dev}");

    // Audit-only mode lets the unknown serial through and records it.
    let (s, before) = page.get("/api/v1/enrollment/settings").await;
    assert_eq!(s, StatusCode::OK);
    let url = before["enrollment_url"].as_str().expect("the settings carry the enrollment URL");
    assert!(url.starts_with("https://") && url.ends_with("/enroll/machineinfo"), "{before}");
    // The URL is read-only: a PUT that names another one is refused, naming the field, and
    // changes nothing.
    let (s, v) = page
        .send(
            Method::PUT,
            "/api/v1/enrollment/settings",
            Some(json!({"audit_only": true, "enrollment_url": "https://evil.example/"})),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (StatusCode::BAD_REQUEST, Some("enrollment_url")), "{v}");
    let (_, unchanged) = page.get("/api/v1/enrollment/settings").await;
    assert_eq!(unchanged, before);
    let (s, v) = page
        .send(Method::PUT, "/api/v1/enrollment/settings", Some(json!({"audit_only": true})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["enrollment_url"], before["enrollment_url"], "{v}");
    assert_eq!(v["audit_only"], json!(true));
    let (s, ct, _) = post(&d, signed(&pki, "UNKNOWN0002", "U-4")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/x-apple-aspen-config");
    let (_, r) = page.get("/api/v1/enrollment/refusals?limit=1").await;
    assert_eq!(r["items"][0]["step"], "audited", "{r}");
    assert_eq!(r["items"][0]["serial"], "UNKNOWN0002");
}

#[tokio::test]
async fn refuses_a_device_apple_removed_from_this_server() {
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let (d, page, tid, serials) = fleet_with_default_profile(&pki, 2).await;
    let gone = &serials[1];
    let (s, v) = page.post("/api/v1/sandbox/devices/release", json!({"serials": [gone]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    sync_until(&d, &page, &tid, 1).await;

    let (s, ct, body) = post(&d, signed(&pki, gone, "00008101-0002")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    assert!(ct.starts_with("application/json"), "{ct}");
    let v = json_of(&body);
    assert_eq!(v["code"], "adebox.enrollment.removed_device", "{v}");
    assert!(v["description"].as_str().unwrap().contains("removed"), "{v}");

    let (_, r) = page.get("/api/v1/enrollment/refusals?limit=10").await;
    let refusal = r["items"].as_array().unwrap().iter().find(|e| e["serial"] == *gone);
    assert_eq!(refusal.map(|e| &e["reason"]), Some(&json!("removed_device")), "{r}");
    let (_, dev) = page.get(&format!("/api/v1/devices/{gone}")).await;
    assert!(dev.to_string().contains("enrollment_refused"), "{dev}");

    // The device still assigned here is served.
    let (s, ct, _) = post(&d, signed(&pki, &serials[0], "00008101-0001")).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/x-apple-aspen-config"));
}

#[tokio::test]
async fn the_served_profile_leads_to_an_attested_identity_over_acme() {
    let now = adebox::clock::Clock::system().now();
    let pki =
        std::sync::Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, _page, _, serials) = fleet_with_default_profile(&pki, 1).await;
    let (serial, udid) = (serials[0].clone(), "00008101-000A1B2C3D4E5F60".to_string());

    let (s, _, body) = post(&d, signed(&pki, &serial, &udid)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v = adebox::crypto::cms::verify_signed(&body).unwrap();
    let plist = plist::Value::from_reader(std::io::Cursor::new(&v.content)).unwrap();
    let acme = plist.as_dictionary().unwrap()["PayloadContent"].as_array().unwrap()[1]
        .as_dictionary()
        .unwrap()
        .clone();
    let client_id = acme["ClientIdentifier"].as_string().unwrap().to_string();

    // The device runs ACME with the ClientIdentifier it was given, attesting its serial/UDID.
    let mut dev = crate::acme::Device::new(&d).await;
    dev.client_id = client_id.clone();
    let (order, authz_url, token) = dev.start().await;
    let r = dev.attest(&authz_url, dev.att_obj_of(&pki, &serial, &udid, &token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let finalize = order["finalize"].as_str().unwrap().to_string();
    let csr = crate::acme::Device::csr(&dev.se_key);
    let r = dev.post(&finalize, Some(json!({"csr": csr}))).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("valid")),
        "{}",
        r.text
    );
    let order_url = r.location.unwrap();
    let cert_url =
        dev.post(&order_url, None).await.body["certificate"].as_str().unwrap().to_string();
    let r = dev.post(&cert_url, None).await;
    let chain = adebox::crypto::chain::pem_certificates(&r.text).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&chain[0]));
    let issued = d.running().services.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!(issued.serial, serial);

    // The ClientIdentifier was good for one certificate: using it again is refused.
    let mut again = crate::acme::Device::new(&d).await;
    again.client_id = client_id;
    let r = again.try_order().await;
    crate::acme::assert_problem(&r, StatusCode::FORBIDDEN, "rejectedIdentifier");
}
