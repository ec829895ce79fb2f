//! Return to Service (`../shared/spec/apple-2026.md` §2) end to end through the device fleet:
//! the admin's request is refused with the reason for a wrong confirmation, a Wi-Fi profile
//! that is not base64, not a profile or has no Wi-Fi payload; accepted, it is audited and
//! sends an `EraseDevice` whose `ReturnToService` carries the Wi-Fi profile and a fresh
//! enrollment profile; the simulated iPhone erases, re-enrolls by itself with that profile and
//! is released again, and its timeline shows both enrollments. The device's later
//! `ReturnToService` check-in is answered with the same settings. Every plist exchanged (the
//! erase included) and the check-in answer are checked against Apple's schemas.

use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use crate::setup_steps::mobileconfig;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress, Seen, Wiretap};
use base64ct::{Base64, Encoding};
use plist::Value;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

fn timeline(v: &serde_json::Value) -> Vec<(String, String)> {
    v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = e["kind"].as_str().unwrap_or_default().to_string();
            (kind, e["message"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// A daemon with `count` synced devices and the default profile, and a fleet that keeps the
/// devices it releases and records every plist.
pub(crate) async fn tapped_fleet(
    count: u64,
) -> (TestDaemon, Page, Vec<String>, Fleet, Arc<Wiretap>) {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile(&pki, count).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let tap = Arc::new(Wiretap::default());
    let fleet = Fleet::new(target, pki).unwrap().keeping().tapped(tap.clone());
    (d, page, serials, fleet, tap)
}

#[tokio::test]
async fn a_device_returns_to_service_and_enrolls_again_by_itself() {
    let now = adebox::clock::Clock::system().now();
    let (d, page, serials, fleet, tap) = tapped_fleet(1).await;
    let device = FleetDevice::for_serial(&serials[0], 0);
    assert_eq!(device.product, "iPhone15,2");
    let report = fleet.run(std::slice::from_ref(&device), 1, &Progress::default(), now).await;
    assert_eq!(report.released, 1, "{report:?}");
    let kept = fleet.enrolled().into_iter().next().unwrap();
    let serial = &serials[0];
    let path = format!("/api/v1/devices/{serial}/mdm/return-to-service");

    // Bad requests: each refused with what is wrong, nothing queued.
    let wifi = Base64::encode_string(&mobileconfig("org.example.rts", "Shop floor Wi-Fi"));
    let (s, v) = page.post(&path, json!({"confirm": "yes", "wifi_profile": wifi})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains(&format!("type the serial number {serial}")), "{v}");
    let (s, v) = page.post(&path, json!({"confirm": serial, "wifi_profile": "%%%"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("not base64"), "{v}");
    let junk = Base64::encode_string(b"not a profile");
    let (s, v) = page.post(&path, json!({"confirm": serial, "wifi_profile": junk})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("Wi-Fi profile cannot be used"), "{v}");
    let no_wifi = String::from_utf8(mobileconfig("org.example.x", "Mail"))
        .unwrap()
        .replace("com.apple.wifi.managed", "com.apple.mail.managed");
    let no_wifi = Base64::encode_string(no_wifi.as_bytes());
    let (s, v) = page.post(&path, json!({"confirm": serial, "wifi_profile": no_wifi})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("no Wi-Fi payload (com.apple.wifi.managed)"), "{v}");
    let (_, mdm) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
    assert!(mdm["commands"].as_array().unwrap().iter().all(|c| c["state"] != "queued"), "{mdm}");

    // Accepted and audited; the Wi-Fi profile is sealed at rest.
    let (s, v) = page.post(&path, json!({"confirm": serial, "wifi_profile": wifi})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["command_uuid"].is_string(), "{v}");
    let (_, audit) = page.get("/api/v1/audit?limit=20").await;
    assert!(audit.to_string().contains("erase and return to service"), "{audit}");
    let raw = std::fs::read(d.data_dir().join(adebox::store::FILE_NAME)).unwrap();
    assert!(!raw.windows(8).any(|w| w == b"SSID_STR"), "the Wi-Fi profile is not in clear");

    // The device erases and enrolls again by itself, with the profile it was given.
    let outcome = fleet.return_to_service(&kept, adebox::clock::Clock::system().now()).await;
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert!(outcome.released, "{outcome:?}");
    let (_, v) = page.get(&format!("/api/v1/devices/{serial}")).await;
    let events = timeline(&v);
    let enrollments = events.iter().filter(|(k, _)| k == "mdm_authenticated").count();
    assert_eq!(enrollments, 2, "{events:?}");
    assert!(events.iter().any(|(_, m)| m.contains("returns to service")), "{events:?}");
    let served = events.iter().filter(|(k, _)| k == "enrollment_profile_served").count();
    assert_eq!(served, 1, "the second enrollment used the given profile: {events:?}");

    // The user starts Return to Service again on the device: answered with the settings.
    let again = fleet.enrolled().into_iter().last().unwrap();
    let answer = again.check_in("ReturnToService").await.unwrap_or_else(|e| panic!("{e}"));
    let answer = Value::from_reader_xml(answer.as_slice()).unwrap();
    let rts = answer.as_dictionary().unwrap()["ReturnToService"].as_dictionary().unwrap();
    assert_eq!(rts["Enabled"].as_boolean(), Some(true));
    let wifi_bytes = mobileconfig("org.example.rts", "Shop floor Wi-Fi");
    assert_eq!(rts["WiFiProfileData"].as_data(), Some(wifi_bytes.as_slice()));
    assert!(rts["MDMProfileData"].as_data().is_some_and(|p| !p.is_empty()));
    assert!(!rts.contains_key("BootstrapToken"), "iOS 17 does not use it");

    // Every plist, the erase and the check-in answer included, matches Apple's schemas.
    let Some(dir) = adebox::fixtures::dir() else {
        eprintln!("notice: ../shared/fixtures absent; schema check skipped");
        return;
    };
    let schemas = device_schema::Schemas::from_fixtures(&dir).unwrap();
    let ctx = device_schema::Context::device(device_schema::Os::Ios).at(&device.os_version);
    let ctx26 = device_schema::Context::device(device_schema::Os::Ios).at("26.0");
    if let Err(v) = schemas.check_check_in_response("ReturnToService", &answer, &ctx26) {
        panic!("ReturnToService answer: {v}");
    }
    let exchanges = tap.exchanges();
    let erase = exchanges.iter().find(|e| {
        e.seen == Seen::Command && String::from_utf8_lossy(&e.bytes).contains("ReturnToService")
    });
    let erase = erase.expect("the erase was recorded");
    let v = Value::from_reader_xml(erase.bytes.as_slice()).unwrap();
    if let Err(found) = schemas.check_command(&v, &ctx) {
        panic!("EraseDevice: {found}\n{}", String::from_utf8_lossy(&erase.bytes));
    }
    for e in exchanges.iter().filter(|e| e.seen == Seen::CheckIn) {
        let v = Value::from_reader_xml(e.bytes.as_slice()).unwrap();
        let mt = v.as_dictionary().unwrap()["MessageType"].as_string().unwrap().to_string();
        let at = if mt == "ReturnToService" { &ctx26 } else { &ctx };
        if let Err(found) = schemas.check_check_in(&v, at) {
            panic!("{mt}: {found}");
        }
    }
}

#[tokio::test]
async fn return_to_service_is_refused_where_the_os_does_not_take_it() {
    let now = adebox::clock::Clock::system().now();
    let (_d, page, serials, fleet, _) = tapped_fleet(4).await;
    // Device 3 of a fleet is an iPhone on iOS 15 (SCEP): too old for Return to Service.
    let old = FleetDevice::for_serial(&serials[3], 3);
    assert!(old.os_version.starts_with("15."));
    let report = fleet.run(&[old], 1, &Progress::default(), now).await;
    assert_eq!(report.released, 1, "{report:?}");
    let serial = &serials[3];
    let path = format!("/api/v1/devices/{serial}/mdm/return-to-service");
    let (s, v) = page.post(&path, json!({"confirm": serial})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("needs iOS 17 or later"), "{v}");
    // A device that never enrolled here is unknown.
    let (s, v) = page
        .post(
            &format!("/api/v1/devices/{}/mdm/return-to-service", serials[0]),
            json!({"confirm": serials[0]}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn a_device_on_26_escrows_its_bootstrap_token_and_gets_it_back_for_return_to_service() {
    let now = adebox::clock::Clock::system().now();
    let (_d, page, serials, fleet, tap) = tapped_fleet(1).await;
    let device = FleetDevice {
        os_version: "26.0".into(),
        build: "23A341".into(),
        ..FleetDevice::for_serial(&serials[0], 0)
    };
    assert!(device.escrows_bootstrap_token());
    assert!(!FleetDevice::for_serial(&serials[0], 0).escrows_bootstrap_token(), "iOS 17 does not");
    let report = fleet.run(std::slice::from_ref(&device), 1, &Progress::default(), now).await;
    assert_eq!(report.released, 1, "{report:?}");
    let serial = &serials[0];

    // Escrowed after enrollment: the page says so, never the token.
    let (s, mdm) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
    assert_eq!(s, StatusCode::OK, "{mdm}");
    assert!(mdm["bootstrap_token"]["escrowed_at"].is_string(), "{mdm}");
    let set = tap.exchanges().into_iter().find(|e| {
        e.seen == Seen::CheckIn && String::from_utf8_lossy(&e.bytes).contains("SetBootstrapToken")
    });
    let set = Value::from_reader_xml(set.expect("SetBootstrapToken was sent").bytes.as_slice());
    let escrowed =
        set.unwrap().as_dictionary().unwrap()["BootstrapToken"].as_data().unwrap().to_vec();

    // Return to Service on 26 hands the token back, in the erase and in the check-in answer.
    let path = format!("/api/v1/devices/{serial}/mdm/return-to-service");
    let (s, v) = page.post(&path, json!({"confirm": serial})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let kept = fleet.enrolled().into_iter().next().unwrap();
    let outcome = fleet.return_to_service(&kept, adebox::clock::Clock::system().now()).await;
    assert!(outcome.unwrap_or_else(|e| panic!("{e}")).released);
    let erase = tap.exchanges().into_iter().find(|e| {
        e.seen == Seen::Command && String::from_utf8_lossy(&e.bytes).contains("ReturnToService")
    });
    let erase = Value::from_reader_xml(erase.expect("the erase was recorded").bytes.as_slice());
    let erase = erase.unwrap();
    let rts = erase.as_dictionary().unwrap()["Command"].as_dictionary().unwrap()["ReturnToService"]
        .as_dictionary()
        .unwrap()
        .clone();
    assert_eq!(rts["BootstrapToken"].as_data(), Some(escrowed.as_slice()));
    assert!(!rts.contains_key("WiFiProfileData"), "none was given");
    let again = fleet.enrolled().into_iter().last().unwrap();
    let answer = again.check_in("ReturnToService").await.unwrap_or_else(|e| panic!("{e}"));
    let answer = Value::from_reader_xml(answer.as_slice()).unwrap();
    let inner = answer.as_dictionary().unwrap()["ReturnToService"].as_dictionary().unwrap();
    // The new enrollment escrowed a new token; the answer carries the one stored now.
    let latest = tap
        .exchanges()
        .into_iter()
        .rev()
        .find(|e| {
            e.seen == Seen::CheckIn
                && String::from_utf8_lossy(&e.bytes).contains("SetBootstrapToken")
        })
        .map(|e| Value::from_reader_xml(e.bytes.as_slice()).unwrap())
        .unwrap();
    let latest = latest.as_dictionary().unwrap()["BootstrapToken"].as_data().unwrap().to_vec();
    assert_ne!(latest, escrowed, "the re-enrolled device escrowed again");
    assert_eq!(inner["BootstrapToken"].as_data(), Some(latest.as_slice()));

    let Some(dir) = adebox::fixtures::dir() else {
        eprintln!("notice: ../shared/fixtures absent; schema check skipped");
        return;
    };
    let schemas = device_schema::Schemas::from_fixtures(&dir).unwrap();
    let ctx = device_schema::Context::device(device_schema::Os::Ios).at("26.0");
    schemas.check_command(&erase, &ctx).unwrap_or_else(|v| panic!("EraseDevice: {v}"));
    schemas
        .check_check_in_response("ReturnToService", &answer, &ctx)
        .unwrap_or_else(|v| panic!("ReturnToService answer: {v}"));
    // Apple's published setbootstraptoken.yaml predates iOS 26 (apple-2026.md §3.1) and names
    // macOS only: that message is checked as a Mac's.
    let mac = device_schema::Context::device(device_schema::Os::MacOs).at("15.0");
    for e in tap.exchanges().iter().filter(|e| e.seen == Seen::CheckIn) {
        let v = Value::from_reader_xml(e.bytes.as_slice()).unwrap();
        let set =
            v.as_dictionary().unwrap()["MessageType"].as_string() == Some("SetBootstrapToken");
        let at = if set { &mac } else { &ctx };
        schemas.check_check_in(&v, at).unwrap_or_else(|f| panic!("{f}"));
    }
}
