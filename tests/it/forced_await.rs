//! Devices with an MDM migration deadline always await final configuration
//! (`../shared/spec/apple-2026.md` §1.4 D3): when their profile does not await, adebox defines
//! at the (strict) DEP simulator a variant of the profile with `await_device_configured: true`
//! and assigns it to them, the device page says so, the enrollment gate takes the variant as
//! the profile itself, and an edit of the profile defines the variant again and moves the
//! devices to the new one.

use crate::assignments_api::wait_for;
use crate::common::*;
use crate::enroll::fleet_with_profile_at;
use crate::migration::portal;
use adebox::sim::apple_pki::StandInApplePki;
use adebox::sim::fleet::{Fleet, FleetDevice, FleetTarget, Progress};
use serde_json::{Value, json};
use std::sync::Arc;

/// The simulator's record of `serial`: (profile uuid, the profile's await_device_configured).
async fn at_apple(d: &TestDaemon, serial: &str) -> (Option<String>, Option<bool>) {
    let (_, truth) = portal(d, reqwest::Method::GET, "/truth", Value::Null).await;
    let devices = truth["servers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["devices"].as_array().cloned().unwrap_or_default());
    let found = devices.into_iter().find(|x| x["serial_number"] == serial).unwrap();
    (found["profile_uuid"].as_str().map(str::to_string), found["await_device_configured"].as_bool())
}

#[tokio::test]
async fn a_device_with_a_migration_deadline_gets_an_await_variant_of_its_profile() {
    let now = adebox::clock::Clock::system().now();
    let pki = Arc::new(StandInApplePki::generate(now - time::Duration::days(1)).unwrap());
    // A default profile without "Await final configuration".
    let profile = json!({"name": "Default", "platforms": ["iOS", "iPadOS"],
        "device_name_template": "Lab-{{SERIAL}}", "await_device_configured": false});
    let clock = adebox::clock::Clock::system();
    let (d, page, tid, own) = fleet_with_profile_at(&pki, 1, clock, profile, &[]).await;
    let (_, own_profile_awaits) = at_apple(&d, &own[0]).await;
    assert_ne!(own_profile_awaits, Some(true), "the default profile does not await");
    let (own_uuid, _) = at_apple(&d, &own[0]).await;

    // A device of another MDM server moves here with a deadline.
    let (_, servers) = portal(&d, reqwest::Method::GET, "/servers", Value::Null).await;
    let ours = servers[0]["server_uuid"].as_str().unwrap().to_string();
    let (_, key) = pending_key(&d, &page).await;
    let body = json!({"server_name": "Previous MDM", "public_key_pem": key});
    let (_, other) = portal(&d, reqwest::Method::POST, "/servers", body).await;
    let other = other["server_uuid"].as_str().unwrap().to_string();
    let body = json!({"server_uuid": other, "count": 1});
    let (_, added) = portal(&d, reqwest::Method::POST, "/devices", body).await;
    let serial = added["added"][0].as_str().unwrap().to_string();
    let body = json!({"serials": [serial], "server_uuid": ours, "deadline_days": 30});
    let (s, v) = portal(&d, reqwest::Method::POST, "/migrations", body).await;
    assert_eq!(s, 200, "{v}");
    let id = adebox::ids::TokenId::parse(&tid).unwrap();
    d.running().services.sync.run_now(&id, adebox::sync::RunKind::Delta).await.unwrap();

    // Assigned as a variant that awaits; the page says why.
    let v = wait_for(&page, &format!("/api/v1/devices/{serial}"), "assignment", |v| {
        v["assignment"]["state"] == "assigned" && v["apple"]["profile_status"] == "assigned"
    })
    .await;
    assert_eq!(v["assignment"]["forced_await"], true, "{v}");
    let (variant, awaits) = at_apple(&d, &serial).await;
    assert_eq!(awaits, Some(true), "the profile at Apple awaits final configuration");
    assert_ne!(variant, own_uuid, "a variant, not the profile itself");
    let (_, own_now) = at_apple(&d, &own[0]).await;
    assert_eq!(own_now, own_profile_awaits, "the profile itself is unchanged");
    let (_, mine) = page.get(&format!("/api/v1/devices/{}", own[0])).await;
    assert_eq!(v["assignment"]["profile_id"], mine["assignment"]["profile_id"], "the same profile");

    // The enrollment gate takes the variant as the profile itself; the device awaits.
    let target = FleetTarget {
        profile_url: d.url("/enroll/machineinfo"),
        ca_pem: String::from_utf8(d.ca_pem()).unwrap(),
        resolve_to: None,
    };
    let fleet = Fleet::new(target, pki.clone()).unwrap();
    let device = FleetDevice::for_serial(&serial, 0).migrating_in();
    let report = fleet.run(&[device], 1, &Progress::default(), now).await;
    assert_eq!(report.released, 1, "{report:?}");

    // An edit of the profile defines the variant again; the device gets the new one.
    let pid = v["assignment"]["profile_id"].as_str().unwrap().to_string();
    let (_, current) = page.get(&format!("/api/v1/profiles/{pid}")).await;
    let edited = json!({"name": current["name"], "platforms": current["platforms"],
        "device_name_template": current["device_name_template"], "department": "Moved in",
        "await_device_configured": false});
    let (s, r) =
        page.send(reqwest::Method::PUT, &format!("/api/v1/profiles/{pid}"), Some(edited)).await;
    assert!(s.is_success(), "{r}");
    let mut moved = None;
    for _ in 0..300 {
        let (uuid, awaits) = at_apple(&d, &serial).await;
        if uuid != variant && awaits == Some(true) {
            moved = uuid;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let moved = moved.expect("the device got the new variant");
    let (own_after, _) = at_apple(&d, &own[0]).await;
    assert_ne!(Some(moved), own_after, "still the variant, not the edited profile itself");

    // Once the profile itself awaits, the variant is not needed: the device gets the profile.
    let edited = json!({"name": current["name"], "platforms": current["platforms"],
        "device_name_template": current["device_name_template"], "department": "Moved in",
        "await_device_configured": true});
    let path = format!("/api/v1/profiles/{pid}");
    let (s, r) = page.send(reqwest::Method::PUT, &path, Some(edited)).await;
    assert!(s.is_success(), "{r}");
    let mut same = false;
    for _ in 0..300 {
        let (mine, _) = at_apple(&d, &own[0]).await;
        let (theirs, awaits) = at_apple(&d, &serial).await;
        if mine == theirs && mine != own_after && awaits == Some(true) {
            same = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(same, "the device has the profile itself again, which now awaits");
}
