//! Return to Service long after the admin started it (`../shared/spec/apple-2026.md` §2.2,
//! §2.4). The enrollment profile a device installs after the erase carries a one-time ACME
//! identity that lives an hour, so adebox signs it when the erase is sent and again when the
//! device's own `ReturnToService` check-in is answered, never when the admin starts it: a
//! device that polls two hours later, and its user starting Return to Service two hours after
//! that, both enroll again by themselves. On iOS 27 both hand-overs carry
//! `ShouldRetryEnrollment` (§2.2, new in 27.0), on iOS 26 neither does; every plist is checked
//! against Apple's schemas at the device's version.

use crate::enroll::fleet_with_default_profile_at;
use crate::setup_steps::mobileconfig;
use adebox::clock::Clock;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{
    EnrolledDevice, Fleet, FleetDevice, FleetTarget, Progress, Seen, Wiretap,
};
use base64ct::{Base64, Encoding};
use plist::Value;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use time::Duration;

/// The newest enrollment the fleet kept for `serial`.
fn kept(fleet: &Fleet, serial: &str) -> EnrolledDevice {
    let all = fleet.enrolled().into_iter().filter(|k| k.device.serial == serial);
    all.last().unwrap_or_else(|| panic!("{serial} was kept"))
}

/// The `ReturnToService` dictionary of the erase `serial` was sent.
fn erase_sent(tap: &Wiretap, serial: &str) -> (Value, plist::Dictionary) {
    let erase = tap.exchanges().into_iter().find(|e| {
        e.seen == Seen::Command
            && e.serial == serial
            && String::from_utf8_lossy(&e.bytes).contains("ReturnToService")
    });
    let erase = Value::from_reader_xml(erase.expect("the erase was recorded").bytes.as_slice());
    let erase = erase.unwrap();
    let command = erase.as_dictionary().unwrap()["Command"].as_dictionary().unwrap();
    let rts = command["ReturnToService"].as_dictionary().unwrap().clone();
    (erase, rts)
}

fn count(events: &serde_json::Value, kind: &str) -> usize {
    let all = events["timeline"].as_array().unwrap();
    all.iter().filter(|e| e["kind"] == kind).count()
}

#[tokio::test]
async fn return_to_service_hours_after_the_admin_started_it_still_enrolls_again() {
    // The daemon's clock starts five hours back: the hours it is moved forward stay in the
    // past, so the certificates it issues are already valid for TLS, which reads real time.
    let clock = Clock::manual(Clock::system().now() - Duration::hours(5));
    let pki = Arc::new(StandInApplePki::generate(clock.now() - Duration::days(1)).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile_at(&pki, 2, clock.clone()).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let tap = Arc::new(Wiretap::default());
    let fleet = Fleet::new(target, pki).unwrap().keeping().tapped(tap.clone());
    let on = |i: usize, os: &str, build: &str| FleetDevice {
        os_version: os.into(),
        build: build.into(),
        ..FleetDevice::for_serial(&serials[i], 0)
    };
    let (ios27, ios26) = (on(0, "27.0", "24A335"), on(1, "26.2", "23C55"));
    let devices = [ios27.clone(), ios26.clone()];
    let report = fleet.run(&devices, 2, &Progress::default(), clock.now()).await;
    assert_eq!(report.released, 2, "{report:?}");

    // The admin starts Return to Service for both; nothing is signed for the devices yet.
    let wifi = mobileconfig("org.example.rts", "Shop floor Wi-Fi");
    for (serial, wifi) in
        [(&ios27.serial, Some(Base64::encode_string(&wifi))), (&ios26.serial, None)]
    {
        let path = format!("/api/v1/devices/{serial}/mdm/return-to-service");
        let (s, v) = page.post(&path, json!({"confirm": serial, "wifi_profile": wifi})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    // Two hours later (past the hour a one-time identity lives) the devices poll, erase and
    // enroll again by themselves with the profile signed as the erase was sent.
    clock.advance(Duration::hours(2));
    for device in [&ios27, &ios26] {
        let outcome = fleet.return_to_service(&kept(&fleet, &device.serial), clock.now()).await;
        let outcome = outcome.unwrap_or_else(|e| panic!("{}: {e}", device.serial));
        assert!(outcome.released, "{}: {outcome:?}", device.serial);
    }
    let (erase27, rts27) = erase_sent(&tap, &ios27.serial);
    assert_eq!(rts27["ShouldRetryEnrollment"].as_boolean(), Some(true), "{rts27:?}");
    assert_eq!(rts27["WiFiProfileData"].as_data(), Some(wifi.as_slice()));
    let (erase26, rts26) = erase_sent(&tap, &ios26.serial);
    assert!(!rts26.contains_key("ShouldRetryEnrollment"), "26 does not know it: {rts26:?}");

    // Two hours later again, the user of the iOS 27 device starts Return to Service on it:
    // the answer carries a profile signed for it, and the device enrolls a third time.
    clock.advance(Duration::hours(2));
    let again = kept(&fleet, &ios27.serial);
    let answer = again.check_in("ReturnToService").await.unwrap_or_else(|e| panic!("{e}"));
    let answer = Value::from_reader_xml(answer.as_slice()).unwrap();
    let given = answer.as_dictionary().unwrap()["ReturnToService"].as_dictionary().unwrap();
    assert_eq!(given["ShouldRetryEnrollment"].as_boolean(), Some(true), "{given:?}");
    let profile = given["MDMProfileData"].as_data().unwrap();
    assert_ne!(Some(profile), rts27["MDMProfileData"].as_data(), "signed again, not stored");
    let outcome = fleet.user_return_to_service(&again, clock.now()).await;
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert!(outcome.released, "{outcome:?}");
    let (_, v) = page.get(&format!("/api/v1/devices/{}", ios27.serial)).await;
    assert_eq!(count(&v, "mdm_authenticated"), 3, "three enrollments: {v}");
    assert_eq!(count(&v, "enrollment_profile_served"), 1, "the later two used the given profile");
    let words = v["timeline"].to_string();
    assert!(words.contains("the device started Return to Service"), "{words}");
    let (_, v) = page.get(&format!("/api/v1/devices/{}", ios26.serial)).await;
    assert_eq!(count(&v, "mdm_authenticated"), 2, "{v}");

    // Each hand-over matches Apple's schema at the device's version.
    let Some(dir) = adebox::fixtures::dir() else {
        eprintln!("notice: ../shared/fixtures absent; schema check skipped");
        return;
    };
    let schemas = device_schema::Schemas::from_fixtures(&dir).unwrap();
    let ios = |v: &str| device_schema::Context::device(device_schema::Os::Ios).at(v);
    schemas.check_command(&erase27, &ios("27.0")).unwrap_or_else(|f| panic!("27 erase: {f}"));
    schemas.check_command(&erase26, &ios("26.2")).unwrap_or_else(|f| panic!("26 erase: {f}"));
    schemas
        .check_check_in_response("ReturnToService", &answer, &ios("27.0"))
        .unwrap_or_else(|f| panic!("ReturnToService answer: {f}"));
    // ShouldRetryEnrollment is 27.0's: at 26 the same answer is refused, so the check bites.
    let at26 = schemas.check_check_in_response("ReturnToService", &answer, &ios("26.0"));
    assert!(at26.is_err(), "the schema check knows ShouldRetryEnrollment is new in 27");
}
