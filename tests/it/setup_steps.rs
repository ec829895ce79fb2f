//! Setup during "Awaiting final configuration" through the fleet simulator: a profile's steps
//! (configuration profiles uploaded by the admin, the device name) are delivered one at a time
//! before DeviceConfigured; a failing blocking step holds the device (the device page says
//! which and why), "retry" sends it again, "release anyway" lets the device go. Uploads are
//! checked and refusals name the payload and the key.

use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{FAILING_PROFILE_SUFFIX, Fleet, FleetDevice, FleetTarget, Progress};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// A configuration profile as an admin exports it: one Wi-Fi payload.
pub(crate) fn mobileconfig(identifier: &str, name: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>PayloadType</key><string>Configuration</string>
<key>PayloadIdentifier</key><string>{identifier}</string>
<key>PayloadUUID</key><string>8E7C1B52-3D7B-4E3A-8D6E-0A1B2C3D4E5F</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadDisplayName</key><string>{name}</string>
<key>PayloadContent</key><array><dict>
<key>PayloadType</key><string>com.apple.wifi.managed</string>
<key>PayloadIdentifier</key><string>{identifier}.wifi</string>
<key>PayloadUUID</key><string>1D2C3B4A-5E6F-4A7B-8C9D-0E1F2A3B4C5D</string>
<key>PayloadVersion</key><integer>1</integer>
<key>SSID_STR</key><string>School</string>
</dict></array>
</dict></plist>"#
    )
    .into_bytes()
}

pub(crate) async fn upload(d: &TestDaemon, page: &Page, bytes: Vec<u8>) -> (StatusCode, Value) {
    let resp = page
        .client
        .post(d.url("/api/v1/setup/profiles"))
        .header("X-CSRF-Token", &page.csrf)
        .header("Content-Type", "application/x-apple-aspen-config")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn mdm_state(page: &Page, serial: &str, until: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let (s, v) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
        if s == StatusCode::OK && until(&v) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, v) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
    panic!("the device's MDM state never got there: {v}");
}

/// The active `setup_blocked` alert, once `until` holds of it (the rules run every 5 s here).
async fn active_alert(page: &Page, until: impl Fn(Option<&Value>) -> bool) -> Option<Value> {
    for _ in 0..100 {
        let (_, v) = page.get("/api/v1/alerts").await;
        let found = v["active"].as_array().unwrap().iter().find(|a| a["kind"] == "setup_blocked");
        if until(found) {
            return found.cloned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (_, v) = page.get("/api/v1/alerts").await;
    panic!("the setup_blocked alert never got there: {v}");
}

#[tokio::test]
async fn steps_run_in_order_a_failing_one_blocks_until_released_anyway() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 1).await;
    let serial = serials[0].clone();
    let (_, profiles) = page.get("/api/v1/profiles").await;
    let pid = profiles["items"][0]["id"].as_str().unwrap().to_string();

    // The admin uploads two profiles; the second one fails on the simulated devices.
    let (s, wifi) = upload(&d, &page, mobileconfig("org.example.wifi", "School Wi-Fi")).await;
    assert_eq!(s, StatusCode::CREATED, "{wifi}");
    assert_eq!(wifi["payload_types"], json!(["com.apple.wifi.managed"]));
    let failing = format!("org.example.vpn{FAILING_PROFILE_SUFFIX}");
    let (s, vpn) = upload(&d, &page, mobileconfig(&failing, "VPN")).await;
    assert_eq!(s, StatusCode::CREATED, "{vpn}");
    let steps = json!({"steps": [
        {"action": {"kind": "install_profile", "profile_id": wifi["id"]}, "on_error": "block"},
        {"action": {"kind": "device_name"}, "on_error": "skip"},
        {"action": {"kind": "account_configuration", "short_name": "pupil", "full_name": "A Pupil"}, "on_error": "block"},
        {"action": {"kind": "install_profile", "profile_id": vpn["id"]}, "on_error": "block"},
    ]});
    let path = format!("/api/v1/profiles/{pid}/setup-steps");
    let (s, v) = page.send(Method::PUT, &path, Some(steps)).await;
    assert_eq!((s, v["edited"].clone()), (StatusCode::OK, json!(true)), "{v}");
    // A profile a step names cannot be deleted.
    let (s, v) = page
        .send(
            Method::DELETE,
            &format!("/api/v1/setup/profiles/{}", vpn["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let devices = vec![FleetDevice::for_serial(&serial, 0)];
    let run = tokio::spawn(async move {
        let progress = Progress::default();
        fleet.run(&devices, 1, &progress, now).await
    });

    // The Wi-Fi profile and the name are acknowledged; the iPhone skips AccountConfiguration;
    // the VPN profile fails and holds the device.
    let v = mdm_state(&page, &serial, |v| v["setup"]["blocked_at"] == 3).await;
    let states: Vec<&str> = v["setup"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "done", "skipped", "failed"], "{v}");
    assert!(v["setup"]["steps"][2]["detail"].as_str().unwrap().contains("Macs only"), "{v}");
    let why = v["setup"]["steps"][3]["detail"].as_str().unwrap();
    assert!(why.contains("could not be installed"), "{why}");
    assert_eq!(v["state"], "awaiting_configuration");
    let acked: Vec<&str> = v["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "acknowledged")
        .map(|c| c["request_type"].as_str().unwrap())
        .collect();
    assert!(acked.contains(&"InstallProfile") && acked.contains(&"Settings"), "{v}");
    assert!(
        !v["commands"].as_array().unwrap().iter().any(|c| c["request_type"] == "DeviceConfigured")
    );

    // Someone hears of it: the alert (e-mail and webhook when set up) and a banner.
    let alert = active_alert(&page, |a| a.is_some()).await.unwrap();
    assert_eq!(alert["severity"], "error", "{alert}");
    assert_eq!(alert["fix_path"], format!("/admin/devices/{serial}"), "{alert}");
    let message = alert["message"].as_str().unwrap();
    assert!(message.contains("VPN") && message.contains(&serial), "{message}");
    assert!(message.contains("could not be installed"), "{message}");
    let (_, status) = page.get("/api/v1/status").await;
    assert!(status["banners"].as_array().unwrap().iter().any(|b| b["code"] == "setup_blocked"));

    // Editing the steps now does not change this device's run.
    let (s, _) = page.send(Method::PUT, &path, Some(json!({"steps": []}))).await;
    assert_eq!(s, StatusCode::OK);

    // Retry: sent again, fails again.
    let (s, v) = page.post(&format!("/api/v1/devices/{serial}/mdm/setup/retry"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = mdm_state(&page, &serial, |v| {
        v["setup"]["blocked_at"] == 3 && v["setup"]["steps"][3]["attempts"] == 2
    })
    .await;
    assert_eq!(v["setup"]["steps"].as_array().unwrap().len(), 4);

    // Release anyway: DeviceConfigured goes out and the device is released.
    let url = format!("/api/v1/devices/{serial}/mdm/setup/release-anyway");
    let (s, v) = page.post(&url, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let report = run.await.unwrap();
    assert_eq!(report.released, 1, "{report:?}");
    let v = mdm_state(&page, &serial, |v| v["state"] == "enrolled").await;
    assert!(v["setup"]["released_anyway_by"].is_string(), "{v}");
    let (s, v) = page.post(&url, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "released devices have nothing to release: {v}");
    assert!(active_alert(&page, |a| a.is_none()).await.is_none(), "resolved once released");

    // Each step's result is on the device's timeline.
    let (_, dev) = page.get(&format!("/api/v1/devices/{serial}")).await;
    let notes: Vec<String> = dev["timeline"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter(|e| e["kind"] == "mdm_setup_step")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(notes.iter().any(|n| n.contains("step 1 of 4") && n.contains("done")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("step 4 of 4") && n.contains("failed")), "{notes:?}");
}

#[tokio::test]
async fn uploads_and_step_lists_are_checked() {
    let d = TestDaemon::start().await;
    let page = d.setup_admin().await;
    let (s, p) = page.post("/api/v1/profiles", json!({"name": "Lab", "platforms": ["iOS"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap();

    // Never edited: the default list, the device name.
    let (s, v) = page.get(&format!("/api/v1/profiles/{pid}/setup-steps")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["edited"], false);
    assert_eq!(v["steps"][0]["action"]["kind"], "device_name");

    let bad = String::from_utf8(mobileconfig("org.example.x", "X")).unwrap().replacen(
        "<key>PayloadUUID</key><string>1D2C",
        "<key>Other</key><string>1D2C",
        1,
    );
    let (s, v) = upload(&d, &page, bad.into_bytes()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("payload 1 (com.apple.wifi.managed): PayloadUUID is missing"), "{msg}");
    let (s, v) = upload(&d, &page, vec![b'<'; 600 * 1024]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (s, v) = upload(&d, &page, b"garbage".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    let path = format!("/api/v1/profiles/{pid}/setup-steps");
    let cases = [
        (
            json!({"action": {"kind": "install_profile", "profile_id": "nope"}}),
            "no uploaded configuration profile",
        ),
        (
            json!({"action": {"kind": "command", "command": "<plist><dict><key>RequestType</key><string>EraseDevice</string></dict></plist>"}}),
            "erase-like",
        ),
        (
            json!({"action": {"kind": "command", "command": "<plist><dict><key>RequestType</key><string>Nonsense</string></dict></plist>"}}),
            "not an MDM request type",
        ),
        (
            json!({"action": {"kind": "account_configuration", "short_name": "Not Valid"}}),
            "short name",
        ),
    ];
    for (step, want) in cases {
        let (s, v) = page.send(Method::PUT, &path, Some(json!({"steps": [step]}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["message"].as_str().unwrap().contains(want), "{v} should say {want}");
        assert_eq!(v["field"], "steps[0]", "{v}");
    }
    let (s, v) = page
        .send(Method::PUT, &path, Some(json!({"steps": [{"action": {"kind": "teleport"}}]})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let settings = "<plist><dict><key>RequestType</key><string>Settings</string><key>Settings</key><array/></dict></plist>";
    let ok = json!({"steps": [{"action": {"kind": "command", "command": settings}, "on_error": "skip"}]});
    let (s, v) = page.send(Method::PUT, &path, Some(ok)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["steps"][0]["on_error"], "skip");
    let (s, v) = page
        .send(Method::PUT, "/api/v1/profiles/nosuch/setup-steps", Some(json!({"steps": []})))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}
