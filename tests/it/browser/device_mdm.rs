//! The device page's MDM panel against a sandbox daemon whose simulated devices enrolled and
//! were released: the admin sees the state and the release commands, renames the device, and
//! erases it only after typing its serial number; each action reaches the device's queue and
//! the audit log.

use super::{assert_clean, log_in, log_out, wait_js};
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn the_device_page_shows_mdm_state_and_queues_rename_and_erase() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let (d, page, _, serials) = crate::enroll::fleet_with_default_profile(&pki, 1).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap().woken_by(d.apns().feed());
    let devices = vec![FleetDevice::for_serial(&serials[0], 0)];
    let report = fleet.run(&devices, 1, &Progress::default(), now).await;
    assert_eq!(report.released, 1, "{report:?}");
    let serial = &serials[0];

    // A Help desk admin may rename and release (device_support), never erase (device_erase):
    // the panel shows the one and not the other (docs/roles.md).
    let (s, body) = page
        .post(
            "/api/v1/admin/users",
            json!({"username": "desk", "password": crate::common::PASSWORD, "role": "help_desk"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{body}");
    log_in(&b, &d, "desk").await;
    b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
    b.wait_text("#device-mdm-state", "Enrolled").await;
    b.wait("#device-mdm-rename").await;
    let no_erase = "!document.querySelector('#device-mdm-erase') \
                    && !document.querySelector('#device-mdm-erase-confirm')";
    wait_js(&b, no_erase, vec![], "no erase for Help desk").await;
    assert_clean(&b, "the device page for Help desk").await;
    log_out(&b).await;

    log_in(&b, &d, "admin").await;
    b.goto(&d.url(&format!("/admin/devices/{serial}"))).await;
    b.wait_text("#device-mdm-state", "Enrolled").await;
    b.wait_text("#device-mdm-commands", &format!("Lab-{serial}")).await;

    // Rename: queued for the device's next check-in.
    b.fill("#device-mdm-name", "Front desk iPad").await;
    b.click("#device-mdm-rename").await;
    b.wait_text("#device-mdm-commands", "Front desk iPad").await;

    // Erase stays disabled until the serial number is typed.
    let disabled = "document.querySelector('#device-mdm-erase').disabled";
    assert_eq!(wait_js(&b, disabled, vec![], "the erase button").await, json!(true));
    b.fill("#device-mdm-erase-confirm", "NOT-THE-SERIAL").await;
    assert_eq!(wait_js(&b, disabled, vec![], "the erase button").await, json!(true));
    b.fill("#device-mdm-erase-confirm", serial).await;
    wait_js(&b, &format!("{disabled} === false"), vec![], "the erase button enabled").await;
    b.click("#device-mdm-erase").await;
    b.wait_text("#device-mdm-commands", "rase").await;
    assert_clean(&b, "the device page's MDM panel").await;

    let (_, mdm) = page.get(&format!("/api/v1/devices/{serial}/mdm")).await;
    let words: Vec<String> = mdm["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["words"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(words.iter().any(|w| w.contains("Front desk iPad")), "{words:?}");
    let (_, audit) = page.get("/api/v1/audit?action=mdm.erase").await;
    assert_eq!(audit["items"][0]["outcome"], "success", "{audit}");
}
