//! The device page's Return to Service form and the migration-deadline wording in the browser,
//! at desktop (1440 px) and phone (390 px) width, against a sandbox daemon whose simulated
//! devices enrolled: the erase button waits for the typed serial number, a Wi-Fi file without a
//! Wi-Fi payload is refused on its field, a device whose system is too old is refused with the
//! reason, and a good request is queued. A device Apple Business moved here with a deadline
//! says so on its page (with the forced "Await final configuration" explained) and in the list.

use super::alerts::fits;
use super::{assert_clean, log_in, wait_js};
use crate::assignments_api::wait_for;
use crate::migration::portal;
use crate::setup_steps::mobileconfig;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// Whether the page's text contains `needle` (a toast, a field error or a row).
fn says(needle: &str) -> (String, Vec<Value>) {
    ("document.body.innerText.includes(arguments[0])".into(), vec![json!(needle)])
}

#[tokio::test]
async fn the_return_to_service_form_and_the_migration_note_at_desktop_and_phone_width() {
    let Some(b) = super::harness::start().await else { return };
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    let profile = json!({"name": "Default",
        "platforms": ["iOS", "iPadOS", "macOS", "tvOS", "visionOS"],
        "device_name_template": "Lab-{{SERIAL}}", "await_device_configured": false});
    let clock = adebox::clock::Clock::system();
    let (d, page, tid, serials) =
        crate::enroll::fleet_with_profile_at(&pki, 4, clock, profile, &[]).await;
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap();
    // Device 0 is an iPhone on iOS 17.5, device 3 one on iOS 15 (too old for the erase).
    let (phone, old) = (&serials[0], &serials[3]);
    let devices = [FleetDevice::for_serial(phone, 0), FleetDevice::for_serial(old, 3)];
    let report = fleet.run(&devices, 2, &Progress::default(), now).await;
    assert_eq!(report.released, 2, "{report:?}");

    // A device of another MDM server moves here with a deadline.
    let (_, servers) = portal(&d, Method::GET, "/servers", Value::Null).await;
    let ours = servers[0]["server_uuid"].as_str().unwrap().to_string();
    let (_, key) = crate::common::pending_key(&d, &page).await;
    let body = json!({"server_name": "Previous MDM", "public_key_pem": key});
    let (_, other) = portal(&d, Method::POST, "/servers", body).await;
    let body = json!({"server_uuid": other["server_uuid"], "count": 1});
    let (_, added) = portal(&d, Method::POST, "/devices", body).await;
    let moving = added["added"][0].as_str().unwrap().to_string();
    let body = json!({"serials": [moving], "server_uuid": ours, "deadline_days": 30});
    let (s, v) = portal(&d, Method::POST, "/migrations", body).await;
    assert_eq!(s, 200, "{v}");
    let token = adebox::ids::TokenId::parse(&tid).unwrap();
    d.running().services.sync.run_now(&token, adebox::sync::RunKind::Delta).await.unwrap();
    wait_for(&page, &format!("/api/v1/devices/{moving}"), "the variant", |v| {
        v["assignment"]["state"] == "assigned" && v["assignment"]["forced_await"] == true
    })
    .await;

    let dir = tempfile::tempdir().unwrap();
    let wifi = dir.path().join("shop-floor.mobileconfig");
    std::fs::write(&wifi, mobileconfig("org.example.rts", "Shop floor Wi-Fi")).unwrap();
    let mail = dir.path().join("mail.mobileconfig");
    let no_wifi = String::from_utf8(mobileconfig("org.example.mail", "Mail"))
        .unwrap()
        .replace("com.apple.wifi.managed", "com.apple.mail.managed");
    std::fs::write(&mail, no_wifi).unwrap();

    log_in(&b, &d, "admin").await;
    for (width, desktop) in [(1440, true), (390, false)] {
        b.client.set_window_size(width, 900).await.unwrap();

        // A device whose system cannot take it: refused with the reason.
        b.goto(&d.url(&format!("/admin/devices/{old}"))).await;
        b.wait_text("#device-mdm-state", "Enrolled").await;
        b.fill("#device-rts-confirm", old).await;
        b.click("#device-rts").await;
        let (js, args) = says("needs iOS 17 or later");
        wait_js(&b, &js, args, "the refusal's reason").await;
        fits(&b, width).await;

        // The erase waits for the typed serial number.
        b.goto(&d.url(&format!("/admin/devices/{phone}"))).await;
        b.wait_text("#device-mdm-state", "Enrolled").await;
        let disabled = "document.querySelector('#device-rts').disabled";
        assert_eq!(wait_js(&b, disabled, vec![], "the button").await, json!(true));
        b.fill("#device-rts-confirm", "NOT-THE-SERIAL").await;
        assert_eq!(wait_js(&b, disabled, vec![], "the button").await, json!(true));
        b.fill("#device-rts-confirm", phone).await;
        wait_js(&b, &format!("{disabled} === false"), vec![], "the button enabled").await;
        fits(&b, width).await;
        if desktop {
            // A profile without a Wi-Fi payload is refused on its field; nothing is queued.
            let file = b.wait("#device-rts-wifi").await;
            file.send_keys(mail.to_str().unwrap()).await.unwrap();
            b.click("#device-rts").await;
            let (js, args) = says("no Wi-Fi payload");
            wait_js(&b, &js, args, "the Wi-Fi refusal").await;
            let (_, mdm) = page.get(&format!("/api/v1/devices/{phone}/mdm")).await;
            assert!(!mdm.to_string().contains("return to service"), "nothing queued: {mdm}");
            // The right file: queued, with the network named on the timeline.
            b.goto(&d.url(&format!("/admin/devices/{phone}"))).await;
            b.wait_text("#device-mdm-state", "Enrolled").await;
            b.wait("#device-rts-wifi").await.send_keys(wifi.to_str().unwrap()).await.unwrap();
            b.fill("#device-rts-confirm", phone).await;
            b.click("#device-rts").await;
            let (js, args) = says("Return to Service queued.");
            wait_js(&b, &js, args, "the confirmation").await;
            let (_, v) = page.get(&format!("/api/v1/devices/{phone}")).await;
            assert!(v.to_string().contains("Shop floor Wi-Fi"), "{v}");
        }

        // The device Apple Business moved here says so, with the forced await explained.
        b.goto(&d.url(&format!("/admin/devices/{moving}"))).await;
        b.wait_text("#device-migration", "Apple Business set a migration deadline").await;
        b.wait_text("#device-assignment-forced-await", "Await final configuration").await;
        fits(&b, width).await;
        b.goto(&d.url("/admin/devices")).await;
        let (js, args) = says("Apple Business set a migration deadline");
        wait_js(&b, &js, args, "the note in the device list").await;
        fits(&b, width).await;
        assert_clean(&b, &format!("the device pages at {width} px")).await;
    }
    let (_, audit) = page.get("/api/v1/audit?action=mdm.erase").await;
    assert!(audit.to_string().contains("erase and return to service"), "{audit}");
    b.close().await;
}
