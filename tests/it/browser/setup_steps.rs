//! Setup steps in the browser: the profile page's editor (add, reorder, remove, save; what is
//! saved is what the API then holds), and the device page's panel for a step that failed and
//! blocks the release (Retry sends it again, Release anyway lets the device go).

use super::{assert_clean, choose, log_in, wait_js};
use crate::setup_steps::{mobileconfig, upload};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{FAILING_PROFILE_SUFFIX, Fleet, FleetDevice, FleetTarget, Progress};
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test]
async fn the_setup_steps_editor_adds_reorders_removes_and_saves() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, _) = crate::enroll::fleet_with_default_profile(&pki, 1).await;
    let (_, profiles) = page.get("/api/v1/profiles").await;
    let pid = profiles["items"][0]["id"].as_str().unwrap().to_string();
    let (s, wifi) = upload(&d, &page, mobileconfig("org.example.wifi", "School Wi-Fi")).await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{wifi}");
    // Start from an empty list (the sandbox profile names the device).
    let path = format!("/api/v1/profiles/{pid}/setup-steps");
    let (s, v) = page.send(reqwest::Method::PUT, &path, Some(json!({"steps": []}))).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");

    log_in(&b, &d, "admin").await;
    b.goto(&d.url(&format!("/admin/profiles/{pid}"))).await;
    b.wait_text("#profile-setup-steps", "No steps").await;
    b.wait_text("#setup-profiles", "School Wi-Fi").await;
    for kind in [
        "Install a configuration profile",
        "Set the device name (from the template)",
        "Send another command (plist)",
    ] {
        choose(&b, "#setup-step-add-kind", kind).await;
        b.click("#setup-step-add").await;
    }
    let count = "document.querySelectorAll('#setup-steps-list > li').length";
    assert_eq!(wait_js(&b, &format!("{count} === 3"), vec![], "three steps").await, json!(true));
    // The command moves above the device name, then the first step goes.
    b.click("#setup-steps-list button[aria-label='Move step 3 up']").await;
    b.click("#setup-steps-list button[aria-label='Remove step 1']").await;
    let order = "[...document.querySelectorAll('#setup-steps-list > li > strong')].map((s) => s.textContent).join(' | ')";
    let shown = wait_js(&b, &format!("{count} === 2 && {order}"), vec![], "two steps").await;
    assert_eq!(
        shown,
        json!("Send another command (plist) | Set the device name (from the template)"),
    );
    b.click("#setup-steps-save").await;

    let mut kinds = Vec::new();
    for _ in 0..100 {
        let (_, saved) = page.get(&path).await;
        kinds = saved["steps"]
            .as_array()
            .map(|s| s.iter().map(|st| st["action"]["kind"].clone()).collect())
            .unwrap_or_default();
        if !kinds.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(kinds, vec![json!("command"), json!("device_name")], "saved in the page's order");
    // Reloaded, the page shows what was saved.
    b.goto(&d.url(&format!("/admin/profiles/{pid}"))).await;
    wait_js(&b, &format!("{count} === 2"), vec![], "the saved steps").await;
    assert_clean(&b, "editing setup steps").await;
    b.close().await;
}

async fn blocked_at(page: &crate::common::Page, serial: &str, attempts: u64) -> Value {
    for _ in 0..400 {
        let (_, v) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
        if v["setup"]["blocked_at"] == 0 && v["setup"]["steps"][0]["attempts"] == attempts {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the device never blocked after {attempts} attempts");
}

#[tokio::test]
async fn a_blocked_step_is_retried_and_released_anyway_from_the_device_page() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = crate::enroll::fleet_with_default_profile(&pki, 1).await;
    let serial = serials[0].clone();
    let (_, profiles) = page.get("/api/v1/profiles").await;
    let pid = profiles["items"][0]["id"].as_str().unwrap().to_string();
    let failing = format!("org.example.vpn{FAILING_PROFILE_SUFFIX}");
    let (s, vpn) = upload(&d, &page, mobileconfig(&failing, "VPN")).await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{vpn}");
    let steps = json!({"steps": [
        {"action": {"kind": "install_profile", "profile_id": vpn["id"]}, "on_error": "block"},
    ]});
    let (s, v) = page
        .send(reqwest::Method::PUT, &format!("/api/v1/profiles/{pid}/setup-steps"), Some(steps))
        .await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");

    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let devices = vec![FleetDevice::for_serial(&serial, 0)];
    let run = tokio::spawn(async move { fleet.run(&devices, 1, &Progress::default(), now).await });
    blocked_at(&page, &serial, 1).await;

    log_in(&b, &d, "admin").await;
    b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
    b.wait_text("#device-mdm-blocked", "Step 1").await;
    b.wait_text("#device-mdm-blocked", "could not be installed").await;
    b.wait("#device-mdm-retry").await;
    b.wait("#device-mdm-release-anyway").await;
    assert_clean(&b, "the blocked step's panel").await;

    b.click("#device-mdm-retry").await;
    blocked_at(&page, &serial, 2).await;
    b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
    b.wait_text("#device-mdm-setup", "2 attempts").await;

    b.click("#device-mdm-release-anyway").await;
    let report = run.await.unwrap();
    assert_eq!(report.released, 1, "{report:?}");
    b.wait_text("#device-mdm-setup", "Released anyway by").await;
    let (_, v) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
    assert!(v["setup"]["released_anyway_by"].is_string(), "{v}");
    assert_clean(&b, "releasing anyway").await;
    b.close().await;
}
